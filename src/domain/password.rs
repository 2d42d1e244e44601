/// A new password as typed by its owner. Never stored: only its argon2id hash is.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 128;

impl Password {
    /// # Errors
    /// A message when the password is too short or too long.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if len < MIN_PASSWORD_LEN {
            return Err(format!("Use at least {MIN_PASSWORD_LEN} characters."));
        }
        if len > MAX_PASSWORD_LEN {
            return Err(format!("Use at most {MAX_PASSWORD_LEN} characters."));
        }
        Ok(Self(raw.to_string()))
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}
