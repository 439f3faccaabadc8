//! Checks answers against a form's schema and normalises them (NFC text, canonical dates,
//! numbers, option order).
//!
//! Error `field` is the field id; parts are `group.part`, table cells `table[0].column`.
//! Every message names the field by its Japanese label.

use std::collections::BTreeSet;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::schema::{ChoiceOption, FieldKind, FieldSpec};
use super::{AnswerValue, Answers, FormKind, FormVersion, Party, schema};
use crate::error::{FieldError, ValidationErrors};

/// Answers that passed full validation for one form and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidatedAnswers {
    form: FormKind,
    version: FormVersion,
    answers: Answers,
}

impl ValidatedAnswers {
    pub fn form(&self) -> FormKind {
        self.form
    }

    pub fn version(&self) -> FormVersion {
        self.version
    }

    /// The normalised answers; empty answers are dropped.
    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    pub fn into_answers(self) -> Answers {
        self.answers
    }
}

/// Which required fields are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Every required field (a complete form).
    All,
    /// Only the fields one party fills (e.g. the card's 本人記載欄 before it goes to the doctor).
    Party(Party),
    /// None: a draft being saved half-way.
    Nothing,
}

/// Full validation: every required field, every format.
pub fn validate(
    form: FormKind,
    version: FormVersion,
    answers: &Answers,
) -> Result<ValidatedAnswers, ValidationErrors> {
    let answers = run(form, version, answers, Need::All)?;
    Ok(ValidatedAnswers {
        form,
        version,
        answers,
    })
}

/// Validation of one party's part: formats everywhere, required fields of `party` only.
pub fn validate_part(
    form: FormKind,
    version: FormVersion,
    answers: &Answers,
    party: Party,
) -> Result<Answers, ValidationErrors> {
    run(form, version, answers, Need::Party(party))
}

/// Checks a draft for saving: formats only, nothing required yet.
pub fn check_draft(
    form: FormKind,
    version: FormVersion,
    answers: &Answers,
) -> Result<Answers, ValidationErrors> {
    run(form, version, answers, Need::Nothing)
}

fn run(
    form: FormKind,
    version: FormVersion,
    answers: &Answers,
    need: Need,
) -> Result<Answers, ValidationErrors> {
    let fields: Vec<&'static FieldSpec> = schema(form, version).fields().collect();
    let mut errs = ValidationErrors::default();
    let at = Place {
        path: String::new(),
        name: String::new(),
        party: None,
    };
    let out = check_object(&fields, answers, &at, need, &mut errs);
    errs.into_result(out)
}

/// Where a field sits, for error paths and messages.
struct Place {
    path: String,
    /// Japanese name of the enclosing field, e.g. 「勤務時間」 or 「…」2行目の.
    name: String,
    party: Option<Party>,
}

impl Place {
    fn child(&self, spec: &FieldSpec) -> Place {
        let path = if self.path.is_empty() {
            spec.id.to_owned()
        } else {
            format!("{}.{}", self.path, spec.id)
        };
        let name = if self.name.is_empty() {
            format!("「{}」", spec.label)
        } else {
            format!("{}の「{}」", self.name, spec.label)
        };
        Place {
            path,
            name,
            party: spec.filled_by.or(self.party),
        }
    }

    fn row(&self, index: usize) -> Place {
        Place {
            path: format!("{}[{index}]", self.path),
            name: format!("{}{}行目", self.name, index + 1),
            party: self.party,
        }
    }

    fn error(&self, code: &str, message: String) -> FieldError {
        FieldError::new(&self.path, code, message)
    }
}

/// What checking one value gave.
enum Checked {
    Value(AnswerValue),
    Empty,
    Invalid,
}

