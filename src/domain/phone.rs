//! Phone numbers in E.164 (`+` then 8–15 digits), so one number is stored
//! one way whatever people type, and duplicates and searches match.
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

/// The countries a local may read numbers typed without a country code in:
/// calling code and name. Only those whose national numbers drop a leading
/// trunk `0` after the code (or, for +1, have none), as [`Phone::parse`]
/// does; Italy, which keeps it, is not offered.
pub const COUNTRIES: &[(&str, &str)] = &[
    ("1", "United States, Canada and the Caribbean"),
    ("54", "Argentina"),
    ("61", "Australia"),
    ("32", "Belgium"),
    ("55", "Brazil"),
    ("56", "Chile"),
    ("57", "Colombia"),
    ("45", "Denmark"),
    ("358", "Finland"),
    ("33", "France"),
    ("49", "Germany"),
    ("91", "India"),
    ("353", "Ireland"),
    ("81", "Japan"),
    ("254", "Kenya"),
    ("52", "Mexico"),
    ("31", "Netherlands"),
    ("64", "New Zealand"),
    ("234", "Nigeria"),
    ("47", "Norway"),
    ("63", "Philippines"),
    ("27", "South Africa"),
    ("82", "South Korea"),
    ("34", "Spain"),
    ("46", "Sweden"),
    ("44", "United Kingdom"),
];

/// The calling code if it is one of [`COUNTRIES`].
#[must_use]
pub fn country(code: &str) -> Option<&'static str> {
    COUNTRIES
        .iter()
        .find(|(c, _)| *c == code.trim())
        .map(|(c, _)| *c)
}

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
    fn only_listed_countries_are_offered() {
        assert_eq!(super::country(" 44 "), Some("44"));
        assert_eq!(super::country("39"), None, "Italy keeps its trunk 0");
        assert_eq!(super::country("999"), None);
        assert!(super::COUNTRIES
            .iter()
            .all(|(code, _)| Phone::parse("020 7946 0958", code).is_ok() || *code == "1"));
    }

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
