//! The case storage flow on PostgreSQL (migration 0002 and on): every method of
//! `CaseReads` and `CaseWrites`, version conflicts, finalised documents that never change,
//! the append-only provision records, and domain values that come back equal from their JSON
//! columns. Run by `tests/cases.rs`, and by `tests/plans.rs`, which explains every statement
//! it executes.

// In tests a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ryoritsu_app::StoreError;
use ryoritsu_app::accounts::ports::AccountWrites;
use ryoritsu_app::accounts::ports::{OrganisationRecord, UserRecord, WorkplaceRecord};
use ryoritsu_app::cases::ports::{
    CaseEventRecord, CaseFilter, CasePartyRecord, CaseReads, CaseRecord, CaseWrites,
    ConsultationNoteRecord, DocumentBody, DocumentRecord, HandlingRulesRecord, PartyKind,
    TaskFilter, TaskRecord,
};
use ryoritsu_app::conformance::Tamper;
use ryoritsu_app::ports::{Store, TxControl};
use ryoritsu_domain::account::{DisplayName, LoginName};
use ryoritsu_domain::case::{CaseFacts, CasePath, CaseState, CaseStatus, Step, TaskKind, apply};
use ryoritsu_domain::consent::{
    Consent, ConsentDraft, DisclosedDocument, DisclosureRecord, EXPLANATION_VERSION, Recipient,
};
use ryoritsu_domain::forms::{
    AnswerValue, Answers, Attestation, DraftDocument, FormKind, FormVersion, Party,
};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::{OrganisationKind, Role};
use ryoritsu_domain::policy::{Access, HandlingRules};
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_store_postgres::PgStore;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::common::{Throwaway, unique_name, with_database};

const T0: OffsetDateTime = datetime!(2026-05-01 09:00:00.123456 UTC);

