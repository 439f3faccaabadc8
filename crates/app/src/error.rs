//! Errors of the use cases: each variant is something a caller can act on, with a stable
//! code and a Japanese message.

use ryoritsu_domain::ValidationErrors;
use ryoritsu_domain::policy::Denial;
use time::OffsetDateTime;

/// What a storage adapter reports, mapped at its boundary (the use cases never see sqlx).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or foreign-key constraint refused the write; names the constraint.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database is unreachable, busy past its timeout, or out of space.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("schema: {0}")]
    Schema(String),
    #[error("storage error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("denied: {0:?}")]
    Denied(Denial),
    /// Sign-in failed; deliberately says nothing about which part was wrong.
    #[error("authentication failed")]
    AuthenticationFailed,
    #[error("throttled until {0}")]
    Throttled(OffsetDateTime),
    #[error("not signed in")]
    Unauthenticated,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The `If-Match` version is not the current one.
    #[error("stale version")]
    PreconditionFailed,
    /// An update came without `If-Match`.
    #[error("If-Match required")]
    PreconditionRequired,
    /// The same `Idempotency-Key` was sent with a different request.
    #[error("idempotency key reused")]
    IdempotencyMismatch,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<Denial> for AppError {
    fn from(d: Denial) -> Self {
        AppError::Denied(d)
    }
}

impl AppError {
    /// Stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "validation_failed",
            AppError::Denied(d) => d.code(),
            AppError::AuthenticationFailed => "authentication_failed",
            AppError::Throttled(_) => "too_many_attempts",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Conflict(c) => c,
            AppError::PreconditionFailed => "precondition_failed",
            AppError::PreconditionRequired => "precondition_required",
            AppError::IdempotencyMismatch => "idempotency_key_reused",
            AppError::NotFound => "not_found",
            AppError::Store(StoreError::Unavailable(_)) => "service_unavailable",
            AppError::Store(StoreError::NotFound) => "not_found",
            AppError::Store(StoreError::Conflict(_)) => "conflict",
            AppError::Store(_) | AppError::Internal(_) => "internal_error",
        }
    }

    /// Japanese message for people.
    pub fn message(&self) -> String {
        match self {
            AppError::Invalid(v) => match v.errors.as_slice() {
                [one] => one.message.clone(),
                _ => "入力内容に誤りがあります。各項目のメッセージを確認してください。".into(),
            },
            AppError::Denied(d) => d.message().into(),
            AppError::AuthenticationFailed => {
                "ログインIDまたはパスワード（確認コード）が正しくありません。".into()
            }
            AppError::Throttled(_) => {
                "試行回数が多すぎます。しばらく時間をおいてからもう一度お試しください。".into()
            }
            AppError::Unauthenticated => "ログインしてください。".into(),
            AppError::Conflict(code) => conflict_message(code).into(),
            AppError::PreconditionFailed => {
                "ほかの人が先に更新しました。最新の内容を読み込んでからもう一度お試しください。"
                    .into()
            }
            AppError::PreconditionRequired => {
                "更新するには、最後に取得した版（ETag）を If-Match ヘッダーで指定してください。"
                    .into()
            }
            AppError::IdempotencyMismatch => {
                "同じIdempotency-Keyで異なる内容のリクエストが送られました。新しいキーを使ってください。"
                    .into()
            }
            AppError::NotFound | AppError::Store(StoreError::NotFound) => {
                "お探しのページまたはデータは見つかりませんでした。".into()
            }
            AppError::Store(StoreError::Unavailable(_)) => {
                "ただいま混み合っているか、保守中です。しばらくしてからもう一度お試しください。"
                    .into()
            }
            AppError::Store(StoreError::Conflict(_)) => {
                "同じ内容がすでに登録されています。".into()
            }
            AppError::Store(_) | AppError::Internal(_) => {
                "システムで問題が発生しました。お手数ですが、表示されている操作IDを添えて管理者にお問い合わせください。"
                    .into()
            }
        }
    }
}

fn conflict_message(code: &str) -> &'static str {
    match code {
        "login_taken" => "このログインIDはすでに使われています。別のログインIDを指定してください。",
        "invitation_used" => "この招待リンクはすでに使われているか、有効期限が切れています。",
        "already_member" => "この方はすでにこの組織に同じ役割で所属しています。",
        "not_empty" => "復元先のデータベースが空ではありません。",
        "totp_not_pending" => "二要素認証の設定を最初からやり直してください。",
        "last_admin" => "組織管理者が一人もいなくなるため、この操作はできません。",
        "document_finalised" => {
            "この書類は確定済みのため変更できません。訂正する場合は新しい版を作成してください。"
        }
        "document_form" => "書類の様式が一致しません。",
        "consent_withdrawn" => "この同意はすでに撤回されています。",
        "already_party" => "すでにこの事例に加わっています。",
        "share_code_used" => "この共有コードはすでに使われています。",
        _ => "この操作は現在の状態では行えません。",
    }
}
