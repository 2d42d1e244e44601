//! Short required texts: names of people, locals and roles.

/// What every typed text is checked for before it is tidied: no control
/// characters but whitespace (a tab, a line break), and at most `max`
/// characters counted as typed, so the limit is the one the API schema
/// states. Names here and [`super::Address`] share it.
///
/// # Errors
/// The message for the form.
pub(crate) fn check_typed(raw: &str, max: usize) -> Result<(), String> {
    if raw.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err("Remove the invisible control characters.".into());
    }
    if raw.chars().count() > max {
        return Err(format!("Use at most {max} characters."));
    }
    Ok(())
}

fn required(raw: &str, what: &str, max: usize) -> Result<String, String> {
    check_typed(raw, max)?;
    let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if value.is_empty() {
        return Err(format!("Enter {what}."));
    }
    Ok(value)
}

macro_rules! text_type {
    ($name:ident, $what:literal, $max:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// # Errors
            /// A message when the text is empty or too long.
            pub fn parse(raw: &str) -> Result<Self, String> {
                required(raw, $what, $max).map(Self)
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
    };
}

text_type!(PersonName, "your name", 120);
text_type!(LocalName, "the name of your local", 120);
text_type!(RoleName, "a name for the role", 60);
text_type!(TokenName, "a name for the token", 80);
text_type!(UnitName, "a name", 160);
text_type!(MemberName, "a name", 120);
text_type!(EmployeeNumber, "an employee number", 40);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PersonName::parse("  Ann   Lee ").unwrap().as_str(),
            "Ann Lee"
        );
        assert!(PersonName::parse("   ").is_err());
        assert!(RoleName::parse(&"x".repeat(61)).is_err());
        assert!(LocalName::parse("Local\u{0}1").is_err());
    }
}
