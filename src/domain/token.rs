use rand::RngCore;
use sha2::{Digest, Sha256};

/// A random single-use secret sent in a link (invitation, password reset,
/// email verification). Only its SHA-256 digest is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// A token as it arrives in a URL; anything but 64 hex digits is refused.
    #[must_use]
    pub fn from_link(raw: &str) -> Option<Self> {
        (raw.len() == 64 && raw.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| Self(raw.to_ascii_lowercase()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    #[must_use]
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(..)")
    }
}
