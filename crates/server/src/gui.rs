//! The review page: a session list, a new-session form, a session's steps,
//! its pending hunks to accept or reject, the slider, the context window,
//! checks and usage. Static files compiled into the binary (no build step),
//! with highlight.js (BSD-3-Clause, `gui/vendor/`) to colour the diffs; the
//! page drives the session API like any client, so every action it offers
//! is also an HTTP call.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const INDEX: &str = include_str!("gui/index.html");
const SCRIPT: &str = include_str!("gui/app.js");
const STYLE: &str = include_str!("gui/app.css");
/// highlight.js 11.12.0, the browser build with its common languages, from
/// npm's `@highlightjs/cdn-assets`.
const HIGHLIGHT: &str = include_str!("gui/vendor/highlight.min.js");

/// Scripts, styles and requests from this server only: text from the
/// repository shown on the page can never load or run anything.
const POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                      img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /`, `/gui/app.js`, `/gui/app.css` and `/gui/highlight.min.js`.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { page("text/html; charset=utf-8", INDEX) }))
        .route("/gui/app.js", get(|| async { page("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/gui/app.css", get(|| async { page("text/css; charset=utf-8", STYLE) }))
        .route(
            "/gui/highlight.min.js",
            get(|| async { page("text/javascript; charset=utf-8", HIGHLIGHT) }),
        )
}

fn page(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
