//! Agent sessions: runs of suit's loop that HTTP clients start, watch and
//! steer (`/v1/sessions`). A session runs [`suit_agent::run`] on its own
//! thread; its events are kept in order and streamed as server-sent events
//! that a client resumes with `Last-Event-ID`; a step that needs a person
//! waits, unwritten, until every hunk has a decision. Sessions write
//! through the repository's journal, so `suit log` lists their steps and
//! `suit undo` reverts them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use suit_agent::{Check, EventSink, Review, Reviewer, RunConfig};
use suit_edit::{FileChange, Target};
use suit_model::Model;
use suit_protocol::{
    Autonomy, Decision, Event, NewSession, Outcome, PendingReview, ReviewDecisions, ReviewFile,
    ReviewHunk, SessionState, SessionView, Stamped, Verdict,
};
use suit_store::{SqliteStore, Workspace};

use crate::error::ApiError;

/// What sessions run with: the directories they may touch, the model and
/// the run settings every session starts from.
#[derive(Clone)]
pub struct SessionSettings {
    /// Directories whose repositories sessions may change (a session's
    /// repository must be one of them or inside one).
    pub roots: Vec<PathBuf>,
    /// The model the loop asks.
    pub model: Arc<dyn Model>,
    /// The run's settings (model name, context budget, leash, candidates);
    /// each session sets its task, slider, files, checks and directory.
    pub template: RunConfig,
}

/// The server's sessions, by id.
pub struct Sessions {
    settings: SessionSettings,
    roots: Vec<PathBuf>,
    sessions: Mutex<BTreeMap<String, Arc<Session>>>,
    next: AtomicU64,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("roots", &self.roots).finish_non_exhaustive()
    }
}

/// A server going away stops its runs: a step waiting for a person is not
/// written, and no thread is left waiting for a decision that cannot come.
impl Drop for Sessions {
    fn drop(&mut self) {
        let sessions = self.sessions.get_mut().unwrap_or_else(|e| e.into_inner());
        for session in sessions.values() {
            let _ = session.stop();
        }
    }
}

/// One session: what it was asked, and what it has done so far.
pub(crate) struct Session {
    id: String,
    task: String,
    repo: PathBuf,
    /// The repository's journal and checkpoints, shared by the run and
    /// the undo route while the run lasts. Released when it ends: an open
    /// workspace holds the repository's lock, which `suit undo` and other
    /// runs need.
    ws: Mutex<Option<Arc<Workspace>>>,
    started_ms: u64,
    shared: Mutex<Shared>,
    /// Wakes a reviewer waiting for decisions (or for the stop).
    decided: Condvar,
    /// The number of events, for streams waiting for the next one.
    events: tokio::sync::watch::Sender<u64>,
    /// Fires when a person stops the session.
    stop: tokio::sync::Notify,
}

/// The part of a session that changes.
struct Shared {
    events: Vec<Stamped>,
    state: SessionState,
    outcome: Option<Outcome>,
    /// The slider's position for the next step.
    autonomy: Autonomy,
    /// A position set by a client, taken at the next step.
    next_autonomy: Option<Autonomy>,
    review: Option<Pending>,
    stopped: bool,
}

/// The step waiting for review, with the decisions taken so far.
struct Pending {
    view: PendingReview,
    changes: Vec<FileChange>,
    verdicts: HashMap<String, Verdict>,
    note: Option<String>,
}

impl Pending {
    fn complete(&self) -> bool {
        self.view.files.iter().flat_map(|f| &f.hunks).all(|h| self.verdicts.contains_key(&h.id))
    }
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis() as u64
}

