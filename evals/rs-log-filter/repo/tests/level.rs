use logfilter::Level;

#[test]
fn parse_names() {
    assert_eq!(Level::parse("WARN"), Some(Level::Warn));
    assert_eq!(Level::parse("warning"), Some(Level::Warn));
    assert_eq!(Level::parse("Trace"), Some(Level::Trace));
    assert_eq!(Level::parse("fatal"), None);
}

#[test]
fn display() {
    assert_eq!(Level::Error.to_string(), "ERROR");
    assert_eq!(format!("{}", Level::Debug), "DEBUG");
}

#[test]
fn ordered_by_severity() {
    assert!(Level::Error > Level::Warn);
    assert!(Level::Warn > Level::Info);
    assert!(Level::Debug > Level::Trace);
    let mut sorted = Level::ALL;
    sorted.sort();
    assert_eq!(sorted, Level::ALL);
    assert_eq!(Level::ALL.iter().max(), Some(&Level::Error));
}
