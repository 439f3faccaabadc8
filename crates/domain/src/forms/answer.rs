//! Answers as they travel in JSON: the schema, not the JSON type, says what a value means.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// Field id → answer. A BTreeMap so stored JSON is byte-stable.
pub type Answers = BTreeMap<String, AnswerValue>;

/// One answer. Untagged so the JSON stays plain: `"text"`, `true`, `3`, `["a","b"]`,
/// `{"from": …}`, `[{…}, {…}]`. Read by the visitor below, which looks at the JSON type once
/// (serde's derived untagged reading tries each variant in turn and formats an error message
/// for every miss, a measurable cost for every text answer of every request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

impl<'de> Deserialize<'de> for AnswerValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AnswerValue, D::Error> {
        d.deserialize_any(AnswerVisitor)
    }
}

struct AnswerVisitor;

/// What a JSON value is, for an answer: the same choice the variants' order made (a list
/// of texts is a multiple choice, a list of objects the rows of a table, an empty list a
/// multiple choice with nothing chosen).
impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = AnswerValue;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an answer: true or false, a number, text, a list of codes, rows or a group")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<AnswerValue, E> {
        serde_json::Number::from_f64(v)
            .map(AnswerValue::Number)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Text(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnswerValue, A::Error> {
        let mut codes = Vec::new();
        let mut rows = Vec::new();
        while let Some(item) = seq.next_element::<Item>()? {
            match item {
                Item::Code(c) if rows.is_empty() => codes.push(c),
                Item::Row(r) if codes.is_empty() => rows.push(r),
                _ => {
                    return Err(de::Error::custom(
                        "a list mixes texts and objects: neither a multiple choice nor rows",
                    ));
                }
            }
        }
        Ok(if rows.is_empty() {
            AnswerValue::List(codes)
        } else {
            AnswerValue::Rows(rows)
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AnswerValue, A::Error> {
        read_answers(map).map(AnswerValue::Group)
    }
}

fn read_answers<'de, A: MapAccess<'de>>(mut map: A) -> Result<Answers, A::Error> {
    let mut out = Answers::new();
    while let Some((k, v)) = map.next_entry::<String, AnswerValue>()? {
        out.insert(k, v);
    }
    Ok(out)
}

/// One element of a list answer: an option code or a table row.
enum Item {
    Code(String),
    Row(Answers),
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Item, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = Item;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an option code or a table row")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Item, E> {
                Ok(Item::Code(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Item, E> {
                Ok(Item::Code(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
                read_answers(map).map(Item::Row)
            }
        }
        d.deserialize_any(ItemVisitor)
    }
}

#[cfg(test)]
mod reading_tests {
    use super::*;

    /// What serde's derived untagged reading made of a value, for comparison.
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Derived {
        Bool(bool),
        Number(serde_json::Number),
        Text(String),
        List(Vec<String>),
        Rows(Vec<BTreeMap<String, Derived>>),
        Group(BTreeMap<String, Derived>),
    }

    fn same(v: &AnswerValue, d: &Derived) -> bool {
        match (v, d) {
            (AnswerValue::Bool(a), Derived::Bool(b)) => a == b,
            (AnswerValue::Number(a), Derived::Number(b)) => a == b,
            (AnswerValue::Text(a), Derived::Text(b)) => a == b,
            (AnswerValue::List(a), Derived::List(b)) => a == b,
            (AnswerValue::Rows(a), Derived::Rows(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_map(x, y))
            }
            (AnswerValue::Group(a), Derived::Group(b)) => same_map(a, b),
            _ => false,
        }
    }

    fn same_map(a: &Answers, b: &BTreeMap<String, Derived>) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|((k, x), (l, y))| k == l && same(x, y))
    }

    #[test]
    fn reads_every_json_shape_as_the_derived_untagged_reading_did() {
        let accepted = [
            "true",
            "false",
            "0",
            "-3",
            "18446744073709551615",
            "2.5",
            "\"胃がん\"",
            "\"\"",
            "[]",
            "[\"a\", \"b\"]",
            "[{\"period\": \"1か月目\", \"hours\": 6}]",
            "{}",
            "{\"from\": \"2026-04-01\", \"to\": \"2026-05-01\"}",
            "{\"rows\": [{\"a\": [\"x\"]}], \"ok\": true, \"n\": 1.5}",
        ];
        for json in accepted {
            let ours: AnswerValue = serde_json::from_str(json).unwrap();
            let theirs: Derived = serde_json::from_str(json).unwrap();
            assert!(same(&ours, &theirs), "{json}: {ours:?} vs {theirs:?}");
            let back = serde_json::to_string(&ours).unwrap();
            let again: AnswerValue = serde_json::from_str(&back).unwrap();
            assert_eq!(again, ours, "{json} round-trips");
        }
        let refused = [
            "null",
            "[1, 2]",
            "[\"a\", {\"b\": 1}]",
            "[{\"b\": 1}, \"a\"]",
            "[[\"a\"]]",
            "[null]",
            "{\"a\": null}",
        ];
        for json in refused {
            assert!(serde_json::from_str::<Derived>(json).is_err(), "{json}");
            assert!(serde_json::from_str::<AnswerValue>(json).is_err(), "{json}");
        }
    }
}
