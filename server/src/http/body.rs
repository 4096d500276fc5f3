//! A JSON request body, as text: requests of any other content type are refused, so that a
//! web page of another site cannot post one with a plain form.

use axum::{
    extract::{FromRequest, Request},
    http::{StatusCode, header},
};

use super::error::ApiError;

#[derive(Debug)]
pub(crate) struct JsonText(pub(crate) String);

impl<S: Send + Sync> FromRequest<S> for JsonText {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        // The media type exactly, in any case, with parameters (`; charset=utf-8`) or none.
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::NotJson);
        }
        String::from_request(request, state)
            .await
            .map(Self)
            .map_err(|rejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
                _ => ApiError::Invalid(rejection.body_text()),
            })
    }
}
