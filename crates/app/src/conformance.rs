//! The storage conformance story: one walk through everything the use cases ask of a
//! store. Every adapter runs it (SQLite always, PostgreSQL when a test database is given)
//! and must end with the same canonical export.

pub mod access;
pub mod corrections;
pub mod plans;
pub mod support_tasks;

use std::sync::Arc;

use ryoritsu_domain::audit::{AuditAction, AuditEvent, BreakKind, ChainHead, Outcome};
use ryoritsu_domain::org::{OrganisationKind, Role, RoleDetail};
use ryoritsu_domain::policy::{Action, decide};
use ryoritsu_domain::totp;
use time::Duration;
use time::macros::datetime;

use crate::accounts::orgs::{NewOrganisation, NewWorkplace};
use crate::accounts::ports::AccountReads;
use crate::accounts::{Authenticated, NewUser, NextStep};
use crate::cases::ports::{CaseReads, TaskFilter};
use crate::error::AppError;
use crate::ports::{ReadRepo, Store, WriteRepo};
use crate::testing::{ManualClock, SequentialIds};
use crate::{App, AppConfig, PasswordCost, RequestContext};
use ryoritsu_domain::case::{CasePath, CaseStatus, Confirmer, FitnessForWork, Step};
use ryoritsu_domain::consent::ConsentDraft;
use ryoritsu_domain::forms::{Answers, Attestation, FormKind, FormVersion, Party};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::policy::Denial;