fn check_object(
    specs: &[&'static FieldSpec],
    answers: &Answers,
    at: &Place,
    need: Need,
    errs: &mut ValidationErrors,
) -> Answers {
    let mut out = Answers::new();
    let mut invalid = BTreeSet::new();
    for spec in specs {
        let Some(value) = answers.get(spec.id) else {
            continue;
        };
        let place = at.child(spec);
        match check_value(spec, value, &place, need, errs) {
            Checked::Value(v) => {
                out.insert(spec.id.to_owned(), v);
            }
            Checked::Empty => {}
            Checked::Invalid => {
                invalid.insert(spec.id);
            }
        }
    }
    for key in answers.keys() {
        if !specs.iter().any(|s| s.id == key) {
            errs.push(unknown_field(at, key));
        }
    }
    for spec in specs {
        if out.contains_key(spec.id) || invalid.contains(spec.id) || !spec.kind.answerable() {
            continue;
        }
        // The place (its path and name formatted) only for an error.
        let enforced = match need {
            Need::All => true,
            Need::Party(p) => spec.filled_by.or(at.party) == Some(p),
            Need::Nothing => false,
        };
        let triggered = spec.required_when.is_some_and(|w| {
            out.get(w.field).is_some_and(|v| match v {
                AnswerValue::Text(code) => code == w.option,
                AnswerValue::List(codes) => codes.iter().any(|c| c == w.option),
                _ => false,
            })
        });
        if enforced && (spec.required || triggered) {
            errs.push(required(spec, &at.child(spec)));
        }
    }
    out
}

fn unknown_field(at: &Place, key: &str) -> FieldError {
    // Keys come from the client: keep a hostile one from bloating the error.
    let shown: String = key.chars().filter(|c| !c.is_control()).take(64).collect();
    let path = if at.path.is_empty() {
        shown.clone()
    } else {
        format!("{}.{shown}", at.path)
    };
    let message = if at.name.is_empty() {
        format!("この様式にない項目（{shown}）が送られました。")
    } else {
        format!("{}にない項目（{shown}）が送られました。", at.name)
    };
    FieldError::new(&path, "unknown_field", message)
}

fn required(spec: &FieldSpec, at: &Place) -> FieldError {
    let name = &at.name;
    let message = match spec.kind {
        FieldKind::SingleChoice { .. }
        | FieldKind::MultipleChoice { .. }
        | FieldKind::YesNo { .. } => format!("{name}を選択してください。"),
        FieldKind::Table { .. } => format!("{name}を1行以上入力してください。"),
        _ => format!("{name}を入力してください。"),
    };
    at.error("required", message)
}

fn invalid_type(at: &Place) -> FieldError {
    at.error(
        "invalid_type",
        format!("{}の入力形式が正しくありません。", at.name),
    )
}

fn check_value(
    spec: &FieldSpec,
    value: &AnswerValue,
    at: &Place,
    need: Need,
    errs: &mut ValidationErrors,
) -> Checked {
    let name = &at.name;
    let result: Result<Checked, FieldError> = match (spec.kind, value) {
        (FieldKind::FixedText { .. } | FieldKind::Heading, _) => {
            Err(at.error("read_only", format!("{name}は入力できない項目です。")))
        }
        (FieldKind::Text { max_chars }, AnswerValue::Text(s)) => {
            clean_text(s, false, max_chars, at)
        }
        (FieldKind::Multiline { max_chars }, AnswerValue::Text(s)) => {
            clean_text(s, true, max_chars, at)
        }
        (FieldKind::Date, AnswerValue::Text(s)) => check_date(s, at),
        (FieldKind::Time, AnswerValue::Text(s)) => check_time(s, at),
        (
            FieldKind::Number {
                min, max, decimals, ..
            },
            AnswerValue::Text(s),
        ) => check_number(s, min, max, decimals, at),
        (
            FieldKind::Number {
                min, max, decimals, ..
            },
            AnswerValue::Number(n),
        ) => check_number(&n.to_string(), min, max, decimals, at),
        (FieldKind::YesNo { .. }, AnswerValue::Bool(b)) => {
            Ok(Checked::Value(AnswerValue::Bool(*b)))
        }
        (FieldKind::SingleChoice { options }, AnswerValue::Text(code)) => {
            if code.is_empty() {
                Ok(Checked::Empty)
            } else if options.iter().any(|o| o.code == code) {
                Ok(Checked::Value(AnswerValue::Text(code.clone())))
            } else {
                Err(invalid_option(at))
            }
        }
        (FieldKind::MultipleChoice { options }, AnswerValue::List(codes)) => {
            check_choices(options, codes, at)
        }
        (
            FieldKind::Group { .. } | FieldKind::DateRange | FieldKind::Signature { .. },
            AnswerValue::Group(parts),
        ) => Ok(check_group(spec, parts, at, need, errs)),
        (FieldKind::Table { .. }, AnswerValue::List(items)) if items.is_empty() => {
            Ok(Checked::Empty)
        }
        (FieldKind::Table { columns, max_rows }, AnswerValue::Rows(rows)) => {
            Ok(check_table(columns, max_rows, rows, at, need, errs))
        }
        _ => Err(invalid_type(at)),
    };
    match result {
        Ok(c) => c,
        Err(e) => {
            errs.push(e);
            Checked::Invalid
        }
    }
}

fn check_group(
    spec: &FieldSpec,
    parts: &Answers,
    at: &Place,
    need: Need,
    errs: &mut ValidationErrors,
) -> Checked {
    if parts.is_empty() {
        return Checked::Empty;
    }
    let specs: Vec<&'static FieldSpec> = spec.kind.sub_fields().unwrap_or(&[]).iter().collect();
    let before = errs.errors.len();
    let out = check_object(&specs, parts, at, need, errs);
    if errs.errors.len() > before {
        return Checked::Invalid;
    }
    if spec.kind == FieldKind::DateRange {
        // Canonical YYYY-MM-DD strings compare in date order.
        if let (Some(AnswerValue::Text(from)), Some(AnswerValue::Text(to))) =
            (out.get("from"), out.get("to"))
            && from > to
        {
            errs.push(at.error(
                "invalid_range",
                format!("{}の終了日は開始日以降の日付にしてください。", at.name),
            ));
            return Checked::Invalid;
        }
    }
    if out.is_empty() {
        Checked::Empty
    } else {
        Checked::Value(AnswerValue::Group(out))
    }
}

fn check_table(
    columns: &'static [FieldSpec],
    max_rows: usize,
    rows: &[Answers],
    at: &Place,
    need: Need,
    errs: &mut ValidationErrors,
) -> Checked {
    if rows.len() > max_rows {
        errs.push(at.error(
            "too_many_rows",
            format!("{}は{max_rows}行以内で入力してください。", at.name),
        ));
        return Checked::Invalid;
    }
    let specs: Vec<&'static FieldSpec> = columns.iter().collect();
    let before = errs.errors.len();
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        // A row left blank on the page is not a row.
        if row.values().all(is_blank) {
            continue;
        }
        let checked = check_object(&specs, row, &at.row(i), need, errs);
        if !checked.is_empty() {
            out.push(checked);
        }
    }
    if errs.errors.len() > before {
        Checked::Invalid
    } else if out.is_empty() {
        Checked::Empty
    } else {
        Checked::Value(AnswerValue::Rows(out))
    }
}

