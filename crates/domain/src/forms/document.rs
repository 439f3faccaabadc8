//! Drafts and finalised (確定) documents. A finalised document is a separate type that only
//! [`DraftDocument::finalise`] (or loading a stored one, which re-validates) can make; a
//! correction is a new draft that points at the version it corrects.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::FieldKind;
use super::{Answers, FormKind, FormVersion, Party, check_draft, schema, validate};
use crate::error::{FieldError, ValidationErrors};
use crate::time_format::{micros, truncate_micros};

/// Who confirms a document and on which signature line of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Id of a [`FieldKind::Signature`] field of the form, e.g. `physician_signature`.
    pub signature_field: String,
    /// The party that signs; must be the field's party.
    pub party: Party,
}

/// A document being written. Anything may change until it is finalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftDocument {
    pub id: Uuid,
    pub form: FormKind,
    pub version: FormVersion,
    #[serde(default)]
    pub answers: Answers,
    /// 1 for a first document, n + 1 for a correction of revision n.
    pub revision: u32,
    /// The finalised document this draft corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<Uuid>,
    /// The uploaded scan this draft transcribes: the physician wrote on paper, and the
    /// employer's staff copy it into the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcribed_from: Option<Uuid>,
}

impl DraftDocument {
    pub fn new(id: Uuid, form: FormKind, version: FormVersion) -> DraftDocument {
        DraftDocument {
            id,
            form,
            version,
            answers: Answers::new(),
            revision: 1,
            corrects: None,
            transcribed_from: None,
        }
    }

    /// A transcription of an uploaded scan of a paper form.
    pub fn transcription_of(
        scan: Uuid,
        id: Uuid,
        form: FormKind,
        version: FormVersion,
    ) -> DraftDocument {
        DraftDocument {
            transcribed_from: Some(scan),
            ..DraftDocument::new(id, form, version)
        }
    }

    /// A correction: a new draft with the finalised answers, in the same form version, that
    /// references the document it corrects. The corrected document itself stays unchanged.
    pub fn correction_of(previous: &FinalisedDocument, id: Uuid) -> DraftDocument {
        DraftDocument {
            id,
            form: previous.form,
            version: previous.version,
            answers: previous.answers.clone(),
            revision: previous.revision.saturating_add(1),
            corrects: Some(previous.id),
            transcribed_from: previous.transcribed_from,
        }
    }

    /// Format checks for saving: nothing is required yet.
    pub fn check(&self) -> Result<Answers, ValidationErrors> {
        check_draft(self.form, self.version, &self.answers)
    }

    /// Makes the 確定 version: full validation, and the attested signature line must be filled.
    pub fn finalise(
        &self,
        confirmed_by: Uuid,
        at: OffsetDateTime,
        attestation: Attestation,
    ) -> Result<FinalisedDocument, ValidationErrors> {
        let schema = schema(self.form, self.version);
        // Validated once: the answers kept are the validated ones when nothing is wrong.
        let (validated, mut errs) = match validate(self.form, self.version, &self.answers) {
            Ok(v) => (Some(v), ValidationErrors::default()),
            Err(e) => (None, e),
        };
        match schema.field(&attestation.signature_field) {
            Some(spec) if matches!(spec.kind, FieldKind::Signature { .. }) => {
                if spec.filled_by != Some(attestation.party) {
                    errs.push(FieldError::new(
                        spec.id,
                        "wrong_party",
                        format!(
                            "「{}」は{}が署名する欄です。",
                            spec.label,
                            spec.filled_by.map_or("", Party::label)
                        ),
                    ));
                } else if !self.answers.contains_key(spec.id) {
                    errs.push(FieldError::new(
                        spec.id,
                        "required",
                        format!("確定するには「{}」を入力してください。", spec.label),
                    ));
                }
            }
            _ => errs.push(FieldError::new(
                "attestation",
                "invalid_attestation",
                "確定に使う署名欄がこの様式にありません。",
            )),
        }
        let Some(validated) = validated.filter(|_| errs.is_empty()) else {
            return Err(errs);
        };
        let answers = validated.into_answers();
        Ok(FinalisedDocument {
            id: self.id,
            form: self.form,
            version: self.version,
            answers,
            revision: self.revision,
            corrects: self.corrects,
            transcribed_from: self.transcribed_from,
            confirmed_by,
            confirmed_at: truncate_micros(at),
            attestation,
        })
    }
}

/// A 確定 document: validated, attested, never edited (a correction is a new document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FinalisedRecord")]
pub struct FinalisedDocument {
    id: Uuid,
    form: FormKind,
    version: FormVersion,
    answers: Answers,
    revision: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    corrects: Option<Uuid>,
    /// Set when this is a transcription of a paper original: then `confirmed_by` is the
    /// person who transcribed it, and the signature line holds the name as signed on paper.
    #[serde(skip_serializing_if = "Option::is_none")]
    transcribed_from: Option<Uuid>,
    confirmed_by: Uuid,
    #[serde(with = "micros")]
    confirmed_at: OffsetDateTime,
    attestation: Attestation,
}

impl FinalisedDocument {
    pub fn id(&self) -> Uuid {
        self.id
    }

    pub fn form(&self) -> FormKind {
        self.form
    }

    pub fn version(&self) -> FormVersion {
        self.version
    }

    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    pub fn revision(&self) -> u32 {
        self.revision
    }

    pub fn corrects(&self) -> Option<Uuid> {
        self.corrects
    }

    pub fn transcribed_from(&self) -> Option<Uuid> {
        self.transcribed_from
    }

    pub fn confirmed_by(&self) -> Uuid {
        self.confirmed_by
    }

    pub fn confirmed_at(&self) -> OffsetDateTime {
        self.confirmed_at
    }

    pub fn attestation(&self) -> &Attestation {
        &self.attestation
    }

    /// Makes this a reader's copy: the answers the reader may not see are taken out
    /// ([`super::withhold`]). Such a copy is shown, never stored.
    pub fn withhold(&mut self, reader: &super::Reader<'_>) -> super::Shown {
        super::withhold(self.form, self.version, &mut self.answers, reader)
    }
}

/// The stored shape. Loading re-runs finalisation so a stored row cannot smuggle in answers
/// that the (immutable) schema of its version would refuse.
#[derive(Deserialize)]
struct FinalisedRecord {
    id: Uuid,
    form: FormKind,
    version: FormVersion,
    answers: Answers,
    revision: u32,
    #[serde(default)]
    corrects: Option<Uuid>,
    #[serde(default)]
    transcribed_from: Option<Uuid>,
    confirmed_by: Uuid,
    #[serde(with = "micros")]
    confirmed_at: OffsetDateTime,
    attestation: Attestation,
}

impl TryFrom<FinalisedRecord> for FinalisedDocument {
    type Error = String;

    fn try_from(r: FinalisedRecord) -> Result<Self, Self::Error> {
        let draft = DraftDocument {
            id: r.id,
            form: r.form,
            version: r.version,
            answers: r.answers,
            revision: r.revision,
            corrects: r.corrects,
            transcribed_from: r.transcribed_from,
        };
        draft
            .finalise(r.confirmed_by, r.confirmed_at, r.attestation)
            .map_err(|e| {
                e.errors
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
    }
}
