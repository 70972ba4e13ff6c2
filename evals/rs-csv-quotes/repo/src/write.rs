//! Writing records.

/// A field as it goes into the file: quoted if it contains a comma, a quote
/// or a line break (or starts or ends with a space), otherwise as is.
pub fn write_field(field: &str) -> String {
    let needs_quotes = field.contains([',', '"', '\n', '\r'])
        || field.starts_with(' ')
        || field.ends_with(' ');
    if needs_quotes {
        format!("\"{field}\"")
    } else {
        field.to_string()
    }
}

/// A record as one line of the file, without the line ending.
pub fn write_record<S: AsRef<str>>(fields: &[S]) -> String {
    fields
        .iter()
        .map(|f| write_field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}
