//! URL query strings: "?a=1&b=two" -> [("a", "1"), ("b", "two")].

/// Splits a query string into (key, value) pairs, in order. A leading '?'
/// is skipped, empty pieces are ignored and a key without '=' gets "".
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// The value of the first pair named `key`.
pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}
