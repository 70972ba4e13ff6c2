use query::{get, parse_query};

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn plain_pairs() {
    assert_eq!(parse_query("?a=1&b=two"), pairs(&[("a", "1"), ("b", "two")]));
    assert_eq!(parse_query("flag&&x="), pairs(&[("flag", ""), ("x", "")]));
    assert_eq!(parse_query(""), pairs(&[]));
}

#[test]
fn plus_is_a_space() {
    assert_eq!(parse_query("q=hello+world"), pairs(&[("q", "hello world")]));
}

#[test]
fn percent_escapes() {
    let q = parse_query("q=caf%C3%A9+au+lait&sum=1%2B1%3D2&path=%2Fdocs%2fintro");
    assert_eq!(get(&q, "q"), Some("café au lait"));
    assert_eq!(get(&q, "sum"), Some("1+1=2"));
    assert_eq!(get(&q, "path"), Some("/docs/intro"));
}

#[test]
fn keys_are_decoded_too() {
    assert_eq!(parse_query("first%20name=Ada"), pairs(&[("first name", "Ada")]));
}

#[test]
fn encoded_separators_stay_inside_values() {
    assert_eq!(parse_query("a=x%26y%3Dz&b=2"), pairs(&[("a", "x&y=z"), ("b", "2")]));
}

#[test]
fn malformed_escapes_are_kept() {
    assert_eq!(parse_query("a=100%&b=%zz&c=%4"), pairs(&[("a", "100%"), ("b", "%zz"), ("c", "%4")]));
}
