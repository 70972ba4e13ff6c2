//! `POST /v1/embeddings`.

use axum::extract::State;
use axum::Json;
use base64::Engine as _;
use suit_protocol::openai::{
    Embedding, Embeddings, EmbeddingsInput as Input, EmbeddingsRequest, EmbeddingsUsage, Vector,
};

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::params::embedding_model;
use crate::usage::Caller;
use crate::AppState;

/// Most inputs one request may embed.
const MAX_INPUTS: usize = 2048;

/// `POST /v1/embeddings`.
pub async fn embeddings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<EmbeddingsRequest>,
) -> Result<Json<Embeddings>, ApiError> {
    let model = embedding_model(&state, &request.model)?;
    let inputs = match request.input {
        Input::One(text) => vec![text],
        Input::Many(texts) => texts,
        Input::Other(_) => {
            return Err(ApiError::invalid(
                Some("input".into()),
                "`input` must be a string or an array of strings; token arrays are not \
                 supported.",
            ))
        }
    };
    if inputs.is_empty() || inputs.len() > MAX_INPUTS {
        return Err(ApiError::invalid(
            Some("input".into()),
            format!("`input` holds {} strings; send 1 to {MAX_INPUTS}.", inputs.len()),
        ));
    }
    if request.dimensions.is_some() {
        return Err(ApiError::invalid(
            Some("dimensions".into()),
            "`dimensions` is not supported: the model's vectors have a fixed size.",
        ));
    }
    let base64 = match request.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                Some("encoding_format".into()),
                format!("`encoding_format` is `{other}`; use `float` or `base64`."),
            ))
        }
    };
    let embedded = model.embed(inputs).await?;
    caller.record_embeddings(state.models.embedder(), &embedded.usage);
    let data = embedded
        .vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| Embedding {
            object: "embedding".into(),
            index,
            embedding: if base64 {
                Vector::Base64(encode_base64(vector))
            } else {
                Vector::Floats(vector.clone())
            },
        })
        .collect();
    let tokens = embedded.usage.prompt_tokens;
    Ok(Json(Embeddings {
        object: "list".into(),
        data,
        model: request.model,
        usage: EmbeddingsUsage { prompt_tokens: tokens, total_tokens: tokens },
    }))
}

/// A vector as base64 of its little-endian f32 bytes.
fn encode_base64(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
