//! The printed form as data: the schema walked field by field, each answer already in the words
//! the paper form uses (dates in 和暦, times as 時・分, ☑/☐ per option). The Typst templates
//! only lay this out; they never interpret answer codes themselves.

use std::collections::BTreeMap;

use ryoritsu_domain::forms::{
    AnswerValue, Answers, ChoiceOption, FieldKind, FieldSpec, FormSchema,
};
use serde::Serialize;

use crate::dates;

/// Empty rows printed in a blank plan table (the sample shows 1か月目〜3か月目 and room for more).
const BLANK_TABLE_ROWS: usize = 4;

/// Everything a template receives as `sys.inputs.data`.
#[derive(Debug, Serialize)]
pub(crate) struct FormView {
    pub title: String,
    /// The edition of the sample forms, printed small in the footer.
    pub version: String,
    /// True when printed without answers, for handwriting.
    pub blank: bool,
    /// Field id → field; a template picks fields by id and tests `"id" in fields` for fields
    /// that exist only in some versions.
    pub fields: BTreeMap<String, FieldView>,
    /// Field ids in form order.
    pub order: Vec<String>,
    pub share: Option<ShareView>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ShareView {
    /// The QR code as an SVG document.
    pub svg: String,
    pub text: String,
}

/// One field as printed.
#[derive(Debug, Default, Serialize)]
pub(crate) struct FieldView {
    pub label: String,
    pub hint: Option<String>,
    /// `text`, `multiline`, `date`, `time`, `date_range`, `number`, `yes_no`, `single`,
    /// `multiple`, `group`, `table`, `signature`, `fixed` or `heading`.
    pub kind: &'static str,
    /// Whether an answer was given (for choices: whether any option is ticked).
    pub filled: bool,
    /// The answer as printed; for empty dates and times the paper's blanks (「　　年　　月　　日」).
    pub value: String,
    pub unit: String,
    pub options: Vec<OptionView>,
    /// Parts of groups, date ranges and signatures by id.
    pub parts: BTreeMap<String, FieldView>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The sentence before a signature, or the wording of fixed text.
    pub text: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct OptionView {
    pub code: String,
    pub label: String,
    pub checked: bool,
}

pub(crate) fn form_view(
    schema: &FormSchema,
    answers: Option<&Answers>,
    share: Option<ShareView>,
    note: Option<String>,
) -> FormView {
    let mut fields = BTreeMap::new();
    let mut order = Vec::new();
    for spec in schema.fields() {
        let value = answers.and_then(|a| a.get(spec.id));
        fields.insert(spec.id.to_owned(), field_view(spec, value));
        order.push(spec.id.to_owned());
    }
    FormView {
        title: schema.title.to_owned(),
        version: schema.version.label().to_owned(),
        blank: answers.is_none(),
        fields,
        order,
        share,
        note,
    }
}

fn field_view(spec: &FieldSpec, value: Option<&AnswerValue>) -> FieldView {
    let mut view = FieldView {
        label: spec.label.to_owned(),
        hint: spec.hint.map(str::to_owned),
        ..FieldView::default()
    };
    match spec.kind {
        FieldKind::Text { .. } | FieldKind::Multiline { .. } => {
            view.kind = if matches!(spec.kind, FieldKind::Text { .. }) {
                "text"
            } else {
                "multiline"
            };
            view.value = scalar(value).replace("\r\n", "\n");
            view.filled = !view.value.trim().is_empty();
        }
        FieldKind::Date => {
            view.kind = "date";
            let text = scalar(value);
            view.filled = !text.is_empty();
            view.value = dates::date_text(&text);
        }
        FieldKind::Time => {
            view.kind = "time";
            let text = scalar(value);
            view.filled = !text.is_empty();
            view.value = dates::time_text(&text);
        }
        FieldKind::Number { unit, .. } => {
            view.kind = "number";
            view.unit = unit.to_owned();
            view.value = number_text(value);
            view.filled = !view.value.is_empty();
        }
        FieldKind::YesNo { yes, no } => {
            view.kind = "yes_no";
            let answer = match value {
                Some(AnswerValue::Bool(b)) => Some(*b),
                Some(AnswerValue::Text(s)) if s == "true" => Some(true),
                Some(AnswerValue::Text(s)) if s == "false" => Some(false),
                _ => None,
            };
            view.filled = answer.is_some();
            view.options = vec![
                option("true", yes, answer == Some(true)),
                option("false", no, answer == Some(false)),
            ];
        }
        FieldKind::SingleChoice { options } => {
            view.kind = "single";
            let chosen = value.and_then(AnswerValue::as_text);
            view.options = choices(options, |code| chosen == Some(code));
            view.filled = view.options.iter().any(|o| o.checked);
        }
        FieldKind::MultipleChoice { options } => {
            view.kind = "multiple";
            let chosen: &[String] = match value {
                Some(AnswerValue::List(codes)) => codes,
                _ => &[],
            };
            view.options = choices(options, |code| chosen.iter().any(|c| c == code));
            view.filled = view.options.iter().any(|o| o.checked);
        }
        FieldKind::Group { .. } | FieldKind::DateRange | FieldKind::Signature { .. } => {
            view.kind = match spec.kind {
                FieldKind::Group { .. } => "group",
                FieldKind::DateRange => "date_range",
                _ => "signature",
            };
            if let FieldKind::Signature { statement } = spec.kind {
                view.text = statement.map(str::to_owned);
            }
            let parts = match value {
                Some(AnswerValue::Group(parts)) => Some(parts),
                _ => None,
            };
            for part in spec.kind.sub_fields().unwrap_or_default() {
                let part_view = field_view(part, parts.and_then(|p| p.get(part.id)));
                view.filled |= part_view.filled;
                view.parts.insert(part.id.to_owned(), part_view);
            }
        }
        FieldKind::Table { columns, .. } => {
            view.kind = "table";
            view.columns = columns.iter().map(|c| c.label.to_owned()).collect();
            let rows: &[Answers] = match value {
                Some(AnswerValue::Rows(rows)) => rows,
                _ => &[],
            };
            view.rows = rows
                .iter()
                .map(|row| {
                    columns
                        .iter()
                        .map(|c| field_view(c, row.get(c.id)).value)
                        .collect()
                })
                .collect();
            view.filled = view.rows.iter().flatten().any(|cell| !cell.is_empty());
            if !view.filled {
                view.rows = vec![vec![String::new(); columns.len()]; BLANK_TABLE_ROWS];
            }
        }
        FieldKind::FixedText { text } => {
            view.kind = "fixed";
            view.text = Some(text.to_owned());
        }
        FieldKind::Heading => view.kind = "heading",
    }
    view
}

fn option(code: &str, label: &str, checked: bool) -> OptionView {
    OptionView {
        code: code.to_owned(),
        label: label.to_owned(),
        checked,
    }
}

fn choices(options: &[ChoiceOption], checked: impl Fn(&str) -> bool) -> Vec<OptionView> {
    options
        .iter()
        .map(|o| option(o.code, o.label, checked(o.code)))
        .collect()
}

fn scalar(value: Option<&AnswerValue>) -> String {
    match value {
        Some(AnswerValue::Text(s)) => s.trim_end().to_owned(),
        Some(AnswerValue::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A number as written: `1.50` → 「1.5」, `2.0` → 「2」. Numbers typed as text are kept as typed.
fn number_text(value: Option<&AnswerValue>) -> String {
    match value {
        Some(AnswerValue::Number(n)) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else {
                let s = n.to_string();
                if s.contains('.') && !s.contains(['e', 'E']) {
                    s.trim_end_matches('0').trim_end_matches('.').to_owned()
                } else {
                    s
                }
            }
        }
        Some(AnswerValue::Text(s)) => s.trim().to_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_written() {
        let n = |v: serde_json::Value| match serde_json::from_value::<AnswerValue>(v) {
            Ok(a) => number_text(Some(&a)),
            Err(e) => e.to_string(),
        };
        assert_eq!(n(serde_json::json!(1.5)), "1.5");
        assert_eq!(n(serde_json::json!(2.0)), "2");
        assert_eq!(n(serde_json::json!(40)), "40");
        assert_eq!(n(serde_json::json!("7.5")), "7.5");
        assert_eq!(number_text(None), "");
    }
}
