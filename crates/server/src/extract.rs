//! The JSON body extractor. axum's own `Json` answers in plain text; this
//! one answers in OpenAI's error shape: 413 over the body limit, 408 for a
//! body that takes longer than [`BodyReadTimeout`], 400 for malformed JSON
//! or a field of the wrong type (naming the field).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The longest a request body may take to arrive once its headers have
/// ([`crate::ServerConfig::body_read_timeout`]), as a request extension: a
/// client that sends a byte a second would otherwise hold its place in the
/// queue for as long as it likes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyReadTimeout(pub std::time::Duration);

/// A request body parsed as JSON into `T`, whatever its `Content-Type`
/// (clients such as `curl -d` send JSON labelled as a form).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = request
            .extensions()
            .get::<BodyReadTimeout>()
            .map_or(crate::DEFAULT_READ_TIMEOUT, |t| t.0);
        let read = tokio::time::timeout(limit, Bytes::from_request(request, state));
        let Ok(read) = read.await else {
            return Err(ApiError {
                status: StatusCode::REQUEST_TIMEOUT,
                message: format!(
                    "The request body did not arrive within {:.0?}. Send it at once, with a \
                     correct Content-Length.",
                    limit
                ),
                kind: "invalid_request_error",
                param: None,
                code: Some("request_timeout"),
            });
        };
        let bytes = read.map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError {
                    status,
                    message: "The request body is larger than this server accepts. Send a \
                              shorter prompt or fewer inputs per request."
                        .into(),
                    kind: "invalid_request_error",
                    param: None,
                    code: Some("request_too_large"),
                }
            } else {
                ApiError {
                    status,
                    message: format!("Could not read the request body: {}", rejection.body_text()),
                    kind: "invalid_request_error",
                    param: None,
                    code: None,
                }
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body, telling malformed JSON from well-formed JSON of the
/// wrong shape.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        classify(error.into_inner(), Some(path))
    })?;
    deserializer.end().map_err(|error| classify(error, None))?;
    Ok(value)
}

/// A 400 naming what is wrong: the JSON itself, or the field at `path`.
fn classify(inner: serde_json::Error, path: Option<String>) -> ApiError {
    if inner.is_data() {
        let param = path.filter(|p| p != ".");
        let at = param.as_deref().map(|p| format!(" at `{p}`")).unwrap_or_default();
        ApiError::invalid(param, format!("Invalid request body{at}: {inner}."))
    } else {
        ApiError::invalid(
            None,
            format!(
                "We could not parse the JSON body of your request ({inner}). \
                     Send a valid JSON object."
            ),
        )
        .with_code("invalid_json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        n: u32,
        inner: Option<Inner>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        text: String,
    }

    #[test]
    fn malformed_json_and_wrong_types_are_told_apart() {
        let malformed = parse::<Body>(b"{\"n\": ").unwrap_err();
        assert_eq!(malformed.code, Some("invalid_json"));
        let trailing = parse::<Body>(b"{\"n\": 1} x").unwrap_err();
        assert_eq!(trailing.code, Some("invalid_json"));
        let wrong = parse::<Body>(br#"{"n": 1, "inner": {"text": 5}}"#).unwrap_err();
        assert_eq!(wrong.param.as_deref(), Some("inner.text"));
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert!(parse::<Body>(br#"{"n": 1}"#).is_ok());
    }
}
