//! The case storage flows on SQLite: every read and write of the case ports, version
//! checks, finalised documents, the append-only provision records and exact JSON
//! round-trips. Run one test each by `tests/cases.rs`, and all together by
//! `tests/plans.rs`, which explains every statement they execute.

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
use ryoritsu_domain::case::{
    CaseFacts, CasePath, CaseState, CaseStatus, Confirmer, Step, TaskKind, apply,
};
use ryoritsu_domain::consent::{
    Consent, ConsentDraft, DisclosedDocument, DisclosureRecord, EXPLANATION_VERSION, Recipient,
};
use ryoritsu_domain::forms::{Answers, Attestation, DraftDocument, FormKind, FormVersion, Party};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::org::{OrganisationKind, Role};
use ryoritsu_domain::policy::{Access, HandlingRules};
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_store_sqlite::SqliteStore;
use serde_json::json;
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

const T0: OffsetDateTime = datetime!(2026-04-01 09:00:00.123456 UTC);
const TODAY: Date = date!(2026 - 04 - 01);

const EMPLOYER: Uuid = Uuid::from_u128(0xE0);
const OTHER_EMPLOYER: Uuid = Uuid::from_u128(0xE1);
const HOSPITAL: Uuid = Uuid::from_u128(0x40);
const WORKPLACE: Uuid = Uuid::from_u128(0x50);
const WORKER: Uuid = Uuid::from_u128(0x01);
const OTHER_WORKER: Uuid = Uuid::from_u128(0x02);
const HR: Uuid = Uuid::from_u128(0x03);
const MANAGER: Uuid = Uuid::from_u128(0x04);

fn at(minutes: i64) -> OffsetDateTime {
    T0 + Duration::minutes(minutes)
}