/// Direct access to the database, bypassing the application, as someone holding the
/// database file or a superuser connection would have. Adapters implement it so that the
/// story can show tampering is detected; the server never uses it.
pub trait Tamper: Send + Sync {
    /// Runs `sql` with the audit table's append-only guard lifted for the statement.
    fn tamper_audit(
        &self,
        sql: &str,
    ) -> impl std::future::Future<Output = Result<u64, String>> + Send;
    /// Tries `sql` with the guard in place; it must fail.
    fn try_raw(&self, sql: &str) -> impl std::future::Future<Output = Result<u64, String>> + Send;
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn e(err: AppError) -> String {
    format!("{err:?}")
}

/// Cheap hashing keeps the story fast; the cost does not change what is stored.
pub fn test_config() -> AppConfig {
    AppConfig {
        password_cost: PasswordCost {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        },
        ..AppConfig::default()
    }
}

/// Runs the story on `store` (freshly migrated and empty) and restores its backup into
/// `restore_into` (also empty). Returns the canonical export without random values.
pub async fn story<S: Store + Tamper>(
    store: S,
    restore_into: S,
) -> Result<serde_json::Value, String> {
    let clock = Arc::new(ManualClock::new(datetime!(2026-04-01 09:00 UTC)));
    let app = App::new(
        store.clone(),
        test_config(),
        clock.clone(),
        Arc::new(SequentialIds::default()),
    )
    .map_err(e)?;
    let ctx = RequestContext {
        operation_id: Some("story".into()),
        client_ip: Some("192.0.2.10".into()),
        user_agent: Some("story".into()),
    };

    // Schema: everything known is applied, nothing unknown.
    let status = store.schema_status().await.map_err(|x| x.to_string())?;
    ensure!(
        status.pending().is_empty() && status.unknown().is_empty(),
        "schema not current: {status:?}"
    );
    ensure!(
        app.audit_head().await.map_err(e)? == ChainHead::EMPTY,
        "a new log is empty"
    );

    // Accounts.
    let op = app
        .create_user(&ctx, None, {
            let mut n = NewUser::parse("operator", "運用 担当", None, "sufficiently-long-secret")
                .map_err(|x| format!("{x:?}"))?;
            n.operator = true;
            n
        })
        .await
        .map_err(e)?;
    let dup = app
        .create_user(
            &ctx,
            None,
            NewUser::parse("ＯＰＥＲＡＴＯＲ", "別人", None, "another-long-secret")
                .map_err(|x| format!("{x:?}"))?,
        )
        .await;
    ensure!(
        matches!(dup, Err(AppError::Conflict("login_taken"))),
        "duplicate login refused, got {dup:?}"
    );

    // Organisations.
    let operator = crate::accounts::principal_of(&op, &[], true);
    let permit = decide(&operator, Action::CreateOrganisation).map_err(|d| format!("{d:?}"))?;
    let mut new = NewOrganisation::parse("employer", "株式会社テスト", "13", None)
        .map_err(|x| format!("{x:?}"))?;
    new.workplaces.push(NewWorkplace {
        name: ryoritsu_domain::account::DisplayName::parse("n", "名", "本社")
            .map_err(|x| x.message)?,
        prefecture: ryoritsu_domain::prefecture::Prefecture::from_code(13).ok_or("pref")?,
        has_occupational_physician: true,
    });
    let employer = app
        .create_organisation(&ctx, &operator, permit, new)
        .await
        .map_err(e)?;
    let hospital = app
        .create_organisation(
            &ctx,
            &operator,
            permit,
            NewOrganisation::parse("medical_institution", "テスト病院", "大阪府", None)
                .map_err(|x| format!("{x:?}"))?,
        )
        .await
        .map_err(e)?;
    let mut conn = store.read().await.map_err(|x| x.to_string())?;
    let orgs = conn.list_organisations().await.map_err(|x| x.to_string())?;
    ensure!(orgs.len() == 2, "two organisations, got {}", orgs.len());
    let got = conn
        .get_organisation(hospital.id)
        .await
        .map_err(|x| x.to_string())?;
    ensure!(
        got.as_ref() == Some(&hospital),
        "organisation round-trips: {got:?}"
    );
    ensure!(
        got.map(|o| o.prefecture.code()) == Some(27),
        "prefecture kept"
    );
    let wps = conn
        .list_workplaces(employer.id)
        .await
        .map_err(|x| x.to_string())?;
    ensure!(
        wps.len() == 1 && wps[0].has_occupational_physician,
        "workplace with 産業医 kept"
    );
    drop(conn);

    // A worker who is also an admin: memberships and sign-in.
    let admin = app
        .create_user(
            &ctx,
            Some(&operator),
            NewUser::parse(
                "admin",
                "管理 花子",
                Some("admin@example.jp"),
                "kanri-long-password-1",
            )
            .map_err(|x| format!("{x:?}"))?,
        )
        .await
        .map_err(e)?;
    app.grant_membership(
        &ctx,
        &operator,
        admin.id,
        employer.id,
        Role::OrgAdmin,
        RoleDetail::default(),
    )
    .await
    .map_err(e)?;
    let again = app
        .grant_membership(
            &ctx,
            &operator,
            admin.id,
            employer.id,
            Role::OrgAdmin,
            RoleDetail::default(),
        )
        .await;
    ensure!(
        matches!(again, Err(AppError::Conflict("already_member"))),
        "same role twice refused"
    );
    let wrong = app
        .grant_membership(
            &ctx,
            &operator,
            admin.id,
            employer.id,
            Role::AttendingPhysician,
            RoleDetail::default(),
        )
        .await;
    ensure!(
        matches!(wrong, Err(AppError::Invalid(_))),
        "physician role refused at an employer"
    );

    let bad = app.sign_in(&ctx, "admin", "wrong-password-here").await;
    ensure!(
        matches!(bad, Err(AppError::AuthenticationFailed)),
        "wrong password refused"
    );
    let unknown = app.sign_in(&ctx, "nobody", "wrong-password-here").await;
    ensure!(
        matches!(unknown, Err(AppError::AuthenticationFailed)),
        "unknown name answered alike"
    );
    let signed = app
        .sign_in(&ctx, "admin", "kanri-long-password-1")
        .await
        .map_err(e)?;
    ensure!(
        signed.next == NextStep::EnrolSecondFactor,
        "an admin must set up a second factor"
    );
    let auth = app.authenticate(&signed.session.token).await.map_err(e)?;
    ensure!(
        !auth.principal.second_factor_ok,
        "pending session is not fully signed in"
    );
    let denied = app.list_members(&auth, employer.id, None, 50).await;
    ensure!(
        matches!(denied, Err(AppError::Denied(_))),
        "no member list before the second factor"
    );

    // Second factor: enrol, use, refuse reuse.
    let enrol = app.begin_totp_enrolment(&auth).await.map_err(e)?;
    let secret = totp::decode_secret(&enrol.secret_base32).ok_or("secret")?;
    let code = |t: time::OffsetDateTime| {
        format!(
            "{:06}",
            totp::hotp(
                &secret,
                u64::try_from(totp::step_of(t.unix_timestamp())).unwrap_or(0)
            )
        )
    };
    let auth = app.authenticate(&signed.session.token).await.map_err(e)?;
    let (codes, upgraded) = app
        .confirm_totp_enrolment(&ctx, &auth, &code(app.now()))
        .await
        .map_err(e)?;
    ensure!(codes.len() == totp::RECOVERY_CODES, "recovery codes issued");
    let full = upgraded.ok_or("session upgraded after enrolment")?;
    ensure!(
        app.authenticate(&signed.session.token).await.is_err(),
        "the pending session id no longer works"
    );
    let auth = app.authenticate(&full.token).await.map_err(e)?;
    ensure!(auth.principal.second_factor_ok, "full session");
    let members = app
        .list_members(&auth, employer.id, None, 50)
        .await
        .map_err(e)?
        .items;
    ensure!(
        members.len() == 1 && members[0].1.id == admin.id,
        "member list"
    );

    clock.advance(Duration::seconds(31));
    let second = app
        .sign_in(&ctx, "admin", "kanri-long-password-1")
        .await
        .map_err(e)?;
    ensure!(
        second.next == NextStep::SecondFactor,
        "enrolled users are asked for a code"
    );
    let pending = app.authenticate(&second.session.token).await.map_err(e)?;
    let now_code = code(app.now());
    let ok = app
        .verify_second_factor(&ctx, &pending, &now_code)
        .await
        .map_err(e)?;
    let reused = app
        .sign_in(&ctx, "admin", "kanri-long-password-1")
        .await
        .map_err(e)?;
    let pending2 = app.authenticate(&reused.session.token).await.map_err(e)?;
    let replay = app.verify_second_factor(&ctx, &pending2, &now_code).await;
    ensure!(replay.is_err(), "a used code is refused");
    let rec = app
        .verify_second_factor(&ctx, &pending2, &codes[0])
        .await
        .map_err(e)?;
    let rec_again = app
        .sign_in(&ctx, "admin", "kanri-long-password-1")
        .await
        .map_err(e)?;
    let pending3 = app
        .authenticate(&rec_again.session.token)
        .await
        .map_err(e)?;
    ensure!(
        app.verify_second_factor(&ctx, &pending3, &codes[0])
            .await
            .is_err(),
        "a recovery code works once"
    );
    drop((ok, rec));

    // Invitations.
    let inv = app
        .invite(
            &ctx,
            &auth,
            employer.id,
            Role::HrOfficer,
            RoleDetail::default(),
            Some("人事部".into()),
        )
        .await
        .map_err(e)?;
    let view = app.invitation(&inv.token).await.map_err(e)?;
    ensure!(
        view.organisation.id == employer.id,
        "invitation names its organisation"
    );
    let hr = NewUser::parse("hr.yamada", "山田 花子", None, "jinji-officer-password")
        .map_err(|x| format!("{x:?}"))?;
    let (hr_user, m) = app
        .accept_invitation(&ctx, &inv.token, None, Some(hr))
        .await
        .map_err(e)?;
    ensure!(
        m.role == Role::HrOfficer && m.organisation_kind == OrganisationKind::Employer,
        "membership from invitation"
    );
    let twice = app
        .accept_invitation(
            &ctx,
            &inv.token,
            None,
            Some(
                NewUser::parse("hr.other", "他人", None, "jinji-officer-password")
                    .map_err(|x| format!("{x:?}"))?,
            ),
        )
        .await;
    ensure!(
        matches!(twice, Err(AppError::Conflict("invitation_used"))),
        "an invitation works once"
    );
    let cross = app
        .invite(
            &ctx,
            &auth,
            hospital.id,
            Role::AttendingPhysician,
            RoleDetail::default(),
            None,
        )
        .await;
    ensure!(
        matches!(
            cross,
            Err(AppError::Denied(ryoritsu_domain::policy::Denial::NotFound))
        ),
        "another organisation is invisible"
    );

    // Sessions: listing, ending one, idle expiry, password change ends all.
    let mine = app.list_own_sessions(&auth).await.map_err(e)?;
    ensure!(mine.len() >= 2, "sessions listed");
    let other = mine
        .iter()
        .find(|s| s.id_hash != auth.session.id_hash)
        .ok_or("another session")?;
    app.end_own_session(&ctx, &auth, &other.handle)
        .await
        .map_err(e)?;
    ensure!(
        app.list_own_sessions(&auth).await.map_err(e)?.len() == mine.len() - 1,
        "one session ended"
    );
    clock.advance(Duration::minutes(31));
    ensure!(
        matches!(
            app.authenticate(&full.token).await,
            Err(AppError::Unauthenticated)
        ),
        "idle expiry"
    );
    let hr_signed = app
        .sign_in(&ctx, "hr.yamada", "jinji-officer-password")
        .await
        .map_err(e)?;
    ensure!(
        hr_signed.next == NextStep::EnrolSecondFactor,
        "HR needs a second factor"
    );
    let hr_auth = app
        .authenticate(&hr_signed.session.token)
        .await
        .map_err(e)?;
    app.change_password(
        &ctx,
        &hr_auth,
        "jinji-officer-password",
        "a-new-jinji-password-2026",
    )
    .await
    .map_err(e)?;
    ensure!(
        app.authenticate(&hr_signed.session.token).await.is_err(),
        "password change ends sessions"
    );
    ensure!(
        app.sign_in(&ctx, "hr.yamada", "jinji-officer-password")
            .await
            .is_err(),
        "old password refused"
    );
    drop(hr_user);

    // Throttling: the sixth quick failure waits.
    for _ in 0..5 {
        let _ = app.sign_in(&ctx, "operator", "not-the-password").await;
    }
    let t = app
        .sign_in(&ctx, "operator", "sufficiently-long-secret")
        .await;
    ensure!(
        matches!(t, Err(AppError::Throttled(_))),
        "back-off after five failures, got {t:?}"
    );
    clock.advance(Duration::seconds(2));
    ensure!(
        app.sign_in(&ctx, "operator", "sufficiently-long-secret")
            .await
            .is_ok(),
        "back-off ends"
    );

    // Idempotency.
    let run = |n: &'static str| {
        let app = app.clone();
        async move {
            app.idempotent(
                "user:x".into(),
                Some("key-1".into()),
                crate::idempotency::fingerprint("POST", "/p", n.as_bytes()),
                move |tx| {
                    Box::pin(async move {
                        tx.put_setting("counter", n).await?;
                        Ok((201, format!("{{\"n\":\"{n}\"}}")))
                    })
                },
            )
            .await
        }
    };
    let first = run("a").await.map_err(e)?;
    let second = run("a").await.map_err(e)?;
    ensure!(
        !first.replayed && second.replayed && first.body == second.body,
        "replay returns the first answer"
    );
    ensure!(
        matches!(run("b").await, Err(AppError::IdempotencyMismatch)),
        "key reused with another body refused"
    );

