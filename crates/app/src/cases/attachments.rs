//! Paper stays possible: the worker uploads a scan of what the physician wrote on paper, and
//! the employer's staff who handle health information transcribe it into the form.
//!
//! A scan belongs to the category of the form it is a scan of, so the same consent and
//! 取扱規程 decide who sees it as decide who sees the form; every opening of one is audited
//! and shows in the worker's access log.

use crate::search::ports::SearchWrites as _;
use ryoritsu_domain::attachment::check_scan;
use ryoritsu_domain::audit::AuditAction;
use ryoritsu_domain::case::{PaperOriginals, TaskKind};
use ryoritsu_domain::forms::{DraftDocument, FormKind, FormVersion};
use ryoritsu_domain::org::Role;
use ryoritsu_domain::policy::{Action, Denial, decide_case};
use uuid::Uuid;

use crate::accounts::Authenticated;
use crate::cases::attachment_ports::{AttachmentReads, AttachmentRecord, AttachmentWrites};
use crate::cases::notice_ports::NoticeWrites;
use crate::cases::ports::{
    CaseReads, CaseWrites, DocumentBody, DocumentRecord, TaskFilter, TaskRecord,
};
use crate::error::AppError;
use crate::ports::{Store, WriteRepo};
use crate::{App, RequestContext};

/// Days the employer has to transcribe an uploaded opinion: the same working week.
pub const TRANSCRIPTION_DAYS: i64 = 7;

/// A scan's content with what is known about it.
#[derive(Debug, Clone)]
pub struct ScanContent {
    pub record: AttachmentRecord,
    pub content: Vec<u8>,
}

/// Which physician's documents of a case are confirmed transcriptions of paper, for the
/// state machine (see [`PaperOriginals`]).
/// The same, from the forms the store found transcribed ([`CaseReads::paper_original_forms`]).
///
/// [`CaseReads::paper_original_forms`]: crate::cases::ports::CaseReads::paper_original_forms
pub fn paper_originals_of(forms: &[FormKind]) -> PaperOriginals {
    let mut p = PaperOriginals::default();
    for f in forms {
        p.note(*f);
    }
    p
}

pub fn paper_originals(documents: &[DocumentRecord]) -> PaperOriginals {
    let mut p = PaperOriginals::default();
    for d in documents {
        if let DocumentBody::Finalised(f) = &d.body
            && f.transcribed_from().is_some()
        {
            p.note(d.form);
        }
    }
    p
}

