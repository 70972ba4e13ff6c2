//! What chat and text completions share: running `n` generations together,
//! the `usage` object, and streaming them as server-sent events (the event
//! framing and the streamed response also serve `/v1/messages`).
//!
//! A streamed body owns the model's streams. When the client goes away,
//! hyper drops the body at its next write, which drops the streams, and
//! dropping a [`TextStream`] stops its decode.

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::stream::{self, SelectAll, Stream, StreamExt};
use futures::Future;
use serde_json::{json, Value};
use suit_model::{Completion, FinishReason, ModelError, StreamEvent, TextStream, Usage};

use crate::error::ApiError;

/// Which OpenAI object family a response belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `/v1/chat/completions`: `message` / `delta` choices.
    Chat,
    /// `/v1/completions`: `text` choices.
    Text,
}

/// The fields every response object of one request shares.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `chatcmpl-…` or `cmpl-…`.
    pub id: String,
    /// Unix seconds.
    pub created: u64,
    /// The model id the request named.
    pub model: String,
    /// Chat or text.
    pub dialect: Dialect,
}

impl Envelope {
    /// A response object with these `choices` (and `usage`, when given).
    fn object(&self, object: &str, choices: Vec<Value>, usage: Option<Value>) -> Value {
        let mut value = json!({
            "id": self.id,
            "object": object,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": null,
            "choices": choices,
        });
        if let Some(usage) = usage {
            value["usage"] = usage;
        }
        value
    }

    /// The whole (non-streamed) response for these finished choices.
    pub fn complete_response(&self, done: &[Completion]) -> Value {
        let choices = done
            .iter()
            .enumerate()
            .map(|(index, c)| match self.dialect {
                Dialect::Chat => json!({
                    "index": index,
                    "message": { "role": "assistant", "content": c.text, "refusal": null },
                    "logprobs": null,
                    "finish_reason": finish_reason(c.finish_reason),
                }),
                Dialect::Text => json!({
                    "index": index,
                    "text": c.text,
                    "logprobs": null,
                    "finish_reason": finish_reason(c.finish_reason),
                }),
            })
            .collect();
        let object = match self.dialect {
            Dialect::Chat => "chat.completion",
            Dialect::Text => "text_completion",
        };
        let usage = done.iter().fold(Usage::default(), |total, c| combine(total, &c.usage));
        self.object(object, choices, Some(usage_json(&usage)))
    }

    /// One streamed chunk carrying one choice's piece.
    fn chunk(&self, choice: Value, include_usage: bool) -> Value {
        let object = match self.dialect {
            Dialect::Chat => "chat.completion.chunk",
            Dialect::Text => "text_completion",
        };
        self.object(object, vec![choice], include_usage.then_some(Value::Null))
    }
}

/// OpenAI's spelling of why a choice ended.
fn finish_reason(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
    }
}

/// The usage of choices generated together from one prompt: the prompt
/// counted once, the generated tokens of every choice.
fn combine(total: Usage, one: &Usage) -> Usage {
    Usage {
        prompt_tokens: total.prompt_tokens.max(one.prompt_tokens),
        cached_tokens: total.cached_tokens.max(one.cached_tokens),
        completion_tokens: total.completion_tokens + one.completion_tokens,
    }
}

/// OpenAI's `usage` object.
fn usage_json(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": { "cached_tokens": usage.cached_tokens },
    })
}

/// Starts every job at once (so the embedded engine decodes them in one
/// batch) and gives back their streams in order; the first failure fails
/// all, and the streams already open are dropped.
pub async fn open_all<F>(jobs: Vec<F>) -> Result<Vec<TextStream>, ApiError>
where
    F: Future<Output = Result<TextStream, ModelError>>,
{
    futures::future::try_join_all(jobs).await.map_err(ApiError::from)
}

/// Drains every stream, concurrently, into its finished completion.
pub async fn collect_all(streams: Vec<TextStream>) -> Result<Vec<Completion>, ApiError> {
    futures::future::try_join_all(streams.into_iter().map(suit_model::collect))
        .await
        .map_err(ApiError::from)
}

/// The reply to a generation request: streamed as server-sent events when
/// the client asked for a stream (`include_usage` adds the usage chunk),
/// else every choice collected into one JSON response.
pub async fn respond(
    streams: Vec<TextStream>,
    envelope: Envelope,
    stream: bool,
    include_usage: bool,
) -> Result<Response, ApiError> {
    if stream {
        return Ok(stream_response(streams, envelope, include_usage));
    }
    let done = collect_all(streams).await?;
    Ok(axum::Json(envelope.complete_response(&done)).into_response())
}

