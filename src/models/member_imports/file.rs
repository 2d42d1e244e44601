//! The uploaded file: its encoding, its records, and the check of its start.
use super::{Mapping, PREVIEW_ROWS};

/// The start of an uploaded file, read to check it and to guess the mapping.
#[derive(Debug, Clone)]
pub struct Sniffed {
    pub encoding: &'static str,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The file's text: UTF-8 (a BOM dropped), UTF-16 with a BOM, otherwise
/// Windows-1252 (what spreadsheets on Windows save as "CSV").
/// `complete` is false for the first chunk of a longer file, whose last
/// UTF-8 character may be cut.
pub(super) fn decode(
    bytes: &[u8],
    declared: Option<&str>,
    complete: bool,
) -> (String, &'static str) {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return (text.into_owned(), encoding.name());
    }
    let utf8 = match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    };
    if utf8 && declared != Some("windows-1252") {
        (String::from_utf8_lossy(bytes).into_owned(), "UTF-8")
    } else {
        let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
        (text.into_owned(), "windows-1252")
    }
}

/// How many records the file holds (the header's among them), read
/// without keeping them.
pub(super) fn count_records(text: &str) -> usize {
    let mut reader = reader(text);
    let mut record = csv::ByteRecord::new();
    let mut count = 0;
    // The text is UTF-8 and rows may differ in length: reading cannot fail.
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        count += 1;
    }
    count
}

pub(super) fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes())
}

pub(super) fn fields(record: &csv::StringRecord) -> Vec<String> {
    record.iter().map(|f| f.trim().to_string()).collect()
}

/// Checks the start of an upload: not empty, text, CSV with a header row,
/// and at least one column a member field can be guessed from.
///
/// # Errors
/// A message for the person who uploaded it.
pub fn sniff(start: &[u8], complete: bool) -> std::result::Result<Sniffed, String> {
    sniff_with(start, complete, true)
}

/// [`sniff`], where `named` says whether the header row must name a column
/// the mapping can guess.
///
/// # Errors
/// A message for the person who uploaded it.
pub(super) fn sniff_with(
    start: &[u8],
    complete: bool,
    named: bool,
) -> std::result::Result<Sniffed, String> {
    if start.iter().all(u8::is_ascii_whitespace) {
        return Err("The file is empty.".into());
    }
    let (text, encoding) = decode(start, None, complete);
    if text.contains('\0') {
        return Err(
            "This is not a CSV file (it contains binary data). Save the sheet as CSV and try again."
                .into(),
        );
    }
    let mut records = reader(&text).into_records();
    let headers = match records.next() {
        Some(Ok(r)) => fields(&r),
        Some(Err(e)) => return Err(format!("The file could not be read as CSV: {e}.")),
        None => return Err("The file is empty.".into()),
    };
    let mut rows = Vec::new();
    for record in records.take(PREVIEW_ROWS) {
        match record {
            Ok(r) => rows.push(fields(&r)),
            // A cut last record at the end of the first chunk is expected.
            Err(_) if !complete => break,
            Err(e) => return Err(format!("The file could not be read as CSV: {e}.")),
        }
    }
    if named && Mapping::guess(&headers).0.is_empty() {
        return Err(format!(
            "No usable columns: the first row should name the columns (for example first_name, last_name, email, phone); this file's first row is \"{}\".",
            headers.join(", ").chars().take(120).collect::<String>()
        ));
    }
    if rows.is_empty() {
        return Err("The file has a header row but no members.".into());
    }
    Ok(Sniffed {
        encoding,
        headers,
        rows,
    })
}