fn at(minutes: i64) -> OffsetDateTime {
    T0 + Duration::minutes(minutes)
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

// Fixed ids, so that orders by id are known.
const EMPLOYER: Uuid = Uuid::from_u128(0xE0);
const HOSPITAL: Uuid = Uuid::from_u128(0xB0);
const OTHER_EMPLOYER: Uuid = Uuid::from_u128(0xE1);
const WORKPLACE: Uuid = Uuid::from_u128(0x3B);
const WORKER: Uuid = Uuid::from_u128(0x10);
const WORKER_2: Uuid = Uuid::from_u128(0x11);
const MANAGER: Uuid = Uuid::from_u128(0x12);
const HR: Uuid = Uuid::from_u128(0x13);
const CASE_A: Uuid = Uuid::from_u128(0xCA);
const CASE_B: Uuid = Uuid::from_u128(0xCB);

fn organisation(id: Uuid, kind: OrganisationKind, name: &str) -> OrganisationRecord {
    OrganisationRecord {
        id,
        kind,
        name: DisplayName::parse("name", "名称", name).unwrap(),
        prefecture: Prefecture::from_code(23).unwrap(),
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

/// A case state after real steps of the state machine.
fn state_after(steps: &[(Step, Role)]) -> CaseState {
    let facts = CaseFacts {
        has_occupational_physician: true,
        ..CaseFacts::default()
    };
    let mut state = CaseState::new(CasePath::Continuation);
    for (step, actor) in steps {
        state = apply(&state, step, *actor, &facts, date!(2026 - 05 - 01))
            .unwrap_or_else(|e| panic!("{step:?}: {}", e.message()))
            .state;
    }
    state
}

/// The realistic 勤務情報提供書 of the forms tests, which validates and finalises.
fn work_information_answers() -> Answers {
    serde_json::from_value(json!({
        "addressee": {"institution": "〇〇市立病院 消化器内科", "physician_name": "山田 太郎"},
        "employee_name": "佐藤 花子",
        "date_of_birth": "1978-05-12",
        "address": "愛知県豊田市〇〇町1-2-3",
        "occupation": "製造ライン作業",
        "job_description": {
            "details": "自動車部品工場での組立ライン作業。\n部品の取付と目視検査を担当。",
            "tasks": ["machine_operation", "prolonged_standing", "light_physical"]
        },
        "work_pattern": {"pattern": "two_shift"},
        "work_hours": {
            "start": "8:30", "end": "１７：３０", "break_hours": "1", "days_per_week": 5,
            "overtime": "月10時間程度", "business_trips": "なし"
        },
        "commute": {"methods": ["public_transport_seated"], "minutes": "４５"},
        "leave_period": {"until": "2026-12-31", "days": 180, "salary_paid": false,
                         "sickness_allowance_percent": 67},
        "paid_leave_days": "12.5",
        "other_notes": "通院は月2回（平日午前）の予定。",
        "available_systems": {"systems": ["short_hours", "hourly_annual_leave", "other"],
                              "other": "半日単位の年次有給休暇"},
        "occupational_physician": true,
        "company_contact": {"address": "愛知県豊田市〇〇町4-5-6", "phone": "0565-00-0000"},
        "worker_confirmation": {"date": "2026-04-10", "name": "佐藤 花子"},
        "company_signature": {"date": "2026-04-10", "name": "株式会社〇〇製作所"}
    }))
    .unwrap()
}

fn case_record(id: Uuid, worker: Uuid, created_at: OffsetDateTime) -> CaseRecord {
    CaseRecord {
        id,
        worker_id: worker,
        employer_id: EMPLOYER,
        workplace_id: None,
        state: state_after(&[(Step::FileRequest, Role::Worker)]),
        created_at,
        updated_at: created_at,
        version: 1,
    }
}

fn task(n: u128, case_id: Uuid, kind: TaskKind, org: Uuid, opened: i64) -> TaskRecord {
    TaskRecord {
        id: id(n),
        case_id,
        kind,
        assignee_role: Role::HrOfficer,
        assignee_organisation: org,
        due: date!(2026 - 05 - 08),
        opened_at: at(opened),
        closed_at: None,
    }
}

/// Every read and write of the case ports, in a throwaway database made through `admin`.
pub async fn all(admin: &str) {
    let name = unique_name("cases");
    let guard = Throwaway::create(admin, std::slice::from_ref(&name))
        .await
        .unwrap();
    let url = with_database(admin, &name);
    let store = PgStore::open(&url).await.unwrap();
    let applied = store.migrate().await.unwrap();
    assert_eq!(
        applied,
        store.schema_status().await.unwrap().known,
        "every known migration applied"
    );

    // ---- foundation rows through the existing ports ----
    let mut tx = store.begin().await.unwrap();
    for o in [
        organisation(EMPLOYER, OrganisationKind::Employer, "両立商事株式会社"),
        organisation(OTHER_EMPLOYER, OrganisationKind::Employer, "別会社"),
        organisation(
            HOSPITAL,
            OrganisationKind::MedicalInstitution,
            "〇〇市立病院",
        ),
    ] {
        tx.insert_organisation(&o).await.unwrap();
    }
    tx.insert_workplace(&WorkplaceRecord {
        id: WORKPLACE,
        organisation_id: EMPLOYER,
        name: DisplayName::parse("name", "名称", "本社工場").unwrap(),
        prefecture: Prefecture::from_code(23).unwrap(),
        has_occupational_physician: true,
        created_at: T0,
    })
    .await
    .unwrap();
    for (uid, login) in [
        (WORKER, "worker"),
        (WORKER_2, "worker2"),
        (MANAGER, "manager"),
        (HR, "hr-officer"),
    ] {
        tx.insert_user(&user(uid, login)).await.unwrap();
    }
    tx.commit().await.unwrap();

    // ---- cases ----
    let mut tx = store.begin().await.unwrap();
    let mut a = case_record(CASE_A, WORKER, at(0));
    a.workplace_id = Some(WORKPLACE);
    let b = case_record(CASE_B, WORKER_2, at(10));
    tx.insert_case(&a).await.unwrap();
    tx.insert_case(&b).await.unwrap();
    assert_eq!(tx.get_case(CASE_A).await.unwrap().as_ref(), Some(&a));
    assert_eq!(tx.get_case(id(0xDEAD)).await.unwrap(), None);

    // A state after several steps round-trips; the status column follows it.
    let mut a2 = a.clone();
    a2.state = state_after(&[
        (Step::FileRequest, Role::Worker),
        (Step::DraftWorkInformation, Role::HrOfficer),
        (
            Step::ConfirmWorkInformation {
                by: ryoritsu_domain::case::Confirmer::Worker,
            },
            Role::Worker,
        ),
    ]);
    assert_eq!(a2.status(), CaseStatus::WorkInformationConfirming);
    a2.updated_at = at(5);
    a2.version = 2;
    assert!(tx.update_case(&a2).await.unwrap());
    // The same version again is stale, and so is a jump ahead.
    assert!(!tx.update_case(&a2).await.unwrap());
    let mut ahead = a2.clone();
    ahead.version = 5;
    assert!(!tx.update_case(&ahead).await.unwrap());
    let mut missing = a2.clone();
    missing.id = id(0xDEAD);
    assert!(!tx.update_case(&missing).await.unwrap());
    assert_eq!(tx.get_case(CASE_A).await.unwrap().as_ref(), Some(&a2));

    // A case for a worker who does not exist is refused by the foreign key.
    let orphan = case_record(id(0xCC), id(0x999), at(20));
    tx.savepoint().await.unwrap();
    let err = tx.insert_case(&orphan).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    tx.rollback_to_savepoint().await.unwrap();

    // ---- parties ----
    let manager = CasePartyRecord {
        case_id: CASE_A,
        kind: PartyKind::LineManager,
        organisation_id: EMPLOYER,
        user_id: Some(MANAGER),
        added_by: HR,
        added_at: at(1),
    };
    let hospital = CasePartyRecord {
        case_id: CASE_A,
        kind: PartyKind::Hospital,
        organisation_id: HOSPITAL,
        user_id: None,
        added_by: WORKER,
        added_at: at(2),
    };
    let hospital_b = CasePartyRecord {
        case_id: CASE_B,
        added_at: at(11),
        ..hospital.clone()
    };
    for p in [&manager, &hospital, &hospital_b] {
        tx.insert_case_party(p).await.unwrap();
    }
    // The same hospital twice on one case: NULL users are not distinct.
    tx.savepoint().await.unwrap();
    let err = tx.insert_case_party(&hospital).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    tx.rollback_to_savepoint().await.unwrap();
    assert_eq!(
        tx.list_case_parties(CASE_A).await.unwrap(),
        vec![manager.clone(), hospital.clone()]
    );
    assert_eq!(
        tx.list_all_case_parties().await.unwrap(),
        vec![manager.clone(), hospital.clone(), hospital_b.clone()]
    );
    tx.commit().await.unwrap();

    // ---- list_cases filters, on a read connection ----
    let mut c = store.read().await.unwrap();
    let ids = |v: Vec<CaseRecord>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(c.list_all_cases().await.unwrap()), [CASE_B, CASE_A]);
    assert_eq!(
        ids(c.list_cases(CaseFilter::Worker(WORKER)).await.unwrap()),
        [CASE_A]
    );
    assert_eq!(
        ids(c.list_cases(CaseFilter::Worker(WORKER_2)).await.unwrap()),
        [CASE_B]
    );
    assert_eq!(
        ids(c.list_cases(CaseFilter::Employer(EMPLOYER)).await.unwrap()),
        [CASE_B, CASE_A]
    );
    assert!(
        c.list_cases(CaseFilter::Employer(OTHER_EMPLOYER))
            .await
            .unwrap()
            .is_empty()
    );
    // A hospital attached to a case (one row per party, however many) lists it once.
    assert_eq!(
        ids(c
            .list_cases(CaseFilter::PartyOrganisation(HOSPITAL))
            .await
            .unwrap()),
        [CASE_B, CASE_A]
    );
    assert!(
        c.list_cases(CaseFilter::PartyOrganisation(OTHER_EMPLOYER))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(c.get_case(CASE_A).await.unwrap().as_ref(), Some(&a2));
    drop(c);

    // The state column holds serde_json's output byte for byte, as SQLite does.
    let mut raw = PgConnection::connect(&url).await.unwrap();
    let (stored, status, path): (String, String, String) =
        sqlx::query_as("SELECT state, status, path FROM cases WHERE id = $1")
            .bind(CASE_A)
            .fetch_one(&mut raw)
            .await
            .unwrap();
    assert_eq!(stored, serde_json::to_string(&a2.state).unwrap());
    assert_eq!(status, "work_information_confirming");
    assert_eq!(path, "continuation");

    // ---- documents ----
    let mut tx = store.begin().await.unwrap();
    let mut draft = DraftDocument::new(id(0xD1), FormKind::WorkInformation, FormVersion::V2026);
    draft.answers = work_information_answers();
    draft.answers.remove("other_notes");
    let doc1 = DocumentRecord {
        id: draft.id,
        case_id: CASE_A,
        form: FormKind::WorkInformation,
        body: DocumentBody::Draft(draft.clone()),
        created_by: HR,
        created_at: at(3),
        updated_at: at(3),
        version: 1,
        withheld: Vec::new(),
    };
    tx.insert_document(&doc1).await.unwrap();
    assert_eq!(
        tx.get_document(doc1.id).await.unwrap().as_ref(),
        Some(&doc1)
    );

    let mut edited = draft.clone();
    edited.answers.insert(
        "other_notes".into(),
        AnswerValue::text("通院は月2回（平日午前）の予定。"),
    );
    let doc2 = DocumentRecord {
        body: DocumentBody::Draft(edited.clone()),
        updated_at: at(4),
        version: 2,
        ..doc1.clone()
    };
    assert!(tx.update_document(&doc2).await.unwrap());
    assert!(!tx.update_document(&doc2).await.unwrap(), "stale version");

    let finalised = edited
        .finalise(
            WORKER,
            at(6),
            Attestation {
                signature_field: "worker_confirmation".into(),
                party: Party::Worker,
            },
        )
        .unwrap();
    let doc3 = DocumentRecord {
        body: DocumentBody::Finalised(finalised.clone()),
        updated_at: at(6),
        version: 3,
        ..doc1.clone()
    };
    assert!(tx.update_document(&doc3).await.unwrap());
    let got = tx.get_document(doc1.id).await.unwrap().unwrap();
    assert_eq!(got, doc3);
    assert!(got.is_finalised());

    // A finalised document never changes, whatever the version says.
    let doc4 = DocumentRecord {
        body: DocumentBody::Draft(edited.clone()),
        updated_at: at(7),
        version: 4,
        ..doc1.clone()
    };
    assert!(!tx.update_document(&doc4).await.unwrap());
    let doc4_refinalised = DocumentRecord {
        body: DocumentBody::Finalised(finalised.clone()),
        ..doc4.clone()
    };
    assert!(!tx.update_document(&doc4_refinalised).await.unwrap());
    assert_eq!(
        tx.get_document(doc1.id).await.unwrap().as_ref(),
        Some(&doc3)
    );

    // A correction is a new document on the same case; another case has its own.
    let correction = DocumentRecord {
        id: id(0xD2),
        body: DocumentBody::Draft(DraftDocument::correction_of(&finalised, id(0xD2))),
        created_at: at(8),
        updated_at: at(8),
        version: 1,
        ..doc1.clone()
    };
    tx.insert_document(&correction).await.unwrap();
    let other = DocumentRecord {
        id: id(0xD3),
        case_id: CASE_B,
        form: FormKind::SupportCard,
        body: DocumentBody::Draft(DraftDocument::new(
            id(0xD3),
            FormKind::SupportCard,
            FormVersion::V2026,
        )),
        created_by: WORKER_2,
        created_at: at(12),
        updated_at: at(12),
        version: 1,
        withheld: Vec::new(),
    };
    tx.insert_document(&other).await.unwrap();
    assert_eq!(
        tx.list_documents(CASE_A).await.unwrap(),
        vec![doc3.clone(), correction.clone()]
    );
    assert_eq!(
        tx.list_all_documents().await.unwrap(),
        vec![doc3.clone(), correction.clone(), other.clone()]
    );
    // ---- history ----
    let ev = |n: u128, case_id: Uuid, step: &Step, from, to, minutes| CaseEventRecord {
        id: id(n),
        case_id,
        step: serde_json::to_value(step).unwrap(),
        actor: WORKER,
        actor_role: Role::Worker,
        from_status: from,
        to_status: to,
        at: at(minutes),
    };
    let e2 = ev(
        0xE2,
        CASE_A,
        &Step::DraftWorkInformation,
        CaseStatus::Requested,
        CaseStatus::WorkInformationDrafting,
        2,
    );
    let e1 = ev(
        0xEF,
        CASE_A,
        &Step::FileRequest,
        CaseStatus::NotRequested,
        CaseStatus::Requested,
        0,
    );
    let e3 = ev(
        0xE3,
        CASE_B,
        &Step::FileRequest,
        CaseStatus::NotRequested,
        CaseStatus::Requested,
        10,
    );
    for e in [&e2, &e1, &e3] {
        tx.insert_case_event(e).await.unwrap();
    }
    assert_eq!(
        tx.list_case_events(CASE_A).await.unwrap(),
        vec![e1.clone(), e2.clone()]
    );
    assert_eq!(
        tx.list_all_case_events().await.unwrap(),
        vec![e1.clone(), e2.clone(), e3.clone()]
    );
    let step: Step =
        serde_json::from_value(tx.list_case_events(CASE_B).await.unwrap()[0].step.clone()).unwrap();
    assert_eq!(step, Step::FileRequest);

    // ---- tasks ----
    let t1 = task(0x71, CASE_A, TaskKind::DraftWorkInformation, EMPLOYER, 1);
    let t2 = task(
        0x72,
        CASE_A,
        TaskKind::ConfirmWorkInformationWorker,
        EMPLOYER,
        2,
    );
    let mut t3 = task(0x73, CASE_B, TaskKind::DraftWorkInformation, EMPLOYER, 11);
    t3.assignee_role = Role::AttendingPhysician;
    t3.assignee_organisation = HOSPITAL;
    for t in [&t1, &t2, &t3] {
        tx.insert_task(t).await.unwrap();
    }
    // Only the open tasks of the given kinds on the given case close.
    assert_eq!(
        tx.close_tasks(
            CASE_A,
            &[TaskKind::DraftWorkInformation, TaskKind::HandToPhysician],
            at(5)
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        tx.close_tasks(CASE_A, &[TaskKind::DraftWorkInformation], at(9))
            .await
            .unwrap(),
        0,
        "a closed task stays closed at its first time"
    );
    assert_eq!(tx.close_tasks(CASE_A, &[], at(9)).await.unwrap(), 0);
    let closed_t1 = TaskRecord {
        closed_at: Some(at(5)),
        ..t1.clone()
    };
    let tf = |case, open_only| TaskFilter { case, open_only };
    assert_eq!(
        tx.list_all_tasks().await.unwrap(),
        vec![closed_t1.clone(), t2.clone(), t3.clone()]
    );
    assert_eq!(
        tx.list_tasks(tf(CASE_A, true)).await.unwrap(),
        vec![t2.clone()]
    );
    assert_eq!(
        tx.list_tasks(tf(CASE_A, false)).await.unwrap(),
        vec![closed_t1.clone(), t2.clone()]
    );
    assert_eq!(
        tx.list_tasks(tf(t3.case_id, true)).await.unwrap(),
        vec![t3.clone()]
    );
    assert!(
        tx.list_tasks(tf(id(0xDEAD), false))
            .await
            .unwrap()
            .is_empty()
    );

    // ---- consents ----
    let consent = Consent::grant(
        id(0xC0),
        WORKER,
        CASE_A,
        ConsentDraft {
            recipient: Recipient {
                organisation: EMPLOYER,
                role: Role::OccupationalPhysician,
                person: None,
            },
            recipient_kind: OrganisationKind::Employer,
            categories: [
                InformationCategory::Medical,
                InformationCategory::WorkMeasures,
            ]
            .into(),
            purpose: "職場での配慮を検討する".into(),
            expires_at: Some(datetime!(2027-04-01 00:00 +9)),
        },
        at(3),
        EXPLANATION_VERSION,
    )
    .unwrap();
    let narrow = Consent::grant(
        id(0xC1),
        WORKER,
        CASE_A,
        ConsentDraft {
            recipient: Recipient {
                organisation: EMPLOYER,
                role: Role::LineManager,
                person: Some(MANAGER),
            },
            recipient_kind: OrganisationKind::Employer,
            categories: [InformationCategory::WorkMeasures].into(),
            purpose: "配慮の実施".into(),
            expires_at: None,
        },
        at(4),
        EXPLANATION_VERSION,
    )
    .unwrap();
    let other_worker = Consent::grant(
        id(0xC2),
        WORKER_2,
        CASE_B,
        ConsentDraft {
            recipient: Recipient {
                organisation: EMPLOYER,
                role: Role::HrOfficer,
                person: None,
            },
            recipient_kind: OrganisationKind::Employer,
            categories: [InformationCategory::ConsultationNotes].into(),
            purpose: "相談対応".into(),
            expires_at: None,
        },
        at(12),
        EXPLANATION_VERSION,
    )
    .unwrap();
    for c in [&narrow, &consent, &other_worker] {
        tx.insert_consent(c).await.unwrap();
    }
    assert_eq!(
        tx.list_consents(CASE_A).await.unwrap(),
        vec![consent.clone(), narrow.clone()]
    );
    assert_eq!(
        tx.list_consents_of_worker(WORKER_2).await.unwrap(),
        vec![other_worker.clone()]
    );
    assert_eq!(
        tx.list_consents_of_worker(WORKER).await.unwrap(),
        vec![consent.clone(), narrow.clone()]
    );
    assert_eq!(tx.list_all_consents().await.unwrap().len(), 3);

    assert!(tx.withdraw_consent(narrow.id, at(30)).await.unwrap());
    assert!(
        !tx.withdraw_consent(narrow.id, at(20)).await.unwrap(),
        "a withdrawal is never redone"
    );
    assert!(!tx.withdraw_consent(id(0xDEAD), at(20)).await.unwrap());
    let mut withdrawn = narrow.clone();
    assert!(withdrawn.withdraw(at(30)));
    assert_eq!(
        tx.list_consents(CASE_A).await.unwrap(),
        vec![consent.clone(), withdrawn.clone()]
    );

    // ---- provision records ----
    let d1 = DisclosureRecord::record(
        id(0xD15),
        &consent,
        HOSPITAL,
        [InformationCategory::Medical].into(),
        DisclosedDocument {
            kind: "continuation_opinion".into(),
            id: id(0xD1),
        },
        at(40),
    )
    .unwrap();
    let d0 = DisclosureRecord::record(
        id(0xD16),
        &consent,
        HOSPITAL,
        [
            InformationCategory::Medical,
            InformationCategory::WorkMeasures,
        ]
        .into(),
        DisclosedDocument {
            kind: "work_information".into(),
            id: id(0xD1),
        },
        at(35),
    )
    .unwrap();
    let d2 = DisclosureRecord::record(
        id(0xD17),
        &other_worker,
        HOSPITAL,
        [InformationCategory::ConsultationNotes].into(),
        DisclosedDocument {
            kind: "support_card".into(),
            id: id(0xD3),
        },
        at(41),
    )
    .unwrap();
    for d in [&d1, &d0, &d2] {
        tx.insert_disclosure(d).await.unwrap();
    }
    assert_eq!(
        tx.list_disclosures(CASE_A).await.unwrap(),
        vec![d0.clone(), d1.clone()]
    );
    assert_eq!(
        tx.list_disclosures_of_worker(WORKER_2).await.unwrap(),
        vec![d2.clone()]
    );
    assert_eq!(
        tx.list_all_disclosures().await.unwrap(),
        vec![d0.clone(), d1.clone(), d2.clone()]
    );
    // No record without its consent.
    let mut unfounded = d2.clone();
    unfounded.id = id(0xD18);
    unfounded.consent = id(0xDEAD);
    tx.savepoint().await.unwrap();
    let err = tx.insert_disclosure(&unfounded).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    tx.rollback_to_savepoint().await.unwrap();

    // ---- 取扱規程 ----
    let mut rules = HandlingRules::defaults(EMPLOYER);
    let r1 = HandlingRulesRecord {
        rules: rules.clone(),
        updated_by: HR,
        updated_at: at(50),
        version: 1,
    };
    assert_eq!(tx.get_handling_rules(EMPLOYER).await.unwrap(), None);
    let mut r2 = r1.clone();
    r2.version = 2;
    assert!(tx.put_handling_rules(&r1).await.unwrap());
    assert!(
        !tx.put_handling_rules(&r1).await.unwrap(),
        "version 1 again: another write came first"
    );
    rules
        .grants
        .get_mut(&Role::LineManager)
        .unwrap()
        .insert(InformationCategory::WorkMeasures, Access::Never);
    r2.rules = rules;
    r2.updated_at = at(51);
    assert!(tx.put_handling_rules(&r2).await.unwrap());
    assert!(!tx.put_handling_rules(&r2).await.unwrap());
    let mut r4 = r2.clone();
    r4.version = 4;
    assert!(!tx.put_handling_rules(&r4).await.unwrap());
    assert_eq!(
        tx.get_handling_rules(EMPLOYER).await.unwrap(),
        Some(r2.clone())
    );
    let other_rules = HandlingRulesRecord {
        rules: HandlingRules::defaults(OTHER_EMPLOYER),
        updated_by: HR,
        updated_at: at(52),
        version: 1,
    };
    assert!(tx.put_handling_rules(&other_rules).await.unwrap());
    assert_eq!(
        tx.list_handling_rules().await.unwrap(),
        vec![r2.clone(), other_rules.clone()]
    );
    tx.commit().await.unwrap();

    // The copies beside the JSON follow the body.
    let rows: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "/* full scan: test check */ SELECT id, stage, revision FROM documents \
             ORDER BY created_at, id",
    )
    .fetch_all(&mut raw)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (doc1.id, "finalised".to_owned(), 1),
            (correction.id, "draft".to_owned(), 2),
            (other.id, "draft".to_owned(), 1),
        ]
    );

    // ---- the same reads on a snapshot ----
    let mut s = store.snapshot().await.unwrap();
    assert_eq!(s.get_case(CASE_A).await.unwrap().as_ref(), Some(&a2));
    assert_eq!(s.list_all_cases().await.unwrap().len(), 2);
    assert_eq!(s.list_all_case_parties().await.unwrap().len(), 3);
    assert_eq!(s.get_document(doc1.id).await.unwrap().as_ref(), Some(&doc3));
    assert_eq!(s.list_all_documents().await.unwrap().len(), 3);
    assert_eq!(s.list_all_case_events().await.unwrap().len(), 3);
    assert_eq!(
        s.list_tasks(tf(CASE_A, true)).await.unwrap(),
        vec![t2.clone()]
    );
    assert_eq!(s.list_all_tasks().await.unwrap().len(), 3);
    assert_eq!(
        s.list_consents_of_worker(WORKER).await.unwrap(),
        vec![consent.clone(), withdrawn.clone()]
    );
    assert_eq!(s.list_all_disclosures().await.unwrap().len(), 3);
    assert_eq!(
        s.get_handling_rules(EMPLOYER).await.unwrap(),
        Some(r2.clone())
    );
    assert_eq!(s.list_handling_rules().await.unwrap().len(), 2);
    drop(s);

    // ---- provision records are append-only ----
    assert!(
        store
            .try_raw("UPDATE disclosures SET to_role = 'hr_officer'")
            .await
            .is_err()
    );
    assert!(store.try_raw("DELETE FROM disclosures").await.is_err());
    assert!(store.try_raw("TRUNCATE disclosures").await.is_err());
    assert!(
        store
            .try_raw("TRUNCATE disclosures, consents CASCADE")
            .await
            .is_err()
    );
    let mut c = store.read().await.unwrap();
    assert_eq!(c.list_all_disclosures().await.unwrap(), vec![d0, d1, d2]);
    drop(c);

    // Nothing cascades: a case with rows naming it cannot be deleted from under them.
    assert!(
        store
            .try_raw(&format!("DELETE FROM cases WHERE id = '{CASE_B}'"))
            .await
            .is_err()
    );

    // ---- consultation notes: oldest first, exact, append-only ----
    let coordinator = id(0x14);
    let first = ConsultationNoteRecord {
        id: id(0x4E2),
        case_id: CASE_A,
        author: coordinator,
        author_role: Role::HospitalCoordinator,
        organisation_id: HOSPITAL,
        body: "本人と面談。\n通院は月2回（平日午前）、残業は当面なしを希望。".into(),
        created_at: at(1),
    };
    let later = ConsultationNoteRecord {
        id: id(0x4E1),
        author: HR,
        author_role: Role::HrOfficer,
        organisation_id: EMPLOYER,
        body: "上司と配置について相談".into(),
        created_at: at(2),
        ..first.clone()
    };
    // The same time as `first` on another case, with a smaller id: ties go by id.
    let elsewhere = ConsultationNoteRecord {
        id: id(0x4E0),
        case_id: CASE_B,
        created_at: at(1),
        ..later.clone()
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user(coordinator, "coordinator"))
        .await
        .unwrap();
    for n in [&later, &first, &elsewhere] {
        tx.insert_consultation_note(n).await.unwrap();
    }
    assert_eq!(
        tx.list_consultation_notes(CASE_A).await.unwrap(),
        vec![first.clone(), later.clone()]
    );
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert_consultation_note(&first).await,
        Err(StoreError::Conflict(_))
    ));
    tx.rollback().await.unwrap();
    // A note must name a stored case.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.insert_consultation_note(&ConsultationNoteRecord {
            id: id(0x4E9),
            case_id: id(0xBAD),
            ..first.clone()
        })
        .await,
        Err(StoreError::Conflict(_))
    ));
    tx.rollback().await.unwrap();

    let mut c = store.read().await.unwrap();
    assert_eq!(
        c.list_consultation_notes(CASE_A).await.unwrap(),
        vec![first.clone(), later.clone()]
    );
    assert_eq!(
        c.list_all_consultation_notes().await.unwrap(),
        vec![elsewhere.clone(), first.clone(), later.clone()]
    );
    assert!(
        c.list_consultation_notes(id(0xDEAD))
            .await
            .unwrap()
            .is_empty()
    );
    drop(c);
    // Roles are stored by their code.
    let role: String =
        sqlx::query_scalar("SELECT author_role FROM consultation_notes WHERE id = $1")
            .bind(first.id)
            .fetch_one(&mut raw)
            .await
            .unwrap();
    assert_eq!(role, "hospital_coordinator");

    for sql in [
        "UPDATE consultation_notes SET body = 'rewritten'",
        "DELETE FROM consultation_notes",
        "TRUNCATE consultation_notes",
    ] {
        let refused = store.try_raw(sql).await;
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("append-only")),
            "{sql}: {refused:?}"
        );
    }
    let mut s = store.snapshot().await.unwrap();
    assert_eq!(
        s.list_all_consultation_notes().await.unwrap(),
        vec![elsewhere, first, later]
    );
    drop(s);

    raw.close().await.unwrap();
    store.close().await;
    drop(guard);
}
