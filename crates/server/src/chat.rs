//! `POST /v1/chat/completions`.

use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use suit_model::{ChatRequest, Constraint, Message, Role};
use suit_protocol::openai::{
    ChatCompletionRequest, ChatMessage, ChatRole, ContentPart, MessageContent, ResponseFormat,
};

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::params::{generation_model, priority, SamplingFields};
use crate::sse::{self, Dialect, Envelope};
use crate::usage::Caller;
use crate::{ids, AppState};

/// The sampling fields, for [`SamplingFields::samplings`]. (They are
/// fields of the request itself, not a flattened struct, so that a field of
/// the wrong type is named in the error.)
fn sampling_fields(request: &ChatCompletionRequest) -> SamplingFields {
    SamplingFields {
        max_tokens: request.max_tokens,
        max_completion_tokens: request.max_completion_tokens,
        temperature: request.temperature,
        top_p: request.top_p,
        seed: request.seed,
        stop: request.stop.clone(),
        n: request.n,
    }
}

/// The output constraint `format` asks for: none, any JSON object, or JSON
/// valid against the schema.
fn constraint(format: ResponseFormat) -> Result<Option<Constraint>, ApiError> {
    match format {
        ResponseFormat::Text => Ok(None),
        ResponseFormat::JsonObject => Ok(Some(Constraint::JsonSchema(json!({ "type": "object" })))),
        ResponseFormat::JsonSchema { json_schema } => match json_schema.schema {
            Some(schema @ Value::Object(_)) => Ok(Some(Constraint::JsonSchema(schema))),
            _ => Err(ApiError::invalid(
                Some("response_format.json_schema.schema".into()),
                "`response_format.json_schema.schema` must be a JSON Schema object.",
            )),
        },
    }
}

/// The messages as the model layer takes them.
fn messages(wire: Vec<ChatMessage>) -> Result<Vec<Message>, ApiError> {
    if wire.is_empty() {
        return Err(ApiError::invalid(
            Some("messages".into()),
            "`messages` is empty; send at least one message.",
        ));
    }
    wire.into_iter()
        .enumerate()
        .map(|(i, m)| {
            let role = match m.role {
                ChatRole::System | ChatRole::Developer => Role::System,
                ChatRole::User => Role::User,
                ChatRole::Assistant => Role::Assistant,
                ChatRole::Tool | ChatRole::Function => {
                    return Err(ApiError::invalid(
                        Some(format!("messages[{i}].role")),
                        "Tool and function messages are not supported: this server does not \
                         call tools.",
                    ))
                }
            };
            let content = match m.content {
                None => String::new(),
                Some(MessageContent::Text(text)) => text,
                Some(MessageContent::Parts(parts)) => text_of_parts(parts, i)?,
            };
            Ok(Message { role, content })
        })
        .collect()
}

/// The text of an array of content parts, joined by newlines.
fn text_of_parts(parts: Vec<ContentPart>, message: usize) -> Result<String, ApiError> {
    let mut texts = Vec::with_capacity(parts.len());
    for (j, part) in parts.into_iter().enumerate() {
        match (part.kind.as_str(), part.text) {
            ("text", Some(text)) => texts.push(text),
            ("text", None) => {
                return Err(ApiError::invalid(
                    Some(format!("messages[{message}].content[{j}].text")),
                    "A text content part needs a `text` string.",
                ))
            }
            (other, _) => {
                return Err(ApiError::invalid(
                    Some(format!("messages[{message}].content[{j}].type")),
                    format!("Content parts of type `{other}` are not supported; send text."),
                ))
            }
        }
    }
    Ok(texts.join("\n"))
}

/// `POST /v1/chat/completions`.
pub async fn chat_completions(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<ChatCompletionRequest>,
) -> Result<Response, ApiError> {
    let model = generation_model(&state, &request.model)?;
    if request.tools.as_ref().is_some_and(|t| t.as_array().is_none_or(|a| !a.is_empty())) {
        return Err(ApiError::invalid(
            Some("tools".into()),
            "`tools` is not supported: this server does not call tools.",
        ));
    }
    let samplings = sampling_fields(&request).samplings(model.as_ref())?;
    let messages = messages(request.messages)?;
    let constraint = match request.response_format {
        Some(format) => constraint(format)?,
        None => None,
    };
    let jobs = samplings.into_iter().map(|sampling| {
        model.chat(ChatRequest {
            messages: messages.clone(),
            sampling,
            constraint: constraint.clone(),
            client: caller.client(),
            priority: priority(request.service_tier.as_deref()),
            ..ChatRequest::default()
        })
    });
    let streams = sse::open_all(jobs.collect()).await?;
    let streams = caller.metered(streams, &state.models.generation, &messages);
    let envelope = Envelope {
        id: ids::response_id("chatcmpl"),
        created: ids::unix_now(),
        model: request.model,
        dialect: Dialect::Chat,
    };
    let include_usage = request.stream_options.and_then(|o| o.include_usage).unwrap_or(false);
    sse::respond(streams, envelope, request.stream.unwrap_or(false), include_usage).await
}