/// A `text/event-stream` response: for chat, each choice's role first;
/// then every piece of text as it comes, each choice's `finish_reason` in
/// its last chunk, the usage chunk when `include_usage`, and `data: [DONE]`.
/// A model failure mid-stream is sent as an `{"error":…}` event and ends it.
pub fn stream_response(
    streams: Vec<TextStream>,
    envelope: Envelope,
    include_usage: bool,
) -> Response {
    let mut pending = VecDeque::new();
    if envelope.dialect == Dialect::Chat {
        for index in 0..streams.len() {
            let choice = json!({
                "index": index,
                "delta": { "role": "assistant", "content": "" },
                "logprobs": null,
                "finish_reason": null,
            });
            pending.push_back(event(&envelope.chunk(choice, include_usage)));
        }
    }
    let merged: SelectAll<_> = streams
        .into_iter()
        .enumerate()
        .map(|(index, s)| s.map(move |item| (index, item)).boxed())
        .collect();
    let state = Streaming {
        merged,
        pending,
        envelope,
        include_usage,
        usage: Usage::default(),
        ended: false,
    };
    event_stream(stream::unfold(state, |mut state| async move {
        let bytes = state.next_bytes().await?;
        Some((bytes, state))
    }))
}

/// A `text/event-stream` response sending `events` as they come. The body
/// owns the stream: when the client goes away it is dropped, and with it
/// whatever the stream owns (the model's streams, which stop their decode).
pub fn event_stream(events: impl Stream<Item = Bytes> + Send + 'static) -> Response {
    (
        [(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")],
        Body::from_stream(events.map(Ok::<_, Infallible>)),
    )
        .into_response()
}

/// The state of one streamed response.
struct Streaming {
    merged:
        SelectAll<futures::stream::BoxStream<'static, (usize, Result<StreamEvent, ModelError>)>>,
    pending: VecDeque<Bytes>,
    envelope: Envelope,
    include_usage: bool,
    usage: Usage,
    ended: bool,
}

impl Streaming {
    /// The next bytes to send, or `None` at the end.
    async fn next_bytes(&mut self) -> Option<Bytes> {
        loop {
            if let Some(bytes) = self.pending.pop_front() {
                return Some(bytes);
            }
            if self.ended {
                return None;
            }
            match self.merged.next().await {
                Some((index, Ok(StreamEvent::Delta(text)))) => {
                    if !text.is_empty() {
                        let choice = self.piece(index, &text, None);
                        self.push(choice);
                    }
                }
                Some((index, Ok(StreamEvent::Done(done)))) => {
                    self.usage = combine(self.usage, &done.usage);
                    let choice = self.piece(index, "", Some(done.finish_reason));
                    self.push(choice);
                }
                Some((_, Err(error))) => {
                    // Stop the other choices' decodes too.
                    self.merged = SelectAll::new();
                    self.pending.push_back(event(&ApiError::from(error).body()));
                    self.ended = true;
                }
                None => {
                    if self.include_usage {
                        let mut last = self.envelope.object(
                            match self.envelope.dialect {
                                Dialect::Chat => "chat.completion.chunk",
                                Dialect::Text => "text_completion",
                            },
                            Vec::new(),
                            None,
                        );
                        last["usage"] = usage_json(&self.usage);
                        self.pending.push_back(event(&last));
                    }
                    self.pending.push_back(Bytes::from_static(b"data: [DONE]\n\n"));
                    self.ended = true;
                }
            }
        }
    }

    /// A choice's piece of text, or its end.
    fn piece(&self, index: usize, text: &str, finish: Option<FinishReason>) -> Value {
        let finish = finish.map(finish_reason);
        match self.envelope.dialect {
            Dialect::Chat => {
                let delta = if finish.is_some() { json!({}) } else { json!({ "content": text }) };
                json!({ "index": index, "delta": delta, "logprobs": null, "finish_reason": finish })
            }
            Dialect::Text => {
                json!({ "index": index, "text": text, "logprobs": null, "finish_reason": finish })
            }
        }
    }

    fn push(&mut self, choice: Value) {
        let chunk = self.envelope.chunk(choice, self.include_usage);
        self.pending.push_back(event(&chunk));
    }
}

/// One `data: …` event.
fn event(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

/// One named event, `event: NAME` then `data: …` (the form of Anthropic's
/// streams).
pub fn named_event(name: &str, value: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {value}\n\n"))
}