impl<S: Store> App<S> {
    /// The worker uploads a scan of a paper form. The type is decided by the content; the
    /// employer's staff get a task to transcribe it.
    pub async fn upload_scan(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        case_id: Uuid,
        form: Option<FormKind>,
        file_name: &str,
        content: Vec<u8>,
    ) -> Result<AttachmentRecord, AppError> {
        let loaded = self.read_case(case_id).await?;
        let now = self.now();
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::UploadScan { case: case_id },
            now,
        )?;
        let checked = check_scan(form, file_name, &content)?;
        let record = AttachmentRecord {
            id: self.new_id(),
            case_id,
            form: checked.form,
            format: checked.format,
            file_name: checked.file_name,
            size: i64::try_from(checked.size).unwrap_or(i64::MAX),
            sha256: {
                use sha2::{Digest, Sha256};
                hex::encode(Sha256::digest(&content))
            },
            uploaded_by: auth.user.id,
            uploaded_at: now,
        };
        // One open transcription task per case covers every scan waiting for it.
        let open = self
            .store
            .read()
            .await?
            .list_tasks(TaskFilter {
                case: case_id,
                open_only: true,
            })
            .await?;
        let task = (!open.iter().any(|t| t.kind == TaskKind::TranscribeScan)).then(|| TaskRecord {
            id: self.new_id(),
            case_id,
            kind: TaskKind::TranscribeScan,
            assignee_role: Role::HrOfficer,
            assignee_organisation: loaded.case.employer_id,
            due: ryoritsu_domain::time_format::japan_date(now)
                + time::Duration::days(TRANSCRIPTION_DAYS),
            opened_at: now,
            closed_at: None,
        });
        let tasks: Vec<TaskRecord> = task.into_iter().collect();
        let notices = self.task_notices(&loaded, &tasks, auth.user.id).await?;
        let mut ev = self.case_event(
            ctx,
            auth,
            loaded.case.employer_id,
            AuditAction::ScanUploaded,
            case_id,
        );
        ev.category = Some(record.form.category());
        ev.target = Some(format!("attachment:{}", record.id));
        let r = record.clone();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_attachment(&r, &content).await?;
                    for t in &tasks {
                        tx.insert_task(t).await?;
                    }
                    for n in &notices {
                        tx.insert_notice(n).await?;
                    }
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(record)
    }

    /// The scans of a case the principal may see: those of a category they may view, and
    /// always the worker's own uploads.
    pub async fn list_scans(
        &self,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<Vec<AttachmentRecord>, AppError> {
        let (_, access) = self.case_access(auth, case_id).await?;
        let all = self.store.read().await?.list_attachments(case_id).await?;
        Ok(all
            .into_iter()
            .filter(|a| access.may_view(a.form.category()) || a.uploaded_by == auth.user.id)
            .collect())
    }

    /// How many scans of the case the principal may not open: the employer's staff are told
    /// that one waits for the worker's consent (their transcription task already says a scan
    /// exists), never what it is.
    pub async fn hidden_scan_count(
        &self,
        auth: &Authenticated,
        case_id: Uuid,
    ) -> Result<usize, AppError> {
        let (_, access) = self.case_access(auth, case_id).await?;
        let all = self.store.read().await?.list_attachments(case_id).await?;
        Ok(all
            .iter()
            .filter(|a| !(access.may_view(a.form.category()) || a.uploaded_by == auth.user.id))
            .count())
    }

    /// Opens one scan. The read is recorded before the content is returned (fail closed).
    pub async fn read_scan(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        id: Uuid,
    ) -> Result<ScanContent, AppError> {
        let record = self
            .store
            .read()
            .await?
            .get_attachment(id)
            .await?
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let (loaded, access) = self.case_access(auth, record.case_id).await?;
        let category = record.form.category();
        if !(access.may_view(category) || record.uploaded_by == auth.user.id) {
            return Err(AppError::Denied(Denial::Forbidden));
        }
        let content = self
            .store
            .read()
            .await?
            .attachment_content(id)
            .await?
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let mut ev = self.case_event(
            ctx,
            auth,
            loaded.case.employer_id,
            AuditAction::Read,
            record.case_id,
        );
        ev.category = Some(category);
        ev.target = Some(format!("attachment:{id}"));
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(ScanContent { record, content })
    }

    /// Starts (or resumes) the transcription of a scan into its form: a draft that points at
    /// the scan. Saving and confirming it are the usual document operations.
    pub async fn start_transcription(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        scan: Uuid,
        version: FormVersion,
    ) -> Result<DocumentRecord, AppError> {
        let record = self
            .store
            .read()
            .await?
            .get_attachment(scan)
            .await?
            .ok_or(AppError::Denied(Denial::NotFound))?;
        let loaded = self.read_case(record.case_id).await?;
        let now = self.now();
        decide_case(
            &auth.principal,
            &loaded.context,
            Action::TranscribeScan {
                case: record.case_id,
                category: record.form.category(),
            },
            now,
        )?;
        let documents = self
            .store
            .read()
            .await?
            .list_documents(record.case_id)
            .await?;
        let existing = documents.iter().find(|d| match &d.body {
            DocumentBody::Draft(x) => x.transcribed_from == Some(scan),
            DocumentBody::Finalised(_) => false,
        });
        if let Some(d) = existing {
            return Ok(d.clone());
        }
        let draft = DraftDocument::transcription_of(scan, self.new_id(), record.form, version);
        let doc = DocumentRecord {
            id: draft.id,
            case_id: record.case_id,
            form: record.form,
            body: DocumentBody::Draft(draft),
            created_by: auth.user.id,
            created_at: now,
            updated_at: now,
            version: 1,
            withheld: Vec::new(),
        };
        let mut ev = self.case_event(
            ctx,
            auth,
            loaded.case.employer_id,
            AuditAction::DocumentSaved,
            record.case_id,
        );
        ev.category = Some(record.form.category());
        ev.target = Some(format!("document:{}", doc.id));
        ev.purpose = Some(format!("transcription:{scan}"));
        let d = doc.clone();
        let rows = crate::cases::search_index::document_rows(&doc);
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_document(&d).await?;
                    for row in &rows {
                        tx.put_search_row(row).await?;
                    }
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(doc)
    }
}
