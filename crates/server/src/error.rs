//! Errors in OpenAI's wire shape:
//! `{"error":{"message":..,"type":..,"param":..,"code":..}}` with the HTTP
//! status that goes with them, or in Anthropic's,
//! `{"type":"error","error":{"type":..,"message":..}}`, on `/v1/messages`.

use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use suit_model::ModelError;
use suit_protocol::{anthropic, openai};

/// An error answer of the API. Every failure a client sees is one of these.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What happened and what to do, for a person.
    pub message: String,
    /// OpenAI's error class (`invalid_request_error`, `server_error`, ...).
    pub kind: &'static str,
    /// The request field at fault, when there is one.
    pub param: Option<String>,
    /// A machine-readable code (`model_not_found`, `invalid_api_key`, ...).
    pub code: Option<&'static str>,
}

impl ApiError {
    /// A 400 `invalid_request_error` about `param`.
    pub fn invalid(param: impl Into<Option<String>>, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind: "invalid_request_error",
            param: param.into(),
            code: None,
        }
    }

    /// The 404 for a model this endpoint does not serve.
    pub fn model_not_found(model: &str, served: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: format!(
                "The model `{model}` does not exist on this server; this endpoint serves \
                 `{served}`. Set `model` to `{served}` (GET /v1/models lists the models)."
            ),
            kind: "invalid_request_error",
            param: Some("model".into()),
            code: Some("model_not_found"),
        }
    }

    /// A 401 for a request without the right key.
    pub fn unauthorized(message: impl Into<String>, code: &'static str) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
            kind: "invalid_request_error",
            param: None,
            code: Some(code),
        }
    }

    /// A 404 for something that does not exist (a session, a hunk).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::with_status(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A 403 for a request its caller may not make.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::with_status(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// A 409 for a request the state of its object refuses (a decision on a
    /// session that has ended, a hunk decided twice).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::with_status(StatusCode::CONFLICT, "conflict", message)
    }

    fn with_status(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind: "invalid_request_error",
            param: None,
            code: Some(code),
        }
    }

    /// Sets the machine-readable code.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// The JSON body, `{"error":{...}}`.
    pub fn body(&self) -> serde_json::Value {
        let body = openai::ErrorBody {
            error: openai::ErrorDetail {
                message: self.message.clone(),
                kind: self.kind.to_string(),
                param: self.param.clone(),
                code: self.code.map(String::from),
            },
        };
        serde_json::to_value(body).expect("an error body is JSON")
    }

    /// Anthropic's error type for this error's status (see
    /// <https://docs.claude.com/en/api/errors>): 503, a model that cannot
    /// answer now, is `overloaded_error`, which clients retry.
    pub fn anthropic_kind(&self) -> &'static str {
        match self.status.as_u16() {
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            503 | 529 => "overloaded_error",
            400..=499 => "invalid_request_error",
            _ => "api_error",
        }
    }

    /// The JSON body in Anthropic's shape,
    /// `{"type":"error","error":{"type":..,"message":..}}`. That shape has
    /// no `param`, so the message names the field at fault, as Anthropic's
    /// do (`messages.0.content.1.type: …`).
    pub fn anthropic_body(&self) -> serde_json::Value {
        let message = match &self.param {
            Some(param) if !self.message.contains(param.as_str()) => {
                format!("{param}: {}", self.message)
            }
            _ => self.message.clone(),
        };
        let body = anthropic::ErrorBody {
            kind: "error".into(),
            error: anthropic::ErrorDetail { kind: self.anthropic_kind().into(), message },
        };
        serde_json::to_value(body).expect("an error body is JSON")
    }
}

impl IntoResponse for ApiError {
    /// The answer in OpenAI's shape. The error itself rides along in the
    /// response's extensions, so a route of another dialect can answer it
    /// in its own shape (see `messages::anthropic_errors`).
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(self);
        response
    }
}

impl From<ModelError> for ApiError {
    /// Errors in the request (too long, not supported, refused by a budget)
    /// are the client's (4xx); failures of the model or of an upstream
    /// server are the server's (500, or 503 when trying later may work).
    fn from(error: ModelError) -> Self {
        let message = error.to_string();
        let (status, kind, code) = match &error {
            ModelError::ContextOverflow { .. } => {
                (StatusCode::BAD_REQUEST, "invalid_request_error", Some("context_length_exceeded"))
            }
            ModelError::InvalidRequest { .. } => {
                (StatusCode::BAD_REQUEST, "invalid_request_error", None)
            }
            ModelError::Unsupported { .. } => {
                (StatusCode::BAD_REQUEST, "invalid_request_error", Some("unsupported"))
            }
            ModelError::Budget(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "insufficient_quota", Some("insufficient_quota"))
            }
            ModelError::Unreachable { .. }
            | ModelError::Timeout { .. }
            | ModelError::Http { .. }
            | ModelError::AllBackendsFailed { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "server_error", Some("model_unavailable"))
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", Some("model_error")),
        };
        Self { status, message, kind, param: None, code }
    }
}

/// The answer to a path no route serves.
pub async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        message: format!(
            "Invalid URL ({method} {}): this server answers GET /healthz, GET /metrics, \
             GET /v1/models, GET /v1/usage, POST /v1/chat/completions, POST /v1/completions, \
             POST /v1/embeddings, POST /v1/messages and /v1/sessions.",
            uri.path()
        ),
        kind: "invalid_request_error",
        param: None,
        code: Some("unknown_url"),
    }
}

/// The answer to a known path asked with the wrong method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!("{} does not accept {method}.", uri.path()),
        kind: "invalid_request_error",
        param: None,
        code: Some("method_not_allowed"),
    }
}
