//! Schema-driven HTML for the official forms, and the parser that turns their posts back into
//! [`Answers`].
//!
//! One name scheme serves both directions and equals the validator's error paths, so an error
//! lands beside the input that caused it:
//!
//! - a top-level field: `id` (`employee_name`);
//! - a part of a group, date range or signature: `field.part` (`work_hours.start`,
//!   `measure_period.from`, `worker_confirmation.date`);
//! - a table cell: `table[row].column`, rows counted from 0 (`plan_periods[2].period`);
//! - a multiple choice: the same name repeated, one pair per ticked option, value = option code;
//! - yes/no radios post `true` / `false`; single-choice radios post the option code.
//!
//! Element ids are [`dom_id`] of the path (`f-plan_periods-2-period`); composite fields put that
//! id on their `<fieldset>`, so an error summary can link `#f-…` for any error path.
//!
//! No `required` attributes are emitted: drafts are saved half-way, and the server decides what
//! is required (per party) when the form is finalised.

use std::collections::{BTreeMap, HashMap};

use ryoritsu_domain::FieldError;
use ryoritsu_domain::forms::{
    AnswerValue, Answers, ChoiceOption, FieldKind, FieldSpec, FormSchema, Party,
};

use crate::http::page::escape;

use FieldKind as K;

/// Added wording for tables (the paper forms simply have empty lines).
const TABLE_DELETE_ROW: &str = "行を削除するには、その行の内容をすべて消してください。";
const NOT_ENTERED: &str = "未記入";

/// Escaped text with its line breaks kept as `<br>` (hints, multiline answers).
fn escape_lines(s: &str) -> String {
    escape(&s.replace("\r\n", "\n")).replace('\n', "<br>\n")
}

/// The element id for an answer path: `plan_periods[2].period` → `f-plan_periods-2-period`.
/// Field ids never contain `-`, so distinct paths give distinct ids.
pub fn dom_id(path: &str) -> String {
    let mut id = String::with_capacity(path.len() + 2);
    id.push_str("f-");
    for c in path.chars() {
        match c {
            '.' | '[' => id.push('-'),
            ']' => {}
            c if c.is_ascii_alphanumeric() || c == '_' => id.push(c),
            _ => id.push('_'),
        }
    }
    id
}

// ---------------------------------------------------------------------------------------------
// Rendering

/// The form's fields as an HTML fragment for a `<form>` (embed with `|safe`).
///
/// With `party`, fields another party fills are shown as text, not inputs (e.g. the physician's
/// half of the card for the worker). Every error is shown once: beside the input its path names,
/// else at the end of its top-level field, else (paths outside the schema) after all fields.
pub fn render_fields(
    schema: &FormSchema,
    answers: &Answers,
    errors: &[FieldError],
    party: Option<Party>,
) -> String {
    let fields: Vec<&'static FieldSpec> = schema.fields().collect();
    let mut r = Renderer {
        out: String::new(),
        errors,
        shown: vec![false; errors.len()],
    };
    for spec in &fields {
        let value = answers.get(spec.id);
        let editable = party.is_none_or(|p| spec.filled_by.is_none_or(|f| f == p));
        if editable {
            r.field(spec, &fields, spec.id, value, true);
        } else {
            r.read_only(spec, spec.id, value);
        }
    }
    let rest: Vec<&str> = r
        .errors
        .iter()
        .zip(&r.shown)
        .filter(|(_, shown)| !**shown)
        .map(|(e, _)| e.message.as_str())
        .collect();
    if !rest.is_empty() {
        r.out.push_str("<div class=\"field\">\n");
        r.error_line("f-form", &rest);
        r.out.push_str("</div>\n");
    }
    r.out
}

struct Renderer<'a> {
    out: String,
    errors: &'a [FieldError],
    /// Which errors have been placed already.
    shown: Vec<bool>,
}

