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

    /// A regular expression (ECMA-262, Python and the `regex` crate read it
    /// alike) matching exactly what [`Phone::parse`] accepts with this
    /// `default_country`, or a blank (no number): the API document served to
    /// a local's token states it, so a client can check a number before
    /// sending it. Tested against `parse` below.
    #[must_use]
    pub fn pattern(default_country: &str) -> String {
        const SEP: &str = "[ ()./-]";
        const LEAD: &str = "[()./-]";
        let digits = |from: usize, to: usize| {
            if from == to {
                format!("([0-9]{SEP}*){{{from}}}")
            } else {
                format!("([0-9]{SEP}*){{{from},{to}}}")
            }
        };
        let international = format!("(\\+|00){SEP}*[1-9]{SEP}*{}", digits(7, 14));
        // National numbers: never starting `00` (that is international).
        let national = if default_country == "1" {
            // 10 digits, or 11 with the leading 1.
            format!(
                "{LEAD}{SEP}*(1{SEP}*)?{ten}|[1-9]{SEP}*{nine}|1{SEP}*{ten}|0{SEP}+{nine}|0[1-9]{SEP}*{eight}",
                ten = digits(10, 10),
                nine = digits(9, 9),
                eight = digits(8, 8),
            )
        } else {
            // One trunk 0 dropped; with the code, 8 to 15 digits.
            let k = default_country.len();
            let (from, to) = (8usize.saturating_sub(k), 15usize.saturating_sub(k));
            format!(
                "{LEAD}{SEP}*(0{SEP}*{all}|[1-9]{SEP}*{rest})|[1-9]{SEP}*{rest}|0{SEP}+{all}|0[1-9]{SEP}*{rest}",
                all = digits(from, to),
                rest = digits(from.saturating_sub(1), to.saturating_sub(1)),
            )
        };
        format!("^\\s*(({international})|{national})?\\s*$")
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
    /// The pattern the API states accepts exactly what `parse` does (or a
    /// blank), over many strings made of digits, separators, `+` and spaces.
    #[test]
    fn the_stated_pattern_matches_what_parse_accepts() {
        const ALPHABET: [char; 14] = [
            '0', '0', '1', '1', '5', '9', ' ', '-', '(', '.', '+', '\t', 'a', '3',
        ];
        for country in ["1", "44", "358"] {
            let pattern = regex::Regex::new(&Phone::pattern(country)).unwrap();
            let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
            let mut accepted = 0;
            for _ in 0..200_000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let len = usize::try_from(seed % 19).unwrap();
                let mut raw = String::new();
                let mut bits = seed;
                for _ in 0..len {
                    bits = bits.rotate_left(5).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    raw.push(ALPHABET[usize::try_from(bits >> 60).unwrap() % ALPHABET.len()]);
                }
                let parses = raw.trim().is_empty() || Phone::parse(&raw, country).is_ok();
                accepted += usize::from(parses && !raw.trim().is_empty());
                assert_eq!(pattern.is_match(&raw), parses, "{raw:?} in +{country}");
            }
            assert!(accepted > 1_000, "+{country}: only {accepted} accepted");
        }
    }
}
