//! `Idempotency-Key`: a retried POST returns the first answer and never writes twice.
//!
//! The stored answer is written in the same transaction as the effect it describes, so
//! either both exist or neither does. The key is scoped to the caller, and a key reused
//! with a different request body is refused.

use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::ports::{IdempotencyRecord, ReadRepo, Store, WriteRepo};
use crate::{App, TxFuture};

/// How long a stored answer is kept for replay. Answers may hold one-time values (an
/// invitation link), so they are not kept longer than a client's retries need.
pub const RETENTION: time::Duration = time::Duration::hours(24);

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    /// True when this is a replay of an earlier answer.
    pub replayed: bool,
}

/// Keys are opaque to us but bounded: 1–255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// What identifies "the same request": method, path and body.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

impl<S: Store> App<S> {
    /// The stored answer for this key, if any, checked before a use case is even planned:
    /// a retry after success must replay, not fail on state the first call changed.
    pub async fn replay(
        &self,
        scope: &str,
        key: Option<&str>,
        fingerprint: &str,
    ) -> Result<Option<StoredResponse>, AppError> {
        let Some(key) = key else { return Ok(None) };
        match self.store.read().await?.get_idempotency(scope, key).await? {
            Some(r) => replay(r, fingerprint).map(Some),
            None => Ok(None),
        }
    }

    /// Runs `f` once per (scope, key). `f` returns the status and JSON body to answer with.
    pub async fn idempotent<F>(
        &self,
        scope: String,
        key: Option<String>,
        fingerprint: String,
        f: F,
    ) -> Result<StoredResponse, AppError>
    where
        F: for<'a> FnOnce(&'a mut S::Tx) -> TxFuture<'a, (u16, String)> + Send + 'static,
    {
        let Some(key) = key else {
            let (status, body) = self.writer.write(f).await?;
            return Ok(StoredResponse {
                status,
                body,
                replayed: false,
            });
        };
        // Fast path: a replay needs no write.
        if let Some(r) = self
            .store
            .read()
            .await?
            .get_idempotency(&scope, &key)
            .await?
        {
            return replay(r, &fingerprint);
        }
        let now = self.now();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    // Checked again inside the transaction: two retries may race here.
                    if let Some(r) = tx.get_idempotency(&scope, &key).await? {
                        return replay(r, &fingerprint);
                    }
                    let (status, body) = f(tx).await?;
                    tx.insert_idempotency(&IdempotencyRecord {
                        scope,
                        key,
                        fingerprint,
                        status,
                        body: body.clone(),
                        created_at: now,
                    })
                    .await?;
                    Ok(StoredResponse {
                        status,
                        body,
                        replayed: false,
                    })
                })
            })
            .await
    }
}

fn replay(r: IdempotencyRecord, fingerprint: &str) -> Result<StoredResponse, AppError> {
    if r.fingerprint != fingerprint {
        return Err(AppError::IdempotencyMismatch);
    }
    Ok(StoredResponse {
        status: r.status,
        body: r.body,
        replayed: true,
    })
}