impl Sessions {
    /// Sessions under `settings`; roots that do not exist are refused.
    pub fn new(settings: SessionSettings) -> Result<Self, String> {
        let mut roots = Vec::new();
        for root in &settings.roots {
            let canonical = root
                .canonicalize()
                .map_err(|e| format!("the session root {} cannot be used: {e}", root.display()))?;
            roots.push(canonical);
        }
        Ok(Self { settings, roots, sessions: Mutex::new(BTreeMap::new()), next: AtomicU64::new(1) })
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session `id`, or a 404.
    pub(crate) fn get(&self, id: &str) -> Result<Arc<Session>, ApiError> {
        self.lock().get(id).cloned().ok_or_else(|| {
            ApiError::not_found(format!(
                "There is no session `{id}` on this server (GET /v1/sessions lists them)."
            ))
        })
    }

    /// Every session, oldest first.
    pub(crate) fn list(&self) -> Vec<SessionView> {
        self.lock().values().map(|s| s.view()).collect()
    }

    /// Checks `request` and starts its run on a thread of its own.
    pub(crate) fn start(&self, request: NewSession) -> Result<SessionView, ApiError> {
        if request.task.trim().is_empty() {
            return Err(ApiError::invalid(
                Some("task".into()),
                "The task is empty: say what to do.",
            ));
        }
        let repo = self.resolve(&request.repo)?;
        let mut config = self.settings.template.clone();
        config.task = request.task.clone();
        config.autonomy = request.autonomy;
        config.cwd = repo.clone();
        config.files = request.files.iter().map(|f| Target::file(f.as_str())).collect();
        config.checks = request.checks.iter().map(Check::new).collect();
        if let Some(steps) = request.max_steps {
            config.leash.max_steps = steps;
        }
        if let Some(secs) = request.max_wall_secs {
            config.leash.max_wall = Duration::from_secs(secs);
        }
        let ws = open_workspace(&repo)?;
        suit_agent::validate(&config, &ws).map_err(|e| ApiError::invalid(None, e.0))?;
        let session = self.add(request.task, repo, Arc::new(ws), request.autonomy);
        let model = self.settings.model.clone();
        let handle = tokio::runtime::Handle::current();
        let running = session.clone();
        // The reviewer blocks its thread while a person decides: the run
        // gets a thread of its own, not one of the runtime's workers.
        tokio::task::spawn_blocking(move || {
            handle.block_on(drive(running, config, model));
        });
        Ok(session.view())
    }

    /// A new session in the list, running.
    fn add(
        &self,
        task: String,
        repo: PathBuf,
        ws: Arc<Workspace>,
        autonomy: Autonomy,
    ) -> Arc<Session> {
        let id = format!("s{}", self.next.fetch_add(1, Ordering::Relaxed));
        let session = Arc::new(Session {
            id: id.clone(),
            task,
            repo,
            ws: Mutex::new(Some(ws)),
            started_ms: now_ms(),
            shared: Mutex::new(Shared {
                events: Vec::new(),
                state: SessionState::Running,
                outcome: None,
                autonomy,
                next_autonomy: None,
                review: None,
                stopped: false,
            }),
            decided: Condvar::new(),
            events: tokio::sync::watch::channel(0).0,
            stop: tokio::sync::Notify::new(),
        });
        self.lock().insert(id, session.clone());
        session
    }

    /// Shows a run driven elsewhere (`suit run --review web`) as a session:
    /// its events go to [`Attached::sink`], and [`Attached::reviewer`] waits
    /// for a person's decisions on the page or over HTTP, as for the
    /// sessions this server starts. `ws` is the run's workspace, which the
    /// session's undo uses while the run lasts.
    pub fn attach(&self, task: &str, autonomy: Autonomy, ws: Arc<Workspace>) -> Attached {
        let repo = ws.root().to_path_buf();
        Attached { session: self.add(task.to_string(), repo, ws, autonomy) }
    }

    /// The repository `repo` names, if it is inside a root.
    fn resolve(&self, repo: &str) -> Result<PathBuf, ApiError> {
        let outside = || {
            ApiError::forbidden(format!(
                "The repository `{repo}` is outside the directories this server's sessions \
                 may change ({}). Start `suit serve` with `--root DIR` to allow another.",
                self.roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
            ))
        };
        let path = Path::new(repo);
        if !path.is_absolute() {
            return Err(ApiError::invalid(
                Some("repo".into()),
                format!("`repo` must be an absolute path, not `{repo}`."),
            ));
        }
        let canonical = path.canonicalize().map_err(|e| {
            ApiError::invalid(Some("repo".into()), format!("The repository `{repo}`: {e}."))
        })?;
        if !canonical.is_dir() {
            return Err(ApiError::invalid(
                Some("repo".into()),
                format!("The repository `{repo}` is not a directory."),
            ));
        }
        if self.roots.iter().any(|root| canonical.starts_with(root)) {
            Ok(canonical)
        } else {
            Err(outside())
        }
    }
}

/// Opens the repository's workspace (journal and checkpoints).
fn open_workspace(repo: &Path) -> Result<Workspace, ApiError> {
    let fail = |e: suit_store::Error| {
        ApiError::invalid(
            Some("repo".into()),
            format!("Cannot open suit's journal in {}: {e}.", repo.display()),
        )
    };
    let store = SqliteStore::open(&SqliteStore::default_path(repo)).map_err(fail)?;
    Workspace::open(repo, Arc::new(store)).map_err(fail)
}

/// Runs the loop of `session` to its end, or until a person stops it.
async fn drive(session: Arc<Session>, config: RunConfig, model: Arc<dyn Model>) {
    let started = std::time::Instant::now();
    let Some(ws) = session.ws.lock().unwrap_or_else(|e| e.into_inner()).clone() else { return };
    let mut reviewer = WebReviewer { session: session.clone() };
    let mut sink = SessionSink { session: session.clone() };
    let ended = tokio::select! {
        result = suit_agent::run(&config, &*model, None, &ws, &mut reviewer, &mut sink) => {
            result.err().map(|e| (Outcome::Failed, e.0))
        }
        () = session.stop.notified() => {
            Some((Outcome::Refused, "stopped by a person".to_string()))
        }
    };
    // A run that could not start or was dropped mid-step still ends its
    // stream with `finished`.
    if let Some((outcome, summary)) = ended {
        if session.shared().outcome.is_none() {
            sink.emit(&Event::Finished {
                outcome,
                steps: 0,
                applied: 0,
                summary,
                tokens: 0,
                cost_usd: 0.0,
                seconds: started.elapsed().as_secs_f64(),
                stop: None,
            });
        }
    }
    drop(ws);
    session.end();
}

/// A run driven outside the server, shown and reviewed as one of its
/// sessions (see [`Sessions::attach`]). Dropping it ends the session.
pub struct Attached {
    session: Arc<Session>,
}

impl Attached {
    /// The session's id, for its page (`/?session=ID`) and its routes.
    pub fn id(&self) -> &str {
        &self.session.id
    }

