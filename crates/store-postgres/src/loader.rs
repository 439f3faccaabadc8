//! The bulk loader's writes: each kind of row of a whole batch of generated cases in as few
//! statements as PostgreSQL's limit of bound parameters allows. Every statement is a round
//! trip; row by row through the other ports a case took about forty of them, which bounded
//! the loader to about a hundred cases a second.

use ryoritsu_app::error::{StoreError, StoreResult};
use ryoritsu_app::loader::ports::CaseRows;
use ryoritsu_domain::account::Email;
use sqlx::query_builder::Separated;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::map_err;

/// Bound parameters one statement may carry.
const MAX_PARAMS: usize = 65_535;

/// Inserts `rows` with `head` (`INSERT INTO t (columns) `), `columns` values per row, in as
/// few statements as the limit allows. Statements are not kept prepared: their length
/// follows the batch.
async fn insert_many<T>(
    c: &mut PgConnection,
    head: &'static str,
    columns: usize,
    rows: &[T],
    push: impl Fn(Separated<'_, Postgres, &'static str>, &T),
) -> StoreResult<()> {
    for chunk in rows.chunks(MAX_PARAMS / columns) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(head);
        q.push_values(chunk, &push);
        q.build()
            .persistent(false)
            .execute(&mut *c)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

macro_rules! json {
    ($value:expr) => {
        serde_json::to_string($value).map_err(|e| StoreError::Other(e.to_string()))
    };
}

/// Inserts the rows of new cases, each kind after the kinds it refers to.
pub async fn insert_cases(c: &mut PgConnection, cases: &[CaseRows<'_>]) -> StoreResult<()> {
    insert_many(
        c,
        "INSERT INTO users (id, login, display_name, email, password_hash, active, operator, \
         demo, totp_secret, totp_pending_secret, totp_last_step, created_at, \
         password_changed_at, version, name_reading) ",
        15,
        cases,
        |mut b, k| {
            let u = k.user;
            b.push_bind(u.id)
                .push_bind(u.login.as_str())
                .push_bind(u.display_name.as_str())
                .push_bind(u.email.as_ref().map(Email::as_str))
                .push_bind(&u.password_hash)
                .push_bind(u.active)
                .push_bind(u.operator)
                .push_bind(u.demo)
                .push_bind(&u.totp_secret)
                .push_bind(&u.totp_pending_secret)
                .push_bind(u.totp_last_step)
                .push_bind(u.created_at)
                .push_bind(u.password_changed_at)
                .push_bind(u.version)
                .push_bind(k.reading);
        },
    )
    .await?;

    let memberships = cases
        .iter()
        .map(|k| Ok((k.membership, json!(&k.membership.detail)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    insert_many(
        c,
        "INSERT INTO memberships (id, user_id, organisation_id, role, detail, created_at) ",
        6,
        &memberships,
        |mut b, (m, detail)| {
            b.push_bind(m.id)
                .push_bind(m.user_id)
                .push_bind(m.organisation_id)
                .push_bind(m.role.code())
                .push_bind(detail)
                .push_bind(m.created_at);
        },
    )
    .await?;

    let records = cases
        .iter()
        .map(|k| Ok((k.case, json!(&k.case.state)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    insert_many(
        c,
        "INSERT INTO cases (id, worker_id, employer_id, workplace_id, path, status, state, \
         created_at, updated_at, version) ",
        10,
        &records,
        |mut b, (r, state)| {
            b.push_bind(r.id)
                .push_bind(r.worker_id)
                .push_bind(r.employer_id)
                .push_bind(r.workplace_id)
                .push_bind(r.state.path.code())
                .push_bind(r.state.status.code())
                .push_bind(state)
                .push_bind(r.created_at)
                .push_bind(r.updated_at)
                .push_bind(r.version);
        },
    )
    .await?;

    let parties: Vec<_> = cases.iter().flat_map(|k| k.parties).collect();
    insert_many(
        c,
        "INSERT INTO case_parties (case_id, kind, organisation_id, user_id, added_by, \
         added_at) ",
        6,
        &parties,
        |mut b, p| {
            b.push_bind(p.case_id)
                .push_bind(p.kind.code())
                .push_bind(p.organisation_id)
                .push_bind(p.user_id)
                .push_bind(p.added_by)
                .push_bind(p.added_at);
        },
    )
    .await?;

    let documents = cases
        .iter()
        .flat_map(|k| k.documents)
        .map(|d| Ok((d, json!(&d.body)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    insert_many(
        c,
        "INSERT INTO documents (id, case_id, form, stage, revision, body, created_by, \
         created_at, updated_at, version) ",
        10,
        &documents,
        |mut b, (d, body)| {
            let (stage, revision) = crate::cases::stage_of(&d.body);
            b.push_bind(d.id)
                .push_bind(d.case_id)
                .push_bind(d.form.code())
                .push_bind(stage)
                .push_bind(i64::from(revision))
                .push_bind(body)
                .push_bind(d.created_by)
                .push_bind(d.created_at)
                .push_bind(d.updated_at)
                .push_bind(d.version);
        },
    )
    .await?;

    let consents = cases
        .iter()
        .flat_map(|k| k.consents)
        .map(|r| Ok((r, json!(&r.categories)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    insert_many(
        c,
        "INSERT INTO consents (id, case_id, worker_id, recipient_organisation, \
         recipient_role, recipient_person, categories, purpose, granted_at, expires_at, \
         withdrawn_at, explanation_version) ",
        12,
        &consents,
        |mut b, (r, categories)| {
            b.push_bind(r.id)
                .push_bind(r.case)
                .push_bind(r.worker)
                .push_bind(r.recipient.organisation)
                .push_bind(r.recipient.role.code())
                .push_bind(r.recipient.person)
                .push_bind(categories)
                .push_bind(&r.purpose)
                .push_bind(r.granted_at)
                .push_bind(r.expires_at)
                .push_bind(r.withdrawn_at)
                .push_bind(i64::from(r.explanation_version));
        },
    )
    .await?;

    let events = cases
        .iter()
        .flat_map(|k| k.events)
        .map(|e| Ok((e, json!(&e.step)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    insert_many(
        c,
        "INSERT INTO case_events (id, case_id, step, actor, actor_role, from_status, \
         to_status, at) ",
        8,
        &events,
        |mut b, (e, step)| {
            b.push_bind(e.id)
                .push_bind(e.case_id)
                .push_bind(step)
                .push_bind(e.actor)
                .push_bind(e.actor_role.code())
                .push_bind(e.from_status.code())
                .push_bind(e.to_status.code())
                .push_bind(e.at);
        },
    )
    .await?;

    let tasks: Vec<_> = cases.iter().flat_map(|k| k.tasks).collect();
    insert_many(
        c,
        "INSERT INTO tasks (id, case_id, kind, assignee_role, assignee_organisation, due, \
         opened_at, closed_at) ",
        8,
        &tasks,
        |mut b, t| {
            b.push_bind(t.id)
                .push_bind(t.case_id)
                .push_bind(t.kind.code())
                .push_bind(t.assignee_role.code())
                .push_bind(t.assignee_organisation)
                .push_bind(t.due)
                .push_bind(t.opened_at)
                .push_bind(t.closed_at);
        },
    )
    .await?;

    let grants: Vec<_> = cases
        .iter()
        .flat_map(|k| k.grants.iter().map(move |g| (k.case, g)))
        .collect();
    insert_many(
        c,
        "INSERT INTO case_grants (case_id, employer_id, subject, relation, relation_org, \
         role, scope, source, valid_from, valid_until, opened_at, status) ",
        12,
        &grants,
        |mut b, (case, g)| {
            b.push_bind(case.id)
                .push_bind(case.employer_id)
                .push_bind(g.subject.key())
                .push_bind(g.relation.kind())
                .push_bind(g.relation.organisation())
                .push_bind(g.relation.role().code())
                .push_bind(g.scope.code())
                .push_bind(g.source.code())
                .push_bind(g.valid_from)
                .push_bind(g.valid_until)
                .push_bind(case.created_at)
                .push_bind(case.state.status.code());
        },
    )
    .await?;

    // A row without words is not kept (as `replace_search_rows` does).
    let search: Vec<_> = cases
        .iter()
        .flat_map(|k| k.search)
        .filter(|r| !r.words.is_empty())
        .collect();
    insert_many(
        c,
        "INSERT INTO search_rows (case_id, source, category, author, weight, body, words) ",
        7,
        &search,
        |mut b, r| {
            b.push_bind(r.case_id)
                .push_bind(&r.source)
                .push_bind(&r.category)
                .push_bind(r.author)
                .push_bind(r.weight)
                .push_bind(&r.body)
                .push_bind(r.tsvector())
                .push_unseparated("::tsvector");
        },
    )
    .await?;
    Ok(())
}

/// `ANALYZE` of every table of the database (a sample of each, seconds at a million cases).
pub(crate) async fn analyze(c: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("ANALYZE")
        .persistent(false)
        .execute(&mut *c)
        .await
        .map_err(map_err)?;
    Ok(())
}

macro_rules! impl_bulk_writes {
    ($t:ty) => {
        impl ryoritsu_app::loader::ports::BulkWrites for $t {
            async fn insert_cases(
                &mut self,
                cases: &[ryoritsu_app::loader::ports::CaseRows<'_>],
            ) -> ryoritsu_app::StoreResult<()> {
                $crate::loader::insert_cases($crate::rows::AsConn::conn(self), cases).await
            }

            async fn refresh_statistics(&mut self) -> ryoritsu_app::StoreResult<()> {
                $crate::loader::analyze($crate::rows::AsConn::conn(self)).await
            }
        }
    };
}
pub(crate) use impl_bulk_writes;
