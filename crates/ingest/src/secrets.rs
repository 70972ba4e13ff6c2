//! Finding and redacting secrets: private keys, common API token formats and
//! the values in `.env` files.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Serialize;

/// A secret found in a file. The secret itself is never kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretFinding {
    /// Path relative to the root, with `/` separators.
    pub path: String,
    /// 1-based line where the secret starts.
    pub line: usize,
    /// What kind of secret it looks like, e.g. `private-key`, `github-token`.
    pub kind: &'static str,
}

/// Word boundaries are ASCII (`(?-u:\b)`): token formats are ASCII, and a
/// Unicode boundary would force the slow regex engine on non-ASCII text.
struct Rules {
    /// Finds [`LITERALS`]: text without any of them has no secret (outside
    /// environment files), and this one SIMD search is many times faster
    /// than running the rules.
    prefilter: AhoCorasick,
    each: Vec<(&'static str, Regex)>,
    env_line: Regex,
}

const RULES: &[(&str, &str)] = &[
    (
        "private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\z)",
    ),
    ("aws-access-key-id", r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?-u:\b)"),
    (
        "github-token",
        r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?-u:\b)",
    ),
    ("gitlab-token", r"(?-u:\b)glpat-[A-Za-z0-9_-]{20,}(?-u:\b)"),
    ("slack-token", r"(?-u:\b)xox[abposr]-[A-Za-z0-9-]{10,}(?-u:\b)"),
    ("anthropic-key", r"(?-u:\b)sk-ant-[A-Za-z0-9_-]{20,}"),
    ("openai-key", r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}"),
    ("stripe-key", r"(?-u:\b)(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}(?-u:\b)"),
    ("google-api-key", r"(?-u:\b)AIza[0-9A-Za-z_-]{35}(?-u:\b)"),
    ("huggingface-token", r"(?-u:\b)hf_[A-Za-z0-9]{34,}(?-u:\b)"),
    ("npm-token", r"(?-u:\b)npm_[A-Za-z0-9]{36}(?-u:\b)"),
    ("jwt", r"(?-u:\b)eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
];

/// Every match of every rule in [`RULES`] contains one of these (a test
/// checks it on generated matches of each rule).
const LITERALS: &[&str] = &[
    "-----BEGIN ",
    "AKIA",
    "ASIA",
    "ABIA",
    "ACCA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xox",
    "sk-",
    "k_live_",
    "k_test_",
    "AIza",
    "hf_",
    "npm_",
    "eyJ",
];

fn rules() -> &'static Rules {
    static RULES_CELL: OnceLock<Rules> = OnceLock::new();
    RULES_CELL.get_or_init(|| Rules {
        // Leftmost semantics let aho-corasick use its SIMD (Teddy) searcher.
        prefilter: AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(LITERALS)
            .expect("secret literals are valid"),
        each: RULES
            .iter()
            .map(|(k, r)| (*k, Regex::new(r).expect("secret rules are valid")))
            .collect(),
        env_line: Regex::new(ENV_LINE).expect("env rule is valid"),
    })
}

/// A `KEY=value` line of an environment file.
const ENV_LINE: &str = r#"(?m)^(?P<key>[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.-]*[ \t]*=[ \t]*)(?P<value>[^\s#][^\r\n]*?)[ \t]*\r?$"#;

/// Every pattern a verdict depends on, with its kind (for the count cache's
/// fingerprint: a change of rules invalidates cached "no secrets" verdicts).
pub(crate) fn rule_patterns() -> impl Iterator<Item = &'static str> {
    RULES.iter().flat_map(|(kind, pattern)| [*kind, *pattern]).chain([ENV_LINE])
}

/// Is `file_name` an environment file whose values are secrets (`.env`,
/// `.env.local`...) rather than an example (`.env.example`, `.env.sample`)?
pub(crate) fn is_env_file(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    if !(lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env")) {
        return false;
    }
    !["example", "sample", "template", "dist", "defaults"].iter().any(|w| lower.contains(w))
}

