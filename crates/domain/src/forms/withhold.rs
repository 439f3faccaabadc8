//! What a reader is shown of a document: each answer only to those who may view what it
//! reveals.
//!
//! A document is listed to those who may view its form's category (the plan: work
//! measures). Some answers reveal more than their form: a plan's 「治療・投薬等の状況」 and the
//! 「（参考）治療等の予定」 of its periods are medical, and a 所属長 who may see the plan without
//! the worker's consent to medical information must not read them. [`withhold`] takes such
//! answers out of the reader's copy and says which it took and which categories the rest
//! reveal (the access log names those); [`keep_withheld`] puts them back into what an
//! editor who could not see them saves, so that a save never erases what its author was
//! not shown.

use std::collections::BTreeSet;

use super::{
    AnswerValue, Answers, FieldKind, FieldSpec, FormKind, FormSchema, FormVersion, schema,
};
use crate::info::InformationCategory;

/// The category that decides who sees an answer revealing `field` in a document of category
/// `document`: the document's, unless the answer needs the worker's consent where the
/// document does not (a plan's treatment status): then the answer's own. Whoever may read
/// an opinion reads its work measures with it; whoever may read a plan does not thereby read
/// its medical lines.
pub fn gate(document: InformationCategory, field: InformationCategory) -> InformationCategory {
    if field.requires_consent() && !document.requires_consent() {
        field
    } else {
        document
    }
}

/// Who reads a document, as [`withhold`] needs to know.
pub struct Reader<'a> {
    /// Whether they may view a category of this case.
    pub may_view: &'a dyn Fn(InformationCategory) -> bool,
    /// Whether they are staff of a hospital treating the worker in this case: answers
    /// naming who treats the worker name them.
    pub treats: bool,
}

impl Reader<'_> {
    /// `names`: the field, or one enclosing it, names who treats the worker.
    fn sees(&self, names: bool, gate: InformationCategory) -> bool {
        (self.treats && names) || (self.may_view)(gate)
    }
}

/// What a reader's copy of a document left out and what the rest reveals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// The fields taken out, in form order: a field's id, `table.column` for a column of a
    /// table (in every row), `group.part` for a part of a group.
    pub withheld: Vec<String>,
    /// The categories of the answers left in (empty answers reveal nothing).
    pub revealed: BTreeSet<InformationCategory>,
}

/// Takes out of `answers` every answer the reader may not see and reports what it took and
/// what the rest reveals.
pub fn withhold(
    form: FormKind,
    version: FormVersion,
    answers: &mut Answers,
    reader: &Reader<'_>,
) -> Shown {
    let schema = schema(form, version);
    let document = schema.category();
    let mut shown = Shown::default();
    walk(
        &schema.fields().collect::<Vec<_>>(),
        (document, document, false),
        answers,
        "",
        reader,
        &mut shown,
    );
    shown
}

fn walk(
    fields: &[&FieldSpec],
    (document, within, naming): (InformationCategory, InformationCategory, bool),
    answers: &mut Answers,
    prefix: &str,
    reader: &Reader<'_>,
    shown: &mut Shown,
) {
    for spec in fields {
        if !spec.kind.answerable() {
            continue;
        }
        let category = FormSchema::category_of(spec, within);
        let path = if prefix.is_empty() {
            spec.id.to_owned()
        } else {
            format!("{prefix}.{}", spec.id)
        };
        let Some(value) = answers.get_mut(spec.id) else {
            continue;
        };
        let names = naming || spec.names_who_treats;
        if !reader.sees(names, gate(document, category)) {
            answers.remove(spec.id);
            if !shown.withheld.contains(&path) {
                shown.withheld.push(path);
            }
            continue;
        }
        match (&spec.kind, value) {
            (FieldKind::Table { columns, .. }, AnswerValue::Rows(rows)) => {
                let columns: Vec<&FieldSpec> = columns.iter().collect();
                for row in rows.iter_mut() {
                    walk(
                        &columns,
                        (document, category, names),
                        row,
                        &path,
                        reader,
                        shown,
                    );
                }
            }
            (FieldKind::Group { fields }, AnswerValue::Group(parts)) => {
                let fields: Vec<&FieldSpec> = fields.iter().collect();
                walk(
                    &fields,
                    (document, category, names),
                    parts,
                    &path,
                    reader,
                    shown,
                );
            }
            (_, AnswerValue::Text(s)) if s.trim().is_empty() => {}
            (_, AnswerValue::List(l)) if l.is_empty() => {}
            _ => {
                shown.revealed.insert(category);
            }
        }
    }
}

