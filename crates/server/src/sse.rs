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
use serde::Serialize;
use serde_json::Value;
use suit_model::{Completion, FinishReason, ModelError, StreamEvent, TextStream, Usage};
use suit_protocol::openai::{
    self, AssistantMessage, ChatChoice, ChatRole, ChunkChoice, CompletionObject, Delta, TextChoice,
};

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
    /// A completion object of this request with these `choices` (and
    /// `usage`, see [`CompletionObject::usage`]).
    fn object<C: Serialize>(
        &self,
        object: &str,
        choices: Vec<C>,
        usage: Option<Option<openai::Usage>>,
    ) -> Value {
        let object = CompletionObject {
            id: self.id.clone(),
            object: object.to_string(),
            created: self.created,
            model: self.model.clone(),
            system_fingerprint: None,
            choices,
            usage,
        };
        serde_json::to_value(object).expect("a completion object is JSON")
    }

    /// The type of this request's stream chunks.
    fn chunk_object(&self) -> &'static str {
        match self.dialect {
            Dialect::Chat => "chat.completion.chunk",
            Dialect::Text => "text_completion",
        }
    }

    /// The whole (non-streamed) response for these finished choices.
    pub fn complete_response(&self, done: &[Completion]) -> Value {
        let usage = done.iter().fold(Usage::default(), |total, c| combine(total, &c.usage));
        let usage = Some(Some(wire_usage(&usage)));
        match self.dialect {
            Dialect::Chat => {
                let choices = done
                    .iter()
                    .enumerate()
                    .map(|(index, c)| ChatChoice {
                        index,
                        message: AssistantMessage {
                            role: ChatRole::Assistant,
                            content: c.text.clone(),
                            refusal: None,
                        },
                        logprobs: None,
                        finish_reason: finish_reason(c.finish_reason),
                    })
                    .collect();
                self.object("chat.completion", choices, usage)
            }
            Dialect::Text => {
                let choices: Vec<TextChoice> = done
                    .iter()
                    .enumerate()
                    .map(|(index, c)| TextChoice {
                        index,
                        text: c.text.clone(),
                        logprobs: None,
                        finish_reason: Some(finish_reason(c.finish_reason)),
                    })
                    .collect();
                self.object("text_completion", choices, usage)
            }
        }
    }

    /// One streamed chunk carrying one choice's piece.
    fn chunk<C: Serialize>(&self, choice: C, include_usage: bool) -> Value {
        self.object(self.chunk_object(), vec![choice], include_usage.then_some(None))
    }
}

/// OpenAI's name for why a choice ended.
fn finish_reason(reason: FinishReason) -> openai::FinishReason {
    match reason {
        FinishReason::Stop => openai::FinishReason::Stop,
        FinishReason::Length => openai::FinishReason::Length,
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
fn wire_usage(usage: &Usage) -> openai::Usage {
    openai::Usage {
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        total_tokens: usage.prompt_tokens + usage.completion_tokens,
        prompt_tokens_details: openai::PromptTokensDetails { cached_tokens: usage.cached_tokens },
    }
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
            let choice = ChunkChoice {
                index,
                delta: Delta { role: Some(ChatRole::Assistant), content: Some(String::new()) },
                logprobs: None,
                finish_reason: None,
            };
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
                        self.piece(index, text, None);
                    }
                }
                Some((index, Ok(StreamEvent::Done(done)))) => {
                    self.usage = combine(self.usage, &done.usage);
                    self.piece(index, String::new(), Some(done.finish_reason));
                }
                Some((_, Err(error))) => {
                    // Stop the other choices' decodes too.
                    self.merged = SelectAll::new();
                    self.pending.push_back(event(&ApiError::from(error).body()));
                    self.ended = true;
                }
                None => {
                    if self.include_usage {
                        let last = self.envelope.object::<TextChoice>(
                            self.envelope.chunk_object(),
                            Vec::new(),
                            Some(Some(wire_usage(&self.usage))),
                        );
                        self.pending.push_back(event(&last));
                    }
                    self.pending.push_back(Bytes::from_static(b"data: [DONE]\n\n"));
                    self.ended = true;
                }
            }
        }
    }

    /// Queues a choice's piece of text, or its end.
    fn piece(&mut self, index: usize, text: String, finish: Option<FinishReason>) {
        let finish_reason = finish.map(finish_reason);
        let chunk = match self.envelope.dialect {
            Dialect::Chat => {
                let content = finish.is_none().then_some(text);
                let choice = ChunkChoice {
                    index,
                    delta: Delta { role: None, content },
                    logprobs: None,
                    finish_reason,
                };
                self.envelope.chunk(choice, self.include_usage)
            }
            Dialect::Text => {
                let choice = TextChoice { index, text, logprobs: None, finish_reason };
                self.envelope.chunk(choice, self.include_usage)
            }
        };
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
