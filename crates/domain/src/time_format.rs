//! Server times are UTC with microsecond precision everywhere: both stores keep exactly
//! that, so canonical forms compare equal across backends.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// Japan's offset: business dates (申出日, due dates, 今日) are days of the Japanese
/// calendar, whatever the server's clock zone.
pub const JST: UtcOffset = time::macros::offset!(+9);

/// The day in Japan at the moment `t` (a 申出 at 00:30 JST is filed that day, not the
/// UTC day before).
pub fn japan_date(t: OffsetDateTime) -> Date {
    t.to_offset(JST).date()
}

/// Drops sub-microsecond digits and moves to UTC.
pub fn truncate_micros(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    let micros = t.nanosecond() / 1_000;
    t.replace_nanosecond(micros * 1_000).unwrap_or(t)
}

pub fn format_micros(t: OffsetDateTime) -> String {
    let t = truncate_micros(t);
    let d = t.date();
    let tm = t.time();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        tm.hour(),
        tm.minute(),
        tm.second(),
        tm.microsecond()
    )
}

pub fn unix_micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

pub fn from_unix_micros(us: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000).ok()
}

pub mod micros {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_micros(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        OffsetDateTime::parse(&s, &Rfc3339)
            .map(truncate_micros)
            .map_err(serde::de::Error::custom)
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_some(&format_micros(*t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| {
                    OffsetDateTime::parse(&s, &Rfc3339)
                        .map(truncate_micros)
                        .map_err(serde::de::Error::custom)
                })
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn micros_round_trip(us in 0i64..4_102_444_800_000_000) {
            let t = from_unix_micros(us).unwrap();
            prop_assert_eq!(unix_micros(t), us);
            let parsed = OffsetDateTime::parse(&format_micros(t), &Rfc3339).unwrap();
            prop_assert_eq!(parsed, t);
        }
    }
}
