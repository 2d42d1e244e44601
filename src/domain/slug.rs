use std::fmt;

/// The short name of a local in its URLs: `/l/{slug}/…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

const RESERVED: &[&str] = &[
    "admin", "api", "app", "assets", "locals", "login", "logout", "new", "ops", "session",
    "static", "www",
];

impl Slug {
    /// # Errors
    /// A message when the slug is not 3–63 lower-case letters, digits and hyphens.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err("Choose a short web address for your local.".into());
        }
        if value.len() < 3 || value.len() > 63 {
            return Err("Use 3 to 63 characters.".into());
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || value.starts_with('-')
            || value.ends_with('-')
        {
            return Err(
                "Use lower-case letters, digits and hyphens (not at the start or end).".into(),
            );
        }
        if RESERVED.contains(&value.as_str()) {
            return Err("This address is reserved; choose another.".into());
        }
        Ok(Self(value))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Slug;

    #[test]
    fn slugs_accept_letters_digits_and_inner_hyphens() {
        assert_eq!(Slug::parse(" Local-1234 ").unwrap().as_str(), "local-1234");
        for raw in [
            "",
            "ab",
            "-abc",
            "abc-",
            "a b c",
            "ops",
            "ünï",
            &"a".repeat(64),
        ] {
            assert!(Slug::parse(raw).is_err(), "{raw} should be refused");
        }
    }
}
