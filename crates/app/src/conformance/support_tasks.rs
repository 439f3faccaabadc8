//! The support-task storage ports: round trips, filters, the version guard on marking
//! done, and the triggers that keep what was written. Every adapter runs this story.

// A story of checks: a failed unwrap is a failed check, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::StoreError;
use crate::accounts::ports::AccountWrites;
use crate::accounts::ports::{OrganisationRecord, UserRecord};
use crate::cases::ports::{CaseRecord, CaseWrites};
use crate::cases::support_task_ports::{
    SupportTaskFilter, SupportTaskReads, SupportTaskRecord, SupportTaskWrites,
};
use crate::conformance::Tamper;
use crate::ports::{Store, TxControl};
use ryoritsu_domain::account::{DisplayName, LoginName};
use ryoritsu_domain::case::{CasePath, CaseState};
use ryoritsu_domain::org::{OrganisationKind, Role};
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_domain::support_task::{SupportTask, SupportTaskDraft, SupportTaskInput};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

const T0: OffsetDateTime = datetime!(2026-04-01 09:00:00.123456 UTC);
const TODAY: Date = date!(2026 - 04 - 01);

const EMPLOYER: Uuid = Uuid::from_u128(0xE0);
const AGENCY: Uuid = Uuid::from_u128(0xA0);
const WORKER: Uuid = Uuid::from_u128(0x01);
const COORDINATOR: Uuid = Uuid::from_u128(0x02);
const COLLEAGUE: Uuid = Uuid::from_u128(0x03);
const CASE: Uuid = Uuid::from_u128(0xCA1);
const OTHER_CASE: Uuid = Uuid::from_u128(0xCA2);

fn at(minutes: i64) -> OffsetDateTime {
    T0 + Duration::minutes(minutes)
}

fn org(id: Uuid, kind: OrganisationKind, name: &str) -> OrganisationRecord {
    OrganisationRecord {
        id,
        kind,
        name: DisplayName::parse("name", "名称", name).unwrap(),
        prefecture: Prefecture::from_code(13).unwrap(),
        agency_kind: None,
        created_at: T0,
        version: 1,
    }
}

fn user(id: Uuid, login: &str) -> UserRecord {
    UserRecord {
        id,
        login: LoginName::parse(login).unwrap(),
        display_name: DisplayName::parse("display_name", "表示名", login).unwrap(),
        email: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        active: true,
        operator: false,
        demo: false,
        totp_secret: None,
        totp_pending_secret: None,
        totp_last_step: None,
        created_at: T0,
        password_changed_at: T0,
        version: 1,
    }
}

fn case(id: Uuid) -> CaseRecord {
    CaseRecord {
        id,
        worker_id: WORKER,
        employer_id: EMPLOYER,
        workplace_id: None,
        state: CaseState::new(CasePath::Continuation),
        created_at: T0,
        updated_at: T0,
        version: 1,
    }
}

fn task(
    id: u128,
    case: Uuid,
    by: Uuid,
    title: &str,
    due: &str,
    note: Option<&str>,
    minute: i64,
) -> SupportTaskRecord {
    let draft = SupportTaskDraft::parse(SupportTaskInput { title, due, note }, TODAY).unwrap();
    SupportTaskRecord {
        task: SupportTask::new(
            Uuid::from_u128(id),
            case,
            (AGENCY, Role::AgencyCoordinator),
            by,
            draft,
            at(minute),
        ),
        version: 1,
    }
}

