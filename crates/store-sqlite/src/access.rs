//! The SQL of the access index (migration 0012): the rows of `policy::case_grants` per case,
//! and the indexed questions asked of them. Every statement reads one range of an index:
//! a principal's cases by one subject key (newest first, a page at a time), the rows of
//! given cases, or an employer's rows of one role when its 取扱規程 changes.

use crate::db::Row;
use crate::db::{self, Conn};
use ryoritsu_app::access::ports::{CaseCursor, GrantedCase, ScopeRange};
use ryoritsu_app::cases::ports::TaskRecord;
use ryoritsu_app::error::StoreResult;
use ryoritsu_domain::org::Role;
use ryoritsu_domain::policy::{
    CaseGrant, CaseRelation, GrantScope, GrantSource, RulesDelta, Subject,
};
use ryoritsu_domain::time_format::unix_micros;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, corrupt, get, ots, ts};

/// The upper bound of a page: before the cursor, and before `opened_until`.
fn upper_bound(range: &ScopeRange<'_>) -> (i64, Uuid) {
    let cursor = range.after.map_or((i64::MAX, Uuid::max()), |c| {
        (unix_micros(c.opened_at), c.case)
    });
    match range.opened_until {
        Some(until) => cursor.min((unix_micros(until), Uuid::nil())),
        None => cursor,
    }
}

pub async fn cases_in_scope(c: &mut Conn, range: &ScopeRange<'_>) -> StoreResult<Vec<CaseCursor>> {
    let (before_at, before_id) = upper_bound(range);
    let from = range.opened_from.map_or(i64::MIN, unix_micros);
    let rows = match range.status {
        None => db::query(
            "SELECT case_id, opened_at FROM case_grants \
             WHERE subject = $1 AND scope = 'case' AND opened_at >= $2 \
             AND (opened_at, case_id) < ($3, $4) \
             ORDER BY opened_at DESC, case_id DESC LIMIT $5",
        )
        .bind(range.key)
        .bind(from)
        .bind(before_at)
        .bind(before_id)
        .bind(i64::from(range.limit))
        .fetch_all(c)
        .await
        .map_err(map_err)?,
        Some(status) => db::query(
            "SELECT case_id, opened_at FROM case_grants \
             WHERE subject = $1 AND scope = 'case' AND status = $2 AND opened_at >= $3 \
             AND (opened_at, case_id) < ($4, $5) \
             ORDER BY opened_at DESC, case_id DESC LIMIT $6",
        )
        .bind(range.key)
        .bind(status.code())
        .bind(from)
        .bind(before_at)
        .bind(before_id)
        .bind(i64::from(range.limit))
        .fetch_all(c)
        .await
        .map_err(map_err)?,
    };
    rows.iter()
        .map(|r| {
            Ok(CaseCursor {
                case: get(r, "case_id")?,
                opened_at: ts(r, "opened_at")?,
            })
        })
        .collect()
}

fn json_list<T: ToString>(items: &[T]) -> String {
    serde_json::Value::from(items.iter().map(T::to_string).collect::<Vec<_>>()).to_string()
}

pub async fn cases_granting(
    c: &mut Conn,
    cases: &[Uuid],
    keys: &[String],
    scope: &str,
    now: OffsetDateTime,
) -> StoreResult<Vec<Uuid>> {
    if cases.is_empty() || keys.is_empty() {
        return Ok(Vec::new());
    }
    // The case ids arrive as text and are compared as blobs: `unhex` of the id without dashes.
    let rows = db::query(
        "SELECT DISTINCT case_id FROM case_grants \
         WHERE case_id IN (SELECT unhex(replace(value, '-', '')) FROM json_each($1)) \
         AND subject IN (SELECT value FROM json_each($2)) AND scope = $3 \
         AND (valid_from IS NULL OR valid_from <= $4) \
         AND (valid_until IS NULL OR $4 < valid_until)",
    )
    .bind(json_list(cases))
    .bind(json_list(keys))
    .bind(scope)
    .bind(unix_micros(now))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(|r| get(r, "case_id")).collect()
}

fn grant(r: &Row) -> StoreResult<CaseGrant> {
    let subject =
        Subject::from_key(&get::<String>(r, "subject")?).ok_or_else(|| corrupt("subject"))?;
    let role: Role = code(r, "role", Role::from_code)?;
    let relation = CaseRelation::from_parts(
        &get::<String>(r, "relation")?,
        get::<Option<Uuid>>(r, "relation_org")?,
        role,
    )
    .ok_or_else(|| corrupt("relation"))?;
    Ok(CaseGrant {
        case: get(r, "case_id")?,
        subject,
        relation,
        scope: code(r, "scope", GrantScope::from_code)?,
        source: GrantSource::from_code(&get::<String>(r, "source")?)
            .ok_or_else(|| corrupt("source"))?,
        valid_from: ots(r, "valid_from")?,
        valid_until: ots(r, "valid_until")?,
    })
}

