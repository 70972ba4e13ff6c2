//! A bounded queue in front of the model: at most `limit` generation
//! requests are in flight (decoding or waiting for a slot); one more gets
//! 429 with `Retry-After` at once, instead of waiting unboundedly and
//! holding memory and a connection.
//!
//! A streamed reply holds its ticket until its body has been sent (or the
//! client is gone), so it counts for as long as it decodes; a whole reply
//! gives it back when it is ready.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// The requests in flight and how long they take.
#[derive(Debug)]
pub struct Admission {
    limit: usize,
    slots: usize,
    in_flight: AtomicUsize,
    metrics: Arc<Metrics>,
    /// Seconds a request took, smoothed (exponentially weighted).
    typical_secs: Mutex<f64>,
}

impl Admission {
    /// At most `limit` requests in flight, of which the model decodes
    /// `slots` at once (the rest wait in its queue).
    pub fn new(limit: usize, slots: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            limit: limit.max(1),
            slots: slots.max(1),
            in_flight: AtomicUsize::new(0),
            metrics,
            typical_secs: Mutex::new(5.0),
        }
    }

    /// A ticket, or `None` when `limit` requests are in flight already.
    fn enter(self: &Arc<Self>) -> Option<Ticket> {
        let mut now = self.in_flight.load(Ordering::Relaxed);
        loop {
            if now >= self.limit {
                return None;
            }
            match self.in_flight.compare_exchange_weak(
                now,
                now + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    self.metrics.in_flight.inc();
                    return Some(Ticket { admission: self.clone(), since: Instant::now() });
                }
                Err(actual) => now = actual,
            }
        }
    }

    /// Seconds until a place is likely free: one of the `slots` requests
    /// decoding together finishes about every typical request time divided
    /// by `slots`. At least 1, at most 60.
    fn retry_after(&self) -> u64 {
        let typical = *self.typical_secs.lock().expect("admission lock");
        (typical / self.slots as f64).ceil().clamp(1.0, 60.0) as u64
    }

    fn leave(&self, took: Duration) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.metrics.in_flight.dec();
        self.metrics.duration.observe(took.as_secs_f64());
        let mut typical = self.typical_secs.lock().expect("admission lock");
        *typical = 0.8 * *typical + 0.2 * took.as_secs_f64();
    }
}

/// A place in flight, given back when dropped.
struct Ticket {
    admission: Arc<Admission>,
    since: Instant,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.leave(self.since.elapsed());
    }
}

/// Middleware: lets a request in while there is room, keeping its ticket
/// with the response body; answers 429 `server_busy` with `Retry-After`
/// when the queue is full.
pub async fn admit(
    State(admission): State<Arc<Admission>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(ticket) = admission.enter() else {
        admission.metrics.rejected.inc();
        let wait = admission.retry_after();
        let error = ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!(
                "The server is busy: {} requests are being served or waiting, its limit. \
                 Try again in {wait} s, or ask the operator to raise `suit serve --max-queue`.",
                admission.limit
            ),
            kind: "requests",
            param: None,
            code: Some("server_busy"),
        };
        let mut response = error.into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return response;
    };
    let response = next.run(request).await;
    if response.body().size_hint().exact().is_some() {
        // A whole reply (JSON, or an error): the model's work is done, and
        // the body keeps its Content-Length.
        admission.metrics.first_byte.observe(ticket.since.elapsed().as_secs_f64());
        return response;
    }
    let (parts, body) = response.into_parts();
    let mut first = true;
    let body = body.into_data_stream().map(move |chunk| {
        // The whole ticket lives in the body, not just the field read here.
        let held = &ticket;
        if std::mem::take(&mut first) {
            admission.metrics.first_byte.observe(held.since.elapsed().as_secs_f64());
        }
        chunk
    });
    Response::from_parts(parts, Body::from_stream(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_bounded_and_given_back() {
        let metrics = Arc::new(Metrics::default());
        let admission = Arc::new(Admission::new(2, 1, metrics.clone()));
        let a = admission.enter().expect("first");
        let b = admission.enter().expect("second");
        assert!(admission.enter().is_none(), "the limit is 2");
        assert_eq!(metrics.in_flight.get(), 2);
        drop(a);
        assert_eq!(metrics.in_flight.get(), 1);
        let _c = admission.enter().expect("a place was given back");
        drop(b);
        assert!((1..=60).contains(&admission.retry_after()));
    }
}