async fn open(dir: &tempfile::TempDir) -> SqliteStore {
    let url = format!("sqlite://{}", dir.path().join("cases.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    store
}

fn org(id: Uuid, kind: OrganisationKind, name: &str) -> OrganisationRecord {
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

/// A store with two employers, a hospital, a workplace and four people, committed.
async fn setup(dir: &tempfile::TempDir) -> SqliteStore {
    let store = open(dir).await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_organisation(&org(
        EMPLOYER,
        OrganisationKind::Employer,
        "両立商事株式会社",
    ))
    .await
    .unwrap();
    tx.insert_organisation(&org(OTHER_EMPLOYER, OrganisationKind::Employer, "別会社"))
        .await
        .unwrap();
    tx.insert_organisation(&org(
        HOSPITAL,
        OrganisationKind::MedicalInstitution,
        "市立病院",
    ))
    .await
    .unwrap();
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
    for (id, login) in [
        (WORKER, "worker"),
        (OTHER_WORKER, "worker2"),
        (HR, "hr-officer"),
        (MANAGER, "manager"),
    ] {
        tx.insert_user(&user(id, login)).await.unwrap();
    }
    tx.commit().await.unwrap();
    store
}

/// A case state after some real steps: 申出, 勤務情報提供書 drafted and confirmed by the worker.
fn advanced_state() -> CaseState {
    let facts = CaseFacts {
        has_occupational_physician: true,
        ..CaseFacts::default()
    };
    let steps = [
        (Step::FileRequest, Role::Worker),
        (Step::DraftWorkInformation, Role::HrOfficer),
        (
            Step::ConfirmWorkInformation {
                by: Confirmer::Worker,
            },
            Role::Worker,
        ),
    ];
    let mut state = CaseState::new(CasePath::Continuation);
    for (step, role) in &steps {
        state = apply(&state, step, *role, &facts, TODAY).unwrap().state;
    }
    assert_eq!(state.status, CaseStatus::WorkInformationConfirming);
    assert!(state.work_information.worker);
    state
}

fn case_record(id: Uuid, worker: Uuid, employer: Uuid, created: OffsetDateTime) -> CaseRecord {
    CaseRecord {
        id,
        worker_id: worker,
        employer_id: employer,
        workplace_id: (employer == EMPLOYER).then_some(WORKPLACE),
        state: CaseState::new(CasePath::Continuation),
        created_at: created,
        updated_at: created,
        version: 1,
    }
}

/// The 2026 勤務情報提供書 example of the domain's form tests: valid and fully signed.
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

fn consent(id: Uuid, case: Uuid, granted: OffsetDateTime) -> Consent {
    Consent::grant(
        id,
        WORKER,
        case,
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
        granted,
        EXPLANATION_VERSION,
    )
    .unwrap()
}

pub async fn cases_and_parties_round_trip_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let store = setup(&dir).await;
    let (a, b, c) = (
        Uuid::from_u128(0xCA1),
        Uuid::from_u128(0xCA2),
        Uuid::from_u128(0xCA3),
    );

    let mut tx = store.begin().await.unwrap();
    let case_a = case_record(a, WORKER, EMPLOYER, at(1));
    tx.insert_case(&case_a).await.unwrap();
    tx.insert_case(&case_record(b, OTHER_WORKER, EMPLOYER, at(2)))
        .await
        .unwrap();
    tx.insert_case(&case_record(c, WORKER, OTHER_EMPLOYER, at(3)))
        .await
        .unwrap();
    // The same id twice is a conflict.
    assert!(matches!(
        tx.insert_case(&case_a).await,
        Err(StoreError::Conflict(_))
    ));
    // An unknown worker is refused by the foreign key.
    assert!(matches!(
        tx.insert_case(&case_record(
            Uuid::from_u128(0xCA9),
            Uuid::from_u128(0xBAD),
            EMPLOYER,
            at(4)
        ))
        .await,
        Err(StoreError::Conflict(_))
    ));

    let hospital = CasePartyRecord {
        case_id: a,
        kind: PartyKind::Hospital,
        organisation_id: HOSPITAL,
        user_id: None,
        added_by: WORKER,
        added_at: at(5),
    };
    let manager = CasePartyRecord {
        case_id: a,
        kind: PartyKind::LineManager,
        organisation_id: EMPLOYER,
        user_id: Some(MANAGER),
        added_by: HR,
        added_at: at(6),
    };
    let hospital_b = CasePartyRecord {
        case_id: b,
        added_at: at(7),
        ..hospital.clone()
    };
    tx.insert_case_party(&hospital).await.unwrap();
    tx.insert_case_party(&manager).await.unwrap();
    tx.insert_case_party(&hospital_b).await.unwrap();
    // The same party twice is refused, also when it has no person (NULL user id).
    assert!(matches!(
        tx.insert_case_party(&CasePartyRecord {
            added_at: at(8),
            ..hospital.clone()
        })
        .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        tx.insert_case_party(&manager).await,
        Err(StoreError::Conflict(_))
    ));
    // The version check: a stale write loses, the next version wins.
    let mut moved = case_a.clone();
    moved.state = advanced_state();
    moved.updated_at = at(10);
    assert!(!tx.update_case(&moved).await.unwrap(), "version 1 again");
    moved.version = 3;
    assert!(!tx.update_case(&moved).await.unwrap(), "skipping a version");
    moved.version = 2;
    assert!(tx.update_case(&moved).await.unwrap());
    assert!(
        !tx.update_case(&moved).await.unwrap(),
        "the same version twice"
    );
    assert_eq!(tx.get_case(a).await.unwrap(), Some(moved.clone()));
    tx.commit().await.unwrap();

    // Reads on the read connection and on a snapshot agree.
    let mut conn = store.read().await.unwrap();
    let got = conn.get_case(a).await.unwrap().unwrap();
    assert_eq!(got, moved);
    assert_eq!(got.status(), CaseStatus::WorkInformationConfirming);
    assert_eq!(conn.get_case(Uuid::from_u128(0xFFFF)).await.unwrap(), None);

    let ids = |v: Vec<CaseRecord>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(conn.list_all_cases().await.unwrap()), [c, b, a]);
    let by_worker = CaseFilter::Worker(WORKER);
    assert_eq!(ids(conn.list_cases(by_worker).await.unwrap()), [c, a]);
    assert_eq!(
        ids(conn
            .list_cases(CaseFilter::Employer(EMPLOYER))
            .await
            .unwrap()),
        [b, a]
    );
    assert_eq!(
        ids(conn
            .list_cases(CaseFilter::Employer(OTHER_EMPLOYER))
            .await
            .unwrap()),
        [c]
    );
    // A hospital attached to a case (one row per party, however many) lists it once.
    assert_eq!(
        ids(conn
            .list_cases(CaseFilter::PartyOrganisation(HOSPITAL))
            .await
            .unwrap()),
        [b, a]
    );
    assert!(
        conn.list_cases(CaseFilter::Worker(Uuid::from_u128(0xBAD)))
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        conn.list_case_parties(a).await.unwrap(),
        [hospital.clone(), manager.clone()]
    );
    assert_eq!(
        conn.list_all_case_parties().await.unwrap(),
        [hospital, manager, hospital_b]
    );
    assert!(conn.list_case_parties(c).await.unwrap().is_empty());

    let mut snap = store.snapshot().await.unwrap();
    assert_eq!(snap.get_case(a).await.unwrap(), Some(moved));
    assert_eq!(snap.list_cases(by_worker).await.unwrap().len(), 2);
}

pub async fn documents_keep_finalised_versions_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = setup(&dir).await;
    let case = Uuid::from_u128(0xCA1);
    let doc_id = Uuid::from_u128(0xD1);
    let other_id = Uuid::from_u128(0xD2);

    let mut draft = DraftDocument::new(doc_id, FormKind::WorkInformation, FormVersion::V2026);
    let mut rec = DocumentRecord {
        id: doc_id,
        case_id: case,
        form: FormKind::WorkInformation,
        body: DocumentBody::Draft(draft.clone()),
        created_by: HR,
        created_at: at(1),
        updated_at: at(1),
        version: 1,
        withheld: Vec::new(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_case(&case_record(case, WORKER, EMPLOYER, T0))
        .await
        .unwrap();
    tx.insert_document(&rec).await.unwrap();

    // Edit the draft: stale versions lose.
    draft.answers = work_information_answers();
    rec.body = DocumentBody::Draft(draft.clone());
    rec.updated_at = at(2);
    assert!(!tx.update_document(&rec).await.unwrap());
    rec.version = 2;
    assert!(tx.update_document(&rec).await.unwrap());
    assert!(!tx.update_document(&rec).await.unwrap());
    assert_eq!(tx.get_document(doc_id).await.unwrap(), Some(rec.clone()));

    // Finalise it: the draft row becomes the 確定 version.
    let finalised = draft
        .finalise(
            WORKER,
            datetime!(2026-04-10 09:15:00.123456789 UTC),
            Attestation {
                signature_field: "worker_confirmation".into(),
                party: Party::Worker,
            },
        )
        .unwrap();
    rec.body = DocumentBody::Finalised(finalised.clone());
    rec.updated_at = at(3);
    rec.version = 3;
    assert!(tx.update_document(&rec).await.unwrap());
    let stored = tx.get_document(doc_id).await.unwrap().unwrap();
    assert_eq!(stored, rec);
    assert!(stored.is_finalised());

    // A finalised document never changes, even with the right next version.
    let mut again = rec.clone();
    again.version = 4;
    again.updated_at = at(4);
    again.body = DocumentBody::Draft(draft.clone());
    assert!(!tx.update_document(&again).await.unwrap());
    again.body = DocumentBody::Finalised(finalised.clone());
    assert!(!tx.update_document(&again).await.unwrap());
    assert_eq!(tx.get_document(doc_id).await.unwrap(), Some(rec.clone()));

    // A correction is a new document.
    let correction = DocumentRecord {
        id: other_id,
        body: DocumentBody::Draft(DraftDocument::correction_of(&finalised, other_id)),
        created_at: at(5),
        updated_at: at(5),
        version: 1,
        ..rec.clone()
    };
    tx.insert_document(&correction).await.unwrap();
    assert!(matches!(
        tx.insert_document(&correction).await,
        Err(StoreError::Conflict(_))
    ));
    tx.commit().await.unwrap();

    let mut conn = store.read().await.unwrap();
    assert_eq!(
        conn.list_documents(case).await.unwrap(),
        [rec.clone(), correction.clone()]
    );
    assert_eq!(conn.list_all_documents().await.unwrap().len(), 2);
    assert!(
        conn.list_documents(Uuid::from_u128(9))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(conn.get_document(Uuid::from_u128(9)).await.unwrap(), None);
    let mut snap = store.snapshot().await.unwrap();
    let back = snap.get_document(doc_id).await.unwrap().unwrap();
    match back.body {
        DocumentBody::Finalised(f) => {
            assert_eq!(f, finalised);
            assert_eq!(f.confirmed_at().nanosecond(), 123_456_000);
        }
        DocumentBody::Draft(_) => panic!("the finalised body came back as a draft"),
    }

    // The columns lists filter on repeat the body: stage and revision.
    let matching = store
        .try_raw(
            "UPDATE documents SET stage = stage WHERE stage = 'finalised' AND revision = 1 \
             AND form = 'work_information' AND id = x'000000000000000000000000000000D1'",
        )
        .await
        .unwrap();
    assert_eq!(matching, 1);
}

pub async fn events_and_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let store = setup(&dir).await;
    let case = Uuid::from_u128(0xCA1);
    let other_case = Uuid::from_u128(0xCA2);

    let step = serde_json::to_value(Step::ConfirmWorkInformation {
        by: Confirmer::Worker,
    })
    .unwrap();
    let e1 = CaseEventRecord {
        id: Uuid::from_u128(0xE1E),
        case_id: case,
        step: serde_json::to_value(Step::FileRequest).unwrap(),
        actor: WORKER,
        actor_role: Role::Worker,
        from_status: CaseStatus::NotRequested,
        to_status: CaseStatus::Requested,
        at: at(1),
    };
    let e2 = CaseEventRecord {
        id: Uuid::from_u128(0xE2E),
        step: step.clone(),
        from_status: CaseStatus::WorkInformationDrafting,
        to_status: CaseStatus::WorkInformationConfirming,
        at: at(2),
        ..e1.clone()
    };
    let e3 = CaseEventRecord {
        id: Uuid::from_u128(0xE3E),
        case_id: other_case,
        at: at(0),
        ..e1.clone()
    };

    let task = |id: u128, case_id: Uuid, kind: TaskKind, org: Uuid, opened: i64| TaskRecord {
        id: Uuid::from_u128(id),
        case_id,
        kind,
        assignee_role: Role::HrOfficer,
        assignee_organisation: org,
        due: date!(2026 - 04 - 08),
        opened_at: at(opened),
        closed_at: None,
    };
    let draft = task(0x71, case, TaskKind::DraftWorkInformation, EMPLOYER, 1);
    let confirm = task(
        0x72,
        case,
        TaskKind::ConfirmWorkInformationEmployer,
        EMPLOYER,
        2,
    );
    let opinion = TaskRecord {
        assignee_role: Role::AttendingPhysician,
        due: date!(2026 - 12 - 31),
        ..task(0x73, case, TaskKind::OpinionPending, HOSPITAL, 3)
    };
    let elsewhere = task(
        0x74,
        other_case,
        TaskKind::DraftWorkInformation,
        EMPLOYER,
        4,
    );
    let already_closed = TaskRecord {
        closed_at: Some(at(5)),
        ..task(0x75, case, TaskKind::FollowUpMeeting, EMPLOYER, 0)
    };

    let mut tx = store.begin().await.unwrap();
    tx.insert_case(&case_record(case, WORKER, EMPLOYER, T0))
        .await
        .unwrap();
    tx.insert_case(&case_record(other_case, OTHER_WORKER, EMPLOYER, T0))
        .await
        .unwrap();
    for e in [&e2, &e1, &e3] {
        tx.insert_case_event(e).await.unwrap();
    }
    for t in [&draft, &confirm, &opinion, &elsewhere, &already_closed] {
        tx.insert_task(t).await.unwrap();
    }

    // Closes only open tasks of the given kinds, on the given case.
    let closed = tx
        .close_tasks(
            case,
            &[
                TaskKind::DraftWorkInformation,
                TaskKind::FollowUpMeeting,
                TaskKind::ReviewDue,
            ],
            at(10),
        )
        .await
        .unwrap();
    assert_eq!(closed, 1);
    assert_eq!(tx.close_tasks(case, &[], at(10)).await.unwrap(), 0);
    assert_eq!(
        tx.close_tasks(case, &[TaskKind::DraftWorkInformation], at(11))
            .await
            .unwrap(),
        0,
        "already closed"
    );
    tx.commit().await.unwrap();

    let mut conn = store.read().await.unwrap();
    assert_eq!(
        conn.list_case_events(case).await.unwrap(),
        [e1.clone(), e2.clone()]
    );
    assert_eq!(
        conn.list_all_case_events().await.unwrap(),
        [e3.clone(), e1, e2.clone()]
    );
    let back = conn.list_case_events(case).await.unwrap();
    assert_eq!(back[1].step, step);
    let parsed: Step = serde_json::from_value(back[1].step.clone()).unwrap();
    assert_eq!(
        parsed,
        Step::ConfirmWorkInformation {
            by: Confirmer::Worker
        }
    );

    let draft_closed = TaskRecord {
        closed_at: Some(at(10)),
        ..draft
    };
    let ids = |v: Vec<TaskRecord>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();
    let all = conn.list_all_tasks().await.unwrap();
    assert_eq!(
        all,
        [
            already_closed.clone(),
            draft_closed.clone(),
            confirm.clone(),
            opinion.clone(),
            elsewhere.clone()
        ]
    );
    let of_case = TaskFilter {
        case,
        open_only: false,
    };
    assert_eq!(
        ids(conn.list_tasks(of_case).await.unwrap()),
        [already_closed.id, draft_closed.id, confirm.id, opinion.id]
    );
    let open_of_case = TaskFilter {
        open_only: true,
        ..of_case
    };
    assert_eq!(
        ids(conn.list_tasks(open_of_case).await.unwrap()),
        [confirm.id, opinion.id]
    );
    let open_elsewhere = TaskFilter {
        case: elsewhere.case_id,
        open_only: true,
    };
    assert_eq!(
        ids(conn.list_tasks(open_elsewhere).await.unwrap()),
        [elsewhere.id]
    );
    let hospital_tasks: Vec<TaskRecord> = conn
        .list_tasks(open_of_case)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.assignee_organisation == HOSPITAL)
        .collect();
    assert_eq!(hospital_tasks, [opinion]);
    assert_eq!(hospital_tasks[0].due, date!(2026 - 12 - 31));
}

pub async fn consents_and_append_only_disclosures() {
    let dir = tempfile::tempdir().unwrap();
    let store = setup(&dir).await;
    let case = Uuid::from_u128(0xCA1);
    let other_case = Uuid::from_u128(0xCA2);

    let first = consent(Uuid::from_u128(0xC1), case, at(1));
    let mut narrowed = consent(Uuid::from_u128(0xC2), case, at(2));
    narrowed.recipient.person = Some(HR);
    narrowed.expires_at = None;
    let other = Consent {
        id: Uuid::from_u128(0xC3),
        case: other_case,
        worker: OTHER_WORKER,
        ..consent(Uuid::from_u128(0xC3), other_case, at(0))
    };
    let provision = DisclosureRecord::record(
        Uuid::from_u128(0xD15),
        &first,
        HOSPITAL,
        [InformationCategory::Medical].into(),
        DisclosedDocument {
            kind: "continuation_opinion".into(),
            id: Uuid::from_u128(0xD0C),
        },
        at(3),
    )
    .unwrap();
    let earlier = DisclosureRecord::record(
        Uuid::from_u128(0xD16),
        &other,
        HOSPITAL,
        [
            InformationCategory::Medical,
            InformationCategory::WorkMeasures,
        ]
        .into(),
        DisclosedDocument {
            kind: "work_information".into(),
            id: Uuid::from_u128(0xD0D),
        },
        at(1),
    )
    .unwrap();

    let mut tx = store.begin().await.unwrap();
    tx.insert_case(&case_record(case, WORKER, EMPLOYER, T0))
        .await
        .unwrap();
    tx.insert_case(&case_record(other_case, OTHER_WORKER, EMPLOYER, T0))
        .await
        .unwrap();
    for c in [&narrowed, &first, &other] {
        tx.insert_consent(c).await.unwrap();
    }
    assert!(tx.withdraw_consent(first.id, at(20)).await.unwrap());
    assert!(
        !tx.withdraw_consent(first.id, at(30)).await.unwrap(),
        "a withdrawal is never moved"
    );
    assert!(
        !tx.withdraw_consent(Uuid::from_u128(0xDEAD), at(30))
            .await
            .unwrap()
    );
    tx.insert_disclosure(&provision).await.unwrap();
    tx.insert_disclosure(&earlier).await.unwrap();
    // A provision must rest on a stored consent.
    let orphan = DisclosureRecord {
        id: Uuid::from_u128(0xD17),
        consent: Uuid::from_u128(0xBAD),
        ..provision.clone()
    };
    assert!(matches!(
        tx.insert_disclosure(&orphan).await,
        Err(StoreError::Conflict(_))
    ));
    tx.commit().await.unwrap();

    let mut first_withdrawn = first.clone();
    first_withdrawn.withdraw(at(20));
    let mut conn = store.read().await.unwrap();
    assert_eq!(
        conn.list_consents(case).await.unwrap(),
        [first_withdrawn.clone(), narrowed.clone()]
    );
    assert_eq!(
        conn.list_all_consents().await.unwrap(),
        [other.clone(), first_withdrawn.clone(), narrowed.clone()]
    );
    assert_eq!(
        conn.list_consents_of_worker(OTHER_WORKER).await.unwrap(),
        std::slice::from_ref(&other)
    );
    assert_eq!(
        conn.list_consents_of_worker(WORKER).await.unwrap(),
        [first_withdrawn.clone(), narrowed.clone()]
    );
    let back = &conn.list_consents_of_worker(WORKER).await.unwrap()[1];
    assert_eq!(back.recipient.person, Some(HR));
    assert_eq!(back.granted_at, at(2));
    assert_eq!(back.categories.len(), 2);

    assert_eq!(
        conn.list_all_disclosures().await.unwrap(),
        [earlier.clone(), provision.clone()]
    );
    assert_eq!(
        conn.list_disclosures(case).await.unwrap(),
        std::slice::from_ref(&provision)
    );
    assert_eq!(
        conn.list_disclosures_of_worker(OTHER_WORKER).await.unwrap(),
        std::slice::from_ref(&earlier)
    );

    // 第三者提供記録 are append-only.
    let update = store
        .try_raw("UPDATE disclosures SET to_role = 'hr_officer'")
        .await;
    assert!(
        update.as_ref().is_err_and(|e| e.contains("append-only")),
        "{update:?}"
    );
    let delete = store.try_raw("DELETE FROM disclosures").await;
    assert!(
        delete.as_ref().is_err_and(|e| e.contains("append-only")),
        "{delete:?}"
    );
    // The consent they rest on cannot be deleted from under them either.
    assert!(store.try_raw("DELETE FROM consents").await.is_err());
    let mut snap = store.snapshot().await.unwrap();
    assert_eq!(
        snap.list_all_disclosures().await.unwrap(),
        [earlier, provision]
    );
    assert_eq!(snap.list_all_consents().await.unwrap().len(), 3);
}

pub async fn handling_rules_are_versioned_per_employer() {
    let dir = tempfile::tempdir().unwrap();
    let store = setup(&dir).await;

    let mut rules = HandlingRules::defaults(EMPLOYER);
    let v1 = HandlingRulesRecord {
        rules: rules.clone(),
        updated_by: HR,
        updated_at: at(1),
        version: 1,
    };
    let other = HandlingRulesRecord {
        rules: HandlingRules::defaults(OTHER_EMPLOYER),
        ..v1.clone()
    };
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_handling_rules(EMPLOYER).await.unwrap(), None);
    assert!(tx.put_handling_rules(&v1).await.unwrap());
    assert!(
        !tx.put_handling_rules(&v1).await.unwrap(),
        "version 1 again"
    );
    assert!(tx.put_handling_rules(&other).await.unwrap());

    rules
        .grants
        .get_mut(&Role::LineManager)
        .unwrap()
        .insert(InformationCategory::WorkMeasures, Access::WithConsent);
    let v2 = HandlingRulesRecord {
        rules: rules.clone(),
        updated_by: MANAGER,
        updated_at: at(2),
        version: 2,
    };
    let v3 = HandlingRulesRecord {
        version: 3,
        ..v2.clone()
    };
    assert!(
        !tx.put_handling_rules(&v3).await.unwrap(),
        "skipping a version"
    );
    assert!(tx.put_handling_rules(&v2).await.unwrap());
    assert!(!tx.put_handling_rules(&v2).await.unwrap(), "stale");
    // Rules for an unknown employer are refused by the foreign key.
    let unknown = HandlingRulesRecord {
        rules: HandlingRules::defaults(Uuid::from_u128(0xBAD)),
        ..v1.clone()
    };
    assert!(matches!(
        tx.put_handling_rules(&unknown).await,
        Err(StoreError::Conflict(_))
    ));
    tx.commit().await.unwrap();

    let mut conn = store.read().await.unwrap();
    let got = conn.get_handling_rules(EMPLOYER).await.unwrap().unwrap();
    assert_eq!(got, v2);
    assert_eq!(
        got.rules
            .stated(Role::LineManager, InformationCategory::WorkMeasures),
        Access::WithConsent
    );
    assert_eq!(
        conn.list_handling_rules().await.unwrap(),
        [v2.clone(), other],
        "by employer id"
    );
    let mut snap = store.snapshot().await.unwrap();
    assert_eq!(snap.get_handling_rules(EMPLOYER).await.unwrap(), Some(v2));
    assert_eq!(
        snap.get_handling_rules(Uuid::from_u128(0xBAD))
            .await
            .unwrap(),
        None
    );
}

