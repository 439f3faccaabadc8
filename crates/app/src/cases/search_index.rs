//! What a case contributes to the search index: a row for the worker's name and its reading
//! and one for the employer and workplace (searchable by anyone who sees the case), one per
//! document revision (its form's category, its author) and one per consultation note.
//!
//! Rows are written inside the write transaction of the change (built, words segmented,
//! before the job reaches the writer), and only the rows the change touches: a document saved or finalised replaces its own row, a note adds its row,
//! a new case or a changed name writes the case's name and workplace rows. A step that only
//! moves the case on touches no row (the search reads the status from the case). The whole
//! case is built at once only by a rebuild ([`rebuild_index`], after a restore).

use ryoritsu_domain::audit::{AuditAction, Outcome};
use std::collections::{BTreeMap, BTreeSet};

use ryoritsu_domain::forms::{
    AnswerValue, Answers, FieldKind, FieldSpec, FormSchema, gate, schema,
};
use ryoritsu_domain::info::InformationCategory;
use ryoritsu_domain::policy::Action;
use uuid::Uuid;

use crate::accounts::Authenticated;
use crate::accounts::parse_reading;
use crate::accounts::ports::{AccountReads, AccountWrites};
use crate::cases::ports::{
    CaseReads, CaseRecord, ConsultationNoteRecord, DocumentBody, DocumentRecord,
};
use crate::error::AppError;
use crate::ports::{ReadRepo, Store, WriteRepo as _};
use crate::search::ports::{CASE_ROW, SearchReads, SearchRow, SearchWrites};
use crate::{App, RequestContext};

/// Rank weights: a match in the name or workplace says most about which case is meant.
const WEIGHT_CASE: i32 = 3;
const WEIGHT_DOCUMENT: i32 = 2;
const WEIGHT_NOTE: i32 = 2;

/// The words a document's answers contribute: free text, and the printed labels of the
/// options chosen (so 「短時間勤務」 finds a plan that ticks that measure), each under the
/// category that decides who may read it ([`ryoritsu_domain::forms::gate`]). Dates, numbers
/// and yes/no answers are left to the filters.
fn answer_texts(
    fields: &[FieldSpec],
    answers: &Answers,
    (document, within): (InformationCategory, InformationCategory),
    out: &mut BTreeMap<InformationCategory, Vec<String>>,
) {
    for f in fields {
        let category = FormSchema::category_of(f, within);
        let texts = out.entry(gate(document, category)).or_default();
        let Some(value) = answers.get(f.id) else {
            continue;
        };
        match (&f.kind, value) {
            (FieldKind::Text { .. } | FieldKind::Multiline { .. }, AnswerValue::Text(s))
                if !s.trim().is_empty() =>
            {
                texts.push(s.clone());
            }
            (FieldKind::SingleChoice { options }, AnswerValue::Text(code)) => {
                texts.extend(
                    options
                        .iter()
                        .filter(|o| o.code == code)
                        .map(|o| o.label.to_owned()),
                );
            }
            (FieldKind::MultipleChoice { options }, AnswerValue::List(codes)) => {
                texts.extend(
                    options
                        .iter()
                        .filter(|o| codes.iter().any(|c| c == o.code))
                        .map(|o| o.label.to_owned()),
                );
            }
            (FieldKind::Group { fields }, AnswerValue::Group(parts)) => {
                answer_texts(fields, parts, (document, category), out);
            }
            (FieldKind::Table { columns, .. }, AnswerValue::Rows(rows)) => {
                for row in rows {
                    answer_texts(columns, row, (document, category), out);
                }
            }
            _ => {}
        }
    }
}

/// Every category that decides who reads some answer of `form` in `version`.
fn gates_of(
    fields: &[FieldSpec],
    (document, within): (InformationCategory, InformationCategory),
    out: &mut BTreeSet<InformationCategory>,
) {
    for f in fields {
        let category = FormSchema::category_of(f, within);
        out.insert(gate(document, category));
        if let Some(parts) = f.kind.sub_fields() {
            gates_of(parts, (document, category), out);
        }
        if let FieldKind::Table { columns, .. } = f.kind {
            gates_of(columns, (document, category), out);
        }
    }
}