    /// Keeps the run's events as the session's.
    pub fn sink(&self) -> impl EventSink + 'static {
        SessionSink { session: self.session.clone() }
    }

    /// Waits for a person's decisions on the session's page or routes, and
    /// moves the slider as they do.
    pub fn reviewer(&self) -> impl Reviewer + 'static {
        WebReviewer { session: self.session.clone() }
    }

    /// Completes when a person stops the session.
    pub async fn stopped(&self) {
        self.session.stop.notified().await
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.session.end();
    }
}

impl Session {
    fn shared(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the run over. The repository's lock goes first, so that what
    /// clients do on seeing the end (`suit undo`, another session) finds
    /// the repository free.
    fn end(&self) {
        self.ws.lock().unwrap_or_else(|e| e.into_inner()).take();
        let mut shared = self.shared();
        shared.state = SessionState::Finished;
        shared.review = None;
        drop(shared);
        self.events.send_modify(|_| {});
        self.decided.notify_all();
    }

    /// The session as clients see it.
    pub(crate) fn view(&self) -> SessionView {
        let shared = self.shared();
        SessionView {
            id: self.id.clone(),
            task: self.task.clone(),
            repo: self.repo.display().to_string(),
            autonomy: shared.next_autonomy.unwrap_or(shared.autonomy),
            state: shared.state,
            outcome: shared.outcome,
            events: shared.events.len() as u64,
            review: shared.review.as_ref().map(|p| p.view.clone()),
            started_ms: self.started_ms,
        }
    }

    /// The events from index `from` on, and whether the run has ended.
    pub(crate) fn events_from(&self, from: usize) -> (Vec<(usize, Stamped)>, bool) {
        let shared = self.shared();
        let events =
            shared.events.iter().enumerate().skip(from).map(|(i, e)| (i, e.clone())).collect();
        (events, shared.state == SessionState::Finished)
    }

    /// A receiver that wakes when events are added.
    pub(crate) fn watch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.events.subscribe()
    }

