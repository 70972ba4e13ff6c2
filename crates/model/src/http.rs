//! What the HTTP backends share: the client, error mapping, `Retry-After`.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::BackendConfig;
use crate::sse::{body_error, error_chain};
use crate::ModelError;

/// The most of an error body kept in a [`ModelError::Http`].
const BODY_SNIPPET: usize = 600;

/// A client for one configured HTTP backend.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    pub backend: String,
    pub base_url: String,
    pub timeout: Duration,
    client: reqwest::Client,
}

impl HttpClient {
    /// A client for backend `name` as configured.
    pub fn new(name: &str, config: &BackendConfig) -> Result<Self, ModelError> {
        let base_url = config.base_url.as_deref().ok_or_else(|| {
            ModelError::Config(format!(
                "[backends.{name}]: kind = \"{}\" needs `base_url`",
                config.kind
            ))
        })?;
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .user_agent(concat!("suit/", env!("CARGO_PKG_VERSION")));
        if is_loopback(base_url) {
            // A server on this machine is never behind the HTTP(S)_PROXY
            // meant for the outside world.
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| ModelError::Engine {
            backend: name.to_string(),
            reason: format!("cannot set up the HTTP client: {}", error_chain(&e)),
        })?;
        Ok(Self {
            backend: name.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            timeout,
            client,
        })
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// POSTs `body` as JSON; any non-2xx answer becomes [`ModelError::Http`].
    pub async fn post(
        &self,
        url: &str,
        headers: HeaderMap,
        body: &Value,
    ) -> Result<Response, ModelError> {
        let response = self
            .client
            .post(url)
            .headers(headers)
            .json(body)
            .send()
            .await
            .map_err(|e| self.send_error(url, e))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.status_error(url, response).await)
        }
    }

    /// Reads a whole JSON answer.
    pub async fn json<T: DeserializeOwned>(
        &self,
        url: &str,
        response: Response,
    ) -> Result<T, ModelError> {
        let bytes =
            response.bytes().await.map_err(|e| body_error(&self.backend, url, self.timeout, e))?;
        serde_json::from_slice(&bytes).map_err(|e| ModelError::Protocol {
            backend: self.backend.clone(),
            reason: format!(
                "cannot parse the answer of {url} ({e}): {}",
                snippet(&String::from_utf8_lossy(&bytes))
            ),
        })
    }

    /// Checks that a streaming answer really is an event stream.
    pub async fn expect_event_stream(
        &self,
        url: &str,
        response: Response,
    ) -> Result<Response, ModelError> {
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") || content_type.starts_with("text/html") {
            let body = response.text().await.unwrap_or_default();
            return Err(ModelError::Protocol {
                backend: self.backend.clone(),
                reason: format!(
                    "{url} answered a streaming request with {content_type} instead of text/event-stream: {}",
                    snippet(&body)
                ),
            });
        }
        Ok(response)
    }

    fn send_error(&self, url: &str, e: reqwest::Error) -> ModelError {
        if e.is_timeout() {
            ModelError::Timeout { backend: self.backend.clone(), after: self.timeout }
        } else {
            ModelError::Unreachable {
                backend: self.backend.clone(),
                url: url.to_string(),
                reason: root_cause(&e),
            }
        }
    }

    async fn status_error(&self, url: &str, response: Response) -> ModelError {
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = response.text().await.unwrap_or_default();
        let mut body = error_message(&body);
        if status == StatusCode::NOT_FOUND {
            body.push_str(&format!(" (POST {url}: check base_url and the model id)"));
        }
        ModelError::Http {
            backend: self.backend.clone(),
            status: status.as_u16(),
            body,
            retry_after,
        }
    }
}

/// Whether `url` points at this machine (localhost, 127.0.0.0/8, ::1).
fn is_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else { return false };
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The useful part of an error body: the provider's message when it is JSON
/// (`{"error": {"message", "type"}}` or `{"error": "..."}`), else its start.
pub(crate) fn error_message(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        if let Some(message) = error_value_message(&value) {
            return snippet(&message);
        }
    }
    let body = body.trim();
    if body.is_empty() {
        "(empty body)".to_string()
    } else {
        snippet(body)
    }
}

/// `error.message (error.type)` from an error object, if it has one.
pub(crate) fn error_value_message(value: &Value) -> Option<String> {
    let error = value.get("error")?;
    if let Some(text) = error.as_str() {
        return Some(text.to_string());
    }
    let message = error.get("message").and_then(Value::as_str)?;
    Some(match error.get("type").and_then(Value::as_str) {
        Some(kind) => format!("{message} ({kind})"),
        None => message.to_string(),
    })
}

/// The start of `text`, cut at a character boundary.
pub(crate) fn snippet(text: &str) -> String {
    if text.len() <= BODY_SNIPPET {
        return text.to_string();
    }
    let mut end = BODY_SNIPPET;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The server's requested wait: `retry-after-ms` (milliseconds) or
/// `Retry-After` in seconds. (The HTTP-date form is not used by model APIs
/// and is ignored.)
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        let value = headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    if let Some(ms) = number("retry-after-ms") {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    number("retry-after").map(|secs| Duration::from_secs_f64(secs.min(1e9)))
}

/// Reads the API key named in the config, if one is configured.
pub(crate) fn api_key(name: &str, config: &BackendConfig) -> Result<Option<String>, ModelError> {
    let Some(var) = config.api_key_env.as_deref() else { return Ok(None) };
    match std::env::var(var) {
        Ok(key) if !key.trim().is_empty() => Ok(Some(key.trim().to_string())),
        _ => Err(ModelError::MissingApiKey { backend: name.to_string(), var: var.to_string() }),
    }
}

/// The innermost causes of a transport error (e.g. "tcp connect error:
/// Connection refused"), without reqwest's outer "error sending request for
/// url (...)" that repeats the URL the message already names.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut chain = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        chain.push(s.to_string());
        source = s.source();
    }
    let tail = &chain[chain.len().saturating_sub(2)..];
    match tail {
        [outer, inner] if !outer.contains(inner.as_str()) => format!("{outer}: {inner}"),
        _ => tail.last().cloned().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn loopback_urls_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:8080/v1"));
        assert!(is_loopback("http://127.1.2.3/v1"));
        assert!(is_loopback("http://LOCALHOST:11434/v1"));
        assert!(is_loopback("http://[::1]:8000/v1"));
        assert!(!is_loopback("https://api.openai.com/v1"));
        assert!(!is_loopback("http://10.0.0.5/v1"));
    }

    #[test]
    fn retry_after_reads_seconds_and_milliseconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after", HeaderValue::from_static("1.5"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        let mut dated = HeaderMap::new();
        dated.insert("retry-after", HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&dated), None);
        dated.insert("retry-after", HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&dated), None);
    }

    #[test]
    fn error_message_prefers_the_providers_message() {
        assert_eq!(
            error_message(
                r#"{"error":{"message":"Rate limit reached","type":"requests","code":null}}"#
            ),
            "Rate limit reached (requests)"
        );
        assert_eq!(
            error_message(
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            "Overloaded (overloaded_error)"
        );
        assert_eq!(error_message(r#"{"error":"model 'x' not found"}"#), "model 'x' not found");
        assert_eq!(error_message("  plain text  "), "plain text");
        assert_eq!(error_message(""), "(empty body)");
        let long = "é".repeat(1000);
        let cut = error_message(&long);
        assert!(cut.len() <= BODY_SNIPPET + 3 && cut.ends_with('…'));
    }
}
