//! Checking the audit chain.

use ryoritsu_domain::audit::{BreakKind, ChainBreak, ChainHead, ChainVerifier, matches_head_at};

use crate::error::AppError;
use crate::ports::{ReadRepo, Store};
use crate::{App, RequestContext};

/// Records read per round trip while verifying.
const BATCH: u32 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The head recomputed from the records.
    pub head: ChainHead,
    pub records: i64,
}

impl<S: Store> App<S> {
    /// Walks the whole chain in one snapshot. `expected` is a head kept outside the server;
    /// without one, the head stored beside the log is the reference.
    pub async fn verify_audit(
        &self,
        expected: Option<ChainHead>,
    ) -> Result<Result<VerifyReport, ChainBreak>, AppError> {
        verify_chain(&mut self.store.snapshot().await?, expected).await
    }

    pub async fn audit_head(&self) -> Result<ChainHead, AppError> {
        Ok(self.store.snapshot().await?.audit_head().await?)
    }
}

pub async fn verify_chain<R: ReadRepo>(
    conn: &mut R,
    expected: Option<ChainHead>,
) -> Result<Result<VerifyReport, ChainBreak>, AppError> {
    let stored = conn.audit_head().await?;
    let mut v = ChainVerifier::default();
    let mut after = 0;
    let mut n = 0_i64;
    loop {
        let rows = conn.audit_records(after, BATCH).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for r in &rows {
            if let Err(b) = v.feed(r) {
                return Ok(Err(b));
            }
            if let Some(e) = &expected
                && !matches_head_at(r, e)
            {
                return Ok(Err(ChainBreak {
                    seq: r.seq,
                    kind: BreakKind::HeadMismatch,
                }));
            }
            n += 1;
        }
    }
    let head = match v.finish(expected.as_ref()) {
        Ok(h) => h,
        Err(b) => return Ok(Err(b)),
    };
    // The head written at each append must agree with the records: a record deleted from
    // the end, or one added after it, shows here even without an outside copy.
    if stored.seq > head.seq {
        return Ok(Err(ChainBreak {
            seq: head.seq + 1,
            kind: BreakKind::Truncated,
        }));
    }
    if stored.seq < head.seq {
        return Ok(Err(ChainBreak {
            seq: stored.seq + 1,
            kind: BreakKind::Unexpected,
        }));
    }
    if stored.hash != head.hash {
        return Ok(Err(ChainBreak {
            seq: head.seq,
            kind: BreakKind::HeadMismatch,
        }));
    }
    Ok(Ok(VerifyReport { head, records: n }))
}

impl<S: Store> App<S> {
    /// Records that a list left the system as a file (a CSV of cases: names of people in
    /// support), before the file is handed over; `what` names the list, `rows` its size.
    pub async fn record_export(
        &self,
        ctx: &RequestContext,
        auth: &crate::accounts::Authenticated,
        what: &str,
        rows: usize,
    ) -> Result<(), AppError> {
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            None,
            ryoritsu_domain::audit::AuditAction::Exported,
            ryoritsu_domain::audit::Outcome::Success,
        );
        ev.target = Some(what.to_owned());
        ev.purpose = Some(format!("rows:{rows}"));
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    crate::ports::WriteRepo::append_audit(tx, &ev).await?;
                    Ok(())
                })
            })
            .await
    }
}
