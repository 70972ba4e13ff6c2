//! Server-sent events: one parser for both HTTP backends, and the driver that
//! turns a streaming HTTP body into a [`TextStream`].
//!
//! The parser follows the WHATWG event-stream rules (lines end in CRLF, LF or
//! CR; `data` lines of one event are joined with `\n`; an empty line
//! dispatches; lines starting with `:` are comments; unknown fields are
//! ignored). It is hand-written rather than taken from a crate because it is
//! small, the available crates are unmaintained, and owning it lets every
//! malformed body become a precise [`ModelError::Protocol`].

use std::collections::VecDeque;
use std::time::Duration;

use futures::stream;
use futures::StreamExt;

use crate::{ModelError, StreamEvent, TextStream};

/// The longest line accepted; anything longer is a broken server, not a
/// model's answer.
const MAX_LINE: usize = 16 << 20;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field, or `message` when none was given.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Incremental event-stream parser: feed it bytes as they arrive.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    seen_first_line: bool,
    /// How much of `buf` is known to hold no line end (so a long line that
    /// arrives in many chunks is scanned once).
    scanned: usize,
}

impl SseParser {
    /// Parses `chunk`, appending every event it completes to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), String> {
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        let mut i = self.scanned;
        while i < self.buf.len() {
            match self.buf[i] {
                b'\n' => {
                    self.line(start, i, out)?;
                    i += 1;
                    start = i;
                }
                b'\r' => {
                    if i + 1 == self.buf.len() {
                        // Maybe the first half of CRLF: wait for the next byte.
                        break;
                    }
                    self.line(start, i, out)?;
                    i += if self.buf[i + 1] == b'\n' { 2 } else { 1 };
                    start = i;
                }
                _ => i += 1,
            }
        }
        self.scanned = i - start;
        self.buf.drain(..start);
        if self.buf.len() > MAX_LINE {
            return Err(format!(
                "a line of the event stream is longer than {} MiB",
                MAX_LINE >> 20
            ));
        }
        Ok(())
    }

    /// The body ended: parses a last unterminated line and dispatches a
    /// pending event. (The standard drops an event not followed by an empty
    /// line; servers that close right after their last `data:` line are
    /// common enough that suit accepts it.)
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), String> {
        if !self.buf.is_empty() {
            let end =
                if self.buf.last() == Some(&b'\r') { self.buf.len() - 1 } else { self.buf.len() };
            self.line(0, end, out)?;
            self.buf.clear();
            self.scanned = 0;
        }
        self.dispatch(out);
        Ok(())
    }

    fn line(&mut self, start: usize, end: usize, out: &mut Vec<SseEvent>) -> Result<(), String> {
        let mut bytes = &self.buf[start..end];
        if !self.seen_first_line {
            self.seen_first_line = true;
            bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        }
        let line = std::str::from_utf8(bytes).map_err(|e| {
            format!("the event stream is not valid UTF-8 ({e}): {}", String::from_utf8_lossy(bytes))
        })?;
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(()); // comment / keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {} // id, retry and unknown fields do not matter here
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        if self.has_data {
            let event = if event.is_empty() { "message".to_string() } else { event };
            out.push(SseEvent { event, data: std::mem::take(&mut self.data) });
        }
        self.has_data = false;
        self.data.clear();
    }
}

/// Turns provider events into stream items.
pub(crate) trait Decoder: Send + 'static {
    /// Handles one event; returns the items to emit. An item
    /// [`StreamEvent::Done`] ends the stream.
    fn event(&mut self, event: SseEvent) -> Result<Vec<StreamEvent>, ModelError>;
    /// The error for a body that ended before the final event.
    fn eof(&mut self) -> ModelError;
}

struct DriveState<D, S> {
    body: S,
    parser: SseParser,
    decoder: D,
    pending: VecDeque<Result<StreamEvent, ModelError>>,
    finished: bool,
    backend: String,
    url: String,
    timeout: Duration,
}

