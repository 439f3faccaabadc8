//! Backup, restore and the canonical export.
//!
//! A backup is a logical copy taken in one read snapshot, so it is consistent while the
//! server keeps running, and it restores into either backend. The file is JSON lines: a
//! header, one line per row, and a trailer with the row count, so a cut-off file is
//! refused rather than half-restored.

use std::io::{BufRead, Write};

use base64::Engine as _;
use ryoritsu_domain::audit::{AuditEvent, AuditRecord, ChainHead};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::App;
use crate::accounts::ports::AccountReads;
use crate::accounts::ports::AccountWrites;
use crate::accounts::ports::{
    InvitationRecord, LoginFailureRecord, MembershipRecord, OrganisationRecord, RecoveryCodeRecord,
    SessionRecord, UserRecord, WorkplaceRecord,
};
use crate::cases::attachment_ports::{AttachmentReads, AttachmentRecord, AttachmentWrites};
use crate::cases::correction_ports::{CorrectionReads, CorrectionRecord, CorrectionWrites};
use crate::cases::notice_ports::{NoticeReads, NoticeRecord, NoticeWrites};
use crate::cases::ports::{
    CaseEventRecord, CasePartyRecord, CaseReads, CaseRecord, CaseWrites, ConsultationNoteRecord,
    DocumentRecord, HandlingRulesRecord, ShareCodeRecord, TaskRecord,
};
use crate::cases::support_task_ports::{SupportTaskReads, SupportTaskRecord, SupportTaskWrites};
use crate::error::{AppError, StoreError};
use crate::ports::{IdempotencyRecord, ReadRepo, SettingRecord, Store, WriteRepo};
use ryoritsu_domain::consent::{Consent, DisclosureRecord};

pub const FORMAT: &str = "ryoritsu-backup";
pub const FORMAT_VERSION: u32 = 1;

/// A scan with its content, base64 in the JSON line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRow {
    pub record: AttachmentRecord,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i64,
    pub event: AuditEvent,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&AuditRecord> for AuditRow {
    fn from(r: &AuditRecord) -> Self {
        AuditRow {
            seq: r.seq,
            event: r.event.clone(),
            prev_hash: hex::encode(r.prev_hash),
            hash: hex::encode(r.hash),
        }
    }
}

impl AuditRow {
    fn into_record(self) -> Option<AuditRecord> {
        Some(AuditRecord {
            seq: self.seq,
            event: self.event,
            prev_hash: hex::decode(self.prev_hash).ok()?.try_into().ok()?,
            hash: hex::decode(self.hash).ok()?.try_into().ok()?,
        })
    }
}

/// Everything the database holds, in a fixed order. An empty table may be absent from a
/// backup file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dataset {
    pub settings: Vec<SettingRecord>,
    pub organisations: Vec<OrganisationRecord>,
    pub workplaces: Vec<WorkplaceRecord>,
    pub users: Vec<UserRecord>,
    pub memberships: Vec<MembershipRecord>,
    pub invitations: Vec<InvitationRecord>,
    pub sessions: Vec<SessionRecord>,
    pub recovery_codes: Vec<RecoveryCodeRecord>,
    pub login_failures: Vec<LoginFailureRecord>,
    pub idempotency: Vec<IdempotencyRecord>,
    pub handling_rules: Vec<HandlingRulesRecord>,
    pub cases: Vec<CaseRecord>,
    pub case_parties: Vec<CasePartyRecord>,
    pub documents: Vec<DocumentRecord>,
    pub case_events: Vec<CaseEventRecord>,
    pub tasks: Vec<TaskRecord>,
    pub consents: Vec<Consent>,
    pub disclosures: Vec<DisclosureRecord>,
    pub share_codes: Vec<ShareCodeRecord>,
    pub consultation_notes: Vec<ConsultationNoteRecord>,
    pub correction_requests: Vec<CorrectionRecord>,
    pub support_tasks: Vec<SupportTaskRecord>,
    /// 両立支援指導 sessions, every version.
    pub guidance_sessions: Vec<ryoritsu_domain::guidance::GuidanceSession>,
    pub facility_standards: Vec<ryoritsu_domain::guidance::FacilityStandardsRecord>,
    pub notices: Vec<NoticeRecord>,
    pub attachments: Vec<AttachmentRow>,
    /// Readings (フリガナ) of users' names. The search index is derived and not kept: a
    /// restore rebuilds it.
    pub user_readings: Vec<crate::accounts::ports::UserReadingRecord>,
    pub audit: Vec<AuditRow>,
}