/// Whether error path `field` is `path` itself or lies below it.
fn is_under(field: &str, path: &str) -> bool {
    field
        .strip_prefix(path)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// The text an input shows for a scalar answer.
fn scalar(value: Option<&AnswerValue>) -> String {
    match value {
        Some(AnswerValue::Text(s)) => s.clone(),
        Some(AnswerValue::Number(n)) => n.to_string(),
        Some(AnswerValue::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn part_of<'v>(value: Option<&'v AnswerValue>, id: &str) -> Option<&'v AnswerValue> {
    match value {
        Some(AnswerValue::Group(parts)) => parts.get(id),
        _ => None,
    }
}

fn rows_of(value: Option<&AnswerValue>) -> &[Answers] {
    match value {
        Some(AnswerValue::Rows(rows)) => rows,
        _ => &[],
    }
}

fn required_badge(spec: &FieldSpec, badge: bool) -> &'static str {
    if badge && spec.required {
        " <span class=\"required\">必須</span>"
    } else {
        ""
    }
}

/// The field's hint, plus when it becomes required (「その他」 texts), as escaped lines.
fn hints(spec: &FieldSpec, siblings: &[&FieldSpec]) -> Vec<String> {
    let mut out: Vec<String> = spec.hint.map(escape_lines).into_iter().collect();
    if let Some(when) = spec.required_when
        && let Some(sibling) = siblings.iter().find(|s| s.id == when.field)
    {
        let option = match sibling.kind {
            K::SingleChoice { options } | K::MultipleChoice { options } => {
                options.iter().find(|o| o.code == when.option)
            }
            _ => None,
        };
        if let Some(option) = option {
            out.push(escape(&format!(
                "「{}」で「{}」を選んだ場合は、入力してください。",
                sibling.label, option.label
            )));
        }
    }
    out
}

impl<'a> Renderer<'a> {
    /// Messages of errors at `path` or below it not placed yet; marks them placed.
    fn take(&mut self, path: &str) -> Vec<&'a str> {
        let mut out = Vec::new();
        for (e, shown) in self.errors.iter().zip(self.shown.iter_mut()) {
            if !*shown && is_under(&e.field, path) {
                *shown = true;
                out.push(e.message.as_str());
            }
        }
        out
    }

    /// Renders into a separate buffer, so a wrapper can be written once its errors are known.
    fn capture(&mut self, f: impl FnOnce(&mut Self)) -> String {
        let saved = std::mem::take(&mut self.out);
        f(self);
        std::mem::replace(&mut self.out, saved)
    }

    fn error_line(&mut self, id: &str, messages: &[&str]) {
        if messages.is_empty() {
            return;
        }
        let text: Vec<String> = messages.iter().map(|m| escape(m)).collect();
        self.out.push_str(&format!(
            "<p class=\"field-error\" id=\"{id}-error\">{}</p>\n",
            text.join("<br>")
        ));
    }

    fn hint_line(&mut self, id: &str, hints: &[String]) {
        if !hints.is_empty() {
            self.out.push_str(&format!(
                "<p class=\"hint\" id=\"{id}-hint\">{}</p>\n",
                hints.join("<br>\n")
            ));
        }
    }

    /// One editable field (or part) at `path`. `badge`: whether 「必須」 may be shown (not on
    /// the parts of a signature, which are needed only once someone signs).
    fn field(
        &mut self,
        spec: &FieldSpec,
        siblings: &[&FieldSpec],
        path: &str,
        value: Option<&AnswerValue>,
        badge: bool,
    ) {
        let id = dom_id(path);
        match spec.kind {
            K::FixedText { text } => {
                self.out
                    .push_str(&format!("<p id=\"{id}\">{}</p>\n", escape_lines(text)));
            }
            K::Heading => {
                self.out
                    .push_str(&format!("<h3 id=\"{id}\">{}</h3>\n", escape(spec.label)));
            }
            K::Text { .. } | K::Multiline { .. } | K::Date | K::Time | K::Number { .. } => {
                let hints = hints(spec, siblings);
                self.simple(spec, path, value, badge, &hints, "");
            }
            K::YesNo { yes, no } => {
                let checked = |b: bool| value == Some(&AnswerValue::Bool(b));
                let body = format!(
                    "{}{}",
                    choice("radio", path, "true", yes, checked(true)),
                    choice("radio", path, "false", no, checked(false))
                );
                self.fieldset(spec, siblings, path, badge, body);
            }
            K::SingleChoice { options } => {
                let chosen = value.and_then(AnswerValue::as_text);
                let body: String = options
                    .iter()
                    .map(|o| choice("radio", path, o.code, o.label, chosen == Some(o.code)))
                    .collect();
                self.fieldset(spec, siblings, path, badge, body);
            }
            K::MultipleChoice { options } => {
                let chosen: &[String] = match value {
                    Some(AnswerValue::List(codes)) => codes,
                    _ => &[],
                };
                let body: String = options
                    .iter()
                    .map(|o| {
                        let on = chosen.iter().any(|c| c == o.code);
                        choice("checkbox", path, o.code, o.label, on)
                    })
                    .collect();
                self.fieldset(spec, siblings, path, badge, body);
            }
            K::Group { fields } => {
                let parts: Vec<&FieldSpec> = fields.iter().collect();
                let body = self.capture(|r| {
                    for part in &parts {
                        let p = format!("{path}.{}", part.id);
                        r.field(part, &parts, &p, part_of(value, part.id), true);
                    }
                });
                self.fieldset(spec, siblings, path, badge, body);
            }
            K::DateRange | K::Signature { .. } => {
                let parts: Vec<&FieldSpec> = spec.kind.sub_fields().unwrap_or(&[]).iter().collect();
                let range = spec.kind == K::DateRange;
                let body = self.capture(|r| {
                    if let K::Signature {
                        statement: Some(statement),
                    } = spec.kind
                    {
                        r.out
                            .push_str(&format!("<p>{}</p>\n", escape_lines(statement)));
                    }
                    // Side by side from 640px; `.grid` is the stylesheet's only two-column
                    // layout (inline styles are barred by the CSP).
                    r.out.push_str(if range {
                        "<div class=\"grid date-range\">\n"
                    } else {
                        "<div class=\"grid\">\n"
                    });
                    for (i, part) in parts.iter().enumerate() {
                        let p = format!("{path}.{}", part.id);
                        // 「開始日 〜 終了日」: the wave dash leads the second label.
                        let lead = if range && i == 1 {
                            "<span aria-hidden=\"true\">〜 </span>"
                        } else {
                            ""
                        };
                        r.simple(part, &p, part_of(value, part.id), range, &[], lead);
                    }
                    r.out.push_str("</div>\n");
                });
                self.fieldset(spec, siblings, path, badge && !range, body);
            }
            K::Table { columns, max_rows } => {
                let body = self.table(spec.label, columns, max_rows, path, value);
                self.fieldset(spec, siblings, path, badge, body);
            }
        }
    }

    /// A one-input field: label (after `lead`, trusted markup), hints, input, errors.
    fn simple(
        &mut self,
        spec: &FieldSpec,
        path: &str,
        value: Option<&AnswerValue>,
        badge: bool,
        hints: &[String],
        lead: &str,
    ) {
        let id = dom_id(path);
        let errors = self.take(path);
        self.out.push_str(&format!(
            "<div class=\"field\">\n<label for=\"{id}\">{lead}{}{}</label>\n",
            escape(spec.label),
            required_badge(spec, badge)
        ));
        self.hint_line(&id, hints);
        let control = control(spec.kind, path, value, !hints.is_empty(), &errors, None);
        self.out.push_str(&control);
        self.error_line(&id, &errors);
        self.out.push_str("</div>\n");
    }

    /// A composite field: `<fieldset>` with legend, hints, the already rendered body, and the
    /// errors left for it once its parts have taken theirs.
    fn fieldset(
        &mut self,
        spec: &FieldSpec,
        siblings: &[&FieldSpec],
        path: &str,
        badge: bool,
        body: String,
    ) {
        let id = dom_id(path);
        let hints = hints(spec, siblings);
        let errors = self.take(path);
        self.out.push_str(&format!(
            "<fieldset class=\"field\" id=\"{id}\"{}>\n<legend>{}{}</legend>\n",
            described_by(&id, !hints.is_empty(), !errors.is_empty()),
            escape(spec.label),
            required_badge(spec, badge)
        ));
        self.hint_line(&id, &hints);
        self.out.push_str(&body);
        self.error_line(&id, &errors);
        self.out.push_str("</fieldset>\n");
    }

    /// The rows of a table: those answered plus two empty ones, at most `max_rows`.
    fn table(
        &mut self,
        label: &str,
        columns: &'static [FieldSpec],
        max_rows: usize,
        path: &str,
        value: Option<&AnswerValue>,
    ) -> String {
        let rows = rows_of(value);
        let count = rows.len().max(rows.len().saturating_add(2).min(max_rows));
        let cols: Vec<&FieldSpec> = columns.iter().collect();
        self.capture(|r| {
            let note = if rows.len() < max_rows {
                format!(
                    "行を追加するには、空いている行に入力してください（{max_rows}行まで）。\
                     {TABLE_DELETE_ROW}"
                )
            } else {
                format!("入力できるのは{max_rows}行までです。{TABLE_DELETE_ROW}")
            };
            r.out
                .push_str(&format!("<p class=\"hint\">{}</p>\n", escape(&note)));
            r.out.push_str(&format!(
                "<div class=\"table-wrap\">\n<table class=\"table\">\n\
                 <caption class=\"sr-only\">{}</caption>\n<thead><tr><th scope=\"col\">行</th>",
                escape(label)
            ));
            for col in &cols {
                r.out.push_str(&format!(
                    "<th scope=\"col\">{}{}</th>",
                    escape(col.label),
                    required_badge(col, true)
                ));
            }
            r.out.push_str("</tr></thead>\n<tbody>\n");
            for i in 0..count {
                let row = rows.get(i);
                r.out
                    .push_str(&format!("<tr><th scope=\"row\">{}</th>", i + 1));
                for col in &cols {
                    let p = format!("{path}[{i}].{}", col.id);
                    let cell = row.and_then(|row| row.get(col.id));
                    r.out.push_str("<td>");
                    if matches!(
                        col.kind,
                        K::Text { .. } | K::Multiline { .. } | K::Date | K::Time | K::Number { .. }
                    ) {
                        let errors = r.take(&p);
                        let name = format!("{}（{}行目）", col.label, i + 1);
                        r.out
                            .push_str(&control(col.kind, &p, cell, false, &errors, Some(&name)));
                        r.error_line(&dom_id(&p), &errors);
                    } else {
                        r.field(col, &cols, &p, cell, true);
                    }
                    r.out.push_str("</td>");
                }
                r.out.push_str("</tr>\n");
            }
            r.out.push_str("</tbody>\n</table>\n</div>\n");
        })
    }

    /// A field another party fills: its answer as text.
    fn read_only(&mut self, spec: &FieldSpec, path: &str, value: Option<&AnswerValue>) {
        let id = dom_id(path);
        let errors = self.take(path);
        let owner = spec
            .filled_by
            .map(|p| {
                format!(
                    " <span class=\"badge badge-muted\">{}が記入</span>",
                    escape(p.label())
                )
            })
            .unwrap_or_default();
        self.out.push_str(&format!(
            "<div class=\"field\" id=\"{id}\">\n<p><strong>{}</strong>{owner}</p>\n",
            escape(spec.label)
        ));
        let shown = display(spec, value);
        if shown.is_empty() {
            self.out
                .push_str(&format!("<p class=\"muted\">{NOT_ENTERED}</p>\n"));
        } else if shown.starts_with('<') {
            self.out.push_str(&shown);
        } else {
            self.out.push_str(&format!("<p>{shown}</p>\n"));
        }
        self.error_line(&id, &errors);
        self.out.push_str("</div>\n");
    }
}

