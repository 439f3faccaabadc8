//! The correction-request storage ports: round trips, filters, the answer's version
//! guard, and the triggers that keep what the worker filed. Every adapter runs this story.

// A story of checks: a failed unwrap is a failed check, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::StoreError;
use crate::accounts::ports::AccountWrites;
use crate::accounts::ports::{OrganisationRecord, UserRecord};
use crate::cases::correction_ports::{
    CorrectionFilter, CorrectionReads, CorrectionRecord, CorrectionWrites,
};
use crate::cases::ports::{CaseRecord, CaseWrites, DocumentBody, DocumentRecord};
use crate::conformance::Tamper;
use crate::ports::{Store, TxControl};
use ryoritsu_domain::account::{DisplayName, LoginName};
use ryoritsu_domain::case::{CasePath, CaseState};
use ryoritsu_domain::correction::{
    AnswerInput, CorrectionDraft, CorrectionInput, CorrectionRequest, CorrectionTarget,
    NamedDocument, Responder,
};
use ryoritsu_domain::forms::{DraftDocument, FormKind, FormVersion};
use ryoritsu_domain::org::OrganisationKind;
use ryoritsu_domain::prefecture::Prefecture;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const T0: OffsetDateTime = datetime!(2026-04-01 09:00:00.123456 UTC);

const EMPLOYER: Uuid = Uuid::from_u128(0xE0);
const HOSPITAL: Uuid = Uuid::from_u128(0x40);
const WORKER: Uuid = Uuid::from_u128(0x01);
const OTHER_WORKER: Uuid = Uuid::from_u128(0x02);
const HR: Uuid = Uuid::from_u128(0x03);
const DOCTOR: Uuid = Uuid::from_u128(0x04);
const CASE: Uuid = Uuid::from_u128(0xCA1);
const OTHER_CASE: Uuid = Uuid::from_u128(0xCA2);
const OPINION: Uuid = Uuid::from_u128(0xD1);
const CORRECTED: Uuid = Uuid::from_u128(0xD2);

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

fn case(id: Uuid, worker: Uuid) -> CaseRecord {
    CaseRecord {
        id,
        worker_id: worker,
        employer_id: EMPLOYER,
        workplace_id: None,
        state: CaseState::new(CasePath::Continuation),
        created_at: T0,
        updated_at: T0,
        version: 1,
    }
}

fn document(id: Uuid) -> DocumentRecord {
    DocumentRecord {
        id,
        case_id: CASE,
        form: FormKind::ContinuationOpinion,
        body: DocumentBody::Draft(DraftDocument::new(
            id,
            FormKind::ContinuationOpinion,
            FormVersion::V2026,
        )),
        created_by: DOCTOR,
        created_at: T0,
        updated_at: T0,
        version: 1,
        withheld: Vec::new(),
    }
}

fn draft(target: CorrectionTarget, what: &str) -> CorrectionDraft {
    let mut d = CorrectionDraft::parse(CorrectionInput {
        document: Some(OPINION),
        target_description: None,
        kind: "correct",
        what_is_wrong: what,
        should_say: "通院は月1回（第2・第4水曜日ではなく第2水曜日のみ）",
    })
    .unwrap();
    d.target = target;
    d
}

fn record(
    id: u128,
    case: Uuid,
    worker: Uuid,
    target: CorrectionTarget,
    responder: (Responder, Uuid),
    filed: OffsetDateTime,
) -> CorrectionRecord {
    CorrectionRecord {
        request: CorrectionRequest::file(
            Uuid::from_u128(id),
            case,
            worker,
            draft(
                target,
                "通院は「月2回」と書かれています。\n実際は月1回です。",
            ),
            responder.0,
            responder.1,
            filed,
        ),
        version: 1,
    }
}