impl Dataset {
    pub fn rows(&self) -> usize {
        self.settings.len()
            + self.organisations.len()
            + self.workplaces.len()
            + self.users.len()
            + self.memberships.len()
            + self.invitations.len()
            + self.sessions.len()
            + self.recovery_codes.len()
            + self.login_failures.len()
            + self.idempotency.len()
            + self.handling_rules.len()
            + self.cases.len()
            + self.case_parties.len()
            + self.documents.len()
            + self.case_events.len()
            + self.tasks.len()
            + self.consents.len()
            + self.disclosures.len()
            + self.share_codes.len()
            + self.consultation_notes.len()
            + self.correction_requests.len()
            + self.support_tasks.len()
            + self.guidance_sessions.len()
            + self.facility_standards.len()
            + self.notices.len()
            + self.attachments.len()
            + self.user_readings.len()
            + self.audit.len()
    }

    /// Sorted so that two stores with the same content give the same value.
    fn sort(&mut self) {
        self.settings.sort_by(|a, b| a.name.cmp(&b.name));
        self.organisations.sort_by_key(|r| r.id);
        self.workplaces.sort_by_key(|r| r.id);
        self.users.sort_by_key(|r| r.id);
        self.user_readings.sort_by_key(|r| r.user_id);
        self.memberships.sort_by_key(|r| r.id);
        self.invitations.sort_by_key(|r| r.id);
        self.sessions.sort_by(|a, b| a.id_hash.cmp(&b.id_hash));
        self.recovery_codes
            .sort_by(|a, b| (a.user_id, &a.digest).cmp(&(b.user_id, &b.digest)));
        self.login_failures
            .sort_by(|a, b| (&a.key, a.at).cmp(&(&b.key, b.at)));
        self.idempotency
            .sort_by(|a, b| (&a.scope, &a.key).cmp(&(&b.scope, &b.key)));
        self.handling_rules.sort_by_key(|r| r.rules.employer);
        self.cases.sort_by_key(|r| r.id);
        self.case_parties.sort_by(|a, b| {
            (a.case_id, a.kind, a.organisation_id, a.user_id).cmp(&(
                b.case_id,
                b.kind,
                b.organisation_id,
                b.user_id,
            ))
        });
        self.documents.sort_by_key(|r| r.id);
        self.case_events.sort_by_key(|r| r.id);
        self.tasks.sort_by_key(|r| r.id);
        self.consents.sort_by_key(|r| r.id);
        self.disclosures.sort_by_key(|r| r.id);
        self.share_codes
            .sort_by(|a, b| a.code_hash.cmp(&b.code_hash));
        self.consultation_notes.sort_by_key(|r| r.id);
        self.correction_requests.sort_by_key(|r| r.request.id);
        self.support_tasks.sort_by_key(|r| r.task.id);
        self.guidance_sessions.sort_by_key(|r| (r.id, r.version));
        self.facility_standards.sort_by_key(|r| r.id);
        self.notices.sort_by_key(|r| r.id);
        self.attachments.sort_by_key(|r| r.record.id);
        self.audit.sort_by_key(|r| r.seq);
    }

