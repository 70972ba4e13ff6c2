//! Reading records.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// A quoted field that is never closed.
    UnclosedQuote,
    /// Something other than a comma right after a closing quote, at this
    /// byte offset.
    TextAfterQuote(usize),
}

/// The fields of one record. A field may be quoted with '"', and then may
/// contain commas and line breaks.
pub fn read_record(line: &str) -> Result<Vec<String>, ReadError> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.char_indices().peekable();
    let mut at_field_start = true;
    while let Some((_, c)) = chars.next() {
        if at_field_start && c == '"' {
            // a quoted field: read up to the closing quote
            loop {
                match chars.next() {
                    None => return Err(ReadError::UnclosedQuote),
                    Some((_, '"')) => break,
                    Some((_, c)) => field.push(c),
                }
            }
            match chars.next() {
                None => break,
                Some((_, ',')) => fields.push(std::mem::take(&mut field)),
                Some((i, _)) => return Err(ReadError::TextAfterQuote(i)),
            }
        } else if c == ',' {
            fields.push(std::mem::take(&mut field));
            at_field_start = true;
        } else {
            field.push(c);
            at_field_start = false;
        }
    }
    fields.push(field);
    Ok(fields)
}
