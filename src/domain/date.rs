//! Dates as people and spreadsheets write them: ISO (what a date field
//! sends), US month/day/year, and year/month/day. One reader for the member
//! form, the list's filters, the API and the import, so all four accept the
//! same dates (the form used to refuse the US dates the import took).
use chrono::NaiveDate;

const FORMATS: [&str; 3] = ["%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d"];

/// A date, or a message naming the forms it may take.
///
/// # Errors
/// When `raw` is none of them.
pub fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    let raw = raw.trim();
    FORMATS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
        .ok_or_else(|| format!("\"{raw}\" is not a date: enter it as YYYY-MM-DD (or MM/DD/YYYY)."))
}

/// [`parse_date`], where nothing entered is no date.
///
/// # Errors
/// When something entered is not a date.
pub fn parse_optional_date(raw: &str) -> Result<Option<NaiveDate>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    parse_date(raw).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_us_and_slashed_dates_read_alike_and_anything_else_is_refused_with_the_forms() {
        let day = NaiveDate::from_ymd_opt(2024, 3, 7).unwrap();
        for raw in ["2024-03-07", " 03/07/2024 ", "3/7/2024", "2024/03/07"] {
            assert_eq!(parse_date(raw), Ok(day), "{raw}");
        }
        assert_eq!(parse_optional_date("  "), Ok(None));
        assert_eq!(parse_optional_date("2024-03-07"), Ok(Some(day)));
        for raw in ["07.03.2024", "2024-02-30", "13/01/2024", "yesterday"] {
            let refused = parse_date(raw).unwrap_err();
            assert!(refused.contains("YYYY-MM-DD"), "{raw}: {refused}");
        }
    }
}
