//! The one table of the API's errors: each has a code, a kind and an HTTP status, and is
//! answered as JSON `{"code", "message"}` with a message a person understands.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tabadul_node::NodeError;

/// Every error the API answers: code, HTTP status, what it means.
pub const ERRORS: &[(&str, u16, &str)] = &[
    ("invalid", 400, "the request breaks a rule: a bad value, a missing field, a bad MRZ"),
    ("malformed", 400, "the body is not the JSON expected: a syntax error, a wrong type, an unknown field"),
    ("unauthenticated", 401, "no valid token: log in (POST /api/v1/sessions) and send `Authorization: Bearer TOKEN`"),
    ("forbidden", 403, "your roles or your agency do not allow this"),
    ("not-found", 404, "no such thing, or none your agency may know of"),
    ("method-not-allowed", 405, "this path does not take this method"),
    ("conflict", 409, "it exists already, or changed meanwhile"),
    ("too-large", 413, "the body is larger than the limit"),
    ("unsupported-media-type", 415, "send JSON with `Content-Type: application/json`"),
    ("busy", 503, "too many checks are waiting: try again in a moment"),
    ("internal", 500, "the node failed; the error is logged"),
];

/// An error as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// One of the codes of the error table.
    #[schema(value_type = String, example = "invalid")]
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
}

/// The errors any endpoint may answer, for the API's description.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum Errors {
    /// A bad value or a rule broken (`invalid`), or a body that is not the JSON expected
    /// (`malformed`).
    #[response(status = 400)]
    BadRequest(#[to_schema] ApiError),
    /// No valid token (`unauthenticated`).
    #[response(status = 401)]
    Unauthenticated(#[to_schema] ApiError),
    /// The caller's roles or agency do not allow this (`forbidden`).
    #[response(status = 403)]
    Forbidden(#[to_schema] ApiError),
    /// Nothing the caller's agency may know of (`not-found`).
    #[response(status = 404)]
    NotFound(#[to_schema] ApiError),
    /// Exists already or changed meanwhile (`conflict`).
    #[response(status = 409)]
    Conflict(#[to_schema] ApiError),
    /// The body is larger than the limit (`too-large`).
    #[response(status = 413)]
    TooLarge(#[to_schema] ApiError),
    /// Not JSON (`unsupported-media-type`).
    #[response(status = 415)]
    UnsupportedMediaType(#[to_schema] ApiError),
    /// Too many checks waiting (`busy`).
    #[response(status = 503)]
    Busy(#[to_schema] ApiError),
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ApiError {
        debug_assert!(ERRORS.iter().any(|(c, _, _)| *c == code), "{code} is not in the error table");
        ApiError { code, message: message.into() }
    }

    pub fn status(&self) -> StatusCode {
        let status = ERRORS.iter().find(|(c, _, _)| *c == self.code).map_or(500, |(_, s, _)| *s);
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<NodeError> for ApiError {
    fn from(error: NodeError) -> ApiError {
        let code = match &error {
            NodeError::Invalid(_) => "invalid",
            NodeError::NotFound(_) => "not-found",
            NodeError::Unauthenticated(_) => "unauthenticated",
            NodeError::Forbidden(_) => "forbidden",
            NodeError::Conflict(_) => "conflict",
            NodeError::Io { .. } | NodeError::Internal(_) => "internal",
        };
        if code == "internal" {
            tracing::error!(%error, "node error");
            return ApiError::new(code, "the node failed to answer; the error is logged");
        }
        ApiError::new(code, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self)).into_response()
    }
}