    /// The repository's workspace (journal, checkpoints, undo): the run's
    /// while it lasts, else opened for the caller.
    pub(crate) fn workspace(&self) -> Result<Arc<Workspace>, ApiError> {
        match self.ws.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            Some(ws) => Ok(ws),
            None => open_workspace(&self.repo).map(Arc::new),
        }
    }

    /// Whether the run is between steps or waiting for a person (not
    /// writing files): when an undo may run.
    pub(crate) fn idle(&self) -> bool {
        self.shared().state != SessionState::Running
    }

    /// Records decisions on hunks of the pending step; the step goes on
    /// once every hunk has one.
    pub(crate) fn decide(&self, decisions: ReviewDecisions) -> Result<(), ApiError> {
        let mut shared = self.shared();
        if shared.state == SessionState::Finished {
            return Err(ApiError::conflict("The session has ended: there is nothing to review."));
        }
        let Some(pending) = shared.review.as_mut() else {
            return Err(ApiError::conflict(
                "No step of this session is waiting for review right now (its `state` is \
                 `running`); wait for an `approval`-free `diff` event or GET the session.",
            ));
        };
        if decisions.hunks.is_empty() {
            return Err(ApiError::invalid(Some("hunks".into()), "No decision was given."));
        }
        let known: HashMap<&str, ()> =
            pending.view.files.iter().flat_map(|f| &f.hunks).map(|h| (h.id.as_str(), ())).collect();
        for (i, d) in decisions.hunks.iter().enumerate() {
            if !known.contains_key(d.id.as_str()) {
                return Err(ApiError::not_found(format!(
                    "The pending step has no hunk `{}` (its hunks: {}).",
                    d.id,
                    known.keys().copied().collect::<Vec<_>>().join(", ")
                )));
            }
            let twice = decisions.hunks[..i].iter().any(|e| e.id == d.id);
            if twice || pending.verdicts.contains_key(&d.id) {
                return Err(ApiError::conflict(format!(
                    "The hunk `{}` has been decided already; each hunk is decided once.",
                    d.id
                )));
            }
        }
        for d in &decisions.hunks {
            pending.verdicts.insert(d.id.clone(), d.verdict);
        }
        if let Some(note) = decisions.note.filter(|n| !n.trim().is_empty()) {
            pending.note = Some(note);
        }
        for file in &mut pending.view.files {
            for hunk in &mut file.hunks {
                hunk.verdict = pending.verdicts.get(&hunk.id).copied();
            }
        }
        drop(shared);
        self.decided.notify_all();
        self.events.send_modify(|_| {});
        Ok(())
    }

    /// Moves the slider for the next step.
    pub(crate) fn set_autonomy(&self, autonomy: Autonomy) -> Result<(), ApiError> {
        let mut shared = self.shared();
        if shared.state == SessionState::Finished {
            return Err(ApiError::conflict("The session has ended: its slider no longer moves."));
        }
        shared.next_autonomy = Some(autonomy);
        drop(shared);
        self.events.send_modify(|_| {});
        Ok(())
    }

    /// Stops the run: a step waiting for review is not written, a step
    /// being asked for is dropped.
    pub(crate) fn stop(&self) -> Result<(), ApiError> {
        let mut shared = self.shared();
        if shared.state == SessionState::Finished {
            return Err(ApiError::conflict("The session has ended already."));
        }
        shared.stopped = true;
        drop(shared);
        self.decided.notify_all();
        self.stop.notify_one();
        Ok(())
    }
}

