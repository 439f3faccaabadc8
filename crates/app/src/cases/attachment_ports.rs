//! The storage ports for scanned documents the worker uploads (紙の意見書など).
//!
//! A scan is kept exactly as uploaded and never changed or removed: it is the original the
//! transcription in the form was made from.

use std::future::Future;

use ryoritsu_domain::attachment::ScanFormat;
use ryoritsu_domain::forms::FormKind;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::StoreResult;

/// What is known about a scan, without its content (lists never load the bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    /// The paper form this is a scan of; its information category decides who may see it.
    pub form: FormKind,
    /// Decided from the content when it was uploaded.
    pub format: ScanFormat,
    /// Only a label for people.
    pub file_name: String,
    pub size: i64,
    /// SHA-256 of the content, hex: shows the original is the one uploaded.
    pub sha256: String,
    pub uploaded_by: Uuid,
    #[serde(with = "ryoritsu_domain::time_format::micros")]
    pub uploaded_at: OffsetDateTime,
}

pub trait AttachmentReads: Send {
    /// The scans of one case, oldest first.
    fn list_attachments(
        &mut self,
        case: Uuid,
    ) -> impl Future<Output = StoreResult<Vec<AttachmentRecord>>> + Send;
    /// The scans of every case, for backups.
    fn list_all_attachments(
        &mut self,
    ) -> impl Future<Output = StoreResult<Vec<AttachmentRecord>>> + Send;
    fn get_attachment(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<AttachmentRecord>>> + Send;
    fn attachment_content(
        &mut self,
        id: Uuid,
    ) -> impl Future<Output = StoreResult<Option<Vec<u8>>>> + Send;
}

pub trait AttachmentWrites: AttachmentReads {
    fn insert_attachment(
        &mut self,
        a: &AttachmentRecord,
        content: &[u8],
    ) -> impl Future<Output = StoreResult<()>> + Send;
}