/// Every read and write of the support-task ports, the version guard on marking done and
/// the triggers that keep what was written.
pub async fn story<S: Store + Tamper>(store: &S) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_organisation(&org(
        EMPLOYER,
        OrganisationKind::Employer,
        "両立商事株式会社",
    ))
    .await
    .unwrap();
    tx.insert_organisation(&org(
        AGENCY,
        OrganisationKind::SupportAgency,
        "産業保健総合支援センター",
    ))
    .await
    .unwrap();
    for (id, login) in [
        (WORKER, "worker"),
        (COORDINATOR, "promoter"),
        (COLLEAGUE, "promoter2"),
    ] {
        tx.insert_user(&user(id, login)).await.unwrap();
    }
    tx.insert_case(&case(CASE)).await.unwrap();
    tx.insert_case(&case(OTHER_CASE)).await.unwrap();

    let later = task(
        0x71,
        CASE,
        COORDINATOR,
        "次回面談の日程を本人と調整する",
        "2026-05-10",
        Some("平日の午後を希望\n外来日は避ける"),
        1,
    );
    let sooner = task(
        0x72,
        CASE,
        COLLEAGUE,
        "相談窓口の案内を送る",
        "2026-04-10",
        None,
        2,
    );
    let elsewhere = task(
        0x73,
        OTHER_CASE,
        COORDINATOR,
        "職場訪問の日程を決める",
        "2026-04-20",
        None,
        3,
    );
    for t in [&later, &sooner, &elsewhere] {
        tx.insert_support_task(t).await.unwrap();
    }
    // Each refused insert is undone to a savepoint: PostgreSQL aborts the whole transaction
    // on an error otherwise.
    tx.savepoint().await.unwrap();
    assert!(matches!(
        tx.insert_support_task(&later).await,
        Err(StoreError::Conflict(_))
    ));
    tx.rollback_to_savepoint().await.unwrap();
    let mut orphan = task(
        0x79,
        Uuid::from_u128(0xBAD),
        COORDINATOR,
        "x",
        "2026-04-02",
        None,
        4,
    );
    tx.savepoint().await.unwrap();
    assert!(matches!(
        tx.insert_support_task(&orphan).await,
        Err(StoreError::Conflict(_))
    ));
    tx.rollback_to_savepoint().await.unwrap();
    orphan.task.case_id = CASE;
    orphan.task.done_at = Some(at(5));
    tx.savepoint().await.unwrap();
    assert!(
        tx.insert_support_task(&orphan).await.is_err(),
        "done needs who marked it"
    );
    tx.rollback_to_savepoint().await.unwrap();
    tx.commit().await.unwrap();

    // Round trips and filters, by due date.
    let mut conn = store.read().await.unwrap();
    assert_eq!(
        conn.get_support_task(later.task.id).await.unwrap(),
        Some(later.clone())
    );
    assert_eq!(
        conn.get_support_task(Uuid::from_u128(9)).await.unwrap(),
        None
    );
    assert_eq!(
        conn.list_all_support_tasks().await.unwrap(),
        [sooner.clone(), elsewhere.clone(), later.clone()]
    );
    assert_eq!(
        conn.list_support_tasks(SupportTaskFilter::Case(CASE))
            .await
            .unwrap(),
        [sooner.clone(), later.clone()]
    );
    assert_eq!(
        conn.list_support_tasks(SupportTaskFilter::OpenCreatedBy(COORDINATOR))
            .await
            .unwrap(),
        [elsewhere.clone(), later.clone()]
    );
    assert_eq!(
        conn.list_support_tasks(SupportTaskFilter::OpenOfOrganisation(AGENCY))
            .await
            .unwrap(),
        [sooner.clone(), elsewhere.clone(), later.clone()]
    );
    assert_eq!(
        conn.list_support_tasks(SupportTaskFilter::OpenOfOrganisation(EMPLOYER))
            .await
            .unwrap(),
        []
    );
    drop(conn);

    // Marking done: a stale version loses, the next one wins once.
    let finished = SupportTaskRecord {
        task: later
            .task
            .complete(COLLEAGUE, datetime!(2026-04-03 10:00:00.654321 UTC))
            .unwrap(),
        version: 2,
    };
    let mut tx = store.begin().await.unwrap();
    let stale = SupportTaskRecord {
        version: 3,
        ..finished.clone()
    };
    assert!(!tx.complete_support_task(&stale).await.unwrap());
    assert!(tx.complete_support_task(&finished).await.unwrap());
    let again = SupportTaskRecord {
        version: 3,
        ..finished.clone()
    };
    assert!(
        !tx.complete_support_task(&again).await.unwrap(),
        "done once"
    );
    // Nothing but the done fields is written: a changed title is ignored.
    let mut sneaky = sooner.task.complete(COORDINATOR, at(60)).unwrap();
    sneaky.title = "書き換え".into();
    assert!(
        tx.complete_support_task(&SupportTaskRecord {
            task: sneaky,
            version: 2
        })
        .await
        .unwrap()
    );
    // An open task has nothing to write.
    let open = SupportTaskRecord {
        version: 2,
        ..elsewhere.clone()
    };
    assert!(!tx.complete_support_task(&open).await.unwrap());
    tx.commit().await.unwrap();

    let mut snap = store.snapshot().await.unwrap();
    assert_eq!(
        snap.get_support_task(later.task.id).await.unwrap(),
        Some(finished.clone())
    );
    let kept = snap
        .get_support_task(sooner.task.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.task.title, sooner.task.title);
    assert!(kept.task.is_done());
    assert_eq!(
        snap.list_support_tasks(SupportTaskFilter::OpenOfOrganisation(AGENCY))
            .await
            .unwrap(),
        std::slice::from_ref(&elsewhere)
    );
    assert_eq!(
        snap.list_support_tasks(SupportTaskFilter::OpenCreatedBy(COORDINATOR))
            .await
            .unwrap(),
        std::slice::from_ref(&elsewhere)
    );
    drop(snap);

    // What was written, and a done mark once given, cannot be rewritten or removed.
    for sql in [
        "UPDATE support_tasks SET title = 'rewritten'",
        "UPDATE support_tasks SET done_at = NULL, done_by = NULL WHERE done_at IS NOT NULL",
        "DELETE FROM support_tasks",
    ] {
        let r = store.try_raw(sql).await;
        assert!(
            r.as_ref()
                .is_err_and(|e| e.contains("support task") || e.contains("kept")),
            "{sql}: {r:?}"
        );
    }
    let mut conn = store.read().await.unwrap();
    assert_eq!(conn.list_all_support_tasks().await.unwrap().len(), 3);
}
