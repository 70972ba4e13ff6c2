//! `POST /v1/messages`: Anthropic's Messages API, so clients written for
//! Anthropic's dialect (the `anthropic` SDKs, tools built on them) can use
//! the local model.
//!
//! What is read: `model`, `max_tokens` (required, as Anthropic requires),
//! `messages` (`user` and `assistant` turns; content a string or `text`
//! blocks), `system` (a string or `text` blocks), `stop_sequences`,
//! `temperature` (0 to 1, Anthropic's range), `top_p`, `top_k` (below)
//! and `stream`. `metadata`, `cache_control` on blocks
//! and other fields the model has no use for are accepted and ignored;
//! the `anthropic-version` and `anthropic-beta` headers are not checked.
//! Content blocks other than `text` (images, documents, tool use and
//! results, thinking), a non-empty `tools` and a last message from the
//! assistant (a prefill to continue) are refused with a 400 that names
//! them.
//!
//! The reply is one `text` block, with `stop_reason` `end_turn`,
//! `max_tokens` or `stop_sequence`; streamed, it is Anthropic's event
//! sequence: `message_start`, `content_block_start`, `ping`,
//! `content_block_delta`s, `content_block_stop`, `message_delta` (the stop
//! reason and usage), `message_stop`, each sent as `event: NAME` and
//! `data: JSON`. A model failure mid-stream is sent as an `error` event.
//!
//! Usage: `input_tokens` are the prompt tokens the model evaluated,
//! `cache_read_input_tokens` those it reused from its cache (KV prefix
//! reuse), `output_tokens` the tokens generated. The model layer reports
//! the counts when a reply ends, so `message_start` carries zeros and the
//! counts come in `message_delta` (which the `anthropic` SDKs read).
//!
//! Stop sequences are matched here, not by the model layer: its
//! `FinishReason::Stop` does not say whether a stop sequence or the end of
//! the turn ended a reply. At a match the model's stream is dropped, which
//! stops its decode, and since the model reports usage only at the end of a
//! stream, the usage of a reply cut this way is counted with the model's
//! tokenizer: `output_tokens` over the text up to and including the stop
//! sequence, `input_tokens` over the system prompt and messages (without
//! the few tokens the chat template adds), 0 when the model cannot count.
//!
//! `top_k`: the model layer samples with `temperature` and `top_p` only.
//! `top_k: 1` is greedy decoding, so it is applied as `temperature: 0`;
//! other values are accepted and not applied, which is harmless: the reply
//! is still sampled at the asked temperature from the `top_p` nucleus, only
//! not also cut to the `k` likeliest tokens (0 means no cut, as unset).
//!
//! Errors on this route, whoever raises them (the key check, the body limit,
//! the handler), are in Anthropic's shape (see [`anthropic_errors`]).

use std::collections::VecDeque;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::stream::{self, StreamExt};
use serde_json::Value;
use suit_model::{
    ChatRequest, Completion, FinishReason, Message, Model, ModelError, Role, StreamEvent,
    TextStream, Usage,
};
use suit_protocol::anthropic::{
    self, Content, Message as WireMessage, MessageDelta, MessageObject, MessagesRequest,
    StreamEvent as WireEvent, TextBlock, TextDelta,
};

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::params::{generation_model, SamplingFields};
use crate::sse::{self, named_event};
use crate::usage::{Caller, PromptText};
use crate::{ids, AppState};

/// The path of the Messages API.
pub const PATH: &str = "/v1/messages";

/// The text of `content`, its blocks joined by newlines; `at` names the
/// field in errors.
fn content_text(content: Content, at: &str) -> Result<String, ApiError> {
    let blocks = match content {
        Content::Text(text) => return Ok(text),
        Content::Blocks(blocks) => blocks,
    };
    let mut texts = Vec::with_capacity(blocks.len());
    for (j, block) in blocks.into_iter().enumerate() {
        match (block.kind.as_str(), block.text) {
            ("text", Some(Value::String(text))) => texts.push(text),
            ("text", _) => {
                return Err(ApiError::invalid(
                    Some(format!("{at}.{j}.text")),
                    "A `text` block needs a `text` string.",
                ))
            }
            (other, _) => {
                return Err(ApiError::invalid(
                    Some(format!("{at}.{j}.type")),
                    format!(
                        "Content blocks of type `{other}` are not supported: this server \
                         gives text to a text-only model and does not call tools. Send \
                         `text` blocks."
                    ),
                ))
            }
        }
    }
    Ok(texts.join("\n"))
}