/// ` aria-describedby="…"` naming the hint and error lines that exist.
fn described_by(id: &str, hint: bool, error: bool) -> String {
    let ids: Vec<String> = [(hint, "hint"), (error, "error")]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, what)| format!("{id}-{what}"))
        .collect();
    if ids.is_empty() {
        String::new()
    } else {
        format!(" aria-describedby=\"{}\"", ids.join(" "))
    }
}

/// The input for a one-value kind. `aria_label` names it where no `<label>` does (table cells).
fn control(
    kind: FieldKind,
    path: &str,
    value: Option<&AnswerValue>,
    hint: bool,
    errors: &[&str],
    aria_label: Option<&str>,
) -> String {
    let id = dom_id(path);
    let mut common = format!("id=\"{id}\" name=\"{}\"", escape(path));
    common.push_str(&described_by(&id, hint, !errors.is_empty()));
    if !errors.is_empty() {
        common.push_str(" aria-invalid=\"true\"");
    }
    if let Some(label) = aria_label {
        common.push_str(&format!(" aria-label=\"{}\"", escape(label)));
    }
    let v = escape(&scalar(value));
    match kind {
        K::Text { max_chars } => {
            format!("<input type=\"text\" {common} value=\"{v}\" maxlength=\"{max_chars}\">\n")
        }
        // The newline after the start tag is eaten by the HTML parser, so a value that starts
        // with a line break keeps it.
        K::Multiline { max_chars } => {
            format!("<textarea {common} rows=\"4\" maxlength=\"{max_chars}\">\n{v}</textarea>\n")
        }
        // Stored dates are ISO; people read and type them in 和暦 (or 西暦, which is
        // accepted too), as on the paper form.
        K::Date => format!(
            "<input type=\"text\" {common} value=\"{}\" placeholder=\"例：令和8年4月1日\" \
             autocomplete=\"off\" size=\"18\">\n",
            escape(&wareki_text(&scalar(value)))
        ),
        K::Time => format!("<input type=\"time\" {common} value=\"{v}\">\n"),
        K::Number {
            min,
            max,
            decimals,
            unit,
        } => {
            let step = if decimals == 0 {
                "1".to_owned()
            } else {
                format!("0.{}1", "0".repeat(usize::from(decimals) - 1))
            };
            format!(
                "<input type=\"number\" inputmode=\"decimal\" {common} value=\"{v}\" \
                 min=\"{min}\" max=\"{max}\" step=\"{step}\"> <span class=\"unit\">{}</span>\n",
                escape(unit)
            )
        }
        _ => String::new(),
    }
}

/// One radio button or checkbox with its label.
fn choice(kind: &str, path: &str, code: &str, label: &str, checked: bool) -> String {
    format!(
        "<label class=\"checkbox\"><input type=\"{kind}\" name=\"{}\" value=\"{}\"{}> {}</label>\n",
        escape(path),
        escape(code),
        if checked { " checked" } else { "" },
        escape(label)
    )
}

fn option_label(options: &[ChoiceOption], code: &str) -> String {
    options
        .iter()
        .find(|o| o.code == code)
        .map_or_else(|| escape(code), |o| escape(o.label))
}

/// An ISO date as 和暦 (令和8年4月1日); anything else (what someone typed and must correct)
/// as it is.
fn wareki_text(raw: &str) -> String {
    const ISO: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, ISO).map_or_else(|_| raw.to_owned(), ryoritsu_domain::wareki::format)
}

