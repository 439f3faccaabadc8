//! Answers as they travel in JSON: the schema, not the JSON type, says what a value means.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Field id → answer. A BTreeMap so stored JSON is byte-stable.
pub type Answers = BTreeMap<String, AnswerValue>;

/// One answer. Untagged so the JSON stays plain: `"text"`, `true`, `3`, `["a","b"]`,
/// `{"from": …}`, `[{…}, {…}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    /// Yes/no.
    Bool(bool),
    /// A number; numbers typed as text are accepted too.
    Number(serde_json::Number),
    /// Text, a date, a time, or one option code.
    Text(String),
    /// Option codes of a multiple choice.
    List(Vec<String>),
    /// Rows of a table.
    Rows(Vec<Answers>),
    /// Parts of a group, a date range or a signature.
    Group(Answers),
}

impl AnswerValue {
    pub fn text(s: impl Into<String>) -> AnswerValue {
        AnswerValue::Text(s.into())
    }

    pub fn list<I, S>(codes: I) -> AnswerValue
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AnswerValue::List(codes.into_iter().map(Into::into).collect())
    }

    pub fn group<I, K>(parts: I) -> AnswerValue
    where
        I: IntoIterator<Item = (K, AnswerValue)>,
        K: Into<String>,
    {
        AnswerValue::Group(parts.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The text if this is text (an option code for single choices).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AnswerValue::Text(s) => Some(s),
            _ => None,
        }
    }
}