/// The conversation as the model layer takes it.
fn conversation(system: Option<Content>, wire: Vec<WireMessage>) -> Result<Vec<Message>, ApiError> {
    if wire.is_empty() {
        return Err(ApiError::invalid(
            Some("messages".into()),
            "`messages` is empty; send at least one `user` message.",
        ));
    }
    if wire.last().is_some_and(|m| m.role == "assistant") {
        return Err(ApiError::invalid(
            Some(format!("messages.{}", wire.len() - 1)),
            "The last message is from the assistant: continuing a partial assistant reply \
             (prefill) is not supported by this server. End with a `user` message.",
        ));
    }
    let mut messages = Vec::with_capacity(wire.len() + 1);
    if let Some(system) = system {
        let text = content_text(system, "system")?;
        if !text.is_empty() {
            messages.push(Message { role: Role::System, content: text });
        }
    }
    for (i, m) in wire.into_iter().enumerate() {
        let role = match m.role.as_str() {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            other => {
                return Err(ApiError::invalid(
                    Some(format!("messages.{i}.role")),
                    format!(
                        "The role `{other}` is not one of this API's: messages are `user` or \
                         `assistant`, and the system prompt goes in the top-level `system` \
                         field."
                    ),
                ))
            }
        };
        let content = content_text(m.content, &format!("messages.{i}.content"))?;
        messages.push(Message { role, content });
    }
    Ok(messages)
}

/// `POST /v1/messages`.
pub async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<MessagesRequest>,
) -> Result<Response, ApiError> {
    let model = generation_model(&state, &request.model)?;
    let Some(max_tokens) = request.max_tokens else {
        return Err(ApiError::invalid(
            Some("max_tokens".into()),
            "`max_tokens` is required: the most tokens the reply may have, such as 1024.",
        ));
    };
    if request.tools.as_ref().is_some_and(|t| t.as_array().is_none_or(|a| !a.is_empty())) {
        return Err(ApiError::invalid(
            Some("tools".into()),
            "`tools` is not supported: this server does not call tools.",
        ));
    }
    if let Some(temperature) = request.temperature.filter(|t| !(0.0..=1.0).contains(t)) {
        return Err(ApiError::invalid(
            Some("temperature".into()),
            format!("`temperature` is {temperature}; it must be between 0 and 1."),
        ));
    }
    let fields = SamplingFields {
        max_tokens: Some(max_tokens),
        temperature: request.temperature,
        top_p: request.top_p,
        ..SamplingFields::default()
    };
    let Some(mut sampling) = fields.samplings(model.as_ref())?.pop() else {
        return Err(ApiError::invalid(None, "The request asks for no reply."));
    };
    if request.top_k == Some(1) {
        sampling.temperature = 0.0;
    }
    let stops: Vec<String> =
        request.stop_sequences.unwrap_or_default().into_iter().filter(|s| !s.is_empty()).collect();
    let messages = conversation(request.system, request.messages)?;
    let stream = model
        .chat(ChatRequest {
            messages: messages.clone(),
            sampling,
            client: caller.client(),
            ..ChatRequest::default()
        })
        .await
        .map_err(ApiError::from)?;
    let Some(stream) = caller.metered(vec![stream], &state.models.generation, &messages).pop()
    else {
        return Err(ApiError::from(ModelError::Protocol {
            backend: "stream".into(),
            reason: "the metered stream went missing".into(),
        }));
    };
    let reply = Reply::new(stream, stops, model, messages.text());
    let head = Head { id: format!("msg_{:016x}", ids::random_u64()), model: request.model };
    if request.stream.unwrap_or(false) {
        Ok(stream_reply(reply, head))
    } else {
        Ok(axum::Json(whole_reply(reply, head).await?).into_response())
    }
}

