//! `POST /v1/completions`: raw text completion, and fill-in-the-middle when
//! the request has a `suffix`.

use axum::extract::State;
use axum::response::Response;
use suit_model::{CompletionRequest, Prompt};
use suit_protocol::openai::{CompletionPrompt, TextCompletionRequest};

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::params::{generation_model, priority, SamplingFields};
use crate::sse::{self, Dialect, Envelope};
use crate::usage::Caller;
use crate::{ids, AppState};

/// The sampling fields, for [`SamplingFields::samplings`]. (They are
/// fields of the request itself, not a flattened struct, so that a field of
/// the wrong type is named in the error.)
fn sampling_fields(request: &TextCompletionRequest) -> SamplingFields {
    SamplingFields {
        max_tokens: request.max_tokens,
        max_completion_tokens: None,
        temperature: request.temperature,
        top_p: request.top_p,
        seed: request.seed,
        stop: request.stop.clone(),
        n: request.n,
    }
}

/// The one prompt of a request.
fn prompt_text(prompt: CompletionPrompt) -> Result<String, ApiError> {
    match prompt {
        CompletionPrompt::One(text) => Ok(text),
        CompletionPrompt::Many(mut texts) if texts.len() == 1 => Ok(texts.remove(0)),
        CompletionPrompt::Many(texts) => Err(ApiError::invalid(
            Some("prompt".into()),
            format!(
                "`prompt` holds {} strings; send one prompt per request (use `n` for several \
                 completions of it).",
                texts.len()
            ),
        )),
    }
}

/// `POST /v1/completions`.
pub async fn completions(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<TextCompletionRequest>,
) -> Result<Response, ApiError> {
    let model = generation_model(&state, &request.model)?;
    let samplings = sampling_fields(&request).samplings(model.as_ref())?;
    let text = prompt_text(request.prompt)?;
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
