//! Run-length encoding: "aaabcc" <-> "3ab2c" (a count of 1 is left out).
//! The data itself must not contain ASCII digits.

pub fn encode(input: &str) -> String {
    let mut out = String::new();
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        let mut count = 1;
        while chars.peek() == Some(&c) {
            chars.next();
            count += 1;
        }
        if count > 1 {
            out.push_str(&count.to_string());
        }
        out.push(c);
    }
    out
}

pub fn decode(input: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut count: Option<usize> = None;
    for c in input.chars() {
        if let Some(d) = c.to_digit(10) {
            count = Some(d as usize);
        } else {
            out.extend(std::iter::repeat(c).take(count.unwrap_or(1)));
            count = None;
        }
    }
    if count.is_some() {
        return Err(format!("{input:?} ends with a count"));
    }
    Ok(out)
}
