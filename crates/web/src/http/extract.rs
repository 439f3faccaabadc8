//! Extractors that turn every malformed request into a Japanese message with a stable
//! code, instead of the framework's English plain-text rejections.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::http::failure::Failure;

fn too_large() -> Failure {
    Failure::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "送信された内容が大きすぎます。",
    )
}

fn body_failure(status: StatusCode, detail: &str) -> Failure {
    if status == StatusCode::PAYLOAD_TOO_LARGE || detail.contains("length limit") {
        return too_large();
    }
    match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Failure::new(
            status,
            "unsupported_media_type",
            "送信された内容の形式に対応していません。Content-Type を確認してください。",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "送信された内容の項目が足りないか、形式が正しくありません。",
        ),
        _ => Failure::bad_request(
            "malformed_body",
            "送信された内容を読み取れませんでした。形式を確認してください。",
        ),
    }
}

/// JSON body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => {
                let r: JsonRejection = e;
                Err(body_failure(r.status(), &r.body_text()))
            }
        }
    }
}

/// URL-encoded form body.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(e) => {
                let r: FormRejection = e;
                Err(body_failure(r.status(), &r.body_text()))
            }
        }
    }
}

/// Path parameters; one that does not parse names nothing that exists.
pub struct PathParam<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParam<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(PathParam(v)),
            Err(e) => {
                let _: PathRejection = e;
                Err(Failure::not_found())
            }
        }
    }
}

/// Query string.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(QueryParams(v)),
            Err(e) => {
                let _: QueryRejection = e;
                Err(Failure::bad_request(
                    "invalid_query",
                    "URLの検索条件が正しくありません。",
                ))
            }
        }
    }
}