fn is_blank(v: &AnswerValue) -> bool {
    match v {
        AnswerValue::Text(s) => s.trim().is_empty(),
        AnswerValue::List(l) => l.is_empty(),
        AnswerValue::Rows(r) => r.is_empty(),
        AnswerValue::Group(g) => g.values().all(is_blank),
        AnswerValue::Bool(_) | AnswerValue::Number(_) => false,
    }
}

fn invalid_option(at: &Place) -> FieldError {
    at.error(
        "invalid_option",
        format!("{}に選択肢にない値が指定されています。", at.name),
    )
}

fn check_choices(
    options: &[ChoiceOption],
    codes: &[String],
    at: &Place,
) -> Result<Checked, FieldError> {
    if codes.iter().any(|c| !options.iter().any(|o| o.code == c)) {
        return Err(invalid_option(at));
    }
    // Form order, no repeats: the stored value does not depend on click order.
    let chosen: Vec<String> = options
        .iter()
        .filter(|o| codes.iter().any(|c| c == o.code))
        .map(|o| o.code.to_owned())
        .collect();
    if chosen.is_empty() {
        Ok(Checked::Empty)
    } else {
        Ok(Checked::Value(AnswerValue::List(chosen)))
    }
}

/// Bidirectional controls can make text display as something else.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

