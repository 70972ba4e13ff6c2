//! The terminal side of a run: the per-hunk review (like `git add -p`) and
//! the human-readable view of a run's events.

use std::io::{BufRead, IsTerminal, Write};

use suit_agent::{Autonomy, Decision, Event, EventSink, Review, Reviewer, PLAN_MAX_CHARS};
use suit_edit::FileChange;

/// Reviews each hunk on the terminal. Answers come from stdin, so they can
/// also be piped (`printf 'y\n' | suit run ...`); end of input means quit.
pub struct TerminalReviewer {
    /// The slider's position the person chose for the next step.
    next: Option<Autonomy>,
    color: bool,
    input: Box<dyn BufRead + Send>,
}

impl TerminalReviewer {
    /// A reviewer on this process's stdin and stderr.
    pub fn new() -> Self {
        Self::with_input(Box::new(std::io::BufReader::new(std::io::stdin())))
    }

    /// A reviewer that reads its answers from `input`.
    pub fn with_input(input: Box<dyn BufRead + Send>) -> Self {
        Self { next: None, color: std::io::stderr().is_terminal(), input }
    }

    fn ask(&mut self, prompt: &str) -> Option<String> {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim().to_string()),
        }
    }

    /// Opens `text` in `$VISUAL`/`$EDITOR` (default `vi`) and returns the result.
    fn edit(&self, path: &str, text: &str) -> Option<String> {
        let editor = std::env::var("VISUAL")
            .or_else(|_| std::env::var("EDITOR"))
            .unwrap_or_else(|_| "vi".into());
        let name = path.rsplit('/').next().unwrap_or("file");
        let file = tempfile::Builder::new()
            .prefix("suit-edit-")
            .suffix(&format!("-{name}"))
            .tempfile()
            .ok()?;
        std::fs::write(file.path(), text).ok()?;
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(file.path())
            .status();
        match status {
            Ok(s) if s.success() => std::fs::read_to_string(file.path()).ok(),
            _ => {
                eprintln!("suit: the editor `{editor}` failed; the hunk is left as proposed");
                None
            }
        }
    }
}

const HELP: &str = "\
y - apply this hunk          n - skip this hunk
a - apply this and the rest of the file's hunks
d - skip this and the rest of the file's hunks
e - edit the proposed file in $EDITOR, then apply it
r - reject the step and tell the model why
q - quit the run (nothing more is applied)
+ / - - raise or lower the autonomy level from the next step
";

impl Reviewer for TerminalReviewer {
    fn review(
        &mut self,
        step: u32,
        autonomy: Autonomy,
        changes: &[FileChange],
        escalation: Option<&str>,
    ) -> Review {
        if let Some(reason) = escalation {
            eprintln!("suit: this step needs your approval: {reason}");
        }
        let mut files = Vec::new();
        let mut edited = false;
        let mut partial = false;
        let mut kept_hunks = Vec::new();
        let mut offset = 0;
        for change in changes {
            let diff = change.diff(3);
            let hunks = diff.hunks();
            let mut accepted = Vec::new();
            let mut rest: Option<bool> = None;
            let mut replaced: Option<String> = None;
            let mut i = 0;
            while i < hunks.len() {
                if let Some(all) = rest {
                    if all {
                        accepted.push(i);
                    }
                    i += 1;
                    continue;
                }
                eprintln!(
                    "{}",
                    paint(
                        &format!("--- {0}\n+++ {0}\n{1}", change.path(), hunks[i].text()),
                        self.color
                    )
                );
                let level = self.next.unwrap_or(autonomy);
                let prompt = format!(
                    "step {step} [{}] hunk {}/{} of {}: apply? [y,n,a,d,e,r,q,+,-,?] ",
                    level.as_str(),
                    i + 1,
                    hunks.len(),
                    change.path()
                );
                let Some(answer) = self.ask(&prompt) else { return Review::Quit };
                match answer.as_str() {
                    "y" | "yes" => {
                        accepted.push(i);
                        i += 1;
                    }
                    "n" | "no" => i += 1,
                    "a" => rest = Some(true),
                    "d" => rest = Some(false),
                    "e" => {
                        let proposed = change.after().unwrap_or_default();
                        if let Some(text) = self.edit(change.path(), proposed) {
                            replaced = Some(text);
                            break;
                        }
                    }
                    "r" => {
                        let why =
                            self.ask("what should the model do differently? ").unwrap_or_default();
                        return Review::Reject { feedback: (!why.is_empty()).then_some(why) };
                    }
                    "q" => return Review::Quit,
                    "+" => {
                        self.next = level.up().or(Some(level));
                        eprintln!(
                            "suit: autonomy from the next step: {}",
                            self.next.unwrap_or(level).as_str()
                        );
                    }
                    "-" => {
                        self.next = level.down().or(Some(level));
                        eprintln!(
                            "suit: autonomy from the next step: {}",
                            self.next.unwrap_or(level).as_str()
                        );
                    }
                    _ => eprint!("{HELP}"),
                }
            }
            if let Some(text) = replaced {
                edited = true;
                files.push((change.path().to_string(), Some(text)));
            } else if accepted.len() == hunks.len() {
                files.push((change.path().to_string(), change.after().map(String::from)));
                kept_hunks.extend((0..hunks.len()).map(|h| h + offset));
            } else if !accepted.is_empty() {
                partial = true;
                files.push((change.path().to_string(), Some(diff.apply_hunks(&accepted))));
                kept_hunks.extend(accepted.iter().map(|h| h + offset));
            } else {
                partial = true;
            }
            offset += hunks.len();
        }
        if files.is_empty() {
            return Review::Reject { feedback: Some("the person skipped every hunk".into()) };
        }
        let decision = if edited {
            Decision::Edited
        } else if partial {
            Decision::Partial { hunks: kept_hunks }
        } else {
            Decision::Accepted
        };
        Review::Apply { files, decision }
    }

