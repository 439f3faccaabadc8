//! How failures reach people and programs: a status, a stable code, a Japanese message,
//! field messages for forms, and the operation id that is also in the log line.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ryoritsu_app::{AppError, StoreError};
use ryoritsu_domain::FieldError;
use ryoritsu_domain::policy::Denial;
use serde::Serialize;

/// Whether the caller wants JSON (the API) or a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Api,
    Page,
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub fields: Vec<FieldError>,
    /// `None`: decided by the request (the API under `/api/`, pages elsewhere).
    pub flavour: Option<Flavour>,
    pub operation_id: Option<String>,
    /// Seconds to wait, for 429.
    pub retry_after: Option<i64>,
    /// The access policy refused the request: the session layer records it in the audit
    /// log.
    pub denied: bool,
}

/// The body of every API error (RFC 9457 problem details, with our code and fields).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: String,
    /// Japanese message for people.
    pub message: String,
    /// Per-field problems, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldErrorBody>,
    /// Quote this when contacting support; it is in the server log too.
    pub operation_id: Option<String>,
    pub status: u16,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl Failure {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code: code.to_owned(),
            message: message.into(),
            fields: Vec::new(),
            flavour: None,
            operation_id: crate::http::context::operation_id(),
            retry_after: None,
            denied: false,
        }
    }

    pub fn api(mut self) -> Failure {
        self.flavour = Some(Flavour::Api);
        self
    }

    pub fn not_found() -> Failure {
        Failure::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "お探しのページまたはデータは見つかりませんでした。",
        )
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn internal(detail: impl std::fmt::Display) -> Failure {
        tracing::error!(error = %detail, "internal error");
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "システムで問題が発生しました。お手数ですが、表示されている操作IDを添えて管理者にお問い合わせください。",
        )
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Failure {
        let status = match &e {
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Denied(Denial::NotFound) | AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Denied(_) => StatusCode::FORBIDDEN,
            AppError::AuthenticationFailed | AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Conflict(_) | AppError::IdempotencyMismatch => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            AppError::Store(StoreError::NotFound) => StatusCode::NOT_FOUND,
            AppError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            AppError::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = ?e, "request failed");
        }
        let mut f = Failure::new(status, e.code(), e.message());
        f.denied = matches!(e, AppError::Denied(_));
        if let AppError::Invalid(v) = &e {
            f.fields = v.errors.clone();
        }
        if let AppError::Throttled(until) = &e {
            let wait = (*until - time::OffsetDateTime::now_utc())
                .whole_seconds()
                .max(1);
            f.retry_after = Some(wait);
        }
        f
    }
}

impl From<ryoritsu_domain::ValidationErrors> for Failure {
    fn from(v: ryoritsu_domain::ValidationErrors) -> Failure {
        Failure::from(AppError::Invalid(v))
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let flavour = self.flavour.unwrap_or_else(crate::http::context::flavour);
        let mut resp = match flavour {
            Flavour::Api => {
                let body = ErrorBody {
                    code: self.code.clone(),
                    message: self.message.clone(),
                    fields: self
                        .fields
                        .iter()
                        .map(|f| FieldErrorBody {
                            field: f.field.clone(),
                            code: f.code.clone(),
                            message: f.message.clone(),
                        })
                        .collect(),
                    operation_id: self.operation_id.clone(),
                    status: self.status.as_u16(),
                };
                let mut r = (self.status, axum::Json(body)).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/problem+json"),
                );
                r
            }
            Flavour::Page => {
                let mut r = (self.status, crate::http::page::error_page(&self)).into_response();
                r.extensions_mut().insert(RenderedFailure);
                r
            }
        };
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp.extensions_mut().insert(FailureInfo {
            code: self.code,
            message: self.message,
            denied: self.denied,
        });
        resp
    }
}

/// Marks a response that already carries our failure body, so the outer layer that fills
/// in bodies for framework-made errors leaves it alone.
#[derive(Debug, Clone, Copy)]
pub struct RenderedFailure;

#[derive(Debug, Clone)]
pub struct FailureInfo {
    pub code: String,
    pub message: String,
    pub denied: bool,
}
