//! Validation errors: a stable code for programs and a Japanese message for people.

use serde::Serialize;

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name in the API (e.g. `password`).
    pub field: String,
    /// Stable machine code, e.g. `too_short`.
    pub code: String,
    /// Japanese message naming the problem.
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// All problems found in one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("入力内容に誤りがあります")]
pub struct ValidationErrors {
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn into_result<T>(self, ok: T) -> Result<T, ValidationErrors> {
        if self.errors.is_empty() {
            Ok(ok)
        } else {
            Err(self)
        }
    }

    /// The message for one field, for showing beside it on a page.
    pub fn message_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        ValidationErrors { errors: vec![e] }
    }
}