/// Every read and write of the correction ports, the version guard on the answer and the
/// triggers that keep what was filed.
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
        HOSPITAL,
        OrganisationKind::MedicalInstitution,
        "市立病院",
    ))
    .await
    .unwrap();
    for (id, login) in [
        (WORKER, "worker"),
        (OTHER_WORKER, "worker2"),
        (HR, "hr-officer"),
        (DOCTOR, "doctor"),
    ] {
        tx.insert_user(&user(id, login)).await.unwrap();
    }
    tx.insert_case(&case(CASE, WORKER)).await.unwrap();
    tx.insert_case(&case(OTHER_CASE, OTHER_WORKER))
        .await
        .unwrap();
    tx.insert_document(&document(OPINION)).await.unwrap();
    tx.insert_document(&document(CORRECTED)).await.unwrap();

    let on_opinion = record(
        0xC2,
        CASE,
        WORKER,
        CorrectionTarget::Document { document: OPINION },
        (Responder::Hospital, HOSPITAL),
        at(2),
    );
    let other_data = record(
        0xC1,
        CASE,
        WORKER,
        CorrectionTarget::Other {
            description: "休業開始日（４月１日）".into(),
        },
        (Responder::Employer, EMPLOYER),
        at(1),
    );
    let elsewhere = record(
        0xC0,
        OTHER_CASE,
        OTHER_WORKER,
        CorrectionTarget::Other {
            description: "所属".into(),
        },
        (Responder::Employer, EMPLOYER),
        at(3),
    );
    for r in [&on_opinion, &other_data, &elsewhere] {
        tx.insert_correction_request(r).await.unwrap();
    }
    // Each refused insert is undone to a savepoint: PostgreSQL aborts the whole transaction
    // on an error otherwise.
    tx.savepoint().await.unwrap();
    assert!(matches!(
        tx.insert_correction_request(&on_opinion).await,
        Err(StoreError::Conflict(_))
    ));
    tx.rollback_to_savepoint().await.unwrap();
    // A request must name a stored case and a stored document.
    let mut orphan = record(
        0xC9,
        Uuid::from_u128(0xBAD),
        WORKER,
        CorrectionTarget::Other {
            description: "x".into(),
        },
        (Responder::Employer, EMPLOYER),
        at(4),
    );
    tx.savepoint().await.unwrap();
    assert!(matches!(
        tx.insert_correction_request(&orphan).await,
        Err(StoreError::Conflict(_))
    ));
    tx.rollback_to_savepoint().await.unwrap();
    orphan.request.case_id = CASE;
    orphan.request.target = CorrectionTarget::Document {
        document: Uuid::from_u128(0xBAD),
    };
    tx.savepoint().await.unwrap();
    assert!(matches!(
        tx.insert_correction_request(&orphan).await,
        Err(StoreError::Conflict(_))
    ));
    tx.rollback_to_savepoint().await.unwrap();
    tx.commit().await.unwrap();

    // Round trips and filters, oldest first.
    let mut conn = store.read().await.unwrap();
    assert_eq!(
        conn.get_correction_request(on_opinion.request.id)
            .await
            .unwrap(),
        Some(on_opinion.clone())
    );
    assert_eq!(
        conn.get_correction_request(Uuid::from_u128(9))
            .await
            .unwrap(),
        None
    );
    let all = conn.list_all_correction_requests().await.unwrap();
    assert_eq!(
        all,
        [other_data.clone(), on_opinion.clone(), elsewhere.clone()]
    );
    assert_eq!(
        conn.list_correction_requests(CorrectionFilter::Case(CASE))
            .await
            .unwrap(),
        [other_data.clone(), on_opinion.clone()]
    );
    assert_eq!(
        conn.list_correction_requests(CorrectionFilter::Worker(OTHER_WORKER))
            .await
            .unwrap(),
        std::slice::from_ref(&elsewhere)
    );
    assert_eq!(
        conn.list_correction_requests(CorrectionFilter::OpenFor(HOSPITAL))
            .await
            .unwrap(),
        std::slice::from_ref(&on_opinion)
    );
    assert_eq!(
        conn.list_correction_requests(CorrectionFilter::OpenFor(EMPLOYER))
            .await
            .unwrap(),
        [other_data.clone(), elsewhere.clone()]
    );
    drop(conn);

    // The answer: a stale version loses, the next one wins once.
    let answered = CorrectionRecord {
        request: on_opinion
            .request
            .answer(
                AnswerInput {
                    decision: "corrected",
                    reason: Some("通院の頻度を訂正しました。"),
                    corrected_document: Some(CORRECTED),
                },
                Some(NamedDocument {
                    id: CORRECTED,
                    case_id: CASE,
                    finalised: true,
                    corrects_target: true,
                }),
                DOCTOR,
                datetime!(2026-04-03 10:00:00.654321999 UTC),
            )
            .unwrap(),
        version: 2,
    };
    let mut tx = store.begin().await.unwrap();
    let stale = CorrectionRecord {
        version: 3,
        ..answered.clone()
    };
    assert!(!tx.answer_correction_request(&stale).await.unwrap());
    assert!(tx.answer_correction_request(&answered).await.unwrap());
    let again = CorrectionRecord {
        version: 3,
        ..answered.clone()
    };
    assert!(
        !tx.answer_correction_request(&again).await.unwrap(),
        "an answer is given once"
    );
    // Nothing but the answer is written: a changed request text is ignored.
    let mut sneaky = other_data.clone();
    sneaky.request.what_is_wrong = "書き換え".into();
    sneaky.request.answer = answered.request.answer.clone();
    sneaky.version = 2;
    assert!(tx.answer_correction_request(&sneaky).await.unwrap());
    // Without an answer there is nothing to write.
    assert!(!tx.answer_correction_request(&elsewhere).await.unwrap());
    tx.commit().await.unwrap();

    let mut snap = store.snapshot().await.unwrap();
    assert_eq!(
        snap.get_correction_request(on_opinion.request.id)
            .await
            .unwrap(),
        Some(answered.clone())
    );
    let kept = snap
        .get_correction_request(other_data.request.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.request.what_is_wrong, other_data.request.what_is_wrong);
    assert_eq!(
        snap.list_correction_requests(CorrectionFilter::OpenFor(EMPLOYER))
            .await
            .unwrap(),
        std::slice::from_ref(&elsewhere)
    );
    assert_eq!(
        snap.list_correction_requests(CorrectionFilter::OpenFor(HOSPITAL))
            .await
            .unwrap(),
        []
    );
    drop(snap);

    // What was filed, and an answer once given, cannot be rewritten or removed.
    for sql in [
        "UPDATE correction_requests SET what_is_wrong = 'rewritten'",
        "UPDATE correction_requests SET reason = 'rewritten' WHERE status = 'answered'",
        "DELETE FROM correction_requests",
    ] {
        let r = store.try_raw(sql).await;
        assert!(
            r.as_ref()
                .is_err_and(|e| e.contains("correction request") || e.contains("kept")),
            "{sql}: {r:?}"
        );
    }
    let mut conn = store.read().await.unwrap();
    assert_eq!(conn.list_all_correction_requests().await.unwrap().len(), 3);
}
