//! The published event schema (`docs/events.schema.json`) is the one the
//! types derive, and it accepts what the types write and refuses what they
//! could not have written.

use std::path::PathBuf;
use std::time::Duration;

use suit_protocol::{
    event_schema, Approver, Autonomy, CheckOutcome, CheckStatus, Decision, Event, FileSummary,
    LeashStop, Outcome, SegmentSummary, Stamped,
};

fn published_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/events.schema.json")
}

#[test]
fn the_published_schema_is_the_derived_one() {
    let derived = serde_json::to_string_pretty(&event_schema()).unwrap() + "\n";
    let path = published_path();
    if std::env::var_os("SUIT_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &derived).unwrap();
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == derived,
        "{} is not the schema the types derive; to publish the new one, run \
         SUIT_WRITE_SCHEMA=1 cargo test -p suit-protocol --test schema",
        path.display()
    );
}

/// One event of every kind, with every optional field set.
fn every_kind() -> Vec<Event> {
    let outcome = CheckOutcome {
        command: "cargo test".into(),
        status: CheckStatus::Failed { code: Some(101) },
        output: "test x ... FAILED".into(),
        duration: Duration::from_millis(1500),
        isolated: true,
    };
    vec![
        Event::RunStarted { task: "fix it".into(), autonomy: Autonomy::Auto, model: "m".into() },
        Event::StepStarted { step: 1, autonomy: Autonomy::File },
        Event::ContextSummary {
            step: 1,
            segments: vec![SegmentSummary {
                source: "repo:a.py".into(),
                trusted: false,
                tokens: 12,
                shortened: true,
            }],
            tokens: 12,
            budget: 4000,
        },
        Event::ReplyDelta { step: 1, text: "Plan".into() },
        Event::Proposal { step: 1, format: "whole_file".into(), text: "x".into(), candidate: 2 },
        Event::EditFailed { step: 1, reason: "no".into(), reflection: 1, candidate: 0 },
        Event::CandidateChecked {
            step: 1,
            candidate: 1,
            passed: false,
            failing: Some(2),
            changed_lines: 3,
        },
        Event::StrategyChanged { step: 1, strategy: "repair".into(), reason: "2 fail".into() },
        Event::Diff {
            step: 2,
            files: vec![FileSummary {
                path: "a.py".into(),
                status: "modified".into(),
                added: 1,
                removed: 1,
            }],
            diff: "-a\n+b\n".into(),
            changed_lines: 2,
            candidate: 1,
            verified: true,
        },
        Event::Approval {
            step: 2,
            decision: Decision::Partial { hunks: vec![0, 2] },
            by: Approver::Person,
        },
        Event::Approval {
            step: 2,
            decision: Decision::Escalated { reason: "untrusted".into() },
            by: Approver::Policy,
        },
        Event::Applied { step: 2, checkpoint: 7 },
        Event::CheckResult { step: 2, outcome },
        Event::RolledBack { step: 2, reason: "broke a test".into() },
        Event::Usage {
            step: 2,
            prompt_tokens: 100,
            cached_tokens: 80,
            completion_tokens: 20,
            cost_usd: 0.0,
        },
        Event::Finished {
            outcome: Outcome::BudgetExhausted,
            steps: 2,
            applied: 1,
            summary: "stopped".into(),
            tokens: 120,
            cost_usd: 0.0,
            seconds: 1.5,
            stop: Some(LeashStop::Wall { secs: 480 }),
        },
    ]
}

#[test]
fn every_kind_of_event_validates_and_a_wrong_one_does_not() {
    let validator = jsonschema::validator_for(&event_schema()).unwrap();
    for event in every_kind() {
        let line = serde_json::to_value(Stamped { ts_ms: 1, event }).unwrap();
        let errors: Vec<String> = validator.iter_errors(&line).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{line}: {errors:?}");
    }
    let wrong = [
        serde_json::json!({"ts_ms": 1, "event": "no_such_event", "step": 1}),
        serde_json::json!({"ts_ms": 1, "event": "applied", "step": 1}),
        serde_json::json!({"ts_ms": 1, "event": "step_started", "step": 1, "autonomy": "max"}),
        serde_json::json!({"event": "applied", "step": 1, "checkpoint": 2}),
        serde_json::json!({"ts_ms": 1, "event": "usage", "step": -1, "prompt_tokens": 1,
            "cached_tokens": 0, "completion_tokens": 1, "cost_usd": 0.0}),
    ];
    for line in wrong {
        assert!(!validator.is_valid(&line), "accepted: {line}");
    }
}

#[test]
fn events_read_back_as_written() {
    for event in every_kind() {
        let stamped = Stamped { ts_ms: 5, event };
        let text = serde_json::to_string(&stamped).unwrap();
        assert_eq!(serde_json::from_str::<Stamped>(&text).unwrap(), stamped, "{text}");
    }
}

#[test]
fn event_names_are_stable() {
    let names: Vec<String> = every_kind()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap()["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "run_started",
            "step_started",
            "context_summary",
            "reply_delta",
            "proposal",
            "edit_failed",
            "candidate_checked",
            "strategy_changed",
            "diff",
            "approval",
            "approval",
            "applied",
            "check_result",
            "rolled_back",
            "usage",
            "finished"
        ]
    );
    let finished = serde_json::to_value(every_kind().last().unwrap()).unwrap();
    assert_eq!(finished["outcome"], "budget_exhausted");
    assert_eq!(finished["stop"]["limit"], "wall");
}

#[test]
fn outcomes_have_distinct_exit_codes() {
    let all = [
        Outcome::Done,
        Outcome::Failed,
        Outcome::ChecksFailing,
        Outcome::BudgetExhausted,
        Outcome::Refused,
    ];
    let mut codes: Vec<u8> = all.iter().map(|o| o.exit_code()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
    assert_eq!(Outcome::Done.exit_code(), 0);
}