/// An answer as escaped HTML: inline text for one-value kinds, block markup (starting with `<`)
/// for composite ones, empty when unanswered.
fn display(spec: &FieldSpec, value: Option<&AnswerValue>) -> String {
    let Some(value) = value else {
        return String::new();
    };
    match (spec.kind, value) {
        (K::Multiline { .. }, AnswerValue::Text(s)) => escape_lines(s),
        (K::Number { unit, .. }, v) => {
            let n = scalar(Some(v));
            if n.is_empty() {
                n
            } else {
                escape(&format!("{n} {unit}"))
            }
        }
        (K::YesNo { yes, no }, AnswerValue::Bool(b)) => escape(if *b { yes } else { no }),
        (K::SingleChoice { options }, AnswerValue::Text(code)) => option_label(options, code),
        (K::MultipleChoice { options }, AnswerValue::List(codes)) => codes
            .iter()
            .map(|c| option_label(options, c))
            .collect::<Vec<_>>()
            .join("、"),
        (K::Date, AnswerValue::Text(d)) => escape(&wareki_text(d)),
        (K::DateRange, AnswerValue::Group(parts)) => {
            let from = escape(&wareki_text(&scalar(parts.get("from"))));
            let to = escape(&wareki_text(&scalar(parts.get("to"))));
            if from.is_empty() && to.is_empty() {
                String::new()
            } else {
                format!("{from} 〜 {to}")
            }
        }
        (K::Group { .. } | K::Signature { .. }, AnswerValue::Group(parts)) => {
            let mut out = String::new();
            if let K::Signature {
                statement: Some(statement),
            } = spec.kind
            {
                out.push_str(&format!("<p>{}</p>\n", escape_lines(statement)));
            }
            out.push_str("<dl class=\"kv\">\n");
            for part in spec.kind.sub_fields().unwrap_or(&[]) {
                let shown = display(part, parts.get(part.id));
                let shown = if shown.is_empty() {
                    format!("<span class=\"muted\">{NOT_ENTERED}</span>")
                } else {
                    shown
                };
                out.push_str(&format!(
                    "<dt>{}</dt><dd>{shown}</dd>\n",
                    escape(part.label)
                ));
            }
            out.push_str("</dl>\n");
            out
        }
        (K::Table { columns, .. }, AnswerValue::Rows(rows)) if !rows.is_empty() => {
            let mut out = String::from(
                "<div class=\"table-wrap\">\n<table class=\"table\">\n\
                 <thead><tr><th scope=\"col\">行</th>",
            );
            for col in columns {
                out.push_str(&format!("<th scope=\"col\">{}</th>", escape(col.label)));
            }
            out.push_str("</tr></thead>\n<tbody>\n");
            for (i, row) in rows.iter().enumerate() {
                out.push_str(&format!("<tr><th scope=\"row\">{}</th>", i + 1));
                for col in columns {
                    out.push_str(&format!("<td>{}</td>", display(col, row.get(col.id))));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody>\n</table>\n</div>\n");
            out
        }
        (K::Table { .. }, _) | (K::FixedText { .. } | K::Heading, _) => String::new(),
        (_, v) => escape(&scalar(Some(v))),
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// The answers in a form post (pairs as `form_urlencoded::parse` gives them).
///
/// Unknown names and `csrf_token` are ignored; an empty (or blank) input is no answer. Yes/no
/// becomes a boolean, a plain decimal a number (anything else stays text for validation to
/// report), parts an object, table rows an array without its wholly empty rows. Row indexes at
/// or above the table's `max_rows` are ignored. The result still goes through
/// `ryoritsu_domain::forms::check_draft` / `validate`, which normalise and report.
pub fn parse_fields(schema: &FormSchema, pairs: &[(String, String)]) -> Answers {
    parse_fields_for(schema, pairs, None)
}

/// [`parse_fields`] limited to the fields `party` fills (all fields when `None`), so a post
/// cannot write another party's section; merge the result over the stored answers.
pub fn parse_fields_for(
    schema: &FormSchema,
    pairs: &[(String, String)],
    party: Option<Party>,
) -> Answers {
    let mut posted: HashMap<&str, Vec<&str>> = HashMap::new();
    for (name, value) in pairs {
        if name == "csrf_token" || value.trim().is_empty() {
            continue;
        }
        posted
            .entry(name.as_str())
            .or_default()
            .push(value.as_str());
    }
    let specs: Vec<&FieldSpec> = schema
        .fields()
        .filter(|s| party.is_none_or(|p| s.filled_by == Some(p)))
        .collect();
    parse_object(&specs, "", &posted)
}

type Posted<'p> = HashMap<&'p str, Vec<&'p str>>;

fn parse_object(specs: &[&FieldSpec], prefix: &str, posted: &Posted<'_>) -> Answers {
    let mut out = Answers::new();
    for spec in specs {
        let path = format!("{prefix}{}", spec.id);
        if let Some(v) = parse_value(spec, &path, posted) {
            out.insert(spec.id.to_owned(), v);
        }
    }
    out
}

fn parse_value(spec: &FieldSpec, path: &str, posted: &Posted<'_>) -> Option<AnswerValue> {
    let first = || posted.get(path).and_then(|v| v.first()).copied();
    match spec.kind {
        K::FixedText { .. } | K::Heading => None,
        K::Text { .. } | K::Time | K::SingleChoice { .. } => first().map(AnswerValue::text),
        // 和暦 as shown on the page goes back to ISO; what does not parse is kept as typed
        // for the validator to name.
        K::Date => first().map(|s| {
            ryoritsu_domain::wareki::parse(s, spec.label).map_or_else(
                |_| AnswerValue::text(s),
                |d| {
                    AnswerValue::Text(format!(
                        "{:04}-{:02}-{:02}",
                        d.year(),
                        u8::from(d.month()),
                        d.day()
                    ))
                },
            )
        }),
        // Browsers post textarea line breaks as CRLF.
        K::Multiline { .. } => first().map(|s| AnswerValue::Text(s.replace("\r\n", "\n"))),
        K::Number { decimals, .. } => first().map(|s| parse_number(s, decimals)),
        K::YesNo { .. } => first().map(|s| match s {
            "true" => AnswerValue::Bool(true),
            "false" => AnswerValue::Bool(false),
            other => AnswerValue::text(other),
        }),
        K::MultipleChoice { .. } => posted
            .get(path)
            .map(|codes| AnswerValue::list(codes.iter().copied())),
        K::Group { .. } | K::DateRange | K::Signature { .. } => {
            let parts: Vec<&FieldSpec> = spec.kind.sub_fields().unwrap_or(&[]).iter().collect();
            let prefix = format!("{path}.");
            let out = parse_object(&parts, &prefix, posted);
            (!out.is_empty()).then_some(AnswerValue::Group(out))
        }
        K::Table { columns, max_rows } => {
            // Only the row numbers actually posted, so a huge max_rows or index costs nothing.
            let mut indexes: Vec<usize> = posted
                .keys()
                .filter_map(|name| {
                    let rest = name.strip_prefix(path)?.strip_prefix('[')?;
                    let (index, _) = rest.split_once(']')?;
                    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    index.parse::<usize>().ok().filter(|i| *i < max_rows)
                })
                .collect();
            indexes.sort_unstable();
            indexes.dedup();
            let cols: Vec<&FieldSpec> = columns.iter().collect();
            let rows: BTreeMap<usize, Answers> = indexes
                .into_iter()
                .map(|i| (i, parse_object(&cols, &format!("{path}[{i}]."), posted)))
                .filter(|(_, row)| !row.is_empty())
                .collect();
            (!rows.is_empty()).then(|| AnswerValue::Rows(rows.into_values().collect()))
        }
    }
}

/// A plain ASCII decimal becomes a number shaped as validation normalises it (integers for
/// whole-number fields, floats otherwise); anything else (全角 digits, junk) stays text, for
/// validation to fold or report.
fn parse_number(raw: &str, decimals: u8) -> AnswerValue {
    let s = raw.trim();
    let plain = !s.is_empty()
        && s.len() <= 20
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|b| *b == b'.').count() <= 1
        && !s.starts_with('.')
        && !s.ends_with('.');
    if plain {
        if decimals == 0 {
            if let Ok(n) = s.parse::<u64>() {
                return AnswerValue::Number(n.into());
            }
        } else if let Some(n) = s.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            return AnswerValue::Number(n);
        }
    }
    AnswerValue::text(raw)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use ryoritsu_domain::forms::{
        FormKind, FormVersion, check_draft, schema, validate, validate_part,
    };
    use serde_json::json;

    use super::*;

    fn answers(v: serde_json::Value) -> Answers {
        serde_json::from_value(v).unwrap()
    }

    fn all_schemas() -> impl Iterator<Item = &'static FormSchema> {
        FormKind::ALL
            .iter()
            .flat_map(|f| FormVersion::ALL.iter().map(move |v| schema(*f, *v)))
    }

    // -----------------------------------------------------------------------------------------
    // A minimal browser: what a form with this fragment would submit.

    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    /// Attributes of the tag starting at `html` (after the tag name), up to its `>`.
    fn attributes(tag: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut rest = tag.trim_start();
        while !rest.is_empty() {
            let end = rest
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(rest.len());
            let name = rest[..end].to_owned();
            rest = &rest[end..];
            if let Some(after) = rest.strip_prefix("=\"") {
                let close = after.find('"').unwrap();
                out.insert(name, unescape(&after[..close]));
                rest = &after[close + 1..];
            } else {
                out.insert(name, String::new());
            }
            rest = rest.trim_start();
        }
        out
    }

    fn submit(html: &str) -> Vec<(String, String)> {
        let mut pairs = vec![("csrf_token".to_owned(), "t0ken".to_owned())];
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            rest = &rest[start + 1..];
            let end = rest.find('>').unwrap();
            let tag = &rest[..end];
            if let Some(attrs) = tag.strip_prefix("input ") {
                let a = attributes(attrs);
                let Some(name) = a.get("name") else { continue };
                let value = a.get("value").cloned().unwrap_or_default();
                let ticked = matches!(
                    a.get("type").map(String::as_str),
                    Some("radio" | "checkbox")
                );
                if !ticked || a.contains_key("checked") {
                    pairs.push((name.clone(), value));
                }
            } else if let Some(attrs) = tag.strip_prefix("textarea ") {
                let a = attributes(attrs);
                let body = &rest[end + 1..];
                let close = body.find("</textarea>").unwrap();
                let text = body[..close].strip_prefix('\n').unwrap_or(&body[..close]);
                // Browsers submit line breaks as CRLF.
                let text = unescape(text).replace('\n', "\r\n");
                pairs.push((a["name"].clone(), text));
            }
        }
        pairs
    }

    fn check_markup(html: &str) {
        assert!(!html.contains("style="), "inline style");
        assert!(!html.to_lowercase().contains("<script"), "script");
        for tag in [
            "div", "fieldset", "table", "label", "p", "dl", "textarea", "tr", "td",
        ] {
            let open = html.matches(&format!("<{tag}>")).count()
                + html.matches(&format!("<{tag} ")).count();
            let close = html.matches(&format!("</{tag}>")).count();
            assert_eq!(open, close, "unbalanced <{tag}>");
        }
        let mut ids = BTreeSet::new();
        for part in html.split(" id=\"").skip(1) {
            let id = &part[..part.find('"').unwrap()];
            assert!(ids.insert(id.to_owned()), "duplicate id {id}");
        }
        for part in html.split(" for=\"").skip(1) {
            let id = &part[..part.find('"').unwrap()];
            assert!(ids.contains(id), "label for missing id {id}");
        }
    }

    // -----------------------------------------------------------------------------------------
    // Valid examples (shapes from crates/domain/src/forms/tests.rs)

    fn work_information(version: FormVersion) -> Answers {
        let mut a = answers(json!({
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
            "company_signature": {"date": "2026-04-10", "name": "株式会社〇〇製作所 & \"Co\" <R&D>"}
        }));
        if version == FormVersion::V2024 {
            a.remove("occupational_physician");
            a.remove("company_contact");
        }
        a
    }

    fn continuation_opinion(version: FormVersion) -> Answers {
        let mut a = answers(json!({
            "patient_name": "佐藤 花子",
            "date_of_birth": "1978-05-12",
            "address": "愛知県豊田市〇〇町1-2-3",
            "diagnosis": "大腸がん（術後）",
            "current_symptoms": "術後の倦怠感が残る。抗がん剤の副作用で手足のしびれがある。",
            "treatment_plan": "外来化学療法を半年間、月2回の通院が必要。",
            "fitness_for_work": "fit_with_conditions",
            "work_measures": "重いものを持たない。\n残業を避ける。\n\t短時間勤務（1日6時間）が望ましい。",
            "other_considerations": "通院時間を確保する。休憩場所を確保する。",
            "measure_period": {"from": "2026-05-01", "to": "2026-10-31"},
            "worker_confirmation": {"date": "2026-04-20", "name": "佐藤 花子"},
            "physician_signature": {"date": "2026-04-20", "name": "山田 太郎"}
        }));
        if version == FormVersion::V2026 {
            a.insert(
                "clinic_contact".into(),
                answers(json!({"c": {"address": "愛知県豊田市△△町7-8", "phone": "0565-11-2222"}}))
                    .remove("c")
                    .unwrap(),
            );
        }
        a
    }

    fn return_to_work_opinion() -> Answers {
        answers(json!({
            "patient_name": "鈴木 一郎",
            "date_of_birth": "1969-11-03",
            "return_opinion": "not_yet",
            "leave_until": "2026-06-30",
            "other_considerations": "通院時間を確保する。",
            "measure_period": {"from": "2026-07-01"},
            "physician_signature": {"date": "2026-04-20", "name": "山田 太郎"}
        }))
    }

    fn support_plan(return_date: bool) -> Answers {
        let mut a = answers(json!({
            "created_on": "2026-04-25",
            "employee_name": "佐藤 花子",
            "date_of_birth": "1978-05-12",
            "sex": "female",
            "department": "第二製造部 組立課",
            "employee_number": "A-01234",
            "treatment_status": "外来化学療法中（月2回通院）。副作用で手足のしびれと倦怠感あり。",
            "plan_periods": [
                {"period": "1か月目", "working_hours": "10:00～15:00（1時間休憩）",
                 "measures": "短時間勤務／残業・深夜勤務・休日勤務は禁止／通院配慮",
                 "treatment_schedule": "通院 月2回"},
                {"period": "2か月目", "working_hours": "9:00～16:00（1時間休憩）",
                 "measures": "短時間勤務／残業禁止／通院配慮", "treatment_schedule": "通院 月2回"},
                {"period": "", "working_hours": "", "measures": ""},
                {"period": "3か月目", "working_hours": "8:30～17:30（1時間休憩）",
                 "measures": "通常勤務／残業は月10時間まで", "treatment_schedule": "通院 月1回"}
            ],
            "job_duties": "組立ラインの検査工程（座位作業）に限る。重量物の運搬は行わない。",
            "other_work_considerations": "二交替勤務は当面免除する。",
            "follow_up": "2週間ごとに本人・所属長・人事担当で面談し、必要に応じてプランを見直す。",
            "worker_confirmation": {"date": "2026-04-25", "name": "佐藤 花子"},
            "manager_signature": {"date": "2026-04-25", "name": "高橋 次郎"},
            "hr_signature": {"date": "2026-04-25", "name": "田中 三子"}
        }));
        if return_date {
            a.insert(
                "return_to_work_date".into(),
                AnswerValue::text("2026-05-07"),
            );
        }
        a
    }

    fn support_card(version: FormVersion) -> Answers {
        let mut a = answers(json!({
            "name": "佐藤 花子",
            "date_of_birth": "1978-05-12",
            "job_description": "製造ライン作業（自動車部品の組立）。正社員。",
            "work_hours": {"start": "08:30", "end": "17:30", "break_hours": 1, "days_per_week": 5},
            "tasks": {"physical_load": ["standing", "heavy_lifting"],
                      "accident_risk": ["dangerous_machinery"],
                      "mental_burden": ["long_hours"]},
            "occupational_physician": false,
            "worker_entry": {"date": "2026-04-05", "name": "佐藤 花子"},
            "diagnosis": "2型糖尿病",
            "current_symptoms": "血糖コントロール不良。低血糖発作の可能性あり。",
            "treatment": "インスリン導入。",
            "visit_frequency": "月2回",
            "work_opinion": "fit_with_conditions",
            "consideration_a": "高所作業・危険な機械操作は当面避ける。",
            "clinic_contact": {"phone": "0565-11-2222"},
            "physician_entry": {"date": "2026-04-12", "name": "山田 太郎"}
        }));
        if version == FormVersion::V2024 {
            a.remove("occupational_physician");
            a.remove("clinic_contact");
        }
        a
    }

    fn example(form: FormKind, version: FormVersion) -> Answers {
        match form {
            FormKind::WorkInformation => work_information(version),
            FormKind::ContinuationOpinion => continuation_opinion(version),
            FormKind::ReturnToWorkOpinion => return_to_work_opinion(),
            FormKind::SupportPlan => support_plan(false),
            FormKind::ReturnToWorkPlan => support_plan(true),
            FormKind::SupportCard => support_card(version),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Round trips

    #[test]
    fn empty_forms_post_back_empty() {
        for s in all_schemas() {
            let html = render_fields(s, &Answers::new(), &[], None);
            check_markup(&html);
            assert_eq!(
                parse_fields(s, &submit(&html)),
                Answers::new(),
                "{:?}",
                s.form
            );
        }
    }

    #[test]
    fn valid_examples_round_trip_through_the_page() {
        for s in all_schemas() {
            let normalised = validate(s.form, s.version, &example(s.form, s.version))
                .unwrap()
                .into_answers();
            let html = render_fields(s, &normalised, &[], None);
            check_markup(&html);
            let back = parse_fields(s, &submit(&html));
            assert_eq!(back, normalised, "{:?} {:?}", s.form, s.version);
            assert_eq!(check_draft(s.form, s.version, &back).unwrap(), normalised);
        }
    }

    #[test]
    fn raw_examples_parse_to_what_validation_accepts() {
        // Unnormalised answers (8:30, 全角 digits) survive the page as text and normalise
        // to the same answers as the JSON does.
        for s in all_schemas() {
            let raw = example(s.form, s.version);
            let html = render_fields(s, &raw, &[], None);
            let back = parse_fields(s, &submit(&html));
            assert_eq!(
                check_draft(s.form, s.version, &back).unwrap(),
                check_draft(s.form, s.version, &raw).unwrap(),
                "{:?} {:?}",
                s.form,
                s.version
            );
        }
    }

    #[test]
    fn tables_offer_two_empty_rows_up_to_the_maximum() {
        let s = schema(FormKind::SupportPlan, FormVersion::V2026);
        let html = render_fields(s, &Answers::new(), &[], None);
        assert!(html.contains("name=\"plan_periods[1].period\""));
        assert!(!html.contains("name=\"plan_periods[2].period\""));
        assert!(html.contains("行を追加するには、空いている行に入力してください（24行まで）。"));
        let a = validate(s.form, s.version, &support_plan(false))
            .unwrap()
            .into_answers();
        let html = render_fields(s, &a, &[], None);
        assert!(html.contains("name=\"plan_periods[4].period\""));
        assert!(!html.contains("name=\"plan_periods[5].period\""));
        let rows: Vec<Answers> = (1..=24)
            .map(|i| answers(json!({ "period": format!("{i}か月目") })))
            .collect();
        let full: Answers = [("plan_periods".to_owned(), AnswerValue::Rows(rows))].into();
        let html = render_fields(s, &full, &[], None);
        assert!(html.contains("name=\"plan_periods[23].period\""));
        assert!(!html.contains("name=\"plan_periods[24].period\""));
        assert!(html.contains("入力できるのは24行までです。"));
        assert_eq!(parse_fields(s, &submit(&html)), full);
    }

    // -----------------------------------------------------------------------------------------
    // What the page shows

    fn labels(specs: &[FieldSpec], out: &mut Vec<&'static str>) {
        for spec in specs {
            // Fixed text is printed without its (internal) label.
            if !matches!(spec.kind, K::FixedText { .. }) {
                out.push(spec.label);
            }
            match spec.kind {
                K::SingleChoice { options } | K::MultipleChoice { options } => {
                    out.extend(options.iter().map(|o| o.label));
                }
                K::YesNo { yes, no } => out.extend([yes, no]),
                K::Table { columns, .. } => labels(columns, out),
                K::Signature { statement } => {
                    out.extend(statement);
                    labels(SIGNATURE_PARTS, out);
                }
                K::FixedText { text } => out.push(text),
                K::Number { unit, .. } => out.push(unit),
                k => labels(k.sub_fields().unwrap_or(&[]), out),
            }
            out.extend(spec.hint);
        }
    }

    const SIGNATURE_PARTS: &[FieldSpec] = ryoritsu_domain::forms::SIGNATURE_FIELDS;

    #[test]
    fn every_label_and_option_is_on_the_page() {
        for s in all_schemas() {
            let html = render_fields(s, &Answers::new(), &[], None);
            let fields: Vec<FieldSpec> = s.fields().copied().collect();
            let mut all = Vec::new();
            labels(&fields, &mut all);
            for label in all {
                let shown = escape_lines(label);
                assert!(html.contains(&shown), "{:?}: {label}", s.form);
            }
            assert!(html.contains("<span class=\"required\">必須</span>"));
        }
    }

    #[test]
    fn kinds_render_as_their_inputs() {
        let s = schema(FormKind::WorkInformation, FormVersion::V2026);
        let html = render_fields(s, &Answers::new(), &[], None);
        assert!(html.contains(
            "<input type=\"text\" id=\"f-employee_name\" name=\"employee_name\" value=\"\" maxlength=\"100\">"
        ));
        assert!(html.contains(
            "<label for=\"f-employee_name\">従業員氏名 <span class=\"required\">必須</span></label>"
        ));
        assert!(
            html.contains(
                "<input type=\"time\" id=\"f-work_hours-start\" name=\"work_hours.start\""
            )
        );
        assert!(
            html.contains("<input type=\"text\" id=\"f-date_of_birth\" name=\"date_of_birth\"")
        );
        assert!(html.contains(
            "<input type=\"number\" inputmode=\"decimal\" id=\"f-paid_leave_days\" name=\"paid_leave_days\" aria-describedby=\"f-paid_leave_days-hint\" value=\"\" min=\"0\" max=\"999\" step=\"0.1\"> <span class=\"unit\">日間</span>"
        ));
        assert!(html.contains(
            "<textarea id=\"f-other_notes\" name=\"other_notes\" rows=\"4\" maxlength=\"2000\">"
        ));
        assert!(html.contains(
            "<input type=\"radio\" name=\"occupational_physician\" value=\"true\"> 有</label>"
        ));
        assert!(html.contains(
            "<input type=\"radio\" name=\"occupational_physician\" value=\"false\"> 無</label>"
        ));
        assert!(html.contains("<input type=\"checkbox\" name=\"commute.methods\" value=\"walk\">"));
        assert!(
            html.contains(
                "<fieldset class=\"field\" id=\"f-work_hours\">\n<legend>勤務時間</legend>"
            )
        );
        assert!(html.contains("<p>上記内容を確認しました。</p>"));
        // Signature parts carry no 必須 badge: they are needed only once someone signs.
        assert!(html.contains("<label for=\"f-worker_confirmation-date\">日付</label>"));
        assert!(html.contains("「種類」で「その他」を選んだ場合は、入力してください。"));
        let card = render_fields(
            schema(FormKind::SupportCard, FormVersion::V2026),
            &Answers::new(),
            &[],
            None,
        );
        assert!(card.contains("<h3 id=\"f-worker_section\">Ⅰ. 本人記載欄</h3>"));
        let co = render_fields(
            schema(FormKind::ContinuationOpinion, FormVersion::V2026),
            &Answers::new(),
            &[],
            None,
        );
        assert!(co.contains("<div class=\"grid date-range\">"));
        assert!(co.contains("<span aria-hidden=\"true\">〜 </span>終了日"));
        assert!(co.contains("事業者が最終的に決定するものである。</p>"));
        assert!(co.contains("例：重いものを持たない、暑い場所での作業は避ける、車の運転は不可、残業を避ける、長期の出張や海外出張は避ける　など<br>\n注）"));
    }

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("佐藤 花子"), "佐藤 花子");
        assert_eq!(escape(""), "");
        assert_eq!(escape_lines("a\r\nb\n<c>"), "a<br>\nb<br>\n&lt;c&gt;");
        assert_eq!(dom_id("plan_periods[2].period"), "f-plan_periods-2-period");
        assert_eq!(dom_id("x\" onclick=\"y"), "f-x__onclick__y");
    }

    #[test]
    fn answers_are_escaped_everywhere() {
        let evil = "<script>alert(\"x\")</script>'&";
        let s = schema(FormKind::SupportCard, FormVersion::V2026);
        let a = answers(json!({
            "name": evil,
            "job_description": evil,
            "work_opinion": evil,
            "diagnosis": evil,
            "tasks": {"physical_load": [evil]},
            "worker_entry": {"name": evil},
        }));
        let errors = vec![FieldError::new("name", "x", evil)];
        for party in [None, Some(Party::Worker), Some(Party::AttendingPhysician)] {
            let html = render_fields(s, &a, &errors, party);
            check_markup(&html);
            assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;"));
        }
        let html = render_fields(s, &a, &[], None);
        let back = parse_fields(s, &submit(&html));
        assert_eq!(back["name"], AnswerValue::text(evil));
        assert_eq!(back["job_description"], AnswerValue::text(evil));
    }

    // -----------------------------------------------------------------------------------------
    // Errors

    fn error_line<'h>(html: &'h str, path: &str) -> &'h str {
        let marker = format!("<p class=\"field-error\" id=\"{}-error\">", dom_id(path));
        let start = html
            .find(&marker)
            .unwrap_or_else(|| panic!("no error line for {path}"));
        let rest = &html[start + marker.len()..];
        &rest[..rest.find("</p>").unwrap()]
    }

    #[test]
    fn errors_appear_beside_their_fields() {
        let s = schema(FormKind::WorkInformation, FormVersion::V2026);
        let a = answers(json!({
            "work_hours": {"start": "25:00", "lunch": "12:00"},
            "commute": {"methods": ["walk", "other"]},
            "blood_type": "A",
        }));
        let e = validate(s.form, s.version, &a).unwrap_err();
        let html = render_fields(s, &a, &e.errors, None);
        check_markup(&html);
        for err in &e.errors {
            assert_eq!(
                html.matches(&escape(&err.message)).count(),
                1,
                "{}",
                err.message
            );
        }
        assert!(error_line(&html, "employee_name").contains("「従業員氏名」を入力してください。"));
        assert!(error_line(&html, "work_hours.start").contains("正しい時刻"));
        assert!(html.contains(
            "name=\"work_hours.start\" aria-describedby=\"f-work_hours-start-error\" aria-invalid=\"true\""
        ));
        assert!(
            error_line(&html, "commute.other").contains("「その他（内容）」を入力してください。")
        );
        // A part outside the schema shows at its group; a field outside it after all fields.
        assert!(error_line(&html, "work_hours").contains("lunch"));
        assert!(error_line(&html, "form").contains("blood_type"));

        let s = schema(FormKind::SupportPlan, FormVersion::V2024);
        let a = answers(json!({"plan_periods": [{"measures": "短時間勤務"}],
                               "measure": 1}));
        let e = validate(s.form, s.version, &a).unwrap_err();
        let html = render_fields(s, &a, &e.errors, None);
        assert!(error_line(&html, "plan_periods[0].period").contains("1行目"));
        assert!(html.contains("aria-label=\"期間（1行目）\""));
        let e = validate(s.form, s.version, &Answers::new()).unwrap_err();
        let html = render_fields(s, &Answers::new(), &e.errors, None);
        assert!(error_line(&html, "plan_periods").contains("1行以上入力してください"));
        assert!(html.contains("<fieldset class=\"field\" id=\"f-plan_periods\" aria-describedby=\"f-plan_periods-hint f-plan_periods-error\">"));

        let s = schema(FormKind::ReturnToWorkOpinion, FormVersion::V2024);
        let a = answers(json!({"measure_period": {"from": "2026-10-01", "to": "2026-05-01"}}));
        let e = check_draft(s.form, s.version, &a).unwrap_err();
        let html = render_fields(s, &a, &e.errors, None);
        assert!(error_line(&html, "measure_period").contains("終了日は開始日以降"));
    }

    // -----------------------------------------------------------------------------------------
    // Parties

    #[test]
    fn another_partys_fields_are_read_only() {
        let s = schema(FormKind::SupportCard, FormVersion::V2026);
        let a = validate(s.form, s.version, &support_card(s.version))
            .unwrap()
            .into_answers();
        let worker = render_fields(s, &a, &[], Some(Party::Worker));
        check_markup(&worker);
        assert!(worker.contains("name=\"name\""));
        assert!(worker.contains("name=\"tasks.physical_load\""));
        for id in [
            "diagnosis",
            "work_opinion",
            "consideration_a",
            "clinic_contact.phone",
            "physician_entry.name",
        ] {
            assert!(!worker.contains(&format!("name=\"{id}\"")), "{id}");
        }
        assert!(worker.contains("<p>2型糖尿病</p>"));
        assert!(worker.contains("主治医が記入"));
        // Option codes show as their labels.
        assert!(
            worker.contains(&escape_lines(
                ryoritsu_domain::forms::CardWorkOpinion::OPTIONS
                    .iter()
                    .find(|o| o.code == "fit_with_conditions")
                    .unwrap()
                    .label
            ))
        );
        // Everything the worker may edit posts back; nothing else does.
        let back = parse_fields(s, &submit(&worker));
        let mine = validate_part(s.form, s.version, &back, Party::Worker).unwrap();
        let expected: Answers = a
            .iter()
            .filter(|(k, _)| s.field(k).unwrap().filled_by == Some(Party::Worker))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(mine, expected);

        let physician = render_fields(s, &a, &[], Some(Party::AttendingPhysician));
        check_markup(&physician);
        assert!(physician.contains("name=\"diagnosis\""));
        assert!(!physician.contains("name=\"name\""));
        assert!(!physician.contains("name=\"work_hours.start\""));
        assert!(physician.contains("<dt>始業時刻</dt><dd>08:30</dd>"));
        assert!(physician.contains("<dt>休憩（時間）</dt><dd>1.0 時間</dd>"));
        assert!(physician.contains("労働者（本人）が記入"));
        assert!(physician.contains("<p>無</p>"));

        let plan = schema(FormKind::SupportPlan, FormVersion::V2026);
        let a = validate(plan.form, plan.version, &support_plan(false))
            .unwrap()
            .into_answers();
        let html = render_fields(plan, &a, &[], Some(Party::Worker));
        check_markup(&html);
        assert!(html.contains("<td>2か月目</td>"));
        assert!(html.contains("name=\"worker_confirmation.date\""));
        let empty = render_fields(plan, &Answers::new(), &[], Some(Party::Worker));
        assert!(empty.contains("<p class=\"muted\">未記入</p>"));
    }

    #[test]
    fn parse_for_a_party_keeps_only_its_fields() {
        let s = schema(FormKind::SupportCard, FormVersion::V2026);
        let pairs = vec![
            ("name".to_owned(), "佐藤 花子".to_owned()),
            ("diagnosis".to_owned(), "書き換え".to_owned()),
            ("physician_entry.name".to_owned(), "偽名".to_owned()),
        ];
        let a = parse_fields_for(s, &pairs, Some(Party::Worker));
        assert_eq!(a, answers(json!({"name": "佐藤 花子"})));
        assert_eq!(parse_fields(s, &pairs).len(), 3);
    }

    // -----------------------------------------------------------------------------------------
    // Parsing

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parse_shapes_values_by_kind() {
        let s = schema(FormKind::WorkInformation, FormVersion::V2026);
        let a = parse_fields(
            s,
            &pairs(&[
                ("csrf_token", "abc"),
                ("employee_name", "佐藤"),
                ("employee_name", "二つ目"),
                ("address", ""),
                ("occupation", "　 "),
                ("other_notes", "一行目\r\n二行目"),
                ("paid_leave_days", "12.5"),
                ("work_hours.days_per_week", "5"),
                ("work_hours.break_hours", "1"),
                ("commute.minutes", "４５"),
                ("leave_period.days", "1e3"),
                ("leave_period.salary_paid", "false"),
                ("occupational_physician", "yes"),
                ("job_description.tasks", "driving"),
                ("job_description.tasks", ""),
                ("job_description.tasks", "flying"),
                ("measure_period.from", "2026-01-01"),
                ("unknown", "x"),
                ("work_hours.lunch", "12:00"),
            ]),
        );
        assert_eq!(
            a,
            answers(json!({
                "employee_name": "佐藤",
                "other_notes": "一行目\n二行目",
                "paid_leave_days": 12.5,
                "work_hours": {"days_per_week": 5, "break_hours": 1.0},
                "commute": {"minutes": "４５"},
                "leave_period": {"days": "1e3", "salary_paid": false},
                "occupational_physician": "yes",
                "job_description": {"tasks": ["driving", "flying"]},
            }))
        );
        // Kept as text so validation names the problem.
        let e = check_draft(s.form, s.version, &a).unwrap_err();
        let fields: BTreeSet<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            BTreeSet::from([
                "leave_period.days",
                "occupational_physician",
                "job_description.tasks"
            ])
        );
    }

    #[test]
    fn parse_bounds_table_rows_and_drops_empty_ones() {
        let s = schema(FormKind::SupportPlan, FormVersion::V2026);
        let a = parse_fields(
            s,
            &pairs(&[
                ("plan_periods[99999999999].period", "x"),
                ("plan_periods[999999999999999999999999999].period", "x"),
                ("plan_periods[24].period", "too far"),
                ("plan_periods[23].period", "最後"),
                ("plan_periods[-1].period", "x"),
                ("plan_periods[+1].period", "x"),
                ("plan_periods[].period", "x"),
                ("plan_periods[0]period", "x"),
                ("plan_periods[0].period", ""),
                ("plan_periods[0].measures", " "),
                ("plan_periods[3].period", "最初"),
                ("plan_periods[3].lunch", "x"),
                ("plan_periods[03].period", "x"),
            ]),
        );
        assert_eq!(
            a,
            answers(json!({"plan_periods": [{"period": "最初"}, {"period": "最後"}]}))
        );
        assert_eq!(
            parse_fields(s, &pairs(&[("plan_periods[0].period", "")])),
            Answers::new()
        );
    }

    /// A small deterministic generator: the crate has no proptest.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(self.0 >> 33).unwrap()
        }

        fn pick<'x>(&mut self, from: &[&'x str]) -> &'x str {
            from[self.next() % from.len()]
        }
    }

    #[test]
    fn parse_never_panics_on_junk() {
        let long_name = "a".repeat(10_000);
        let long_value = "あ".repeat(100_000);
        let names = [
            "employee_name",
            "work_hours",
            "work_hours.",
            "work_hours.start",
            ".start",
            "plan_periods",
            "plan_periods[",
            "plan_periods[0",
            "plan_periods[0]",
            "plan_periods[0].",
            "plan_periods[0].period",
            "plan_periods[0][1].period",
            "plan_periods[18446744073709551616].period",
            "plan_periods[１].period",
            "plan_periods[0].period.x",
            "tasks.physical_load",
            "tasks.physical_load[]",
            "tasks",
            "measure_period.from",
            "measure_period.to",
            "worker_entry.date",
            "occupational_physician",
            "paid_leave_days",
            "commute.minutes",
            "lead",
            "worker_section",
            "csrf_token",
            "",
            "[",
            "]",
            ".",
            "..",
            "[]",
            "\u{0}",
            "é",
            "\u{202E}",
            &long_name,
        ];
        let values = [
            "",
            " ",
            "true",
            "false",
            "TRUE",
            "0",
            "-1",
            "1.5",
            "1.",
            ".5",
            "1..2",
            "1e309",
            "NaN",
            "inf",
            "99999999999999999999999",
            "0.0000000000000000001",
            "１２",
            "<script>",
            "\u{0}",
            "\r\n",
            "a\r\nb",
            "fit",
            "other",
            "2026-02-30",
            "25:00",
            &long_value,
        ];
        let mut rng = Lcg(7);
        for round in 0..400 {
            let s = all_schemas().nth(round % 12).unwrap();
            let n = rng.next() % 12;
            let mut list = Vec::new();
            for _ in 0..n {
                let mut name = rng.pick(&names).to_owned();
                if rng.next().is_multiple_of(4) {
                    name.push_str(rng.pick(&names));
                }
                list.push((name, rng.pick(&values).to_owned()));
            }
            let a = parse_fields(s, &list);
            for party in Party::ALL {
                parse_fields_for(s, &list, Some(*party));
            }
            let errors = match check_draft(s.form, s.version, &a) {
                Ok(_) => Vec::new(),
                Err(e) => e.errors,
            };
            for party in [None, Some(Party::Worker)] {
                check_markup(&render_fields(s, &a, &errors, party));
            }
        }
    }
}
