//! The shape of a form: fields in form order, each with its kind, label and parties.

use serde::Serialize;
use serde::ser::SerializeStruct;

use super::{FormKind, FormVersion, Party};
use crate::info::InformationCategory;

/// One option of a choice: stable code for storage, label as printed on the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChoiceOption {
    pub code: &'static str,
    pub label: &'static str,
}

/// A field that becomes required when a sibling choice has a given option, e.g. the text of
/// 「その他（　）」 once その他 is ticked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RequiredWhen {
    /// Id of a sibling single- or multiple-choice field.
    pub field: &'static str,
    /// Option code that triggers the requirement.
    pub option: &'static str,
}

/// What a field holds and how its answer is shaped in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text (JSON string).
    Text { max_chars: usize },
    /// Free text; newlines and tabs allowed (JSON string).
    Multiline { max_chars: usize },
    /// `YYYY-MM-DD` (JSON string).
    Date,
    /// `HH:MM` (JSON string).
    Time,
    /// `{"from": date, "to": date}`; see [`DATE_RANGE_FIELDS`].
    DateRange,
    /// A number within `min..=max` with up to `decimals` decimals (JSON number or string).
    Number {
        min: i64,
        max: i64,
        decimals: u8,
        unit: &'static str,
    },
    /// JSON `true`/`false`, shown with the form's own words (有り/無し).
    YesNo { yes: &'static str, no: &'static str },
    /// One option code (JSON string).
    SingleChoice { options: &'static [ChoiceOption] },
    /// Option codes, checkboxes (JSON array of strings).
    MultipleChoice { options: &'static [ChoiceOption] },
    /// Parts printed under one label (JSON object of sub-field id → answer).
    Group { fields: &'static [FieldSpec] },
    /// Rows of the same columns (JSON array of objects).
    Table {
        columns: &'static [FieldSpec],
        max_rows: usize,
    },
    /// A dated signature line `{"date": date, "name": text}`; see [`SIGNATURE_FIELDS`].
    /// `statement` is the sentence printed before it, if any.
    Signature { statement: Option<&'static str> },
    /// Fixed wording printed on the form; takes no answer.
    FixedText { text: &'static str },
    /// A section heading; takes no answer.
    Heading,
}

impl FieldKind {
    /// The parts of kinds whose answer is a JSON object.
    pub fn sub_fields(&self) -> Option<&'static [FieldSpec]> {
        match self {
            FieldKind::Group { fields } => Some(fields),
            FieldKind::DateRange => Some(DATE_RANGE_FIELDS),
            FieldKind::Signature { .. } => Some(SIGNATURE_FIELDS),
            _ => None,
        }
    }

    /// Whether the field takes an answer at all.
    pub fn answerable(&self) -> bool {
        !matches!(self, FieldKind::FixedText { .. } | FieldKind::Heading)
    }
}

/// One field of a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    /// Stable id: the key in the answers map and the `field` of errors.
    pub id: &'static str,
    /// The label as printed on the form.
    pub label: &'static str,
    /// Guidance printed with the field (examples, notes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<&'static str>,
    pub kind: FieldKind,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_when: Option<RequiredWhen>,
    /// The versions this field appears in; parts of a group follow their group.
    pub versions: &'static [FormVersion],
    /// Who fills it in; `None` for fixed text, and for parts that follow their group.
    pub filled_by: Option<Party>,
    /// What the answer reveals, where that differs from its form's category (a plan's
    /// 治療・投薬等の状況 is medical; an opinion's 就業上の措置 are work measures); `None`: the
    /// form's category (parts: their field's). [`FormSchema::category_of`] resolves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<InformationCategory>,
    /// The answer names who treats the worker (the hospital, the 主治医): medical
    /// information to everyone but that hospital's own staff.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub names_who_treats: bool,
}

pub(crate) const ALL_VERSIONS: &[FormVersion] = &[FormVersion::V2024, FormVersion::V2026];
pub(crate) const FROM_2026: &[FormVersion] = &[FormVersion::V2026];

impl FieldSpec {
    pub fn in_version(&self, version: FormVersion) -> bool {
        self.versions.contains(&version)
    }

    pub(crate) const fn required(mut self) -> FieldSpec {
        self.required = true;
        self
    }

    pub(crate) const fn hint(mut self, hint: &'static str) -> FieldSpec {
        self.hint = Some(hint);
        self
    }

    /// What the answer reveals (see [`FieldSpec::category`]).
    pub(crate) const fn about(mut self, category: InformationCategory) -> FieldSpec {
        self.category = Some(category);
        self
    }

    /// The answer names who treats the worker: medical information, which the treating
    /// hospital's staff read all the same (see [`FieldSpec::names_who_treats`]).
    pub(crate) const fn names_who_treats(mut self) -> FieldSpec {
        self.category = Some(InformationCategory::Medical);
        self.names_who_treats = true;
        self
    }

    pub(crate) const fn only(mut self, versions: &'static [FormVersion]) -> FieldSpec {
        self.versions = versions;
        self
    }

    pub(crate) const fn required_when(
        mut self,
        field: &'static str,
        option: &'static str,
    ) -> FieldSpec {
        self.required_when = Some(RequiredWhen { field, option });
        self
    }
}

/// A field filled in by `party`.
pub(crate) const fn field(
    id: &'static str,
    label: &'static str,
    kind: FieldKind,
    party: Party,
) -> FieldSpec {
    FieldSpec {
        id,
        label,
        hint: None,
        kind,
        required: false,
        required_when: None,
        versions: ALL_VERSIONS,
        filled_by: Some(party),
        category: None,
        names_who_treats: false,
    }
}

/// A part of a group or a table column: its party is the enclosing field's.
pub(crate) const fn part(id: &'static str, label: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec {
        id,
        label,
        hint: None,
        kind,
        required: false,
        required_when: None,
        versions: ALL_VERSIONS,
        filled_by: None,
        category: None,
        names_who_treats: false,
    }
}

/// Wording printed on the form.
pub(crate) const fn fixed(id: &'static str, label: &'static str, text: &'static str) -> FieldSpec {
    part(id, label, FieldKind::FixedText { text })
}

pub(crate) const fn heading(id: &'static str, label: &'static str) -> FieldSpec {
    part(id, label, FieldKind::Heading)
}

/// The parts of a [`FieldKind::DateRange`] answer.
pub const DATE_RANGE_FIELDS: &[FieldSpec] = &[
    part("from", "開始日", FieldKind::Date),
    part("to", "終了日", FieldKind::Date),
];

/// The parts of a [`FieldKind::Signature`] answer. Both are needed once a signature is given.
pub const SIGNATURE_FIELDS: &[FieldSpec] = &[
    part("date", "日付", FieldKind::Date).required(),
    part(
        "name",
        "署名（氏名・名称）",
        FieldKind::Text { max_chars: 100 },
    )
    .required(),
];

/// One form in one version.
#[derive(Debug)]
pub struct FormSchema {
    pub form: FormKind,
    pub version: FormVersion,
    /// The title printed on this version of the form.
    pub title: &'static str,
    /// Every version's fields; [`FormSchema::fields`] picks this version's.
    pub(crate) all_fields: &'static [FieldSpec],
}

impl FormSchema {
    /// This version's fields in form order, fixed text and headings included.
    pub fn fields(&self) -> impl Iterator<Item = &'static FieldSpec> + use<> {
        let version = self.version;
        self.all_fields
            .iter()
            .filter(move |f| f.in_version(version))
    }

    pub fn field(&self, id: &str) -> Option<&'static FieldSpec> {
        self.fields().find(|f| f.id == id)
    }

    /// The label of a field, or of a part (`group.part`, `table.column`) as printed.
    pub fn label_of(&self, path: &str) -> Option<&'static str> {
        let mut ids = path.split('.');
        let mut spec = self.field(ids.next()?)?;
        for id in ids {
            let within = match spec.kind {
                FieldKind::Table { columns, .. } => columns,
                k => k.sub_fields()?,
            };
            spec = within.iter().find(|f| f.id == id)?;
        }
        Some(spec.label)
    }

    /// The information category of the form as a whole: a document is listed to those who
    /// may view it.
    pub fn category(&self) -> InformationCategory {
        self.form.category()
    }

    /// What an answer to `spec` reveals: its own category, or else `within`'s (the
    /// enclosing field's for a part; the form's for a field).
    pub fn category_of(spec: &FieldSpec, within: InformationCategory) -> InformationCategory {
        spec.category.unwrap_or(within)
    }
}

impl Serialize for FormSchema {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fields: Vec<&FieldSpec> = self.fields().collect();
        let mut st = s.serialize_struct("FormSchema", 5)?;
        st.serialize_field("form", &self.form)?;
        st.serialize_field("version", &self.version)?;
        st.serialize_field("title", self.title)?;
        st.serialize_field("category", &self.category())?;
        st.serialize_field("fields", &fields)?;
        st.end()
    }
}
