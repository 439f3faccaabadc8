//! A new document starts from what the case already holds, so nobody types again what an
//! earlier form says: the 主治医意見書 from the 勤務情報提供書's 氏名・生年月日・住所, the plan from
//! the opinion's 就業上の措置 and 措置期間, the worker's own forms from the name of their
//! account. Everything prefilled is a draft the author reads and changes before saving.

use super::{AnswerValue, Answers, FormKind, FormVersion, schema};
use crate::wareki;

/// What a new document may start from.
#[derive(Debug, Default)]
pub struct Sources<'a> {
    /// The worker's name as their account gives it.
    pub worker_name: Option<&'a str>,
    /// 確定 documents the author may read, newest first.
    pub documents: Vec<(FormKind, &'a Answers)>,
}

/// Longest text prefilled into a plan period's 「就業上の措置・治療への配慮等」 (the field's
/// own limit).
const MEASURES_CHARS: usize = 500;

impl Sources<'_> {
    fn newest(&self, forms: &[FormKind]) -> Option<&Answers> {
        self.documents
            .iter()
            .find(|(f, _)| forms.contains(f))
            .map(|(_, a)| *a)
    }

    fn text(&self, forms: &[FormKind], field: &str) -> Option<String> {
        self.documents
            .iter()
            .filter(|(f, _)| forms.contains(f))
            .find_map(|(_, a)| a.get(field).and_then(AnswerValue::as_text))
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    }
}

/// The answers a new `form` in `version` starts with.
pub fn prefill(form: FormKind, version: FormVersion, src: &Sources<'_>) -> Answers {
    use FormKind as F;
    let schema = schema(form, version);
    let mut out = Answers::new();
    let mut put = |id: &str, v: Option<String>| {
        if let (Some(v), Some(_)) = (v, schema.field(id)) {
            out.insert(id.to_owned(), AnswerValue::Text(v));
        }
    };
    let worker = src.worker_name.map(str::to_owned);
    let wi = [F::WorkInformation];
    match form {
        F::WorkInformation => put("employee_name", worker),
        F::SupportCard => put("name", worker),
        F::ContinuationOpinion | F::ReturnToWorkOpinion => {
            put("patient_name", src.text(&wi, "employee_name").or(worker));
            put("date_of_birth", src.text(&wi, "date_of_birth"));
            put("address", src.text(&wi, "address"));
        }
        F::SupportPlan | F::ReturnToWorkPlan => {
            let opinions: &[FormKind] = if form == F::ReturnToWorkPlan {
                &[F::ReturnToWorkOpinion]
            } else {
                &[F::ContinuationOpinion, F::ReturnToWorkOpinion]
            };
            put(
                "employee_name",
                src.text(&wi, "employee_name")
                    .or_else(|| src.text(opinions, "patient_name"))
                    .or(worker),
            );
            put(
                "date_of_birth",
                src.text(&wi, "date_of_birth")
                    .or_else(|| src.text(opinions, "date_of_birth")),
            );
            if let Some(opinion) = src.newest(opinions) {
                let measures = opinion
                    .get("work_measures")
                    .and_then(AnswerValue::as_text)
                    .filter(|s| !s.trim().is_empty());
                if let Some(measures) = measures {
                    let period = match opinion.get("measure_period") {
                        Some(AnswerValue::Group(p)) => period_text(p),
                        _ => String::new(),
                    };
                    let mut row = Answers::new();
                    row.insert("period".into(), AnswerValue::Text(period));
                    row.insert(
                        "measures".into(),
                        AnswerValue::Text(measures.chars().take(MEASURES_CHARS).collect()),
                    );
                    out.insert("plan_periods".into(), AnswerValue::Rows(vec![row]));
                }
            }
        }
    }
    out
}

/// 「令和8年4月1日～令和8年6月30日」 from a date range answer (either end may be missing).
fn period_text(p: &Answers) -> String {
    let day = |k: &str| {
        p.get(k)
            .and_then(AnswerValue::as_text)
            .and_then(|s| {
                time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE).ok()
            })
            .map(wareki::format)
            .unwrap_or_default()
    };
    let (from, to) = (day("from"), day("to"));
    if from.is_empty() && to.is_empty() {
        String::new()
    } else {
        format!("{from}～{to}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::check_draft;

    fn answers(v: serde_json::Value) -> Answers {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_opinion_starts_from_the_work_information_and_the_plan_from_the_opinion() {
        let wi = answers(serde_json::json!({
            "employee_name": "田中 太郎", "date_of_birth": "1980-05-01", "address": "東京都港区"
        }));
        let opinion = answers(serde_json::json!({
            "patient_name": "田中 太郎",
            "diagnosis": "胃がん",
            "work_measures": "重いものを持たない。残業を避ける。",
            "measure_period": {"from": "2026-04-01", "to": "2026-06-30"}
        }));
        let src = Sources {
            worker_name: Some("田中 太郎"),
            documents: vec![
                (FormKind::ContinuationOpinion, &opinion),
                (FormKind::WorkInformation, &wi),
            ],
        };
        let op = prefill(FormKind::ContinuationOpinion, FormVersion::V2026, &src);
        assert_eq!(op["patient_name"], AnswerValue::text("田中 太郎"));
        assert_eq!(op["date_of_birth"], AnswerValue::text("1980-05-01"));
        assert_eq!(op["address"], AnswerValue::text("東京都港区"));
        let plan = prefill(FormKind::SupportPlan, FormVersion::V2026, &src);
        let text = serde_json::to_string(&plan).unwrap();
        assert!(text.contains("重いものを持たない"), "{text}");
        assert!(text.contains("令和8年4月1日～令和8年6月30日"), "{text}");
        assert!(
            !text.contains("胃がん"),
            "no diagnosis is carried over: {text}"
        );
        let wi_new = prefill(FormKind::WorkInformation, FormVersion::V2024, &src);
        assert_eq!(wi_new["employee_name"], AnswerValue::text("田中 太郎"));
    }

    #[test]
    fn every_prefilled_form_passes_the_draft_checks() {
        let long = "配慮".repeat(600);
        let opinion = answers(serde_json::json!({
            "work_measures": long,
            "measure_period": {"from": "2026-04-01"}
        }));
        let src = Sources {
            worker_name: Some("田中 太郎"),
            documents: vec![
                (FormKind::ContinuationOpinion, &opinion),
                (FormKind::ReturnToWorkOpinion, &opinion),
            ],
        };
        for form in FormKind::ALL {
            for version in FormVersion::ALL {
                let a = prefill(*form, *version, &src);
                assert!(
                    check_draft(*form, *version, &a).is_ok(),
                    "{form:?} {version:?}: {a:?}"
                );
            }
        }
    }
}