/// Scans `text` (from the file at `path`) and returns it with each secret
/// replaced by `[REDACTED:kind]`, with the findings. Returns `None` for the
/// text when nothing was found, to avoid a copy.
pub(crate) fn redact(path: &str, text: &str) -> (Option<String>, Vec<SecretFinding>) {
    let rules = rules();
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let env = is_env_file(file_name);
    if !env && !rules.prefilter.is_match(text) {
        return (None, Vec::new());
    }
    // Collect spans, then rewrite once, left to right, skipping overlaps.
    // Each rule starts with literals, so each search skips ahead by them (a
    // `RegexSet` over all rules cannot, and was slower on large files).
    let mut spans: Vec<(usize, usize, &'static str)> = Vec::new();
    for (kind, re) in &rules.each {
        spans.extend(re.find_iter(text).map(|m| (m.start(), m.end(), *kind)));
    }
    if env {
        for caps in rules.env_line.captures_iter(text) {
            let v = caps.name("value").expect("value group");
            spans.push((v.start(), v.end(), "env-value"));
        }
    }
    if spans.is_empty() {
        return (None, Vec::new());
    }
    spans.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    let mut out = String::with_capacity(text.len());
    let mut findings = Vec::new();
    let mut pos = 0;
    let mut line = 1;
    let mut line_pos = 0;
    for (start, end, kind) in spans {
        if start < pos {
            continue; // overlaps a span already redacted
        }
        line += text[line_pos..start].bytes().filter(|&b| b == b'\n').count();
        line_pos = start;
        out.push_str(&text[pos..start]);
        out.push_str("[REDACTED:");
        out.push_str(kind);
        out.push(']');
        pos = end;
        findings.push(SecretFinding { path: path.to_string(), line, kind });
    }
    out.push_str(&text[pos..]);
    (Some(out), findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tokens_and_keys_with_lines() {
        let gh = format!("ghp_{}", "a1B2".repeat(9));
        let text = format!(
            "fn main() {{}}\nlet t = \"{gh}\";\n-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\nAKIAABCDEFGHIJKLMNOP\n"
        );
        let (out, findings) = redact("src/main.rs", &text);
        let out = out.expect("redacted");
        assert!(!out.contains(&gh));
        assert!(!out.contains("MIIEabc"));
        assert!(!out.contains("AKIAABCDEFGHIJKLMNOP"));
        assert!(out.contains("let t = \"[REDACTED:github-token]\";"));
        let kinds: Vec<_> = findings.iter().map(|f| (f.kind, f.line)).collect();
        assert_eq!(kinds, vec![("github-token", 2), ("private-key", 3), ("aws-access-key-id", 6)]);
    }

    #[test]
    fn env_values_are_redacted_but_examples_are_not_env_files() {
        let (out, findings) =
            redact(".env", "# comment\nDB_PASSWORD=hunter2\nEMPTY=\nexport KEY = abc def\n");
        let out = out.expect("redacted");
        assert_eq!(out, "# comment\nDB_PASSWORD=[REDACTED:env-value]\nEMPTY=\nexport KEY = [REDACTED:env-value]\n");
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[1].line, 4);
        assert!(is_env_file(".env.local"));
        assert!(!is_env_file(".env.example"));
        assert!(!is_env_file("env.rs"));
    }

    /// 200 strings generated from `rule`'s regex (deterministic seed).
    fn sample_matches(rule: &str) -> Vec<String> {
        use proptest::strategy::{Strategy, ValueTree};
        use proptest::test_runner::TestRunner;
        // The generator knows no word boundaries or `\z`; they only restrict
        // where a match may be, not what it contains.
        let pattern = rule.replace("(?-u:\\b)", "").replace("|\\z", "");
        let strategy =
            proptest::string::string_regex(&pattern).expect("generator accepts the rule");
        let mut runner = TestRunner::deterministic();
        (0..200).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect()
    }

    #[test]
    fn every_rule_match_contains_a_prefilter_literal() {
        let prefilter = &rules().prefilter;
        for (kind, rule) in RULES {
            let one = Regex::new(rule).unwrap();
            let mut checked = 0;
            for m in sample_matches(rule) {
                // The generated text may also be matched by the rule itself;
                // what the rule finds in it must pass the prefilter.
                let text = format!("x = \"{m}\";\n");
                if one.is_match(&text) {
                    assert!(prefilter.is_match(&text), "{kind}: {m:?} has no prefilter literal");
                    assert!(redact("a.rs", &text).0.is_some(), "{kind}: {m:?} not redacted");
                    checked += 1;
                }
            }
            assert!(checked >= 100, "{kind}: only {checked} generated strings matched");
        }
    }

    #[test]
    fn clean_text_is_untouched() {
        let (out, findings) = redact("a.py", "password = os.environ['PASSWORD']\nsk-short\n");
        assert!(out.is_none());
        assert!(findings.is_empty());
    }
}