/// Middleware: answers every error on [`PATH`] (and the paths under it) in
/// Anthropic's shape, `{"type":"error","error":{"type","message"}}`,
/// whichever layer raised it, with the same status and headers (such as
/// `Retry-After`); errors elsewhere keep OpenAI's shape.
pub async fn anthropic_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let anthropic = path == PATH || path.strip_prefix(PATH).is_some_and(|p| p.starts_with('/'));
    let mut response = next.run(request).await;
    if !anthropic {
        return response;
    }
    let Some(error) = response.extensions_mut().remove::<ApiError>() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(error.anthropic_body().to_string()))
}

/// Why a reply ended, in Anthropic's terms.
#[derive(Debug, Clone, PartialEq)]
enum StopReason {
    /// The model ended its turn.
    EndTurn,
    /// `max_tokens` was reached.
    MaxTokens,
    /// This stop sequence was generated (it is not in the text).
    StopSequence(String),
}

impl StopReason {
    /// Anthropic's name for it.
    fn wire(&self) -> anthropic::StopReason {
        match self {
            StopReason::EndTurn => anthropic::StopReason::EndTurn,
            StopReason::MaxTokens => anthropic::StopReason::MaxTokens,
            StopReason::StopSequence(_) => anthropic::StopReason::StopSequence,
        }
    }

    fn sequence(&self) -> Option<String> {
        match self {
            StopReason::StopSequence(stop) => Some(stop.clone()),
            _ => None,
        }
    }
}

/// One step of a reply: more text, or its end.
#[derive(Debug)]
enum Step {
    Text(String),
    End { reason: StopReason, usage: Usage },
}

/// The model's reply with the client's stop sequences applied: text that
/// can no longer be part of one is passed on, the rest held back.
struct Reply {
    /// The model's stream until the reply ends (dropping it stops the decode).
    stream: Option<TextStream>,
    stops: StopScanner,
    model: Arc<dyn Model>,
    /// The conversation's text, to count its tokens after a cut.
    prompt_text: String,
    /// All the text the model streamed.
    received: String,
    /// The text passed on.
    passed: String,
    pending: VecDeque<Result<Step, ApiError>>,
}

impl Reply {
    fn new(stream: TextStream, stops: Vec<String>, model: Arc<dyn Model>, prompt: String) -> Self {
        Self {
            stream: Some(stream),
            stops: StopScanner::new(stops),
            model,
            prompt_text: prompt,
            received: String::new(),
            passed: String::new(),
            pending: VecDeque::new(),
        }
    }

    /// The next step: text, then one [`Step::End`] or an error; then `None`.
    async fn next(&mut self) -> Option<Result<Step, ApiError>> {
        loop {
            if let Some(step) = self.pending.pop_front() {
                return Some(step);
            }
            let stream = self.stream.as_mut()?;
            match stream.next().await {
                Some(Ok(StreamEvent::Delta(piece))) => {
                    self.received.push_str(&piece);
                    self.take(&piece, None).await;
                }
                Some(Ok(StreamEvent::Done(done))) => {
                    self.stream = None;
                    // Text a backend put only in its final result.
                    let rest = done.text.strip_prefix(self.received.as_str()).unwrap_or("");
                    let rest = rest.to_string();
                    self.take(&rest, Some(done)).await;
                }
                Some(Err(error)) => {
                    self.stream = None;
                    self.pending.push_back(Err(error.into()));
                }
                None => {
                    self.stream = None;
                    let error = ModelError::Protocol {
                        backend: "stream".into(),
                        reason: "the stream ended without a final result".into(),
                    };
                    self.pending.push_back(Err(error.into()));
                }
            }
        }
    }

    /// Passes `piece` on up to a stop sequence, and ends the reply at one,
    /// or with `done` when the model has finished.
    async fn take(&mut self, piece: &str, done: Option<Completion>) {
        let (text, matched) = self.stops.push(piece);
        self.pass(text);
        if let Some(stop) = matched {
            self.stream = None;
            let output = format!("{}{stop}", self.passed);
            let usage = counted_usage(self.model.clone(), &self.prompt_text, &output).await;
            self.pending.push_back(Ok(Step::End { reason: StopReason::StopSequence(stop), usage }));
        } else if let Some(done) = done {
            let held = self.stops.flush();
            self.pass(held);
            let reason = match done.finish_reason {
                FinishReason::Stop => StopReason::EndTurn,
                FinishReason::Length => StopReason::MaxTokens,
            };
            self.pending.push_back(Ok(Step::End { reason, usage: done.usage }));
        }
    }