/// What an editor saves, with the answers they were not shown put back from `previous` (the
/// document as stored): an answer they may not see is neither erased nor replaced by them.
/// A hidden column of a table keeps its value row by row (rows added get none).
pub fn keep_withheld(
    form: FormKind,
    version: FormVersion,
    previous: &Answers,
    submitted: &mut Answers,
    reader: &Reader<'_>,
) {
    let schema = schema(form, version);
    let document = schema.category();
    restore(
        &schema.fields().collect::<Vec<_>>(),
        (document, document, false),
        previous,
        submitted,
        reader,
    );
}

fn restore(
    fields: &[&FieldSpec],
    (document, within, naming): (InformationCategory, InformationCategory, bool),
    previous: &Answers,
    submitted: &mut Answers,
    reader: &Reader<'_>,
) {
    for spec in fields {
        if !spec.kind.answerable() {
            continue;
        }
        let category = FormSchema::category_of(spec, within);
        let names = naming || spec.names_who_treats;
        if !reader.sees(names, gate(document, category)) {
            match previous.get(spec.id) {
                Some(v) => submitted.insert(spec.id.to_owned(), v.clone()),
                None => submitted.remove(spec.id),
            };
            continue;
        }
        match (
            &spec.kind,
            submitted.get_mut(spec.id),
            previous.get(spec.id),
        ) {
            (FieldKind::Table { columns, .. }, Some(AnswerValue::Rows(rows)), before) => {
                let columns: Vec<&FieldSpec> = columns.iter().collect();
                let empty = Vec::new();
                let before = match before {
                    Some(AnswerValue::Rows(b)) => b,
                    _ => &empty,
                };
                let blank = Answers::new();
                for (i, row) in rows.iter_mut().enumerate() {
                    let was = before.get(i).unwrap_or(&blank);
                    restore(&columns, (document, category, names), was, row, reader);
                }
            }
            (FieldKind::Group { fields }, Some(AnswerValue::Group(parts)), before) => {
                let fields: Vec<&FieldSpec> = fields.iter().collect();
                let blank = Answers::new();
                let was = match before {
                    Some(AnswerValue::Group(b)) => b,
                    _ => &blank,
                };
                restore(&fields, (document, category, names), was, parts, reader);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InformationCategory as C;

    fn plan() -> Answers {
        serde_json::from_value(serde_json::json!({
            "created_on": "2026-12-01",
            "employee_name": "山田 花子",
            "treatment_status": "外来で抗がん剤治療を半年間",
            "plan_periods": [
                {"period": "1か月目", "measures": "短時間勤務", "treatment_schedule": "毎週火曜に点滴"},
                {"period": "2か月目", "measures": "残業禁止"}
            ],
            "job_duties": "経理事務"
        }))
        .unwrap()
    }

    fn reader(may_view: &dyn Fn(C) -> bool) -> Reader<'_> {
        Reader {
            may_view,
            treats: false,
        }
    }

    #[test]
    fn the_addressee_of_the_work_information_is_read_by_the_hospital_it_names() {
        let answers: Answers = serde_json::from_value(serde_json::json!({
            "addressee": {"institution": "がん研究センター", "physician_name": "伊藤 健一"},
            "occupation": "経理"
        }))
        .unwrap();
        let work = |c: C| c == C::WorkInformation;
        for (treats, shown) in [(false, false), (true, true)] {
            let mut a = answers.clone();
            let r = withhold(
                FormKind::WorkInformation,
                FormVersion::V2026,
                &mut a,
                &Reader {
                    may_view: &work,
                    treats,
                },
            );
            let text = serde_json::to_string(&a).unwrap();
            assert_eq!(text.contains("がん研究センター"), shown, "{text}");
            assert_eq!(text.contains("伊藤"), shown, "{text}");
            assert!(text.contains("経理"));
            assert_eq!(r.withheld.is_empty(), shown);
        }
    }

    #[test]
    fn a_plan_without_medical_consent_loses_its_medical_lines() {
        let mut a = plan();
        let shown = withhold(
            FormKind::SupportPlan,
            FormVersion::V2026,
            &mut a,
            &reader(&|c| c == C::WorkMeasures),
        );
        assert_eq!(
            shown.withheld,
            ["treatment_status", "plan_periods.treatment_schedule"]
        );
        assert_eq!(shown.revealed, BTreeSet::from([C::WorkMeasures]));
        let text = serde_json::to_string(&a).unwrap();
        assert!(!text.contains("抗がん剤"), "{text}");
        assert!(!text.contains("点滴"), "{text}");
        assert!(text.contains("短時間勤務") && text.contains("経理事務"));
    }

    #[test]
    fn with_medical_consent_the_plan_is_whole_and_both_categories_are_read() {
        let mut a = plan();
        let shown = withhold(
            FormKind::SupportPlan,
            FormVersion::V2024,
            &mut a,
            &reader(&|c| matches!(c, C::WorkMeasures | C::Medical)),
        );
        assert!(shown.withheld.is_empty());
        assert_eq!(
            shown.revealed,
            BTreeSet::from([C::WorkMeasures, C::Medical])
        );
        assert_eq!(a, plan());
    }

    #[test]
    fn an_opinion_is_read_whole_by_whoever_may_read_it() {
        let mut a: Answers = serde_json::from_value(serde_json::json!({
            "patient_name": "山田 花子",
            "diagnosis": "乳がん",
            "work_measures": "重いものを持たない"
        }))
        .unwrap();
        let shown = withhold(
            FormKind::ContinuationOpinion,
            FormVersion::V2026,
            &mut a,
            &reader(&|c| c == C::Medical),
        );
        assert!(shown.withheld.is_empty());
        assert_eq!(
            shown.revealed,
            BTreeSet::from([C::Medical, C::WorkMeasures])
        );
    }

    #[test]
    fn gates_follow_consent() {
        assert_eq!(gate(C::WorkMeasures, C::Medical), C::Medical);
        assert_eq!(gate(C::Medical, C::WorkMeasures), C::Medical);
        assert_eq!(gate(C::WorkMeasures, C::WorkMeasures), C::WorkMeasures);
        assert_eq!(
            gate(C::WorkInformation, C::ConsultationNotes),
            C::ConsultationNotes
        );
    }

    #[test]
    fn an_editor_who_was_not_shown_an_answer_cannot_erase_or_replace_it() {
        let previous = plan();
        let mut shown = previous.clone();
        withhold(
            FormKind::SupportPlan,
            FormVersion::V2026,
            &mut shown,
            &reader(&|c| c == C::WorkMeasures),
        );
        // The editor changes a measure, adds a row, and tries to write a treatment line.
        let mut submitted = shown.clone();
        submitted.insert(
            "job_duties".into(),
            AnswerValue::text("経理事務（在宅勤務可）"),
        );
        if let Some(AnswerValue::Rows(rows)) = submitted.get_mut("plan_periods") {
            rows.push(
                serde_json::from_value(serde_json::json!({
                    "period": "3か月目", "treatment_schedule": "勝手な記入"
                }))
                .unwrap(),
            );
        }
        submitted.insert("treatment_status".into(), AnswerValue::text("勝手な記入"));
        keep_withheld(
            FormKind::SupportPlan,
            FormVersion::V2026,
            &previous,
            &mut submitted,
            &reader(&|c| c == C::WorkMeasures),
        );
        let text = serde_json::to_string(&submitted).unwrap();
        assert!(text.contains("外来で抗がん剤治療を半年間"), "{text}");
        assert!(text.contains("毎週火曜に点滴"), "{text}");
        assert!(!text.contains("勝手な記入"), "{text}");
        assert!(text.contains("在宅勤務可") && text.contains("3か月目"));
    }
}

#[cfg(test)]
mod whole_schema {
    use super::*;
    use crate::forms::FieldKind as K;
    use InformationCategory as C;

    /// A distinctive text and the gates of the field holding it and of every field
    /// enclosing that one.
    type Mark = (String, Vec<C>);

    /// Answers with a distinctive text in every text field (parts and table columns too).
    fn filled(
        fields: &[&FieldSpec],
        doc: C,
        within: C,
        path: (&str, &[C]),
        marks: &mut Vec<Mark>,
    ) -> Answers {
        let (prefix, outer) = path;
        let mut a = Answers::new();
        for f in fields {
            let cat = FormSchema::category_of(f, within);
            let gates: Vec<C> = outer.iter().copied().chain([gate(doc, cat)]).collect();
            let p = format!("{prefix}{}.", f.id);
            match &f.kind {
                K::Text { .. } | K::Multiline { .. } => {
                    let mark = format!("MARK-{prefix}{}-", f.id);
                    marks.push((mark.clone(), gates));
                    a.insert(f.id.into(), AnswerValue::text(mark));
                }
                K::Group { fields } => {
                    let fs: Vec<&FieldSpec> = fields.iter().collect();
                    let parts = filled(&fs, doc, cat, (&p, &gates), marks);
                    a.insert(f.id.into(), AnswerValue::Group(parts));
                }
                K::Table { columns, .. } => {
                    let cs: Vec<&FieldSpec> = columns.iter().collect();
                    let row = filled(&cs, doc, cat, (&p, &gates), marks);
                    a.insert(f.id.into(), AnswerValue::Rows(vec![row]));
                }
                _ => {}
            }
        }
        a
    }

    #[test]
    fn every_field_of_every_form_and_edition_reaches_only_readers_of_its_category() {
        let forms = [
            FormKind::WorkInformation,
            FormKind::ContinuationOpinion,
            FormKind::ReturnToWorkOpinion,
            FormKind::SupportPlan,
            FormKind::ReturnToWorkPlan,
            FormKind::SupportCard,
        ];
        let mut medical_lines = 0;
        for form in forms {
            for version in [FormVersion::V2024, FormVersion::V2026] {
                let s = schema(form, version);
                let doc = s.category();
                let fields: Vec<&FieldSpec> = s.fields().collect();
                let mut marks = Vec::new();
                let all = filled(&fields, doc, doc, ("", &[]), &mut marks);
                assert!(
                    marks
                        .iter()
                        .flat_map(|(_, g)| g)
                        .all(|c| c.is_case_information())
                );
                // Every set of case categories a reader may hold.
                for bits in 0u8..16 {
                    let may: Vec<C> = C::CASE
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| bits & (1 << i) != 0)
                        .map(|(_, c)| *c)
                        .collect();
                    let mut a = all.clone();
                    let may_view = |c| may.contains(&c);
                    let reader = Reader {
                        may_view: &may_view,
                        treats: false,
                    };
                    let shown = withhold(form, version, &mut a, &reader);
                    let text = serde_json::to_string(&a).unwrap();
                    for (mark, gates) in &marks {
                        assert_eq!(
                            text.contains(mark.as_str()),
                            gates.iter().all(|g| may.contains(g)),
                            "{form:?} {version:?} {mark} gates {gates:?}, reader {may:?}"
                        );
                    }
                    assert!(shown.revealed.iter().all(|c| may.contains(&gate(doc, *c))));
                }
                medical_lines += marks
                    .iter()
                    .filter(|(_, g)| g.last() == Some(&C::Medical) && doc != C::Medical)
                    .count();
            }
        }
        // The plans' treatment lines, in both plans and both editions, and the work
        // information's addressee (institution and physician) in both editions.
        assert_eq!(medical_lines, 12);
    }
}
