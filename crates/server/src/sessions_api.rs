//! The routes of agent sessions (`/v1/sessions`): start one, list them,
//! read one, stream its events, decide on the hunks of its pending step,
//! move its slider, undo steps, stop it. Sessions change files, so a named
//! key may not use them: only the admin key, or anyone on a server without
//! keys (loopback only).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use suit_protocol::openai::List;
use suit_protocol::{NewSession, ReviewDecisions, SessionView, SetAutonomy, UndoSteps, Undone};

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::sessions::{Session, Sessions};
use crate::usage::{Caller, Who};

/// A comment line sent on an idle event stream, so proxies and browsers
/// keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The session routes, on `sessions`.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(sessions: Arc<Sessions>) -> Router<S> {
    Router::new()
        .route("/v1/sessions", post(start).get(list))
        .route("/v1/sessions/{id}", get(show))
        .route("/v1/sessions/{id}/events", get(events))
        .route("/v1/sessions/{id}/review", post(review))
        .route("/v1/sessions/{id}/autonomy", post(autonomy))
        .route("/v1/sessions/{id}/undo", post(undo))
        .route("/v1/sessions/{id}/stop", post(stop))
        .with_state(sessions)
}

/// Refuses named keys: sessions write files.
fn may_steer(caller: &Caller) -> Result<(), ApiError> {
    match caller.who {
        Who::Admin | Who::Open => Ok(()),
        Who::Key(_) => Err(ApiError::forbidden(
            "Sessions change files: they need the admin key `suit serve` was started with, \
             not a named key.",
        )),
    }
}

/// `POST /v1/sessions`: starts a run; 201 with the session.
async fn start(
    State(sessions): State<Arc<Sessions>>,
    caller: Caller,
    ApiJson(request): ApiJson<NewSession>,
) -> Result<Response, ApiError> {
    may_steer(&caller)?;
    let view = sessions.start(request)?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `GET /v1/sessions`: every session, oldest first.
async fn list(
    State(sessions): State<Arc<Sessions>>,
    caller: Caller,
) -> Result<Json<List<SessionView>>, ApiError> {
    may_steer(&caller)?;
    Ok(Json(List::of(sessions.list())))
}

/// `GET /v1/sessions/{id}`.
async fn show(
    State(sessions): State<Arc<Sessions>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    may_steer(&caller)?;
    Ok(Json(sessions.get(&id)?.view()))
}

/// `GET /v1/sessions/{id}/events`: the run's events as server-sent events,
/// each with its index as `id`; with `Last-Event-ID: N` the stream starts
/// after event N. The stream ends after `finished`.
async fn events(
    State(sessions): State<Arc<Sessions>>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    may_steer(&caller)?;
    let session = sessions.get(&id)?;
    let from = match headers.get("last-event-id") {
        None => 0,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map(|last| last + 1)
            .ok_or_else(|| {
                ApiError::invalid(
                    Some("Last-Event-ID".into()),
                    "`Last-Event-ID` must be the number of the last event received.",
                )
            })?,
    };
    let stream = futures::stream::unfold(
        Some((session.clone(), from, session.watch())),
        |state| async move {
            let (session, from, mut watch) = state?;
            loop {
                let (events, finished) = session.events_from(from);
                if let Some((last, _)) = events.last() {
                    let next = last + 1;
                    let mut text = String::new();
                    for (i, event) in &events {
                        let data = serde_json::to_string(event).unwrap_or_default();
                        text.push_str(&format!("id: {i}\ndata: {data}\n\n"));
                    }
                    let chunk = Ok::<_, Infallible>(Bytes::from(text));
                    return Some((chunk, Some((session, next, watch))));
                }
                if finished {
                    return None;
                }
                match tokio::time::timeout(KEEP_ALIVE, watch.changed()).await {
                    Ok(Ok(())) => continue,
                    Ok(Err(_)) => return None,
                    Err(_) => {
                        let ping = Ok(Bytes::from_static(b": keep-alive\n\n"));
                        return Some((ping, Some((session, from, watch))));
                    }
                }
            }
        },
    );
    Ok((
        [(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// `POST /v1/sessions/{id}/review`: decisions on hunks of the pending step.
async fn review(
    State(sessions): State<Arc<Sessions>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(decisions): ApiJson<ReviewDecisions>,
) -> Result<Json<SessionView>, ApiError> {
    may_steer(&caller)?;
    let session = sessions.get(&id)?;
    session.decide(decisions)?;
    Ok(Json(session.view()))
}

/// `POST /v1/sessions/{id}/autonomy`: the slider from the next step on.
async fn autonomy(
    State(sessions): State<Arc<Sessions>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<SetAutonomy>,
) -> Result<Json<SessionView>, ApiError> {
    may_steer(&caller)?;
    let session = sessions.get(&id)?;
    session.set_autonomy(request.autonomy)?;
    Ok(Json(session.view()))
}

/// `POST /v1/sessions/{id}/undo`: restores the bytes before the
/// repository's last steps, as `suit undo N` does; refused while the run
/// is writing.
async fn undo(
    State(sessions): State<Arc<Sessions>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UndoSteps>,
) -> Result<Json<Undone>, ApiError> {
    may_steer(&caller)?;
    let session = sessions.get(&id)?;
    if !session.idle() {
        return Err(ApiError::conflict(
            "The run is working on a step; undo when it waits for review or has ended \
             (or stop it first).",
        ));
    }
    let undone = tokio::task::spawn_blocking(move || undo_steps(&session, request.steps))
        .await
        .map_err(|e| ApiError::conflict(format!("The undo failed: {e}.")))??;
    Ok(Json(undone))
}

fn undo_steps(session: &Session, steps: usize) -> Result<Undone, ApiError> {
    match session.workspace()?.undo(steps, false) {
        Ok(report) => Ok(Undone { checkpoints: report.undone }),
        Err(e @ suit_store::Error::NothingToUndo { .. }) => {
            Err(ApiError::invalid(Some("steps".into()), format!("{e}.")))
        }
        Err(e) => Err(ApiError::conflict(format!("{e}."))),
    }
}

/// `POST /v1/sessions/{id}/stop`: ends the run; a step waiting for review
/// is not written.
async fn stop(
    State(sessions): State<Arc<Sessions>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    may_steer(&caller)?;
    let session = sessions.get(&id)?;
    session.stop()?;
    Ok(Json(session.view()))
}
