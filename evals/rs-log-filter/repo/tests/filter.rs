use logfilter::{Filter, Level};

#[test]
fn warn_shows_warnings_and_errors_only() {
    let f = Filter::new(Level::Warn);
    assert!(f.allows("app", Level::Error));
    assert!(f.allows("app", Level::Warn));
    assert!(!f.allows("app", Level::Info));
    assert!(!f.allows("app", Level::Debug));
    assert!(!f.allows("app", Level::Trace));
}

#[test]
fn module_levels() {
    let f = Filter::parse("warn, net=debug, net::tls=error").unwrap();
    assert!(f.allows("net", Level::Debug));
    assert!(f.allows("net::http", Level::Info));
    assert!(!f.allows("net::http", Level::Trace));
    assert!(!f.allows("net::tls", Level::Warn));
    assert!(f.allows("net::tls", Level::Error));
    assert!(!f.allows("network", Level::Info));
    assert!(f.allows("db", Level::Error));
}

#[test]
fn parsing() {
    assert_eq!(Filter::parse("").unwrap(), Filter::new(Level::Info));
    assert_eq!(Filter::parse("error").unwrap().min_level("x"), Level::Error);
    assert!(Filter::parse("loud").is_err());
    assert!(Filter::parse("info,db=verbose").is_err());
}

#[test]
fn most_verbose_level() {
    assert_eq!(Filter::parse("warn").unwrap().most_verbose(), Level::Warn);
    assert_eq!(Filter::parse("warn,db=trace,net=info").unwrap().most_verbose(), Level::Trace);
    assert_eq!(Filter::parse("info,net=error").unwrap().most_verbose(), Level::Info);
}