/// The rows of one document as it now is (saved, finalised, transcribed): one under the
/// form's category, and one more for each category some of its answers need beyond it (a
/// plan's treatment lines are medical), always written (empty when those answers are) so
/// that a save replaces what an earlier one indexed. Built before the write job, which only
/// stores them: the words are segmented outside the writer.
pub fn document_rows(d: &DocumentRecord) -> Vec<SearchRow> {
    let (version, answers) = match &d.body {
        DocumentBody::Draft(x) => (x.version, &x.answers),
        DocumentBody::Finalised(f) => (f.version(), f.answers()),
    };
    let own = d.form.category();
    let fields: Vec<FieldSpec> = schema(d.form, version).fields().copied().collect();
    let mut texts = BTreeMap::new();
    answer_texts(&fields, answers, (own, own), &mut texts);
    let mut gates = BTreeSet::from([own]);
    gates_of(&fields, (own, own), &mut gates);
    gates
        .into_iter()
        .map(|category| {
            let text = texts.remove(&category).unwrap_or_default().join("\n");
            let source = if category == own {
                format!("document:{}:{}", d.form.code(), d.id)
            } else {
                format!("document:{}:{}:{}", d.form.code(), d.id, category.code())
            };
            SearchRow {
                case_id: d.case_id,
                source,
                category: category.code().into(),
                author: Some(d.created_by),
                weight: WEIGHT_DOCUMENT,
                words: ryoritsu_search::index_words(&text),
                body: text,
            }
        })
        .collect()
}

/// The row of one consultation note, built before the write job like a document's.
pub fn note_row(n: &ConsultationNoteRecord) -> SearchRow {
    SearchRow {
        case_id: n.case_id,
        source: format!("note:{}", n.id),
        category: InformationCategory::ConsultationNotes.code().into(),
        author: Some(n.author),
        weight: WEIGHT_NOTE,
        words: ryoritsu_search::index_words(&n.body),
        body: n.body.clone(),
    }
}