    /// The canonical export: one JSON value, tables in a fixed order, rows sorted.
    pub fn canonical(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The canonical export with values that come from randomness (salts, tokens) blanked,
    /// for comparing two runs of the same story.
    pub fn canonical_without_random(&self) -> Value {
        let mut d = self.clone();
        for u in &mut d.users {
            u.password_hash = "*".into();
            u.totp_secret = u.totp_secret.as_ref().map(|_| Vec::new());
            u.totp_pending_secret = u.totp_pending_secret.as_ref().map(|_| Vec::new());
        }
        for i in &mut d.invitations {
            i.token_hash = "*".into();
        }
        for c in &mut d.share_codes {
            c.code_hash = "*".into();
        }
        d.sessions.clear();
        d.recovery_codes.clear();
        for s in &mut d.settings {
            s.value = "*".into();
        }
        for a in &mut d.audit {
            a.prev_hash = "*".into();
            a.hash = "*".into();
            if a.event
                .target
                .as_deref()
                .is_some_and(|t| t.starts_with("session:"))
            {
                a.event.target = Some("session:*".into());
            }
        }
        d.canonical()
    }
}

pub async fn read_dataset<
    R: ReadRepo
        + crate::accounts::ports::AccountReads
        + CaseReads
        + CorrectionReads
        + NoticeReads
        + AttachmentReads
        + SupportTaskReads
        + crate::search::ports::SearchReads
        + crate::hospital::ports::GuidanceReads,
>(
    c: &mut R,
) -> Result<Dataset, AppError> {
    let mut d = Dataset {
        settings: c.list_settings().await?,
        organisations: c.list_organisations().await?,
        workplaces: c.list_all_workplaces().await?,
        users: c.list_users().await?,
        memberships: c.list_all_memberships().await?,
        invitations: c.list_all_invitations().await?,
        sessions: c.list_all_sessions().await?,
        recovery_codes: c.list_all_recovery_codes().await?,
        login_failures: c.list_login_failures().await?,
        idempotency: c.list_idempotency().await?,
        handling_rules: c.list_handling_rules().await?,
        cases: c.list_all_cases().await?,
        case_parties: c.list_all_case_parties().await?,
        documents: c.list_all_documents().await?,
        case_events: c.list_all_case_events().await?,
        tasks: c.list_all_tasks().await?,
        consents: c.list_all_consents().await?,
        disclosures: c.list_all_disclosures().await?,
        share_codes: c.list_all_share_codes().await?,
        consultation_notes: c.list_all_consultation_notes().await?,
        correction_requests: c.list_all_correction_requests().await?,
        support_tasks: c.list_all_support_tasks().await?,
        guidance_sessions: c.list_all_guidance_versions().await?,
        facility_standards: c.list_all_facility_standards().await?,
        notices: c.list_notices().await?,
        attachments: Vec::new(),
        user_readings: c.list_user_readings().await?,
        audit: Vec::new(),
    };
    for record in c.list_all_attachments().await? {
        let content = c.attachment_content(record.id).await?.ok_or_else(|| {
            AppError::Internal(format!("attachment {} has no content", record.id))
        })?;
        d.attachments.push(AttachmentRow {
            record,
            content: base64::engine::general_purpose::STANDARD.encode(content),
        });
    }
    let mut after = 0;
    loop {
        let rows = c.audit_records(after, 10_000).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        d.audit.extend(rows.iter().map(AuditRow::from));
    }
    d.sort();
    Ok(d)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    schema: Vec<i64>,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    created_at: time::OffsetDateTime,
    audit_head: String,
}

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(format!("io: {e}"))
}

fn bad_file(what: &str) -> AppError {
    AppError::Invalid(
        ryoritsu_domain::FieldError::new(
            "backup",
            "format",
            format!("バックアップファイルを読み込めません（{what}）。"),
        )
        .into(),
    )
}

impl<S: Store> App<S> {
    /// Everything, read in one snapshot.
    pub async fn export_dataset(&self) -> Result<Dataset, AppError> {
        read_dataset(&mut self.store.snapshot().await?).await
    }

