//! Phone numbers in E.164 (`+` then 8–15 digits), so one number is stored
//! one way whatever people type, and duplicates and searches match.
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Parses what people type: spaces, dots, dashes and parentheses are
    /// ignored; `+` or `00` starts an international number; a number without
    /// either takes `default_country` (a calling code such as "1" or "44"),
    /// dropping a national trunk `0` (`020 7946 0958` in the UK).
    ///
    /// # Errors
    /// A message for the form.
    pub fn parse(raw: &str, default_country: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("Enter a phone number.".into());
        }
        let (international, rest) = if let Some(rest) = trimmed.strip_prefix('+') {
            (true, rest)
        } else if let Some(rest) = trimmed.strip_prefix("00") {
            (true, rest)
        } else {
            (false, trimmed)
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' | '/' => {}
                _ => return Err(
                    "Use digits only, with spaces or dashes if you like (e.g. +1 555 123 4567)."
                        .into(),
                ),
            }
        }
        let full = if international {
            digits
        } else {
            let national = if default_country == "1" {
                // NANP: 10 digits, or 11 with the leading 1.
                digits
                    .strip_prefix('1')
                    .filter(|d| d.len() == 10)
                    .unwrap_or(&digits)
                    .to_string()
            } else {
                digits.strip_prefix('0').unwrap_or(&digits).to_string()
            };
            format!("{default_country}{national}")
        };
        if full.starts_with('0') || !(8..=15).contains(&full.len()) {
            return Err(
                "Enter a full phone number with its country code (e.g. +1 555 123 4567).".into(),
            );
        }
        if default_country == "1" && !international && full.len() != 11 {
            return Err(
                "Enter a 10-digit number (e.g. 555 123 4567), or + and the country code.".into(),
            );
        }
        Ok(Self(format!("+{full}")))
    }

    /// A stored value, already normalised.
    #[must_use]
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Phone;

    #[test]
    fn numbers_are_stored_in_e164() {
        let p = |raw: &str| Phone::parse(raw, "1").map(|p| p.as_str().to_string());
        assert_eq!(p("(555) 123-4567").unwrap(), "+15551234567");
        assert_eq!(p("1 555 123 4567").unwrap(), "+15551234567");
        assert_eq!(p("+44 20 7946 0958").unwrap(), "+442079460958");
        assert_eq!(p("0044 20 7946 0958").unwrap(), "+442079460958");
        assert_eq!(
            Phone::parse("020 7946 0958", "44").unwrap().as_str(),
            "+442079460958"
        );
        assert!(p("555-1234").is_err(), "too short");
        assert!(p("call me").is_err());
        assert!(p("+0 123 456 789").is_err());
        assert!(p("+1234567890123456").is_err(), "over 15 digits");
        assert!(p("").is_err());
    }
}