/// The name and workplace rows of a case, from the records as they are now.
async fn header_rows<R: AccountReads + CaseReads>(
    c: &mut R,
    case: &CaseRecord,
) -> Result<Vec<SearchRow>, AppError> {
    let id = case.id;
    let worker = c.get_user(case.worker_id).await?;
    let name = worker
        .as_ref()
        .map(|u| u.display_name.to_string())
        .unwrap_or_default();
    let reading = c.user_reading(case.worker_id).await?.unwrap_or_default();
    let employer = c
        .get_organisation(case.employer_id)
        .await?
        .map(|o| o.name.to_string())
        .unwrap_or_default();
    let workplace = match case.workplace_id {
        Some(w) => c
            .list_workplaces(case.employer_id)
            .await?
            .into_iter()
            .find(|x| x.id == w)
            .map(|x| x.name.to_string())
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(header_rows_of(id, &name, &reading, &employer, &workplace))
}

/// The name and workplace rows of a case whose worker is `name` (`reading`, may be empty) at
/// `employer`'s `workplace` (may be empty).
pub fn header_rows_of(
    id: Uuid,
    name: &str,
    reading: &str,
    employer: &str,
    workplace: &str,
) -> Vec<SearchRow> {
    // The name row: every case has one (a case is found by its worker's name), and the
    // name filter looks only here, never at the workplace.
    let mut words = ryoritsu_search::name_words(name);
    words.extend(ryoritsu_search::name_words(reading));
    let mut body = name.to_owned();
    if !reading.is_empty() {
        body.push_str(&format!("（{reading}）"));
    }
    let place = [employer, workplace]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("　");
    vec![
        SearchRow {
            case_id: id,
            source: "name".into(),
            category: CASE_ROW.into(),
            author: None,
            weight: WEIGHT_CASE,
            body,
            words,
        },
        SearchRow {
            case_id: id,
            source: "workplace".into(),
            category: CASE_ROW.into(),
            author: None,
            weight: WEIGHT_CASE,
            words: ryoritsu_search::index_words(&place),
            body: place,
        },
    ]
}

/// The index rows of one case, built from its records as they are now.
pub async fn case_index_rows<R: ReadRepo + AccountReads + CaseReads + SearchReads>(
    c: &mut R,
    case: &CaseRecord,
) -> Result<Vec<SearchRow>, AppError> {
    let mut rows = header_rows(c, case).await?;
    rows.extend(
        c.list_documents(case.id)
            .await?
            .iter()
            .flat_map(document_rows),
    );
    rows.extend(
        c.list_consultation_notes(case.id)
            .await?
            .iter()
            .map(note_row),
    );
    Ok(rows)
}

/// Writes the name and workplace rows of a case (a new case, a changed name or reading).
pub async fn index_header<T: AccountReads + CaseReads + SearchWrites>(
    tx: &mut T,
    case: Uuid,
) -> Result<(), AppError> {
    let Some(record) = tx.get_case(case).await? else {
        return Ok(());
    };
    for row in header_rows(tx, &record).await? {
        tx.put_search_row(&row).await?;
    }
    Ok(())
}

/// Builds one case's rows whole from its records (a case loaded in bulk).
pub async fn refresh_case_index<T: ReadRepo + AccountReads + CaseReads + SearchWrites>(
    tx: &mut T,
    case: Uuid,
) -> Result<(), AppError> {
    let Some(record) = tx.get_case(case).await? else {
        return Ok(());
    };
    let rows = case_index_rows(tx, &record).await?;
    tx.replace_search_rows(case, &rows).await?;
    Ok(())
}

/// Rewrites the name rows of every case where `user` is the worker (their name or its
/// reading changed).
pub async fn refresh_worker_cases<T: AccountReads + CaseReads + SearchWrites>(
    tx: &mut T,
    user: Uuid,
) -> Result<(), AppError> {
    let cases = tx
        .list_cases(crate::cases::ports::CaseFilter::Worker(user))
        .await?;
    for c in cases {
        index_header(tx, c.id).await?;
    }
    Ok(())
}

/// Empties the index and builds it again from every case's records; returns how many rows.
pub async fn rebuild_index<T: ReadRepo + AccountReads + CaseReads + SearchWrites>(
    tx: &mut T,
) -> Result<usize, AppError> {
    tx.clear_search_rows().await?;
    let mut n = 0;
    for case in tx.list_all_cases().await? {
        let rows = case_index_rows(tx, &case).await?;
        n += rows.iter().filter(|r| !r.words.is_empty()).count();
        tx.replace_search_rows(case.id, &rows).await?;
    }
    Ok(n)
}

impl<S: Store> App<S> {
    /// Empties the index and rebuilds it from the records, in one transaction; returns how
    /// many rows it holds.
    pub async fn reindex(&self) -> Result<usize, AppError> {
        self.writer
            .write(|tx| Box::pin(async move { rebuild_index(tx).await }))
            .await
    }

    /// Sets or clears (empty input) the reading of the signed-in person's name; the cases
    /// where they are the worker are re-indexed in the same transaction.
    pub async fn set_own_name_reading(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        input: &str,
    ) -> Result<Option<String>, AppError> {
        auth.permit(Action::ManageOwnAccount)?;
        let reading = parse_reading(input)?;
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            None,
            AuditAction::SettingsChanged,
            Outcome::Success,
        );
        ev.target = Some(format!("user:{}", auth.user.id));
        ev.purpose = Some("name_reading".into());
        let (user, r) = (auth.user.id, reading.clone());
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.set_user_reading(user, r.as_deref()).await?;
                    refresh_worker_cases(tx, user).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(reading)
    }

    /// Sets a user's reading (already checked by [`parse_reading`]) and re-indexes their
    /// cases, in one transaction.
    pub async fn set_name_reading(
        &self,
        user: Uuid,
        reading: Option<String>,
    ) -> Result<(), AppError> {
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    tx.set_user_reading(user, reading.as_deref()).await?;
                    refresh_worker_cases(tx, user).await
                })
            })
            .await
    }
}