fn clean_text(
    raw: &str,
    multiline: bool,
    max_chars: usize,
    at: &Place,
) -> Result<Checked, FieldError> {
    let too_long = || {
        at.error(
            "too_long",
            format!("{}は{max_chars}文字以内で入力してください。", at.name),
        )
    };
    // NFC joins at most four code points into one and a code point is at most four bytes, so
    // text over 16 bytes per allowed character stays too long: skip normalising megabytes.
    if raw.len() > max_chars.saturating_mul(16) {
        return Err(too_long());
    }
    let mut s: String = raw.nfc().collect();
    if multiline {
        s = s.replace("\r\n", "\n");
    }
    let s = s.trim();
    if s.is_empty() {
        return Ok(Checked::Empty);
    }
    if s.chars().count() > max_chars {
        return Err(too_long());
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\t');
    if s.chars()
        .any(|c| (c.is_control() && !allowed(c)) || is_bidi_control(c))
    {
        return Err(at.error(
            "charset",
            format!(
                "{}に使えない文字（制御文字など）が含まれています。",
                at.name
            ),
        ));
    }
    Ok(Checked::Value(AnswerValue::Text(s.to_owned())))
}

/// NFKC so that 全角 digits and punctuation (２０２６－０４－０１, ９：００) are accepted.
/// Returns None for input too long to be a date, time or number.
fn fold_short(raw: &str) -> Option<String> {
    if raw.len() > 64 {
        return None;
    }
    Some(raw.nfkc().collect::<String>().trim().to_owned())
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The earliest date the forms can hold: 明治 starts 1868, before any living worker's birth.
const MIN_YEAR: i32 = 1868;
const MAX_YEAR: i32 = 2200;

fn check_date(raw: &str, at: &Place) -> Result<Checked, FieldError> {
    if raw.trim().is_empty() {
        return Ok(Checked::Empty);
    }
    // What people type (令和7年4月1日, R7.4.1, 2025/4/1, full-width digits) is stored as
    // ISO; a form's dates stay within the years it can concern.
    match crate::wareki::parse_as(raw, &at.name) {
        Ok(d) if (MIN_YEAR..=MAX_YEAR).contains(&d.year()) => {
            Ok(Checked::Value(AnswerValue::Text(format!(
                "{:04}-{:02}-{:02}",
                d.year(),
                u8::from(d.month()),
                d.day()
            ))))
        }
        Ok(_) => Err(at.error(
            "invalid_date",
            format!(
                "{}は{MIN_YEAR}年から{MAX_YEAR}年までの日付で入力してください。",
                at.name
            ),
        )),
        Err(e) => Err(at.error(e.code, e.message)),
    }
}

fn check_time(raw: &str, at: &Place) -> Result<Checked, FieldError> {
    if raw.trim().is_empty() {
        return Ok(Checked::Empty);
    }
    let parsed = fold_short(raw).and_then(|s| {
        let (h, m) = s.split_once(':')?;
        if h.len() > 2 || m.len() != 2 {
            return None;
        }
        let (h, m) = (digits(h)?, digits(m)?);
        (h < 24 && m < 60).then(|| format!("{h:02}:{m:02}"))
    });
    match parsed {
        Some(t) => Ok(Checked::Value(AnswerValue::Text(t))),
        None => Err(at.error(
            "invalid_time",
            format!("{}は正しい時刻（例：09:00）で入力してください。", at.name),
        )),
    }
}

fn check_number(
    raw: &str,
    min: i64,
    max: i64,
    decimals: u8,
    at: &Place,
) -> Result<Checked, FieldError> {
    if raw.trim().is_empty() {
        return Ok(Checked::Empty);
    }
    let scale = 10_i64.pow(u32::from(decimals));
    let scaled = fold_short(raw).and_then(|s| {
        let (int, frac) = s.split_once('.').unwrap_or((s.as_str(), ""));
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Extra decimals are fine only as trailing zeros (a JSON 3.0).
        let (kept, extra) = frac.split_at(frac.len().min(usize::from(decimals)));
        if !extra.bytes().all(|b| b == b'0') || (s.contains('.') && frac.is_empty()) {
            return None;
        }
        let int = i64::from(digits(int)?);
        let kept_value = if kept.is_empty() {
            0
        } else {
            i64::from(digits(kept)?)
        };
        let pad = 10_i64.pow(u32::from(decimals) - u32::try_from(kept.len()).ok()?);
        Some(int * scale + kept_value * pad)
    });
    let Some(scaled) = scaled else {
        return Err(at.error(
            "invalid_number",
            if decimals == 0 {
                format!("{}は半角または全角の整数で入力してください。", at.name)
            } else {
                format!(
                    "{}は数値（小数点以下{decimals}桁まで）で入力してください。",
                    at.name
                )
            },
        ));
    };
    if scaled < min * scale || scaled > max * scale {
        return Err(at.error(
            "out_of_range",
            format!("{}は{min}～{max}の範囲で入力してください。", at.name),
        ));
    }
    let number = if decimals == 0 {
        Some(serde_json::Number::from(scaled))
    } else {
        #[allow(clippy::cast_precision_loss)] // small values: exact enough for 2 decimals
        serde_json::Number::from_f64(scaled as f64 / scale as f64)
    };
    match number {
        Some(n) => Ok(Checked::Value(AnswerValue::Number(n))),
        None => Err(invalid_type(at)),
    }
}
