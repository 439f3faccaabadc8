//! Errors for FHIR clients: a failure as an `OperationOutcome` in `application/fhir+json`,
//! with the status, stable code and Japanese message the JSON API gives for the same
//! refusal. The outer middleware turns every error answer under `/fhir/` into one, whoever
//! refused the request.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::http::failure::{Failure, FailureInfo};

/// A FHIR resource, bundle or outcome as `application/fhir+json`.
pub fn fhir_json(status: StatusCode, v: &Value) -> Response {
    let body = match serde_json::to_vec(v) {
        Ok(b) => b,
        Err(e) => return outcome(Failure::internal(e)),
    };
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json; charset=utf-8"),
    );
    r
}

fn issue_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        405 | 415 => "not-supported",
        409 | 412 => "conflict",
        413 => "too-costly",
        422 | 400 => "invalid",
        429 => "throttled",
        _ if status.is_server_error() => "exception",
        _ => "processing",
    }
}

/// A failure as an `OperationOutcome`, keeping what the outer layers read from it (the
/// denial is still recorded in the audit log).
pub fn outcome(f: Failure) -> Response {
    let fields: Vec<(String, String, String)> = f
        .fields
        .iter()
        .map(|e| (e.field.clone(), e.code.clone(), e.message.clone()))
        .collect();
    let v = ryoritsu_fhir::operation_outcome(
        f.operation_id.as_deref(),
        issue_type(f.status),
        &f.code,
        &f.message,
        &fields,
    );
    let mut r = fhir_json(f.status, &v);
    if let Some(s) = f.retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r.extensions_mut().insert(FailureInfo {
        code: f.code,
        message: f.message,
        denied: f.denied,
    });
    r
}

/// Turns an error answer made before a FHIR handler ran (no session, CSRF, unknown path)
/// into an `OperationOutcome` with the same status, code and message.
pub fn as_operation_outcome(resp: Response) -> Response {
    let status = resp.status();
    let is_fhir = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/fhir+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_fhir {
        return resp;
    }
    let Some(info) = resp.extensions().get::<FailureInfo>().cloned() else {
        return resp;
    };
    let retry = resp.headers().get(header::RETRY_AFTER).cloned();
    let allow = resp.headers().get(header::ALLOW).cloned();
    let mut f = Failure::new(status, &info.code, info.message);
    f.denied = info.denied;
    let mut r = outcome(f);
    if let Some(v) = retry {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if let Some(v) = allow {
        r.headers_mut().insert(header::ALLOW, v);
    }
    r
}