pub async fn consultation_notes_round_trip_and_are_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = setup(&dir).await;
    let case = Uuid::from_u128(0xCA1);
    let other_case = Uuid::from_u128(0xCA2);
    let coordinator = Uuid::from_u128(0x05);

    let first = ConsultationNoteRecord {
        id: Uuid::from_u128(0x4E2),
        case_id: case,
        author: coordinator,
        author_role: Role::HospitalCoordinator,
        organisation_id: HOSPITAL,
        body: "本人と面談。\n通院は月2回（平日午前）、残業は当面なしを希望。".into(),
        created_at: at(1),
    };
    let later = ConsultationNoteRecord {
        id: Uuid::from_u128(0x4E1),
        author: HR,
        author_role: Role::HrOfficer,
        organisation_id: EMPLOYER,
        body: "上司と配置について相談".into(),
        created_at: at(2),
        ..first.clone()
    };
    // The same time as `first` on another case, with a smaller id: ties go by id.
    let elsewhere = ConsultationNoteRecord {
        id: Uuid::from_u128(0x4E0),
        case_id: other_case,
        created_at: at(1),
        ..later.clone()
    };

    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&user(coordinator, "coordinator"))
        .await
        .unwrap();
    tx.insert_case(&case_record(case, WORKER, EMPLOYER, T0))
        .await
        .unwrap();
    tx.insert_case(&case_record(other_case, OTHER_WORKER, EMPLOYER, T0))
        .await
        .unwrap();
    for n in [&later, &first, &elsewhere] {
        tx.insert_consultation_note(n).await.unwrap();
    }
    assert!(matches!(
        tx.insert_consultation_note(&first).await,
        Err(StoreError::Conflict(_))
    ));
    // A note must name a stored case.
    assert!(matches!(
        tx.insert_consultation_note(&ConsultationNoteRecord {
            id: Uuid::from_u128(0x4E9),
            case_id: Uuid::from_u128(0xBAD),
            ..first.clone()
        })
        .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        tx.list_consultation_notes(case).await.unwrap(),
        [first.clone(), later.clone()]
    );
    tx.commit().await.unwrap();

    let mut conn = store.read().await.unwrap();
    assert_eq!(
        conn.list_consultation_notes(case).await.unwrap(),
        [first.clone(), later.clone()]
    );
    assert_eq!(
        conn.list_all_consultation_notes().await.unwrap(),
        [elsewhere.clone(), first.clone(), later.clone()]
    );
    assert!(
        conn.list_consultation_notes(Uuid::from_u128(9))
            .await
            .unwrap()
            .is_empty()
    );
    drop(conn);

    // A note is kept as written.
    let update = store
        .try_raw("UPDATE consultation_notes SET body = 'rewritten'")
        .await;
    assert!(
        update.as_ref().is_err_and(|e| e.contains("append-only")),
        "{update:?}"
    );
    let delete = store.try_raw("DELETE FROM consultation_notes").await;
    assert!(
        delete.as_ref().is_err_and(|e| e.contains("append-only")),
        "{delete:?}"
    );
    let mut snap = store.snapshot().await.unwrap();
    assert_eq!(
        snap.list_all_consultation_notes().await.unwrap(),
        [elsewhere, first, later]
    );
}

pub async fn a_rolled_back_transaction_leaves_no_case_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = setup(&dir).await;
    let case = Uuid::from_u128(0xCA1);
    let mut tx = store.begin().await.unwrap();
    tx.insert_case(&case_record(case, WORKER, EMPLOYER, T0))
        .await
        .unwrap();
    tx.insert_consent(&consent(Uuid::from_u128(0xC1), case, at(1)))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let mut conn = store.read().await.unwrap();
    assert_eq!(conn.get_case(case).await.unwrap(), None);
    assert!(conn.list_all_consents().await.unwrap().is_empty());
}

/// Every flow, one after another (for the plan test; `tests/cases.rs` runs each alone).
#[allow(dead_code)]
pub async fn all() {
    cases_and_parties_round_trip_and_filter().await;
    documents_keep_finalised_versions_unchanged().await;
    events_and_tasks().await;
    consents_and_append_only_disclosures().await;
    handling_rules_are_versioned_per_employer().await;
    consultation_notes_round_trip_and_are_append_only().await;
    a_rolled_back_transaction_leaves_no_case_rows().await;
}
