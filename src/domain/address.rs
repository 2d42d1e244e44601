//! A member's postal address as people type it: one or more lines. One
//! reader for the member form, self-service, the import and the API, so a
//! CSV cell or an API field cannot store what the form would refuse (the
//! import used to take any length; self-service kept a blank address as "").
use std::fmt;

/// The longest address accepted, in characters as typed (the limit the API
/// schema states).
pub const MAX_ADDRESS_LEN: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address(String);

impl Address {
    /// Each line trimmed, blank lines dropped, Windows line ends made `\n`.
    ///
    /// # Errors
    /// A message for the form: blank, too long, or with control characters
    /// (a tab or a line break is fine).
    pub fn parse(raw: &str) -> Result<Self, String> {
        super::text::check_typed(raw, MAX_ADDRESS_LEN)?;
        let value = raw
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        if value.is_empty() {
            return Err("Enter an address.".into());
        }
        Ok(Self(value))
    }

    /// [`Address::parse`], where nothing entered is no address.
    ///
    /// # Errors
    /// As [`Address::parse`].
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, String> {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(raw).map(Some)
        }
    }

    /// A stored value, already read.
    #[must_use]
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_and_blank_ones_dropped() {
        let a = Address::parse("  12 Main St \r\n\r\n  Springfield, IL 62701  \n").unwrap();
        assert_eq!(a.as_str(), "12 Main St\nSpringfield, IL 62701");
    }

    #[test]
    fn blank_long_and_control_characters_are_refused() {
        assert!(Address::parse(" \n ").is_err());
        assert_eq!(Address::parse_optional(" \n ").unwrap(), None);
        assert!(Address::parse(&"x".repeat(MAX_ADDRESS_LEN)).is_ok());
        assert!(Address::parse(&"x".repeat(MAX_ADDRESS_LEN + 1)).is_err());
        assert!(Address::parse("12 Main\u{7}St").is_err());
        assert!(Address::parse("12 Main\tSt").is_ok());
    }
}