/// Streams `response`'s body through the SSE parser and `decoder`.
pub(crate) fn drive<D: Decoder>(
    backend: &str,
    url: &str,
    timeout: Duration,
    response: reqwest::Response,
    decoder: D,
) -> TextStream {
    let state = DriveState {
        body: response.bytes_stream().boxed(),
        parser: SseParser::default(),
        decoder,
        pending: VecDeque::new(),
        finished: false,
        backend: backend.to_string(),
        url: url.to_string(),
        timeout,
    };
    Box::pin(stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.pending.pop_front() {
                return Some((item, st));
            }
            if st.finished {
                return None;
            }
            let mut events = Vec::new();
            let parsed = match st.body.next().await {
                Some(Ok(bytes)) => st.parser.push(bytes.as_ref(), &mut events),
                Some(Err(e)) => {
                    st.finished = true;
                    st.pending.push_back(Err(body_error(&st.backend, &st.url, st.timeout, e)));
                    continue;
                }
                None => {
                    st.finished = true;
                    st.parser.finish(&mut events)
                }
            };
            let at_end = st.finished;
            st.finished = false;
            if let Err(reason) = parsed {
                st.finished = true;
                st.pending
                    .push_back(Err(ModelError::Protocol { backend: st.backend.clone(), reason }));
                continue;
            }
            'events: for event in events {
                match st.decoder.event(event) {
                    Ok(items) => {
                        for item in items {
                            let done = matches!(item, StreamEvent::Done(_));
                            st.pending.push_back(Ok(item));
                            if done {
                                st.finished = true;
                                break 'events;
                            }
                        }
                    }
                    Err(e) => {
                        st.pending.push_back(Err(e));
                        st.finished = true;
                        break;
                    }
                }
            }
            if at_end && !st.finished {
                st.pending.push_back(Err(st.decoder.eof()));
                st.finished = true;
            }
        }
    }))
}

/// Maps a failure while reading a response body.
pub(crate) fn body_error(
    backend: &str,
    url: &str,
    timeout: Duration,
    e: reqwest::Error,
) -> ModelError {
    if e.is_timeout() {
        ModelError::Timeout { backend: backend.to_string(), after: timeout }
    } else {
        ModelError::Unreachable {
            backend: backend.to_string(),
            url: url.to_string(),
            reason: format!("the connection broke while reading the response: {}", error_chain(&e)),
        }
    }
}

/// An error with its sources, on one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks(chunks: &[&[u8]]) -> Result<Vec<SseEvent>, String> {
        let mut parser = SseParser::default();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, &mut out)?;
        }
        parser.finish(&mut out)?;
        Ok(out)
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent { event: event.into(), data: data.into() }
    }

    #[test]
    fn parses_openai_style_data_lines() {
        let body = b"data: {\"a\":1}\n\ndata: [DONE]\n\n";
        assert_eq!(
            parse_chunks(&[body]).unwrap(),
            [ev("message", "{\"a\":1}"), ev("message", "[DONE]")]
        );
    }

    #[test]
    fn parses_named_events_comments_and_multiline_data() {
        let body = b": keep-alive\nevent: ping\ndata: {\"type\": \"ping\"}\n\nid: 7\nretry: 10\ndata: one\ndata:two\n\n";
        assert_eq!(
            parse_chunks(&[body]).unwrap(),
            [ev("ping", "{\"type\": \"ping\"}"), ev("message", "one\ntwo")]
        );
    }

    #[test]
    fn every_split_point_and_line_ending_gives_the_same_events() {
        for sep in ["\n", "\r\n", "\r"] {
            let body = format!("event: a{sep}data: héllo{sep}{sep}data: b{sep}{sep}");
            let bytes = body.as_bytes();
            let whole = parse_chunks(&[bytes]).unwrap();
            assert_eq!(whole, [ev("a", "héllo"), ev("message", "b")], "sep {sep:?}");
            for cut in 0..=bytes.len() {
                let (x, y) = bytes.split_at(cut);
                assert_eq!(parse_chunks(&[x, y]).unwrap(), whole, "sep {sep:?} cut {cut}");
            }
        }
    }

    #[test]
    fn a_long_line_in_many_chunks_is_reassembled() {
        let text = "x".repeat(100_000);
        let body = format!("data: {text}\r\n\r\n");
        let chunks: Vec<&[u8]> = body.as_bytes().chunks(7).collect();
        assert_eq!(parse_chunks(&chunks).unwrap(), [ev("message", &text)]);
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_type_resets() {
        let body = b"event: lonely\n\ndata: x\n\n";
        assert_eq!(parse_chunks(&[body]).unwrap(), [ev("message", "x")]);
    }

    #[test]
    fn last_event_without_blank_line_is_still_delivered() {
        assert_eq!(parse_chunks(&[b"data: last"]).unwrap(), [ev("message", "last")]);
    }

    #[test]
    fn leading_bom_is_ignored() {
        assert_eq!(
            parse_chunks(&["\u{feff}data: x\n\n".as_bytes()]).unwrap(),
            [ev("message", "x")]
        );
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let err = parse_chunks(&[b"data: \xff\xfe\n\n"]).unwrap_err();
        assert!(err.contains("UTF-8"), "{err}");
    }
}