    /// Writes a consistent copy of the whole database; returns the rows written.
    pub async fn backup<W: Write>(&self, out: &mut W) -> Result<usize, AppError> {
        let schema = self.store.schema_status().await?.applied;
        let mut snap = self.store.snapshot().await?;
        let head = snap.audit_head().await?;
        let data = read_dataset(&mut snap).await?;
        drop(snap);
        let header = Header {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            schema,
            created_at: self.now(),
            audit_head: head.to_text(),
        };
        let line = |w: &mut W, v: &Value| -> Result<(), AppError> {
            serde_json::to_writer(&mut *w, v).map_err(|e| AppError::Internal(e.to_string()))?;
            w.write_all(b"\n").map_err(io)
        };
        line(
            out,
            &serde_json::to_value(&header).map_err(|e| AppError::Internal(e.to_string()))?,
        )?;
        let Value::Object(tables) = data.canonical() else {
            return Err(AppError::Internal("dataset is not an object".into()));
        };
        let mut rows = 0;
        for (table, v) in tables {
            if let Value::Array(items) = v {
                for row in items {
                    line(out, &json!({ "table": table, "row": row }))?;
                    rows += 1;
                }
            }
        }
        line(out, &json!({ "end": true, "rows": rows }))?;
        out.flush().map_err(io)?;
        Ok(rows)
    }

