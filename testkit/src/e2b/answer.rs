//! What the control plane answers: each answer checked against the spec before it is sent, a
//! mismatch being the mock's own bug.

use axum::{
    Json,
    http::{HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::spec::{Operation, Schema};

/// An answer, checked against the operation's declared responses before it is sent.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) body: Option<Value>,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
}

impl Answer {
    pub(super) fn json(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub(super) fn empty() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: None,
            headers: Vec::new(),
        }
    }
}

/// A failure, answered as E2B's `Error {code, message}`.
#[derive(Debug)]
pub(super) struct Failure {
    status: StatusCode,
    message: String,
    error_code: Option<&'static str>,
    /// The request broke the spec: answered as E2B's request validator does.
    rejected: bool,
}

impl Failure {
    pub(super) fn new(status: StatusCode, message: String) -> Self {
        Self {
            status,
            message,
            error_code: None,
            rejected: false,
        }
    }

    /// With E2B's machine-readable `error_code`.
    pub(super) fn code(self, error_code: &'static str) -> Self {
        Self {
            error_code: Some(error_code),
            ..self
        }
    }

    /// A request that breaks the spec.
    pub(super) fn rejected(problem: &str) -> Self {
        let message = format!("Error when parsing request: {problem}");
        Self {
            rejected: true,
            ..Self::new(StatusCode::BAD_REQUEST, message)
        }
    }

    pub(super) fn sandbox_not_found(id: &str) -> Self {
        let message = format!("Sandbox {id:?} doesn't exist or you don't have access to it");
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<Failure> for Answer {
    fn from(failure: Failure) -> Self {
        let mut body = json!({"code": failure.status.as_u16(), "message": failure.message});
        if let Some(code) = failure.error_code {
            body["error_code"] = json!(code);
        }
        Self::json(failure.status, body)
    }
}

/// E2B's `Error` body, unchecked.
pub(super) fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({"code": status.as_u16(), "message": message});
    (status, Json(body)).into_response()
}

/// Sends the answer if the spec declares it for `operation` (or, for a request that broke the
/// spec, if it is an `Error`: E2B's request validator answers 400 whatever the operation
/// declares). Else the mock has a bug, which fails loudly: a 500 saying what is wrong, and the
/// same in the mock's log.
pub(super) fn send(
    operation: &Operation,
    error_schema: &Schema,
    result: Result<Answer, Failure>,
) -> Response {
    let rejected = matches!(&result, Err(failure) if failure.rejected);
    let answer = result.unwrap_or_else(Answer::from);
    let body = answer.body.as_ref();
    let valid = match rejected {
        true => error_schema.check(body.unwrap_or(&Value::Null)),
        false => operation.check_response(answer.status.as_u16(), body),
    };
    if let Err(mismatch) = valid {
        let message = format!("e2b mock bug: its answer breaks E2B's spec: {mismatch}");
        eprintln!("{message}");
        return error(StatusCode::INTERNAL_SERVER_ERROR, &message);
    }
    let mut response = match answer.body {
        Some(body) => (answer.status, Json(body)).into_response(),
        None => answer.status.into_response(),
    };
    response.headers_mut().extend(answer.headers);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::e2b::Spec;

    #[test]
    fn an_answer_the_spec_does_not_declare_is_the_mocks_bug_and_a_500() {
        let spec = Spec::load().unwrap();
        let create = spec.operation("post", "/sandboxes").unwrap();
        let error = spec.schema("Error").unwrap();
        let wrong = Answer::json(StatusCode::CREATED, json!({"sandboxID": "no templateID"}));
        let response = send(&create, &error, Ok(wrong));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let undeclared = Failure::new(StatusCode::NOT_FOUND, "no".to_owned());
        assert_eq!(
            send(&create, &error, Err(undeclared)).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        // A request that breaks the spec is 400 wherever the operation declares none.
        let kill = spec.operation("delete", "/sandboxes/{sandboxID}").unwrap();
        let rejected = Failure::rejected("templateID is required");
        assert_eq!(
            send(&kill, &error, Err(rejected)).status(),
            StatusCode::BAD_REQUEST
        );
    }
}
