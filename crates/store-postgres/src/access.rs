//! The SQL of the access index (migration 0012): the rows of `policy::case_grants` per case,
//! and the indexed questions asked of them. Every statement reads one range of an index:
//! a principal's cases by one subject key (newest first, a page at a time), the rows of
//! given cases, or an employer's rows of one role when its 取扱規程 changes.

use ryoritsu_app::access::ports::{CaseCursor, GrantedCase, ScopeRange};
use ryoritsu_app::cases::ports::TaskRecord;
use ryoritsu_app::error::StoreResult;
use ryoritsu_domain::org::Role;
use ryoritsu_domain::policy::{
    CaseGrant, CaseRelation, GrantScope, GrantSource, RulesDelta, Subject,
};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::map_err;
use crate::rows::{code, corrupt, get, ots, ts};

/// The upper bound of a page: before the cursor, and before `opened_until`.
fn upper_bound(range: &ScopeRange<'_>) -> (OffsetDateTime, Uuid) {
    let cursor = range
        .after
        .map_or((FAR_FUTURE, Uuid::max()), |c| (c.opened_at, c.case));
    match range.opened_until {
        Some(until) => cursor.min((until, Uuid::nil())),
        None => cursor,
    }
}

/// Bounds for "no bound" that every stored time lies within.
const FAR_PAST: OffsetDateTime = time::macros::datetime!(1900-01-01 0:00 UTC);
const FAR_FUTURE: OffsetDateTime = time::macros::datetime!(9999-12-31 0:00 UTC);

