//! `suit run --review web`: the run stays in this process and its terminal
//! view, and its review moves to the browser. A `suit serve`-like server on
//! a free loopback port shows the run as a session of its own, on the same
//! page and routes as `suit serve` (`/?session=ID`), and its reviewer waits
//! for the decisions made there.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use suit_agent::{Autonomy, Event, EventSink, RunConfig};
use suit_model::Model;
use suit_server::{Attached, Served, ServedModels, ServerConfig, SessionSettings, Sessions};
use suit_store::Workspace;

/// The review page of one run, served until it is dropped.
pub struct WebReview {
    /// The run as a session of the page's server (taken when it ends).
    attached: Option<Attached>,
    /// The page of the run's session.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<std::thread::JoinHandle<()>>,
}

impl WebReview {
    /// Serves the review page of the run of `task` in the repository of
    /// `ws` on 127.0.0.1 (a free port; loopback only, so no key), on a
    /// thread and runtime of its own: the run's reviewer blocks its thread
    /// while a person decides, and the page must go on answering. The form
    /// on the page starts other sessions in the same repository, like
    /// `template` and on `model`.
    pub fn start(
        model: Arc<dyn Model>,
        model_id: &str,
        template: RunConfig,
        task: &str,
        autonomy: Autonomy,
        ws: Arc<Workspace>,
    ) -> Result<Self> {
        let root: &Path = ws.root();
        let sessions = Sessions::new(SessionSettings {
            roots: vec![root.to_path_buf()],
            model: model.clone(),
            template,
        })
        .map_err(anyhow::Error::msg)?;
        let sessions = Arc::new(sessions);
        let attached = sessions.attach(task, autonomy, ws.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .context("cannot listen on a loopback port for the review page")?;
        listener.set_nonblocking(true).context("cannot set up the review page's socket")?;
        let url = format!(
            "http://{}/?session={}",
            listener.local_addr().context("cannot read the review page's address")?,
            attached.id()
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = ServerConfig { sessions: Some(sessions), ..ServerConfig::default() };
        let models = ServedModels::one(Served::new(model, model_id));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("cannot start the review page's runtime")?;
        let server = std::thread::Builder::new()
            .name("suit-review-page".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(e) => return eprintln!("suit: the review page cannot listen: {e}"),
                    };
                    let shutdown = async {
                        stopped.await.ok();
                    };
                    if let Err(e) = suit_server::serve(listener, models, config, shutdown).await {
                        eprintln!("suit: the review page stopped: {e}");
                    }
                })
            })
            .context("cannot start the review page's thread")?;
        Ok(Self { attached: Some(attached), url, stop: Some(stop), server: Some(server) })
    }

    /// The run's session on the page.
    pub fn session(&self) -> &Attached {
        self.attached.as_ref().expect("the session lasts as long as its page")
    }

    /// Asks the desktop to open the page (`$BROWSER`, else `xdg-open` or
    /// `open`); whether it could is only a convenience, the URL is printed.
    pub fn open_in_browser(&self) -> bool {
        let browser = std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty());
        let candidates = browser.into_iter().chain(["xdg-open".to_string(), "open".to_string()]);
        for program in candidates {
            let spawned = std::process::Command::new(&program)
                .arg(&self.url)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
            if spawned.is_ok() {
                return true;
            }
        }
        false
    }
}

impl Drop for WebReview {
    fn drop(&mut self) {
        // The session ends first: its event streams close, and the server
        // then stops without waiting on them.
        drop(self.attached.take());
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

/// Sends each event to both sinks: the terminal's and the page's.
pub struct Both<A, B>(pub A, pub B);

impl<A: EventSink + ?Sized, B: EventSink> EventSink for Both<Box<A>, B> {
    fn emit(&mut self, event: &Event) {
        self.0.emit(event);
        self.1.emit(event);
    }
}
