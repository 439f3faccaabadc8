//! What every JSON API handler shares: JSON answers, versions as `ETag` and `If-Match`, and
//! `Idempotency-Key`: POSTs that create something honour it, so a retry with the same key
//! gets the first answer and writes nothing more.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ryoritsu_app::ports::Store;
use ryoritsu_app::{AppError, Planned};
use serde::Serialize;

use crate::AppState;
use crate::http::failure::Failure;

const IDEMPOTENCY_KEY: &str = "idempotency-key";

pub(crate) fn json<T: Serialize>(status: StatusCode, v: &T) -> Response {
    (status, axum::Json(v)).into_response()
}

/// The version named by `If-Match` (`"3"` or `W/"3"`); 428 without one.
pub fn if_match(headers: &HeaderMap) -> Result<i64, Failure> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Err(Failure::from(AppError::PreconditionRequired));
    };
    v.to_str()
        .ok()
        .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| {
            Failure::bad_request(
                "invalid_if_match",
                "If-Match には、取得したときの ETag（例: \"3\"）を指定してください。",
            )
        })
}

/// The answer with its version as the `ETag`.
pub(crate) fn with_etag(mut r: Response, version: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Failure> {
    match headers.get(IDEMPOTENCY_KEY) {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(k) if ryoritsu_app::idempotency::valid_key(k) => Ok(Some(k.to_owned())),
            _ => Err(Failure::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key は1〜255文字の英数字・記号で指定してください。",
            )),
        },
    }
}

/// The idempotency frame of one POST: the caller's scope, the key, and the fingerprint of
/// the exact request.
struct Idem {
    scope: String,
    key: Option<String>,
    fingerprint: String,
}

impl Idem {
    fn new(scope: String, headers: &HeaderMap, path: &str, body: &[u8]) -> Result<Idem, Failure> {
        Ok(Idem {
            scope,
            key: idempotency_key(headers)?,
            fingerprint: ryoritsu_app::idempotency::fingerprint("POST", path, body),
        })
    }

    /// A retry of a request already answered gets that answer before anything is planned
    /// (planning would fail on what the first request changed, e.g. a used invitation).
    async fn replayed<S: Store>(&self, st: &AppState<S>) -> Option<Response> {
        match st
            .app
            .replay(&self.scope, self.key.as_deref(), &self.fingerprint)
            .await
        {
            Ok(Some(r)) => Some(stored(r)),
            Ok(None) => None,
            Err(e) => Some(Failure::from(e).into_response()),
        }
    }

    async fn commit<S: Store, T>(
        self,
        st: &AppState<S>,
        planned: Planned<S, T>,
        render: impl FnOnce(&T) -> (u16, String),
    ) -> Response {
        match st
            .app
            .commit_idempotent(self.scope, self.key, self.fingerprint, planned, render)
            .await
        {
            Ok(r) => stored(r),
            Err(e) => Failure::from(e).into_response(),
        }
    }
}

/// An idempotent POST: a retry gets the stored answer before anything is parsed or
/// planned; otherwise `plan` prepares the use case, and its answer is stored with it.
pub(crate) async fn post_once<S: Store, T, Fut>(
    st: &AppState<S>,
    scope: String,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    plan: impl FnOnce() -> Fut,
    render: impl FnOnce(&T) -> (u16, String),
) -> Response
where
    Fut: std::future::Future<Output = Result<Planned<S, T>, Failure>>,
{
    let idem = match Idem::new(scope, headers, path, body) {
        Ok(i) => i,
        Err(f) => return f.into_response(),
    };
    if let Some(r) = idem.replayed(st).await {
        return r;
    }
    match plan().await {
        Ok(p) => idem.commit(st, p, render).await,
        Err(f) => f.into_response(),
    }
}

fn stored(r: ryoritsu_app::idempotency::StoredResponse) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    let mut resp = (status, r.body).into_response();
    if status != StatusCode::NO_CONTENT {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if r.replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

pub(crate) fn body_json<T: Serialize>(status: u16, v: &T) -> (u16, String) {
    (
        status,
        serde_json::to_string(v).unwrap_or_else(|_| "{}".into()),
    )
}

/// JSON bodies for idempotent POSTs are read raw (the fingerprint covers the exact bytes)
/// and parsed here with the same messages as [`ApiJson`](crate::http::extract::ApiJson).
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "送信された内容の項目が足りないか、形式が正しくありません。",
            )
        } else {
            Failure::bad_request(
                "malformed_body",
                "送信された内容を読み取れませんでした。形式を確認してください。",
            )
        }
    })
}
