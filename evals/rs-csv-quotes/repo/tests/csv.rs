use minicsv::{read_record, write_field, write_record, ReadError};

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn plain_fields() {
    assert_eq!(write_record(&["a", "b c", ""]), "a,b c,");
    assert_eq!(read_record("a,b c,"), Ok(strings(&["a", "b c", ""])));
    assert_eq!(read_record(""), Ok(strings(&[""])));
}

#[test]
fn fields_that_need_quotes() {
    assert_eq!(write_field("Smith, John"), "\"Smith, John\"");
    assert_eq!(write_field(" padded "), "\" padded \"");
    assert_eq!(write_field("two\nlines"), "\"two\nlines\"");
    assert_eq!(read_record("\"Smith, John\",42"), Ok(strings(&["Smith, John", "42"])));
    assert_eq!(read_record("\"\",x"), Ok(strings(&["", "x"])));
}

#[test]
fn quotes_are_doubled_when_writing() {
    assert_eq!(write_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(write_field("\""), "\"\"\"\"");
    assert_eq!(write_record(&["12\" pipe", "ok"]), "\"12\"\" pipe\",ok");
}

#[test]
fn doubled_quotes_are_read_as_one() {
    assert_eq!(read_record("\"say \"\"hi\"\"\",x"), Ok(strings(&["say \"hi\"", "x"])));
    assert_eq!(read_record("\"\"\"\""), Ok(strings(&["\""])));
    assert_eq!(read_record("a,\"\"\"quoted\"\" start\""), Ok(strings(&["a", "\"quoted\" start"])));
}

#[test]
fn round_trip() {
    let records = [
        strings(&["id", "name", "note"]),
        strings(&["1", "say \"hi\"", "a, b"]),
        strings(&["2", "\"\"", " x "]),
        strings(&["3", "", "the \"end\", really"]),
    ];
    for record in &records {
        assert_eq!(read_record(&write_record(record)).as_ref(), Ok(record));
    }
}

#[test]
fn malformed_lines() {
    assert_eq!(read_record("\"open,x"), Err(ReadError::UnclosedQuote));
    assert_eq!(read_record("\"a\"b,c"), Err(ReadError::TextAfterQuote(3)));
    assert_eq!(read_record("\"a\"\"b"), Err(ReadError::UnclosedQuote));
}