    fn pass(&mut self, text: String) {
        if !text.is_empty() {
            self.passed.push_str(&text);
            self.pending.push_back(Ok(Step::Text(text)));
        }
    }
}

/// The usage of a reply cut at a stop sequence, `output` being its text
/// through the stop sequence, counted with the model's tokenizer (0 when it
/// cannot count): the model reports its own counts only at the end of a
/// stream, and the stream was dropped.
async fn counted_usage(model: Arc<dyn Model>, prompt: &str, output: &str) -> Usage {
    let prompt_tokens = model.count_tokens(prompt).await.map_or(0, |n| n as u64);
    let completion_tokens = model.count_tokens(output).await.map_or(0, |n| n as u64);
    Usage { prompt_tokens, cached_tokens: 0, completion_tokens }
}

/// Finds stop sequences in streamed text, holding back a tail that may yet
/// become one.
#[derive(Debug, Default)]
struct StopScanner {
    stops: Vec<String>,
    held: String,
}

impl StopScanner {
    fn new(stops: Vec<String>) -> Self {
        Self { stops: stops.into_iter().filter(|s| !s.is_empty()).collect(), held: String::new() }
    }

    /// Adds `piece`; gives back the text now known to come before any stop
    /// sequence, and the stop sequence that matched, if one did (the text
    /// from it on is dropped). Of matches at one place, the shortest wins,
    /// as it would have matched first had the text come a character at a
    /// time.
    fn push(&mut self, piece: &str) -> (String, Option<String>) {
        if self.stops.is_empty() {
            return (piece.to_string(), None);
        }
        self.held.push_str(piece);
        let found = self
            .stops
            .iter()
            .filter_map(|stop| self.held.find(stop.as_str()).map(|at| (at, stop)))
            .min_by_key(|(at, stop)| (*at, stop.len()));
        if let Some((at, stop)) = found {
            let stop = stop.clone();
            let text = self.held[..at].to_string();
            self.held.clear();
            return (text, Some(stop));
        }
        // The longest tail that begins a stop sequence.
        let hold = self
            .stops
            .iter()
            .flat_map(|stop| stop.char_indices().skip(1).map(move |(k, _)| &stop[..k]))
            .filter(|prefix| self.held.ends_with(prefix))
            .map(str::len)
            .max()
            .unwrap_or(0);
        let free = self.held.len() - hold;
        (self.held.drain(..free).collect(), None)
    }