    // Group commit: many concurrent writers, each acknowledged, all present.
    let mut handles = Vec::new();
    for i in 0..50 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let ev = AuditEvent::new(app.now(), AuditAction::Read, Outcome::Success);
            app.writer()
                .write(move |tx| {
                    Box::pin(async move {
                        tx.put_setting(&format!("concurrent-{i:02}"), "x").await?;
                        tx.append_audit(&ev).await?;
                        Ok(())
                    })
                })
                .await
        }));
    }
    for h in handles {
        h.await.map_err(|x| x.to_string())?.map_err(e)?;
    }
    // A failing job in a batch rolls back alone.
    let failing = app
        .writer()
        .write(|tx| {
            Box::pin(async move {
                tx.put_setting("half-written", "x").await?;
                Err::<(), _>(AppError::Conflict("story"))
            })
        })
        .await;
    ensure!(failing.is_err(), "the failing job reports its error");
    let mut conn = store.read().await.map_err(|x| x.to_string())?;
    ensure!(
        conn.get_setting("half-written")
            .await
            .map_err(|x| x.to_string())?
            .is_none(),
        "no half-write"
    );
    ensure!(
        conn.get_setting("concurrent-49")
            .await
            .map_err(|x| x.to_string())?
            .is_some(),
        "concurrent write kept"
    );
    drop(conn);

    // Jobs queued while a batch is being written go together into the next one; there a
    // failing job rolls back to its savepoint alone and the others are kept.
    let (release, held) = tokio::sync::oneshot::channel::<()>();
    let holding = {
        let app = app.clone();
        tokio::spawn(async move {
            app.writer()
                .write(move |_tx| {
                    Box::pin(async move {
                        let _ = held.await;
                        Ok(())
                    })
                })
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let queued = |key: &'static str, fail: bool| {
        let app = app.clone();
        tokio::spawn(async move {
            app.writer()
                .write(move |tx| {
                    Box::pin(async move {
                        tx.put_setting(key, "x").await?;
                        if fail {
                            return Err(AppError::Conflict("story"));
                        }
                        Ok(())
                    })
                })
                .await
        })
    };
    let failing = queued("batched-half-written", true);
    let kept = queued("batched-kept", false);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let _ = release.send(());
    holding.await.map_err(|x| x.to_string())?.map_err(e)?;
    ensure!(
        failing.await.map_err(|x| x.to_string())?.is_err(),
        "the failing job of a batch reports its error"
    );
    kept.await.map_err(|x| x.to_string())?.map_err(e)?;
    let mut conn = store.read().await.map_err(|x| x.to_string())?;
    ensure!(
        conn.get_setting("batched-half-written")
            .await
            .map_err(|x| x.to_string())?
            .is_none(),
        "no half-write from a failing job of a batch"
    );
    ensure!(
        conn.get_setting("batched-kept")
            .await
            .map_err(|x| x.to_string())?
            .is_some(),
        "the other job of the batch kept"
    );
    drop(conn);

    // The audit chain holds, and the append-only guard refuses changes.
    let report = app
        .verify_audit(None)
        .await
        .map_err(e)?
        .map_err(|b| b.to_string())?;
    ensure!(
        report.records > 40,
        "events were recorded: {}",
        report.records
    );
    ensure!(
        store
            .try_raw("UPDATE audit_event SET outcome = 'failure' WHERE seq = 1")
            .await
            .is_err(),
        "UPDATE refused"
    );
    ensure!(
        store
            .try_raw("DELETE FROM audit_event WHERE seq = 1")
            .await
            .is_err(),
        "DELETE refused"
    );

    // A support case on the 就業継続 path, with consent deciding who reads what.
    case_story(&app, &store, &ctx, &operator, employer.id, hospital.id).await?;

    // Backup, restore into the empty store, same canonical export and a verified chain.
    let before = app.export_dataset().await.map_err(e)?;
    let mut file = Vec::new();
    app.backup(&mut file).await.map_err(e)?;
    let restored = App::new(
        restore_into.clone(),
        test_config(),
        clock.clone(),
        Arc::new(SequentialIds::default()),
    )
    .map_err(e)?;
    restored
        .restore(std::io::Cursor::new(&file))
        .await
        .map_err(e)?;
    let after = restored.export_dataset().await.map_err(e)?;
    ensure!(before == after, "restored data equals the original");
    ensure!(
        restored.verify_audit(None).await.map_err(e)?.is_ok(),
        "restored chain verifies"
    );
    let again = restored.restore(std::io::Cursor::new(&file)).await;
    ensure!(
        matches!(again, Err(AppError::Conflict("not_empty"))),
        "restore refuses a non-empty database"
    );
    let cut = &file[..file.len() / 2];
    let fresh_check = restored.restore(std::io::Cursor::new(cut)).await;
    ensure!(fresh_check.is_err(), "a cut-off file is refused");

    // Tampering is named by sequence number.
    let head = app.audit_head().await.map_err(e)?;
    store
        .tamper_audit("UPDATE audit_event SET outcome = 'denied' WHERE seq = 5")
        .await?;
    let r = app.verify_audit(None).await.map_err(e)?;
    ensure!(
        matches!(r, Err(b) if b.seq == 5 && b.kind == BreakKind::Altered),
        "edit found at 5: {r:?}"
    );
    store
        .tamper_audit("UPDATE audit_event SET outcome = 'success' WHERE seq = 5")
        .await?;
    ensure!(
        app.verify_audit(Some(head)).await.map_err(e)?.is_ok(),
        "restored edit verifies again"
    );

    let canonical = before.canonical_without_random();
    Ok(canonical)
}

async fn as_user<S: Store>(store: &S, login: &str) -> Result<Authenticated, String> {
    crate::accounts::acting_as(store, login).await.map_err(e)
}

fn answers(v: serde_json::Value) -> Result<Answers, String> {
    serde_json::from_value(v).map_err(|x| x.to_string())
}

async fn case_story<S: Store + Tamper>(
    app: &App<S>,
    store: &S,
    ctx: &RequestContext,
    operator: &ryoritsu_domain::policy::Principal,
    employer: uuid::Uuid,
    hospital: uuid::Uuid,
) -> Result<(), String> {
    let worker = app
        .create_user(
            ctx,
            Some(operator),
            NewUser::parse("worker.sato", "佐藤 花子", None, "hanako-no-niwa-2026")
                .map_err(|x| format!("{x:?}"))?,
        )
        .await
        .map_err(e)?;
    app.grant_membership(
        ctx,
        operator,
        worker.id,
        employer,
        Role::Worker,
        RoleDetail::default(),
    )
    .await
    .map_err(e)?;
    let doctor = app
        .create_user(
            ctx,
            Some(operator),
            NewUser::parse("dr.yamada", "山田 太郎", None, "shinsatsu-shitsu-2026")
                .map_err(|x| format!("{x:?}"))?,
        )
        .await
        .map_err(e)?;
    app.grant_membership(
        ctx,
        operator,
        doctor.id,
        hospital,
        Role::AttendingPhysician,
        RoleDetail::default(),
    )
    .await
    .map_err(e)?;
    let w = as_user(store, "worker.sato").await?;
    let hr = as_user(store, "hr.yamada").await?;
    let dr = as_user(store, "dr.yamada").await?;
    let admin = as_user(store, "admin").await?;

    // 申出 by the worker only.
    let refused = app
        .file_request(ctx, &hr, employer, None, CasePath::Continuation)
        .await;
    ensure!(refused.is_err(), "only the worker files the 申出");
    let case = app
        .file_request(ctx, &w, employer, None, CasePath::Continuation)
        .await
        .map_err(e)?;
    ensure!(
        case.version == 1 && case.state.status == CaseStatus::Requested,
        "case opened: {:?}",
        case.state.status
    );
    let cross = app.case_access(&admin, case.id).await;
    ensure!(
        matches!(cross, Err(AppError::Denied(Denial::NotFound))),
        "an admin without a part in the case sees nothing"
    );

    // 勤務情報提供書: HR drafts, both confirm; a stale version is refused.
    let wi = answers(serde_json::json!({
        "addressee": {"institution": "テスト病院", "physician_name": "山田 太郎"},
        "employee_name": "佐藤 花子",
        "occupation": "製造ライン作業",
        "job_description": {"details": "部品の組立と目視検査。", "tasks": ["prolonged_standing"]},
        "work_pattern": {"pattern": "two_shift"},
        "work_hours": {"start": "8:30", "end": "17:30", "break_hours": "1", "days_per_week": 5},
        "commute": {"methods": ["public_transport_seated"], "minutes": "45"},
        "other_notes": "通院は月2回の予定。",
        "available_systems": {"systems": ["short_hours"]},
        "occupational_physician": true,
        "company_contact": {"address": "東京都千代田区1-1", "phone": "03-0000-0000"},
        "worker_confirmation": {"date": "2026-04-01", "name": "佐藤 花子"}
    }))?;
    let doc = app
        .save_draft(
            ctx,
            &hr,
            case.id,
            FormKind::WorkInformation,
            FormVersion::V2026,
            None,
            wi,
        )
        .await
        .map_err(e)?;
    let case = app
        .take_step(
            ctx,
            &hr,
            case.id,
            Some(case.version),
            Step::DraftWorkInformation,
        )
        .await
        .map_err(e)?;
    let stale = app
        .take_step(
            ctx,
            &hr,
            case.id,
            Some(case.version - 1),
            Step::ConfirmWorkInformation {
                by: Confirmer::Employer,
            },
        )
        .await;
    ensure!(
        matches!(stale, Err(AppError::PreconditionFailed)),
        "a stale version is refused: {stale:?}"
    );
    let case = app
        .take_step(
            ctx,
            &hr,
            case.id,
            Some(case.version),
            Step::ConfirmWorkInformation {
                by: Confirmer::Employer,
            },
        )
        .await
        .map_err(e)?;
    let as_worker = app
        .take_step(
            ctx,
            &hr,
            case.id,
            Some(case.version),
            Step::ConfirmWorkInformation {
                by: Confirmer::Worker,
            },
        )
        .await;
    ensure!(as_worker.is_err(), "HR cannot confirm in the worker's name");
    let case = app
        .take_step(
            ctx,
            &w,
            case.id,
            Some(case.version),
            Step::ConfirmWorkInformation {
                by: Confirmer::Worker,
            },
        )
        .await
        .map_err(e)?;
    let signed = app
        .finalise_document(
            ctx,
            &w,
            doc.id,
            doc.version,
            Attestation {
                signature_field: "worker_confirmation".into(),
                party: Party::Worker,
            },
        )
        .await
        .map_err(e)?;
    ensure!(signed.is_finalised(), "the worker's 確認 makes it 確定");
    let again = app
        .save_draft(
            ctx,
            &hr,
            case.id,
            FormKind::WorkInformation,
            FormVersion::V2026,
            Some((doc.id, signed.version)),
            Answers::new(),
        )
        .await;
    ensure!(
        matches!(again, Err(AppError::Conflict("document_finalised"))),
        "a 確定 document never changes"
    );

    // The worker gives the hospital a one-time share code; the physician redeems it.
    let (code, _) = app.issue_share_code(ctx, &w, case.id).await.map_err(e)?;
    let wrong = app.redeem_share_code(ctx, &dr, "AAAA-BBBB-CCCC").await;
    ensure!(
        matches!(wrong, Err(AppError::Invalid(_))),
        "a wrong code is refused: {wrong:?}"
    );
    ensure!(
        app.redeem_share_code(ctx, &hr, &code).await.is_err(),
        "only hospital staff redeem codes"
    );
    let attached = app
        .redeem_share_code(ctx, &dr, &code.to_lowercase())
        .await
        .map_err(e)?;
    ensure!(attached == case.id, "the code names its case");
    ensure!(
        app.redeem_share_code(ctx, &dr, &code).await.is_err(),
        "a code works once"
    );
    let (_, before) = app.read_documents(ctx, &dr, case.id).await.map_err(e)?;
    ensure!(before.is_empty(), "nothing is shared by default");
    let recipient = |org, role| ryoritsu_domain::consent::Recipient {
        organisation: org,
        role,
        person: None,
    };
    let consent = app
        .grant_consent(
            ctx,
            &w,
            case.id,
            ConsentDraft {
                recipient: recipient(hospital, Role::AttendingPhysician),
                recipient_kind: ryoritsu_domain::org::OrganisationKind::MedicalInstitution,
                categories: [InformationCategory::WorkInformation].into_iter().collect(),
                purpose: "主治医意見書の作成のため".into(),
                expires_at: None,
            },
        )
        .await
        .map_err(e)?;
    let (_, shared) = app.read_documents(ctx, &dr, case.id).await.map_err(e)?;
    ensure!(
        shared.len() == 1 && shared[0].form == FormKind::WorkInformation,
        "the consented document is shared"
    );
    let case = app
        .take_step(ctx, &w, case.id, Some(case.version), Step::HandToPhysician)
        .await
        .map_err(e)?;

    // The physician writes and attests the opinion; HR cannot read it without consent.
    let op = answers(serde_json::json!({
        "patient_name": "佐藤 花子",
        "diagnosis": "大腸がん（術後）",
        "current_symptoms": "倦怠感が残る。",
        "treatment_plan": "外来化学療法を月2回。",
        "fitness_for_work": "fit_with_conditions",
        "work_measures": "重いものを持たない。残業を避ける。",
        "measure_period": {"from": "2026-05-01", "to": "2026-10-31"},
        "physician_signature": {"date": "2026-04-02", "name": "山田 太郎"}
    }))?;
    let opinion = app
        .save_draft(
            ctx,
            &dr,
            case.id,
            FormKind::ContinuationOpinion,
            FormVersion::V2026,
            None,
            op,
        )
        .await
        .map_err(e)?;
    app.finalise_document(
        ctx,
        &dr,
        opinion.id,
        opinion.version,
        Attestation {
            signature_field: "physician_signature".into(),
            party: Party::AttendingPhysician,
        },
    )
    .await
    .map_err(e)?;
    let case = app
        .take_step(
            ctx,
            &dr,
            case.id,
            Some(case.version),
            Step::RecordOpinion {
                fitness: FitnessForWork::FitWithConditions,
                leave_until: None,
            },
        )
        .await
        .map_err(e)?;
    ensure!(
        case.state.status == CaseStatus::OccupationalPhysicianPending,
        "on to the 産業医: {:?}",
        case.state.status
    );
    let (access, hr_docs) = app.read_documents(ctx, &hr, case.id).await.map_err(e)?;
    ensure!(
        !access.may_view(InformationCategory::Medical),
        "HR never sees the diagnosis without consent"
    );
    ensure!(
        hr_docs
            .iter()
            .all(|d| d.form != FormKind::ContinuationOpinion),
        "no opinion in HR's documents"
    );
    let medical = app
        .grant_consent(
            ctx,
            &w,
            case.id,
            ConsentDraft {
                recipient: recipient(employer, Role::HrOfficer),
                recipient_kind: ryoritsu_domain::org::OrganisationKind::Employer,
                categories: [InformationCategory::Medical].into_iter().collect(),
                purpose: "就業上の措置を検討するため".into(),
                expires_at: None,
            },
        )
        .await
        .map_err(e)?;
    let (_, hr_docs) = app.read_documents(ctx, &hr, case.id).await.map_err(e)?;
    ensure!(
        hr_docs
            .iter()
            .any(|d| d.form == FormKind::ContinuationOpinion),
        "with consent, HR reads the opinion"
    );
    app.withdraw_consent(ctx, &w, case.id, medical.id)
        .await
        .map_err(e)?;
    let (_, hr_docs) = app.read_documents(ctx, &hr, case.id).await.map_err(e)?;
    ensure!(
        hr_docs
            .iter()
            .all(|d| d.form != FormKind::ContinuationOpinion),
        "withdrawal takes effect at once"
    );
    drop(consent);

    // What was read is in the audit chain; tasks wait on the 産業医.
    let mut c = store.read().await.map_err(|x| x.to_string())?;
    let reads = c
        .audit_records(0, 100_000)
        .await
        .map_err(|x| x.to_string())?
        .into_iter()
        .filter(|r| {
            r.event.action == AuditAction::Read
                && r.event.case_id == Some(case.id)
                && r.event.category == Some(InformationCategory::Medical)
        })
        .count();
    ensure!(reads >= 1, "reading medical information is audited");
    let tasks = c
        .list_tasks(TaskFilter {
            case: case.id,
            open_only: true,
        })
        .await
        .map_err(|x| x.to_string())?;
    ensure!(!tasks.is_empty(), "an open task waits on someone");
    let events = c
        .list_case_events(case.id)
        .await
        .map_err(|x| x.to_string())?;
    ensure!(
        events.len() == 6,
        "six steps in the history, got {}",
        events.len()
    );
    // Each document that reached another organisation under a consent left a 第三者提供記録:
    // the work information to the hospital, the opinion to the employer.
    let disclosures = c
        .list_disclosures(case.id)
        .await
        .map_err(|x| x.to_string())?;
    ensure!(
        disclosures.len() == 2,
        "two provisions recorded, got {}",
        disclosures.len()
    );
    ensure!(
        disclosures.iter().any(|d| d.from_organisation == employer
            && d.to_organisation == hospital
            && d.what.kind == "work_information"),
        "work information to the hospital: {disclosures:?}"
    );
    ensure!(
        disclosures.iter().any(|d| d.from_organisation == hospital
            && d.to_organisation == employer
            && d.what.kind == "continuation_opinion"),
        "the opinion to the employer: {disclosures:?}"
    );
    drop(c);
    // The worker sees who read their medical information and where it went.
    let log = app.my_access_log(&w).await.map_err(e)?;
    ensure!(
        log.iter().any(|l| l.action == AuditAction::Read
            && l.category == Some(InformationCategory::Medical)
            && l.actor_name.as_deref() == Some("山田 花子")),
        "HR's read of the opinion is in the worker's access log"
    );
    ensure!(
        log.iter()
            .filter(|l| l.action == AuditAction::Disclosed)
            .count()
            == 2,
        "both provisions in the log"
    );
    let export = app.my_export(ctx, &w).await.map_err(e)?;
    ensure!(
        export["cases"].as_array().is_some_and(|a| a.len() == 1),
        "the export holds the case"
    );
    ensure!(
        export.to_string().contains("大腸がん"),
        "the export holds the opinion"
    );
    ensure!(
        !export.to_string().contains("password_hash"),
        "no secrets in the export"
    );

    // Paper stays possible: a scan is kept byte for byte, and only its uploader and those
    // who may see its category open it.
    let pdf = b"%PDF-1.4\n% \xe6\x84\x8f\xe8\xa6\x8b\xe6\x9b\xb8\n%%EOF\n".to_vec();
    let scan = app
        .upload_scan(
            ctx,
            &w,
            case.id,
            Some(FormKind::ContinuationOpinion),
            "意見書.pdf",
            pdf.clone(),
        )
        .await
        .map_err(e)?;
    let back = app.read_scan(ctx, &w, scan.id).await.map_err(e)?;
    ensure!(
        back.content == pdf && back.record == scan,
        "the scan reads back as uploaded"
    );
    let hr_read = app.read_scan(ctx, &hr, scan.id).await;
    ensure!(
        matches!(hr_read, Err(AppError::Denied(Denial::Forbidden))),
        "HR without consent cannot open a scanned opinion: {hr_read:?}"
    );
    Ok(())
}