    /// Loads a backup into an empty database in one transaction, then verifies the audit
    /// chain. Refuses a database that holds anything.
    pub async fn restore<R: BufRead>(&self, input: R) -> Result<usize, AppError> {
        let mut lines = input.lines();
        let header: Header = match lines.next() {
            Some(l) => serde_json::from_str(&l.map_err(io)?).map_err(|_| bad_file("見出し行"))?,
            None => return Err(bad_file("空のファイル")),
        };
        if header.format != FORMAT || header.version != FORMAT_VERSION {
            return Err(bad_file("形式または版が違います"));
        }
        let known = self.store.schema_status().await?.known;
        if let Some(v) = header.schema.iter().find(|v| !known.contains(v)) {
            return Err(bad_file(&format!(
                "このプログラムより新しいスキーマ {v} のバックアップです"
            )));
        }
        let expected_head =
            ChainHead::parse(&header.audit_head).ok_or_else(|| bad_file("監査ログのヘッド"))?;
        let mut tables: serde_json::Map<String, Value> = serde_json::Map::new();
        let mut count = 0usize;
        let mut ended = false;
        for l in lines {
            let l = l.map_err(io)?;
            let v: Value = serde_json::from_str(&l).map_err(|_| bad_file("行の形式"))?;
            if v.get("end").is_some() {
                let n = v.get("rows").and_then(Value::as_u64).unwrap_or(u64::MAX);
                if usize::try_from(n).ok() != Some(count) {
                    return Err(bad_file("行数が一致しません"));
                }
                ended = true;
                break;
            }
            let (Some(Value::String(t)), Some(row)) = (v.get("table"), v.get("row")) else {
                return Err(bad_file("行の形式"));
            };
            if let Value::Array(a) = tables
                .entry(t.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                a.push(row.clone());
            }
            count += 1;
        }
        if !ended {
            return Err(bad_file("ファイルが途中で切れています"));
        }
        let data: Dataset =
            serde_json::from_value(Value::Object(tables)).map_err(|e| bad_file(&e.to_string()))?;
        let mut audit = Vec::with_capacity(data.audit.len());
        for a in data.audit.clone() {
            audit.push(a.into_record().ok_or_else(|| bad_file("監査ログの行"))?);
        }
        {
            let mut c = self.store.read().await?;
            if c.count_users().await? > 0
                || !c.list_organisations().await?.is_empty()
                || c.audit_head().await?.seq > 0
            {
                return Err(AppError::Conflict("not_empty"));
            }
        }
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    for s in &data.settings {
                        tx.put_setting(&s.name, &s.value).await?;
                    }
                    for o in &data.organisations {
                        tx.insert_organisation(o).await?;
                    }
                    for w in &data.workplaces {
                        tx.insert_workplace(w).await?;
                    }
                    for u in &data.users {
                        tx.insert_user(u).await?;
                    }
                    for m in &data.memberships {
                        tx.insert_membership(m).await?;
                    }
                    for i in &data.invitations {
                        tx.insert_invitation(i).await?;
                    }
                    for s in &data.sessions {
                        tx.insert_session(s).await?;
                    }
                    let mut by_user: std::collections::BTreeMap<
                        uuid::Uuid,
                        Vec<RecoveryCodeRecord>,
                    > = std::collections::BTreeMap::new();
                    for r in &data.recovery_codes {
                        by_user.entry(r.user_id).or_default().push(r.clone());
                    }
                    for (u, codes) in by_user {
                        tx.replace_recovery_codes(u, &codes).await?;
                    }
                    for f in &data.login_failures {
                        tx.insert_login_failure(f).await?;
                    }
                    for i in &data.idempotency {
                        tx.insert_idempotency(i).await?;
                    }
                    for r in &data.handling_rules {
                        if !tx.put_handling_rules(r).await? {
                            return Err(bad_file("取扱規程の版"));
                        }
                    }
                    for c in &data.cases {
                        tx.insert_case(c).await?;
                    }
                    for p in &data.case_parties {
                        tx.insert_case_party(p).await?;
                    }
                    for d in &data.documents {
                        tx.insert_document(d).await?;
                    }
                    for e in &data.case_events {
                        tx.insert_case_event(e).await?;
                    }
                    for t in &data.tasks {
                        tx.insert_task(t).await?;
                    }
                    for c in &data.consents {
                        tx.insert_consent(c).await?;
                    }
                    for d in &data.disclosures {
                        tx.insert_disclosure(d).await?;
                    }
                    for c in &data.share_codes {
                        tx.insert_share_code(c).await?;
                    }
                    for n in &data.consultation_notes {
                        tx.insert_consultation_note(n).await?;
                    }
                    for r in &data.correction_requests {
                        tx.insert_correction_request(r).await?;
                    }
                    for t in &data.support_tasks {
                        tx.insert_support_task(t).await?;
                    }
                    for g in &data.guidance_sessions {
                        crate::hospital::ports::GuidanceWrites::insert_guidance_version(tx, g)
                            .await?;
                    }
                    for f in &data.facility_standards {
                        crate::hospital::ports::GuidanceWrites::insert_facility_standards(tx, f)
                            .await?;
                    }
                    for n in &data.notices {
                        tx.insert_notice(n).await?;
                    }
                    for a in &data.attachments {
                        let content = base64::engine::general_purpose::STANDARD
                            .decode(&a.content)
                            .map_err(|_| bad_file("添付ファイルの内容"))?;
                        tx.insert_attachment(&a.record, &content).await?;
                    }
                    for r in &data.user_readings {
                        crate::accounts::ports::AccountWrites::set_user_reading(
                            tx,
                            r.user_id,
                            Some(&r.reading),
                        )
                        .await?;
                    }
                    // The search index is derived data: rebuilt from what was restored.
                    crate::cases::rebuild_access(tx).await?;
                    crate::cases::search_index::rebuild_index(tx).await?;
                    for r in &audit {
                        tx.restore_audit_record(r).await?;
                    }
                    match crate::audit::verify_chain(tx, Some(expected_head)).await? {
                        Ok(_) => Ok(()),
                        Err(b) => Err(bad_file(&format!("監査ログの検証に失敗しました: {b}"))),
                    }
                })
            })
            .await
            .map_err(|e| match e {
                AppError::Store(StoreError::Conflict(c)) => {
                    bad_file(&format!("重複する行があります: {c}"))
                }
                other => other,
            })?;
        Ok(count)
    }
}