    /// What was held back, once no more text will come.
    fn flush(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

/// The fields every message object of one reply shares.
struct Head {
    /// `msg_…`.
    id: String,
    /// The model as the request named it.
    model: String,
}

impl Head {
    /// A message object with this text; a stop reason once it has one.
    fn message(
        &self,
        text: Option<String>,
        stop: Option<&StopReason>,
        usage: &Usage,
    ) -> MessageObject {
        MessageObject {
            id: self.id.clone(),
            kind: "message".into(),
            role: "assistant".into(),
            model: self.model.clone(),
            content: text.map(|text| TextBlock { text }).into_iter().collect(),
            stop_reason: stop.map(StopReason::wire),
            stop_sequence: stop.and_then(StopReason::sequence),
            usage: wire_usage(usage),
        }
    }
}

/// Anthropic's `usage`: `input_tokens` excludes the tokens read from cache.
fn wire_usage(usage: &Usage) -> anthropic::Usage {
    anthropic::Usage {
        input_tokens: usage.evaluated_tokens(),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: usage.cached_tokens,
        output_tokens: usage.completion_tokens,
    }
}

/// The whole reply as one message object.
async fn whole_reply(mut reply: Reply, head: Head) -> Result<MessageObject, ApiError> {
    let mut text = String::new();
    while let Some(step) = reply.next().await {
        match step? {
            Step::Text(piece) => text.push_str(&piece),
            Step::End { reason, usage } => {
                return Ok(head.message(Some(text), Some(&reason), &usage))
            }
        }
    }
    Err(ModelError::Protocol {
        backend: "stream".into(),
        reason: "the reply ended without a stop reason".into(),
    }
    .into())
}

/// One event of the stream, named by its type.
fn send(event: &WireEvent) -> Bytes {
    named_event(event.name(), &serde_json::to_value(event).expect("an event is JSON"))
}

/// The reply as Anthropic's event stream. The body owns the reply, so a
/// client that goes away drops the model's stream and stops the decode.
fn stream_reply(reply: Reply, head: Head) -> Response {
    let pending = VecDeque::from([
        send(&WireEvent::MessageStart { message: head.message(None, None, &Usage::default()) }),
        send(&WireEvent::ContentBlockStart {
            index: 0,
            content_block: TextBlock { text: String::new() },
        }),
        send(&WireEvent::Ping),
    ]);
    let state = Streaming { reply, pending, ended: false };
    sse::event_stream(stream::unfold(state, |mut state| async move {
        let bytes = state.next_bytes().await?;
        Some((bytes, state))
    }))
}

/// The state of one streamed reply.
struct Streaming {
    reply: Reply,
    pending: VecDeque<Bytes>,
    ended: bool,
}

impl Streaming {
    /// The next event to send, or `None` at the end.
    async fn next_bytes(&mut self) -> Option<Bytes> {
        loop {
            if let Some(bytes) = self.pending.pop_front() {
                return Some(bytes);
            }
            if self.ended {
                return None;
            }
            match self.reply.next().await {
                Some(Ok(Step::Text(text))) => {
                    let delta =
                        WireEvent::ContentBlockDelta { index: 0, delta: TextDelta { text } };
                    self.pending.push_back(send(&delta));
                }
                Some(Ok(Step::End { reason, usage })) => {
                    let delta = MessageDelta {
                        stop_reason: reason.wire(),
                        stop_sequence: reason.sequence(),
                    };
                    self.pending.extend([
                        send(&WireEvent::ContentBlockStop { index: 0 }),
                        send(&WireEvent::MessageDelta { delta, usage: wire_usage(&usage) }),
                        send(&WireEvent::MessageStop),
                    ]);
                    self.ended = true;
                }
                Some(Err(error)) => {
                    self.pending.push_back(named_event("error", &error.anthropic_body()));
                    self.ended = true;
                }
                None => self.ended = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces` one by one; the text passed on and the match.
    fn scan(stops: &[&str], pieces: &[&str]) -> (String, Option<String>) {
        let mut scanner = StopScanner::new(stops.iter().map(|s| s.to_string()).collect());
        let mut text = String::new();
        for piece in pieces {
            let (passed, matched) = scanner.push(piece);
            text.push_str(&passed);
            if matched.is_some() {
                return (text, matched);
            }
        }
        text.push_str(&scanner.flush());
        (text, None)
    }

    #[test]
    fn a_stop_sequence_split_across_pieces_is_found_and_cut() {
        assert_eq!(scan(&["END"], &["one E", "N", "D two"]), ("one ".into(), Some("END".into())));
        assert_eq!(scan(&["END"], &["oneEND"]), ("one".into(), Some("END".into())));
    }

    #[test]
    fn a_tail_that_never_becomes_a_stop_sequence_is_passed_on() {
        assert_eq!(scan(&["END"], &["one E", "N", "d"]), ("one ENd".into(), None));
        assert_eq!(scan(&["END"], &["one EN"]), ("one EN".into(), None));
    }

    #[test]
    fn the_earliest_match_wins_and_the_shortest_at_one_place() {
        assert_eq!(scan(&["b", "a"], &["xab"]), ("x".into(), Some("a".into())));
        assert_eq!(scan(&["ab", "a"], &["xab"]), ("x".into(), Some("a".into())));
    }

    #[test]
    fn the_held_tail_is_only_what_could_begin_a_stop_sequence() {
        let mut scanner = StopScanner::new(vec!["\n\nHuman:".into()]);
        assert_eq!(scanner.push("Hi.\n"), ("Hi.".into(), None));
        assert_eq!(scanner.push("\nHu"), (String::new(), None));
        assert_eq!(scanner.push("gs"), ("\n\nHugs".into(), None));
        // Multi-byte characters are held and cut at their boundaries.
        assert_eq!(scan(&["é!"], &["café", "!"]), ("caf".into(), Some("é!".into())));
    }
}
