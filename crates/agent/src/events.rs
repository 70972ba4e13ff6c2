//! Where a run's events go: the sink the caller gives (the terminal view,
//! `--json` lines, the server's stream). The events themselves are defined
//! in `suit-protocol`.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use suit_protocol::{Event, Stamped};

/// Where a run sends its events.
pub trait EventSink: Send {
    /// Receives one event.
    fn emit(&mut self, event: &Event);
}

/// Writes one JSON object per line, flushed after each, so a reader sees
/// events as they happen.
pub struct JsonlSink<W: Write + Send> {
    out: W,
    deltas: bool,
}

impl<W: Write + Send> JsonlSink<W> {
    /// Writes every event to `out`.
    pub fn new(out: W) -> Self {
        Self { out, deltas: true }
    }

    /// Leaves out `reply_delta` events: for a record of the run rather than
    /// a live view (each reply is still written whole, as `proposal`).
    pub fn without_reply_deltas(mut self) -> Self {
        self.deltas = false;
        self
    }
}

impl<W: Write + Send> EventSink for JsonlSink<W> {
    fn emit(&mut self, event: &Event) {
        if !self.deltas && matches!(event, Event::ReplyDelta { .. }) {
            return;
        }
        let ts_ms =
            SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis()
                as u64;
        let stamped = Stamped { ts_ms, event: event.clone() };
        if let Ok(line) = serde_json::to_string(&stamped) {
            let _ = writeln!(self.out, "{line}");
            let _ = self.out.flush();
        }
    }
}

/// Keeps events in memory (for tests and the server).
#[derive(Debug, Default)]
pub struct MemorySink {
    /// The events, in order.
    pub events: Vec<Event>,
}

impl EventSink for MemorySink {
    fn emit(&mut self, event: &Event) {
        self.events.push(event.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use suit_protocol::{Autonomy, Outcome};

    fn samples() -> Vec<Event> {
        vec![
            Event::RunStarted { task: "fix".into(), autonomy: Autonomy::Auto, model: "m".into() },
            Event::ReplyDelta { step: 1, text: "Plan: ".into() },
            Event::Finished {
                outcome: Outcome::Done,
                steps: 1,
                applied: 1,
                summary: "done".into(),
                tokens: 30,
                cost_usd: 0.0,
                seconds: 1.5,
                stop: None,
            },
        ]
    }

    #[test]
    fn every_event_is_one_json_line_that_round_trips() {
        let mut buffer = Vec::new();
        {
            let mut sink = JsonlSink::new(&mut buffer);
            for event in samples() {
                sink.emit(&event);
            }
        }
        let text = String::from_utf8(buffer).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), samples().len());
        for (line, event) in lines.iter().zip(samples()) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(value["ts_ms"].as_u64().unwrap() > 1_600_000_000_000);
            let back: Stamped = serde_json::from_str(line).unwrap();
            assert_eq!(back.event, event);
        }
    }

    #[test]
    fn a_record_of_the_run_leaves_out_the_reply_deltas() {
        let mut buffer = Vec::new();
        {
            let mut sink = JsonlSink::new(&mut buffer).without_reply_deltas();
            for event in samples() {
                sink.emit(&event);
            }
        }
        let text = String::from_utf8(buffer).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(!text.contains("reply_delta"), "{text}");
    }
}