pub async fn case_grants(c: &mut Conn, case: Uuid) -> StoreResult<Vec<CaseGrant>> {
    let rows = db::query("SELECT * FROM case_grants WHERE case_id = $1")
        .bind(case)
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    let mut out = rows.iter().map(grant).collect::<StoreResult<Vec<_>>>()?;
    out.sort();
    Ok(out)
}

pub async fn open_tasks_in_scope(
    c: &mut Conn,
    organisation: Uuid,
    role: Role,
    keys: &[String],
    limit: u32,
) -> StoreResult<Vec<TaskRecord>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db::query(
        "SELECT t.* FROM tasks t \
         WHERE t.assignee_organisation = $1 AND t.assignee_role = $2 AND t.closed_at IS NULL \
         AND EXISTS (SELECT 1 FROM case_grants g WHERE g.case_id = t.case_id \
         AND g.subject IN (SELECT value FROM json_each($3)) AND g.scope = 'case') \
         ORDER BY t.due, t.id LIMIT $4",
    )
    .bind(organisation)
    .bind(role.code())
    .bind(json_list(keys))
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(crate::cases::task).collect()
}

pub async fn cases_with_consents_naming(
    c: &mut Conn,
    organisation: Uuid,
    role: Role,
) -> StoreResult<Vec<Uuid>> {
    let rows = db::query(
        "SELECT DISTINCT case_id FROM consents \
         WHERE recipient_organisation = $1 AND recipient_role = $2 ORDER BY case_id",
    )
    .bind(organisation)
    .bind(role.code())
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(|r| get(r, "case_id")).collect()
}

/// Rows per INSERT: twelve values each, well inside SQLite's limit of bound parameters.
const ROWS_PER_INSERT: usize = 500;

/// Reads the rows held and writes only the difference (a read costs no round trip here, and
/// rows left alone keep their index pages untouched).
pub async fn set_case_grants(
    c: &mut Conn,
    case: &GrantedCase,
    wanted: &[CaseGrant],
) -> StoreResult<()> {
    let held = case_grants(&mut *c, case.id).await?;
    let (remove, rows) = ryoritsu_app::access::grants_diff(held, wanted);
    for g in &remove {
        db::query(
            "DELETE FROM case_grants WHERE case_id = $1 AND subject = $2 AND scope = $3 \
             AND source = $4 AND relation = $5",
        )
        .bind(case.id)
        .bind(g.subject.key())
        .bind(g.scope.code())
        .bind(g.source.code())
        .bind(g.relation.kind())
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    }
    // The rows kept follow the case's status (written with the rows, and by
    // `set_grants_status` when a step changes it).
    db::query("UPDATE case_grants SET status = $1 WHERE case_id = $2 AND status <> $1")
        .bind(case.status.code())
        .bind(case.id)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut q = db::insert_rows(
            "INSERT INTO case_grants (case_id, employer_id, subject, relation, relation_org, \
             role, scope, source, valid_from, valid_until, opened_at, status)",
            chunk.len(),
            12,
        );
        for g in chunk {
            q = q
                .bind(case.id)
                .bind(case.employer)
                .bind(g.subject.key())
                .bind(g.relation.kind())
                .bind(g.relation.organisation())
                .bind(g.relation.role().code())
                .bind(g.scope.code())
                .bind(g.source.code())
                .bind(g.valid_from.map(unix_micros))
                .bind(g.valid_until.map(unix_micros))
                .bind(unix_micros(case.opened_at))
                .bind(case.status.code());
        }
        q.execute(&mut *c).await.map_err(map_err)?;
    }
    Ok(())
}