    fn autonomy(&mut self, current: Autonomy) -> Autonomy {
        self.next.take().unwrap_or(current)
    }
}

/// Colors a unified diff for a terminal.
fn paint(diff: &str, color: bool) -> String {
    if !color {
        return diff.trim_end().to_string();
    }
    diff.lines()
        .map(|l| {
            if l.starts_with("+++") || l.starts_with("---") {
                format!("\x1b[1m{l}\x1b[0m")
            } else if l.starts_with('+') {
                format!("\x1b[32m{l}\x1b[0m")
            } else if l.starts_with('-') {
                format!("\x1b[31m{l}\x1b[0m")
            } else if l.starts_with("@@") {
                format!("\x1b[36m{l}\x1b[0m")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Shows a run's events to a person on stderr: steps, diffs (at `auto`,
/// where nobody reviews them hunk by hunk), checks, rollbacks, the end.
pub struct TerminalView {
    /// Print each step's context table.
    pub show_context: bool,
    /// Print diffs (on at `auto`; the reviewer shows them otherwise).
    pub show_diffs: bool,
    /// Print the reply's plan line as the model writes it (off when several
    /// runs share the terminal).
    pub stream: bool,
    color: bool,
    out: Box<dyn Write + Send>,
    /// The reply so far, while it streams.
    reply: String,
    /// How much of the plan line is printed; `None` once it is done.
    plan_shown: Option<usize>,
    /// Whether the current reply's plan line was printed as it streamed.
    plan_streamed: bool,
    /// The line count last shown while the edit streams.
    lines_shown: Option<usize>,
}

impl TerminalView {
    /// A view on stderr.
    pub fn new(show_context: bool, show_diffs: bool) -> Self {
        Self::to(
            Box::new(std::io::stderr()),
            std::io::stderr().is_terminal(),
            show_context,
            show_diffs,
        )
    }

    /// A view written to `out`, with or without colors and live updates.
    fn to(out: Box<dyn Write + Send>, color: bool, show_context: bool, show_diffs: bool) -> Self {
        Self {
            show_context,
            show_diffs,
            stream: true,
            color,
            out,
            reply: String::new(),
            plan_shown: Some(0),
            plan_streamed: false,
            lines_shown: None,
        }
    }

    /// Shows a streaming reply: the `Plan:` line as it is written, then (on a
    /// terminal) a running count of the edit's lines.
    fn delta(&mut self, text: &str) {
        self.reply.push_str(text);
        if let Some(shown) = self.plan_shown {
            let line_end = self.reply.find('\n');
            let line = &self.reply[..line_end.unwrap_or(self.reply.len())];
            if line.len() < "Plan:".len() && line_end.is_none() {
                return; // not yet known whether a plan line comes
            }
            if !line.starts_with("Plan:") {
                self.plan_shown = None;
            } else {
                self.plan_streamed = true;
                // Whole words only: a plan longer than the shown limit
                // ends with `…`, never inside a word.
                let (upto, tail) = match (line_end, plan_cut(line)) {
                    (_, Some(cut)) => (cut.max(shown), if line_end.is_some() { "…" } else { "" }),
                    (None, None) => (line.rfind(' ').map_or(shown, |at| at.max(shown)), ""),
                    (Some(_), None) => (line.len(), ""),
                };
                let start = if shown == 0 && upto > 0 { "  " } else { "" };
                let _ = write!(self.out, "{start}{}{tail}", &line[shown..upto]);
                self.plan_shown = Some(upto);
                if line_end.is_none() {
                    let _ = self.out.flush();
                    return;
                }
                let _ = writeln!(self.out);
                self.plan_shown = None;
            }
        }
        let lines = self.reply.matches('\n').count().saturating_sub(1);
        if self.color && self.lines_shown != Some(lines) {
            self.lines_shown = Some(lines);
            let count = plural(lines, "line");
            let _ =
                write!(self.out, "\r\x1b[K{}", self.dim(&format!("  writing the edit: {count}")));
            let _ = self.out.flush();
        }
    }

    /// Ends a streaming reply before any other output: clears the running
    /// count and ends an unfinished plan line.
    fn end_reply(&mut self) {
        if self.reply.is_empty() {
            return;
        }
        if self.plan_shown.is_some_and(|n| n > 0) {
            let _ = writeln!(self.out);
        } else if self.color && self.plan_shown.is_none() {
            let _ = write!(self.out, "\r\x1b[K");
        }
        self.reply.clear();
        self.plan_shown = Some(0);
        self.lines_shown = None;
    }

    fn dim(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[2m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

impl EventSink for TerminalView {
    fn emit(&mut self, event: &Event) {
        if !matches!(event, Event::ReplyDelta { .. }) {
            self.end_reply();
        }
        match event {
            Event::RunStarted { task, autonomy, model } => {
                let _ = writeln!(
                    self.out,
                    "suit: {task}\n{}",
                    self.dim(&format!("  autonomy {} · model {model}", autonomy.as_str()))
                );
            }
            Event::StepStarted { step, autonomy } => {
                let _ = writeln!(self.out, "\n── step {step} ({}) ──", autonomy.as_str());
            }
            Event::ContextSummary { segments, tokens, budget, .. } => {
                if self.show_context {
                    let _ = writeln!(self.out, "context ({tokens} of {budget} tokens):");
                    for s in segments {
                        let _ = writeln!(
                            self.out,
                            "  {:>6}  {:<9}  {}{}",
                            s.tokens,
                            if s.trusted { "trusted" } else { "untrusted" },
                            s.source,
                            if s.shortened { "  (shortened or left out)" } else { "" }
                        );
                    }
                } else {
                    let _ = writeln!(
                        self.out,
                        "{}",
                        self.dim(&format!("  context: {} pieces, {tokens} tokens", segments.len()))
                    );
                }
            }
            Event::ReplyDelta { text, .. } => {
                if self.stream {
                    self.delta(text);
                }
            }
            Event::Proposal { text, candidate, .. } => {
                let streamed = *candidate == 0 && std::mem::take(&mut self.plan_streamed);
                if let Some(plan) = text.lines().next().filter(|l| l.starts_with("Plan:")) {
                    let plan = whole_words(plan);
                    if *candidate > 0 {
                        let line = format!("  candidate {candidate}: {plan}");
                        let _ = writeln!(self.out, "{}", self.dim(&line));
                    } else if !streamed {
                        let _ = writeln!(self.out, "  {plan}");
                    }
                }
            }
            Event::EditFailed { reason, reflection, candidate, .. } => {
                let _ = writeln!(
                    self.out,
                    "  reply {} not applicable (try {}): {}",
                    candidate,
                    reflection + 1,
                    reason.lines().next().unwrap_or_default()
                );
            }
            Event::CandidateChecked { candidate, passed, failing, changed_lines, .. } => {
                let result = match (passed, failing) {
                    (true, _) => "checks pass".to_string(),
                    (false, Some(n)) => format!("{} failing", plural(*n, "test")),
                    (false, None) => "checks fail".to_string(),
                };
                let line = format!(
                    "  candidate {candidate} in a scratch copy: {result} ({})",
                    plural(*changed_lines, "changed line")
                );
                let _ = writeln!(self.out, "{}", self.dim(&line));
            }
            Event::StrategyChanged { strategy, reason, .. } => {
                let _ = writeln!(self.out, "  not kept: {reason}\n  next: {strategy}");
            }
            Event::Diff { diff, changed_lines, files, verified, candidate, .. } => {
                let names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
                let mark = if *verified { ", verified: the checks pass with it" } else { "" };
                let _ = writeln!(
                    self.out,
                    "  proposal (candidate {candidate}): {changed_lines} changed lines in {}{mark}",
                    names.join(", ")
                );
                if self.show_diffs {
                    let _ = writeln!(self.out, "{}", paint(diff, self.color));
                }
            }
            Event::Approval { decision, by, .. } => {
                if let Decision::Escalated { reason } = decision {
                    let _ = writeln!(self.out, "  escalated to you: {reason}");
                } else {
                    let what = serde_json::to_value(decision)
                        .ok()
                        .and_then(|v| v.get("decision").and_then(|d| d.as_str()).map(String::from))
                        .unwrap_or_default();
                    let who = serde_json::to_value(by)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default();
                    let _ = writeln!(self.out, "{}", self.dim(&format!("  {what} by {who}")));
                }
            }
            Event::Applied { checkpoint, .. } => {
                let _ = writeln!(
                    self.out,
                    "{}",
                    self.dim(&format!(
                        "  applied as checkpoint {checkpoint} (suit undo restores it)"
                    ))
                );
            }
            Event::CheckResult { outcome, step } => {
                let mark = if outcome.passed() { "pass" } else { "FAIL" };
                let when = if *step == 0 { " (before any change)" } else { "" };
                let _ = writeln!(
                    self.out,
                    "  check `{}`: {mark}, {}{when} in {:.1} s",
                    outcome.command,
                    outcome.status,
                    outcome.duration.as_secs_f64()
                );
            }
            Event::RolledBack { reason, .. } => {
                let _ = writeln!(self.out, "  rolled back: {reason}");
            }
            Event::Usage { prompt_tokens, cached_tokens, completion_tokens, .. } => {
                let _ = writeln!(self.out, "{}", self.dim(&format!("  tokens: {prompt_tokens} prompt ({cached_tokens} cached) + {completion_tokens} generated")));
            }
            Event::Finished { outcome, steps, applied, summary, tokens, seconds, .. } => {
                let what = serde_json::to_value(outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                let _ = writeln!(self.out,
                    "\nsuit: {what}: {summary} ({}, {applied} applied, {tokens} tokens, {seconds:.0} s)",
                    plural(*steps as usize, "step")
                );
            }
        }
    }
}

/// Where a plan line is cut for display (a byte offset), when its text is
/// longer than [`PLAN_MAX_CHARS`]: after its last whole word within them.
fn plan_cut(line: &str) -> Option<usize> {
    let body = line.strip_prefix("Plan: ")?;
    let (limit, _) = body.char_indices().nth(PLAN_MAX_CHARS)?;
    let head = &line[.."Plan: ".len() + limit];
    Some(head.trim_end().rfind(' ').unwrap_or(head.len()))
}

/// A plan line for display: whole, or cut after its last whole word with
/// `…` when it is longer than [`PLAN_MAX_CHARS`].
fn whole_words(line: &str) -> String {
    match plan_cut(line) {
        Some(cut) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// "1 line", "2 lines".
fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> FileChange {
        let before: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let after =
            before.replace("line 2\n", "line two\n").replace("line 18\n", "line eighteen\n");
        FileChange::Modified { path: "notes.txt".into(), before, after }
    }

    fn answer(answers: &str) -> (Review, Autonomy) {
        let mut r =
            TerminalReviewer::with_input(Box::new(std::io::Cursor::new(answers.to_string())));
        let review = r.review(1, Autonomy::Repo, &[change()], None);
        (review, r.autonomy(Autonomy::Repo))
    }

    /// A writer whose bytes the test can read afterwards.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Streams `reply` in pieces of `piece` bytes, then ends it the way the
    /// loop does (usage, then the whole proposal); returns what was shown.
    fn show_reply(reply: &str, piece: usize, color: bool) -> String {
        let out = Shared::default();
        let mut view = TerminalView::to(Box::new(out.clone()), color, false, false);
        let bytes = reply.as_bytes();
        for chunk in bytes.chunks(piece) {
            let text = String::from_utf8(chunk.to_vec()).unwrap();
            view.emit(&Event::ReplyDelta { step: 1, text });
        }
        view.emit(&Event::Usage {
            step: 1,
            prompt_tokens: 10,
            cached_tokens: 0,
            completion_tokens: 5,
            cost_usd: 0.0,
        });
        view.emit(&Event::Proposal {
            step: 1,
            format: "whole_file".into(),
            text: reply.into(),
            candidate: 0,
        });
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn the_plan_line_streams_once_and_the_edit_is_counted() {
        let reply = "Plan: multiply instead of adding\nshapes.py\n```\ndef area(w, h):\n    return w * h\n```\n";
        for piece in [1, 3, 200] {
            let plain = show_reply(reply, piece, false);
            assert_eq!(plain.matches("Plan: multiply instead of adding").count(), 1, "{plain:?}");
            assert!(plain.starts_with("  Plan: multiply instead of adding\n"), "{plain:?}");
            assert!(!plain.contains("writing the edit"), "no live line without a terminal");
            let live = show_reply(reply, piece, true);
            assert!(live.contains("writing the edit: 5 lines"), "{live:?}");
            // The live line is cleared before the next output.
            assert!(live.contains("\r\x1b[K\x1b[2m  tokens:"), "{live:?}");
        }
        // A reply without a plan line shows only the count; a reply that
        // is not streamed still shows its plan.
        let bare = show_reply("DONE", 1, false);
        assert_eq!(bare, "  tokens: 10 prompt (0 cached) + 5 generated\n");
        let out = Shared::default();
        let mut view = TerminalView::to(Box::new(out.clone()), false, false, false);
        view.emit(&Event::Proposal {
            step: 1,
            format: "whole_file".into(),
            text: reply.into(),
            candidate: 0,
        });
        assert_eq!(
            String::from_utf8(out.0.lock().unwrap().clone()).unwrap(),
            "  Plan: multiply instead of adding\n"
        );
    }

    #[test]
    fn a_plan_cut_at_its_limit_is_shown_in_whole_words() {
        // A plan longer than 120 characters; the 120th is inside "cases".
        let body = "split the input on any whitespace and lower-case every word before counting them, so that equal words with different cases always share one key";
        let head: String = body.chars().take(PLAN_MAX_CHARS).collect();
        assert!(head.ends_with(" cas"), "{head}");
        let reply = format!("Plan: {body}\ncalc.py\n```\nx\n```\n");
        for piece in [1, 3, 500] {
            let shown = show_reply(&reply, piece, false);
            let plan = shown.lines().next().unwrap();
            assert!(plan.ends_with("different…"), "{piece}: {plan:?}");
            assert!(!shown.contains(" cas"), "{piece}: {shown:?}");
        }
        assert_eq!(whole_words("Plan: short one"), "Plan: short one");
    }

    #[test]
    fn hunks_are_accepted_one_by_one() {
        let (review, _) = answer("y\nn\n");
        let Review::Apply { files, decision } = review else { panic!("{review:?}") };
        assert_eq!(decision, Decision::Partial { hunks: vec![0] });
        let text = files[0].1.as_deref().unwrap();
        assert!(text.contains("line two\n") && text.contains("line 18\n"), "{text}");

        let (review, _) = answer("a\n");
        let Review::Apply { files, decision } = review else { panic!("{review:?}") };
        assert_eq!(decision, Decision::Accepted);
        assert_eq!(files[0].1.as_deref(), change().after());
    }

    #[test]
    fn skipping_everything_rejecting_and_quitting() {
        assert!(matches!(answer("n\nn\n").0, Review::Reject { .. }));
        assert_eq!(
            answer("r\nuse a constant\n").0,
            Review::Reject { feedback: Some("use a constant".into()) }
        );
        assert_eq!(answer("q\n").0, Review::Quit);
        assert_eq!(answer("").0, Review::Quit, "end of input quits");
    }

    #[test]
    fn e_edits_the_proposed_file_in_the_editor() {
        // The only test that sets the editor variables.
        std::env::set_var("VISUAL", "sed -i s/two/2/");
        let (review, _) = answer("e\n");
        std::env::remove_var("VISUAL");
        let Review::Apply { files, decision } = review else { panic!("{review:?}") };
        assert_eq!(decision, Decision::Edited);
        let text = files[0].1.as_deref().unwrap();
        assert!(text.contains("line 2\n") && !text.contains("line two"), "{text}");
        assert!(text.contains("line eighteen\n"), "the rest of the proposal stays: {text}");
    }

    #[test]
    fn the_slider_moves_between_steps_and_unknown_keys_show_help() {
        let (review, next) = answer("?\n+\n+\ny\ny\n");
        assert!(matches!(review, Review::Apply { decision: Decision::Accepted, .. }));
        assert_eq!(next, Autonomy::Auto, "two raises from repo stop at auto");
        let (_, next) = answer("-\nd\n");
        assert_eq!(next, Autonomy::File);
    }
}