pub async fn cases_in_scope(
    c: &mut PgConnection,
    range: &ScopeRange<'_>,
) -> StoreResult<Vec<CaseCursor>> {
    let (before_at, before_id) = upper_bound(range);
    let from = range.opened_from.unwrap_or(FAR_PAST);
    let rows = match range.status {
        None => sqlx::query(
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
        Some(status) => sqlx::query(
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

pub async fn cases_granting(
    c: &mut PgConnection,
    cases: &[Uuid],
    keys: &[String],
    scope: &str,
    now: OffsetDateTime,
) -> StoreResult<Vec<Uuid>> {
    if cases.is_empty() || keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT DISTINCT case_id FROM case_grants \
         WHERE case_id = ANY($1) AND subject = ANY($2) AND scope = $3 \
         AND (valid_from IS NULL OR valid_from <= $4) \
         AND (valid_until IS NULL OR $4 < valid_until)",
    )
    .bind(cases)
    .bind(keys)
    .bind(scope)
    .bind(now)
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(|r| get(r, "case_id")).collect()
}

fn grant(r: &PgRow) -> StoreResult<CaseGrant> {
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

pub async fn case_grants(c: &mut PgConnection, case: Uuid) -> StoreResult<Vec<CaseGrant>> {
    let rows = sqlx::query("SELECT * FROM case_grants WHERE case_id = $1")
        .bind(case)
        .fetch_all(c)
        .await
        .map_err(map_err)?;
    let mut out = rows.iter().map(grant).collect::<StoreResult<Vec<_>>>()?;
    out.sort();
    Ok(out)
}

pub async fn open_tasks_in_scope(
    c: &mut PgConnection,
    organisation: Uuid,
    role: Role,
    keys: &[String],
    limit: u32,
) -> StoreResult<Vec<TaskRecord>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT t.* FROM tasks t \
         WHERE t.assignee_organisation = $1 AND t.assignee_role = $2 AND t.closed_at IS NULL \
         AND EXISTS (SELECT 1 FROM case_grants g WHERE g.case_id = t.case_id \
         AND g.subject = ANY($3) AND g.scope = 'case') \
         ORDER BY t.due, t.id LIMIT $4",
    )
    .bind(organisation)
    .bind(role.code())
    .bind(keys)
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    .map_err(map_err)?;
    rows.iter().map(crate::cases::task).collect()
}

pub async fn cases_with_consents_naming(
    c: &mut PgConnection,
    organisation: Uuid,
    role: Role,
) -> StoreResult<Vec<Uuid>> {
    let rows = sqlx::query(
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

/// Brings the case's rows to `wanted` in one statement (each statement is a round trip
/// inside the one writer): rows whose key is no longer wanted are deleted, wanted rows are
/// inserted, and a held row whose other columns changed is updated in place. The deleted
/// and the upserted rows have different keys, so no row is touched twice by the statement;
/// a row left as it was is not rewritten.
pub async fn set_case_grants(
    c: &mut PgConnection,
    case: &GrantedCase,
    wanted: &[CaseGrant],
) -> StoreResult<()> {
    let mut subject = Vec::with_capacity(wanted.len());
    let mut relation = Vec::with_capacity(wanted.len());
    let mut relation_org = Vec::with_capacity(wanted.len());
    let mut role = Vec::with_capacity(wanted.len());
    let mut scope = Vec::with_capacity(wanted.len());
    let mut source = Vec::with_capacity(wanted.len());
    let mut valid_from = Vec::with_capacity(wanted.len());
    let mut valid_until = Vec::with_capacity(wanted.len());
    for g in wanted {
        subject.push(g.subject.key());
        relation.push(g.relation.kind());
        relation_org.push(g.relation.organisation());
        role.push(g.relation.role().code());
        scope.push(g.scope.code());
        source.push(g.source.code());
        valid_from.push(g.valid_from);
        valid_until.push(g.valid_until);
    }
    sqlx::query(
        "WITH want AS ( \
           SELECT * FROM unnest($3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[], \
             $8::text[], $9::timestamptz[], $10::timestamptz[]) \
             AS w (subject, relation, relation_org, role, scope, source, valid_from, valid_until) \
         ), gone AS ( \
           DELETE FROM case_grants g WHERE g.case_id = $1 AND NOT EXISTS ( \
             SELECT 1 FROM want w WHERE w.subject = g.subject AND w.scope = g.scope \
             AND w.source = g.source AND w.relation = g.relation) \
         ) \
         INSERT INTO case_grants AS g (case_id, employer_id, subject, relation, relation_org, \
           role, scope, source, valid_from, valid_until, opened_at, status) \
         SELECT $1, $2, w.subject, w.relation, w.relation_org, w.role, w.scope, w.source, \
           w.valid_from, w.valid_until, $11, $12 FROM want w \
         ON CONFLICT (case_id, subject, scope, source, relation) DO UPDATE SET \
           employer_id = EXCLUDED.employer_id, relation_org = EXCLUDED.relation_org, \
           role = EXCLUDED.role, valid_from = EXCLUDED.valid_from, \
           valid_until = EXCLUDED.valid_until, opened_at = EXCLUDED.opened_at, \
           status = EXCLUDED.status \
         WHERE (g.employer_id, g.relation_org, g.role, g.valid_from, g.valid_until, \
           g.opened_at, g.status) IS DISTINCT FROM (EXCLUDED.employer_id, \
           EXCLUDED.relation_org, EXCLUDED.role, EXCLUDED.valid_from, EXCLUDED.valid_until, \
           EXCLUDED.opened_at, EXCLUDED.status)",
    )
    .bind(case.id)
    .bind(case.employer)
    .bind(&subject)
    .bind(&relation)
    .bind(&relation_org)
    .bind(&role)
    .bind(&scope)
    .bind(&source)
    .bind(&valid_from)
    .bind(&valid_until)
    .bind(case.opened_at)
    .bind(case.status.code())
    .execute(&mut *c)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn set_grants_status(
    c: &mut PgConnection,
    case: Uuid,
    status: ryoritsu_domain::case::CaseStatus,
) -> StoreResult<()> {
    sqlx::query("UPDATE case_grants SET status = $1 WHERE case_id = $2")
        .bind(status.code())
        .bind(case)
        .execute(c)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub async fn apply_rules_delta(
    c: &mut PgConnection,
    employer: Uuid,
    delta: RulesDelta,
) -> StoreResult<()> {
    let q = match delta {
        RulesDelta::AddRule { role, category } => sqlx::query(
            "INSERT INTO case_grants (case_id, employer_id, subject, relation, \
             relation_org, role, scope, source, valid_from, valid_until, opened_at, status) \
             SELECT case_id, employer_id, subject, relation, relation_org, role, $3, 'rule', \
             NULL, NULL, opened_at, status FROM case_grants \
             WHERE employer_id = $1 AND role = $2 AND scope = 'case' AND source = 'relation' \
             AND relation = 'employer' ON CONFLICT DO NOTHING",
        )
        .bind(employer)
        .bind(role.code())
        .bind(category.code()),
        RulesDelta::RemoveRule { role, category } => sqlx::query(
            "DELETE FROM case_grants WHERE employer_id = $1 AND role = $2 AND scope = $3 \
             AND source = 'rule' AND relation = 'employer'",
        )
        .bind(employer)
        .bind(role.code())
        .bind(category.code()),
        RulesDelta::RemoveConsents { role, category } => sqlx::query(
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

pub async fn clear_grants(c: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("/* full scan: maintenance */ DELETE FROM case_grants")
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
