//! `POST /v1/completions`: raw text completion, and fill-in-the-middle when
//! the request has a `suffix`.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use suit_model::{CompletionRequest, Prompt};

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::params::{generation_model, priority, SamplingFields, Stop, StreamOptions};
use crate::sse::{self, Dialect, Envelope};
use crate::usage::Caller;
use crate::{ids, AppState};

/// The request body of `/v1/completions` (fields suit does not use are ignored).
#[derive(Debug, Deserialize)]
pub struct TextCompletionRequest {
    model: String,
    prompt: PromptField,
    #[serde(default)]
    suffix: Option<String>,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    top_p: Option<f32>,
    #[serde(default)]
    seed: Option<i64>,
    #[serde(default)]
    stop: Option<Stop>,
    #[serde(default)]
    n: Option<u32>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    /// `flex` marks batch work, which waits while interactive requests do.
    #[serde(default)]
    service_tier: Option<String>,
}

impl TextCompletionRequest {
    /// The sampling fields, for [`SamplingFields::samplings`]. (They are
    /// fields of the request itself, not a flattened struct, so that a field
    /// of the wrong type is named in the error.)
    fn sampling_fields(&self) -> SamplingFields {
        SamplingFields {
            max_tokens: self.max_tokens,
            max_completion_tokens: None,
            temperature: self.temperature,
            top_p: self.top_p,
            seed: self.seed,
            stop: self.stop.clone(),
            n: self.n,
        }
    }
}

/// `prompt`: a string, or an array holding one string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PromptField {
    One(String),
    Many(Vec<String>),
}

impl PromptField {
    fn into_text(self) -> Result<String, ApiError> {
        match self {
            PromptField::One(text) => Ok(text),
            PromptField::Many(mut texts) if texts.len() == 1 => Ok(texts.remove(0)),
            PromptField::Many(texts) => Err(ApiError::invalid(
                Some("prompt".into()),
                format!(
                    "`prompt` holds {} strings; send one prompt per request (use `n` for \
                     several completions of it).",
                    texts.len()
                ),
            )),
        }
    }
}

/// `POST /v1/completions`.
pub async fn completions(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<TextCompletionRequest>,
) -> Result<Response, ApiError> {
    let model = generation_model(&state, &request.model)?;
    let samplings = request.sampling_fields().samplings(model.as_ref())?;
    let text = request.prompt.into_text()?;
    let prompt = match request.suffix {
        Some(suffix) => Prompt::Fim { prefix: text, suffix },
        None => Prompt::Text(text),
    };
    let jobs = samplings.into_iter().map(|sampling| {
        model.complete(CompletionRequest {
            prompt: prompt.clone(),
            sampling,
            constraint: None,
            client: caller.client(),
            priority: priority(request.service_tier.as_deref()),
            ..CompletionRequest::text("")
        })
    });
    let streams = sse::open_all(jobs.collect()).await?;
    let streams = caller.metered(streams, &state.models.generation, &prompt);
    let envelope = Envelope {
        id: ids::response_id("cmpl"),
        created: ids::unix_now(),
        model: request.model,
        dialect: Dialect::Text,
    };
    let include_usage = request.stream_options.and_then(|o| o.include_usage).unwrap_or(false);
    sse::respond(streams, envelope, request.stream.unwrap_or(false), include_usage).await
}