/// Keeps a session's events and moves its state with them.
struct SessionSink {
    session: Arc<Session>,
}

impl EventSink for SessionSink {
    fn emit(&mut self, event: &Event) {
        let mut shared = self.session.shared();
        match event {
            Event::StepStarted { autonomy, .. } => shared.autonomy = *autonomy,
            // The state moves to `finished` once the run has let go of
            // the repository (`drive`).
            Event::Finished { outcome, .. } => {
                shared.outcome = Some(*outcome);
                shared.review = None;
            }
            _ => {}
        }
        shared.events.push(Stamped { ts_ms: now_ms(), event: event.clone() });
        let count = shared.events.len() as u64;
        drop(shared);
        self.session.events.send_replace(count);
    }
}

/// A person deciding in the browser (or with `curl`): the step waits,
/// unwritten, until every hunk has a decision.
struct WebReviewer {
    session: Arc<Session>,
}

impl Reviewer for WebReviewer {
    fn review(
        &mut self,
        step: u32,
        _: Autonomy,
        changes: &[FileChange],
        escalation: Option<&str>,
    ) -> Review {
        let files = changes
            .iter()
            .enumerate()
            .map(|(n, change)| {
                let diff = change.diff(3);
                let hunks = diff
                    .hunks()
                    .iter()
                    .enumerate()
                    .map(|(i, h)| ReviewHunk {
                        id: format!("{step}-{n}-{i}"),
                        text: h.text().to_string(),
                        added: h.added(),
                        removed: h.removed(),
                        verdict: None,
                    })
                    .collect();
                let status = match change {
                    FileChange::Created { .. } => "created",
                    FileChange::Modified { .. } => "modified",
                    FileChange::Deleted { .. } => "deleted",
                };
                ReviewFile { path: change.path().to_string(), status: status.into(), hunks }
            })
            .collect();
        let view = PendingReview { step, escalation: escalation.map(String::from), files };
        let mut shared = self.session.shared();
        if shared.stopped {
            return Review::Quit;
        }
        shared.review =
            Some(Pending { view, changes: changes.to_vec(), verdicts: HashMap::new(), note: None });
        shared.state = SessionState::Review;
        self.session.events.send_modify(|_| {});
        while !shared.stopped && !shared.review.as_ref().is_some_and(Pending::complete) {
            shared = self.session.decided.wait(shared).unwrap_or_else(|e| e.into_inner());
        }
        shared.state = SessionState::Running;
        let pending = shared.review.take();
        let stopped = shared.stopped;
        drop(shared);
        self.session.events.send_modify(|_| {});
        match pending {
            Some(pending) if !stopped => decided(&pending),
            _ => Review::Quit,
        }
    }

    fn autonomy(&mut self, current: Autonomy) -> Autonomy {
        self.session.shared().next_autonomy.take().unwrap_or(current)
    }
}

/// The files to write for a step whose hunks all have a decision.
fn decided(pending: &Pending) -> Review {
    let mut files = Vec::new();
    let mut kept = Vec::new();
    let mut offset = 0;
    let mut partial = false;
    for (change, file) in pending.changes.iter().zip(&pending.view.files) {
        let accepted: Vec<usize> = (0..file.hunks.len())
            .filter(|&i| pending.verdicts.get(&file.hunks[i].id) == Some(&Verdict::Accept))
            .collect();
        if accepted.len() == file.hunks.len() {
            files.push((change.path().to_string(), change.after().map(String::from)));
        } else if !accepted.is_empty() {
            files.push((change.path().to_string(), Some(change.diff(3).apply_hunks(&accepted))));
            partial = true;
        } else {
            partial = true;
        }
        kept.extend(accepted.iter().map(|i| i + offset));
        offset += file.hunks.len();
    }
    if files.is_empty() {
        let feedback =
            pending.note.clone().or_else(|| Some("the person rejected every hunk".into()));
        return Review::Reject { feedback };
    }
    let decision = if partial { Decision::Partial { hunks: kept } } else { Decision::Accepted };
    Review::Apply { files, decision }
}