pub async fn set_grants_status(
    c: &mut Conn,
    case: Uuid,
    status: ryoritsu_domain::case::CaseStatus,
) -> StoreResult<()> {
    db::query("UPDATE case_grants SET status = $1 WHERE case_id = $2")
        .bind(status.code())
        .bind(case)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn apply_rules_delta(c: &mut Conn, employer: Uuid, delta: RulesDelta) -> StoreResult<()> {
    let q = match delta {
        RulesDelta::AddRule { role, category } => db::query(
            "INSERT OR IGNORE INTO case_grants (case_id, employer_id, subject, relation, \
             relation_org, role, scope, source, valid_from, valid_until, opened_at, status) \
             SELECT case_id, employer_id, subject, relation, relation_org, role, $3, 'rule', \
             NULL, NULL, opened_at, status FROM case_grants \
             WHERE employer_id = $1 AND role = $2 AND scope = 'case' AND source = 'relation' \
             AND relation = 'employer'",
        )
        .bind(employer)
        .bind(role.code())
        .bind(category.code()),
        RulesDelta::RemoveRule { role, category } => db::query(
            "DELETE FROM case_grants WHERE employer_id = $1 AND role = $2 AND scope = $3 \
             AND source = 'rule' AND relation = 'employer'",
        )
        .bind(employer)
        .bind(role.code())
        .bind(category.code()),
        RulesDelta::RemoveConsents { role, category } => db::query(
            "DELETE FROM case_grants WHERE employer_id = $1 AND role = $2 AND scope = $3 \
             AND source >= 'consent:' AND source < 'consent;' AND relation = 'employer'",
        )
        .bind(employer)
        .bind(role.code())
        .bind(category.code()),
        RulesDelta::RebuildConsents { .. } => return Ok(()),
    };
    q.execute(c).await.map_err(map_err)?;
    Ok(())
}

pub async fn clear_grants(c: &mut Conn) -> StoreResult<()> {
    db::query("/* full scan: maintenance */ DELETE FROM case_grants")
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

macro_rules! impl_access_reads {
    ($t:ty) => {
        impl ryoritsu_app::access::ports::AccessReads for $t {
            async fn cases_in_scope(
                &mut self,
                range: &ryoritsu_app::access::ports::ScopeRange<'_>,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::access::ports::CaseCursor>> {
                $crate::access::cases_in_scope($crate::rows::AsConn::conn(self), range).await
            }
            async fn cases_granting(
                &mut self,
                cases: &[uuid::Uuid],
                keys: &[String],
                scope: &str,
                now: time::OffsetDateTime,
            ) -> ryoritsu_app::StoreResult<Vec<uuid::Uuid>> {
                $crate::access::cases_granting(
                    $crate::rows::AsConn::conn(self),
                    cases,
                    keys,
                    scope,
                    now,
                )
                .await
            }
            async fn case_grants(
                &mut self,
                case: uuid::Uuid,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_domain::policy::CaseGrant>> {
                $crate::access::case_grants($crate::rows::AsConn::conn(self), case).await
            }
            async fn open_tasks_in_scope(
                &mut self,
                organisation: uuid::Uuid,
                role: ryoritsu_domain::org::Role,
                keys: &[String],
                limit: u32,
            ) -> ryoritsu_app::StoreResult<Vec<ryoritsu_app::cases::ports::TaskRecord>> {
                $crate::access::open_tasks_in_scope(
                    $crate::rows::AsConn::conn(self),
                    organisation,
                    role,
                    keys,
                    limit,
                )
                .await
            }
            async fn cases_with_consents_naming(
                &mut self,
                organisation: uuid::Uuid,
                role: ryoritsu_domain::org::Role,
            ) -> ryoritsu_app::StoreResult<Vec<uuid::Uuid>> {
                $crate::access::cases_with_consents_naming(
                    $crate::rows::AsConn::conn(self),
                    organisation,
                    role,
                )
                .await
            }
        }
    };
}
pub(crate) use impl_access_reads;

macro_rules! impl_access_writes {
    ($t:ty) => {
        impl ryoritsu_app::access::ports::AccessWrites for $t {
            async fn set_case_grants(
                &mut self,
                case: &ryoritsu_app::access::ports::GrantedCase,
                wanted: &[ryoritsu_domain::policy::CaseGrant],
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::access::set_case_grants($crate::rows::AsConn::conn(self), case, wanted)
                    .await
            }
            async fn set_grants_status(
                &mut self,
                case: uuid::Uuid,
                status: ryoritsu_domain::case::CaseStatus,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::access::set_grants_status($crate::rows::AsConn::conn(self), case, status)
                    .await
            }
            async fn apply_rules_delta(
                &mut self,
                employer: uuid::Uuid,
                delta: ryoritsu_domain::policy::RulesDelta,
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::access::apply_rules_delta($crate::rows::AsConn::conn(self), employer, delta)
                    .await
            }
            async fn clear_grants(&mut self) -> ryoritsu_app::StoreResult<()> {
                $crate::access::clear_grants($crate::rows::AsConn::conn(self)).await
            }
        }
    };
}
pub(crate) use impl_access_writes;
