//! 和暦: dates as official documents in Japan write them (令和7年4月1日), and dates read
//! from what people type (令和7年4月1日, R7.4.1, 令7.4.1, 2025-04-01, 2025/4/1, 全角 digits).
//!
//! Era boundaries are the official first days: 大正 1912-07-30, 昭和 1926-12-25,
//! 平成 1989-01-08, 令和 2019-05-01. Japan moved to the Gregorian calendar on 明治6年1月1日
//! (1873-01-01); before that, 明治 dates were lunisolar and do not convert day for day. So
//! [`format`] writes an earlier date in 西暦 marked 「（西暦）」 (which [`parse`] reads back),
//! and [`parse`] refuses 明治 years before 6 with a message asking for 西暦.

use time::macros::date;
use time::{Date, Month};
use unicode_normalization::UnicodeNormalization;

use crate::error::FieldError;

/// The first day Japan counted in the Gregorian calendar (明治6年1月1日).
pub const GREGORIAN_FROM: Date = date!(1873 - 01 - 01);

/// The eras since Japan adopted the Gregorian calendar, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Era {
    Meiji,
    Taisho,
    Showa,
    Heisei,
    Reiwa,
}

impl Era {
    pub const ALL: [Era; 5] = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];

    /// 明治, 大正, 昭和, 平成, 令和.
    pub fn name(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// The letter used in short dates (R7.4.1): M, T, S, H, R.
    pub fn letter(self) -> char {
        match self {
            Era::Meiji => 'M',
            Era::Taisho => 'T',
            Era::Showa => 'S',
            Era::Heisei => 'H',
            Era::Reiwa => 'R',
        }
    }

    /// The era's first day. For 明治, the first day in the Gregorian calendar: the era began
    /// in 1868, but dates before [`GREGORIAN_FROM`] are not handled as 和暦.
    pub fn first_day(self) -> Date {
        match self {
            Era::Meiji => GREGORIAN_FROM,
            Era::Taisho => date!(1912 - 07 - 30),
            Era::Showa => date!(1926 - 12 - 25),
            Era::Heisei => date!(1989 - 01 - 08),
            Era::Reiwa => date!(2019 - 05 - 01),
        }
    }

    /// The era's last day; `None` for the current era.
    pub fn last_day(self) -> Option<Date> {
        match self {
            Era::Meiji => Some(date!(1912 - 07 - 29)),
            Era::Taisho => Some(date!(1926 - 12 - 24)),
            Era::Showa => Some(date!(1989 - 01 - 07)),
            Era::Heisei => Some(date!(2019 - 04 - 30)),
            Era::Reiwa => None,
        }
    }

    /// The Gregorian year of the era's 元年 (for 明治, 1868).
    fn first_year(self) -> i32 {
        match self {
            Era::Meiji => 1868,
            Era::Taisho => 1912,
            Era::Showa => 1926,
            Era::Heisei => 1989,
            Era::Reiwa => 2019,
        }
    }

    /// The era a date falls in; `None` before [`GREGORIAN_FROM`].
    pub fn of(date: Date) -> Option<Era> {
        Era::ALL
            .iter()
            .rev()
            .copied()
            .find(|e| e.first_day() <= date)
    }
}

/// A date's era and year within it (1 for 元年); `None` before [`GREGORIAN_FROM`].
pub fn era_year(date: Date) -> Option<(Era, i32)> {
    Era::of(date).map(|e| (e, date.year() - e.first_year() + 1))
}

fn year_text(year: i32) -> String {
    if year == 1 {
        "元".to_owned()
    } else {
        year.to_string()
    }
}

/// 「令和7年4月1日」 (「令和元年5月1日」 for a first year). Dates before 1873-01-01 are written in
/// 西暦 with a note: 「1872年12月31日（西暦）」.
pub fn format(date: Date) -> String {
    let (m, d) = (u8::from(date.month()), date.day());
    match era_year(date) {
        Some((era, y)) => format!("{}{}年{m}月{d}日", era.name(), year_text(y)),
        None => format!("{}年{m}月{d}日（西暦）", date.year()),
    }
}

/// The short form for tables: 「R7.4.1」 (the first year is 1: 「R1.5.1」). Dates before
/// 1873-01-01 are written in 西暦: 「1872-12-31」.
pub fn format_short(date: Date) -> String {
    match era_year(date) {
        Some((era, y)) => format!(
            "{}{y}.{}.{}",
            era.letter(),
            u8::from(date.month()),
            date.day()
        ),
        None => format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        ),
    }
}

/// Why typed text is not a date: a stable code and a Japanese message that names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DateError {
    /// `required`, `invalid_date`, `invalid_month`, `invalid_day`, `era_year_zero`,
    /// `outside_era` or `before_gregorian`.
    pub code: &'static str,
    pub message: String,
}

impl DateError {
    /// The same problem as a form field's error.
    pub fn into_field_error(self, field: &str) -> FieldError {
        FieldError::new(field, self.code, self.message)
    }
}

/// Longer input is no date; refused before any work is done on it.
const MAX_INPUT_BYTES: usize = 64;

/// Reads a date as people type it: 令和7年4月1日, 令和元年5月1日, R7.4.1 (r7.4.1), 令7.4.1,
/// H31.4.30, S64.1.7, T15.12.24, M45.7.29, 2025-04-01, 2025/4/1, 2025年4月1日, 20250401, with
/// 全角 digits and punctuation and surrounding spaces. `label` is the field's name as the
/// person sees it (「生年月日」); every message names it.
pub fn parse(input: &str, label: &str) -> Result<Date, DateError> {
    parse_as(input, &format!("「{label}」"))
}

/// [`parse`] with the subject of the messages given whole, for names that are already
/// quoted (「勤務時間」の「開始日」).
pub fn parse_as(input: &str, subject: &str) -> Result<Date, DateError> {
    let err = |code: &'static str, text: String| DateError {
        code,
        message: format!("{subject}{text}"),
    };
    if input.trim().is_empty() {
        return Err(err("required", "を入力してください。".to_owned()));
    }
    let bad_format = || {
        err(
            "invalid_date",
            "は「令和7年4月1日」「R7.4.1」「2025-04-01」のように入力してください。".to_owned(),
        )
    };
    if input.len() > MAX_INPUT_BYTES {
        return Err(bad_format());
    }
    // NFKC: 全角 digits and punctuation to 半角, and the one-character era signs (㋿, ㍻)
    // to their two characters.
    let folded: String = input.nfkc().collect();
    let typed = Typed::read(&folded).ok_or_else(bad_format)?;
    let Ok(month) = Month::try_from(typed.month) else {
        return Err(err(
            "invalid_month",
            "：月は1から12までの数字で入力してください。".to_owned(),
        ));
    };
    let what = typed.describe();
    let gregorian_year = match typed.era {
        None => typed.year,
        Some(era) => {
            if typed.year == 0 {
                return Err(err(
                    "era_year_zero",
                    format!(
                        "：{0}0年という年はありません。最初の年は「{0}元年」です。",
                        era.name()
                    ),
                ));
            }
            era.first_year() + typed.year - 1
        }
    };
    let Ok(day) = Date::from_calendar_date(gregorian_year, month, typed.day) else {
        let last = time::util::days_in_month(month, gregorian_year);
        return Err(err(
            "invalid_day",
            format!(
                "：{what}という日はありません（{}月は{last}日までです）。",
                typed.month
            ),
        ));
    };
    let Some(era) = typed.era else {
        return Ok(day);
    };
    if era == Era::Meiji && day < GREGORIAN_FROM {
        return Err(err(
            "before_gregorian",
            "：明治5年以前は旧暦の日付のため、和暦から換算できません。西暦（例：1872-12-31）で入力してください。"
                .to_owned(),
        ));
    }
    // The date the person most likely meant, in its right era.
    let meant = if day >= GREGORIAN_FROM {
        format!("{what}は{}にあたります。", format(day))
    } else {
        String::new()
    };
    if let Some(last) = era.last_day().filter(|l| day > *l) {
        let last_year = last.year() - era.first_year() + 1;
        return Err(err(
            "outside_era",
            format!(
                "：{}は{last_year}年（{}）までです。{meant}",
                era.name(),
                gregorian_text(last)
            ),
        ));
    }
    let first = era.first_day();
    if day < first {
        return Err(err(
            "outside_era",
            format!(
                "：{}は元年{}月{}日（{}）からです。{meant}",
                era.name(),
                u8::from(first.month()),
                first.day(),
                gregorian_text(first)
            ),
        ));
    }
    Ok(day)
}

/// 「2019年4月30日」
fn gregorian_text(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day())
}

/// A date as typed, before it is checked against the calendar.
struct Typed {
    era: Option<Era>,
    /// The era year (0 as typed, 1 for 元) or the Gregorian year.
    year: i32,
    month: u8,
    day: u8,
}

impl Typed {
    /// What the person typed, written out: 「平成32年4月1日」, 「2025年2月30日」.
    fn describe(&self) -> String {
        let year = match self.era {
            Some(e) => format!("{}{}", e.name(), year_text(self.year)),
            None => self.year.to_string(),
        };
        format!("{year}年{}月{}日", self.month, self.day)
    }

    fn read(s: &str) -> Option<Typed> {
        // format() writes dates before 1873 with this note; read them back.
        let s = s.trim();
        let s = s.strip_suffix("(西暦)").map_or(s, str::trim_end);
        let s = s.strip_prefix("西暦").map_or(s, str::trim_start);
        let (era, rest) = split_era(s);
        let mut c = Cursor(rest.trim_start());
        let year = match era {
            Some(_) if c.eat('元') => 1,
            Some(_) => c.number(1, 3)?,
            // 20250401: eight digits and nothing else.
            None if c.0.len() == 8 && c.0.bytes().all(|b| b.is_ascii_digit()) => {
                let n = c.number(8, 8)?;
                return Typed::gregorian(n / 10_000, n / 100 % 100, n % 100);
            }
            None => c.number(4, 4)?,
        };
        c.separator('年')?;
        let month = c.number(1, 2)?;
        c.separator('月')?;
        let day = c.number(1, 2)?;
        c.skip_spaces();
        c.eat('日');
        c.skip_spaces();
        if !c.0.is_empty() {
            return None;
        }
        match era {
            None => Typed::gregorian(year, month, day),
            Some(_) => Some(Typed {
                era,
                year: i32::try_from(year).ok()?,
                month: u8::try_from(month).ok()?,
                day: u8::try_from(day).ok()?,
            }),
        }
    }

    /// A 西暦 year has four digits: 0025 is a slip, not the year 25.
    fn gregorian(year: u32, month: u32, day: u32) -> Option<Typed> {
        if year < 1000 {
            return None;
        }
        Some(Typed {
            era: None,
            year: i32::try_from(year).ok()?,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
        })
    }
}

/// An era named at the start: 令和, 令, R or r (and so on for each era).
fn split_era(s: &str) -> (Option<Era>, &str) {
    for era in Era::ALL {
        if let Some(rest) = s.strip_prefix(era.name()) {
            return (Some(era), rest);
        }
    }
    for era in Era::ALL {
        let mut name = era.name().chars();
        if let Some(rest) = name.next().and_then(|first| s.strip_prefix(first)) {
            return (Some(era), rest);
        }
        let letter = era.letter();
        if let Some(rest) = s
            .strip_prefix(letter)
            .or_else(|| s.strip_prefix(letter.to_ascii_lowercase()))
        {
            return (Some(era), rest);
        }
    }
    (None, s)
}

/// Hyphen look-alikes that a Japanese keyboard produces for 「-」 (NFKC keeps them apart).
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2212}' | 'ー'
    )
}

struct Cursor<'a>(&'a str);

impl Cursor<'_> {
    fn skip_spaces(&mut self) {
        self.0 = self.0.trim_start();
    }

    fn eat(&mut self, c: char) -> bool {
        match self.0.strip_prefix(c) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }

    /// Between two parts: the kanji (年 or 月), or one of `. / -`.
    fn separator(&mut self, kanji: char) -> Option<()> {
        self.skip_spaces();
        let c = self.0.chars().next()?;
        if c == kanji || c == '.' || c == '/' || is_dash(c) {
            self.0 = &self.0[c.len_utf8()..];
            self.skip_spaces();
            Some(())
        } else {
            None
        }
    }

    /// `min..=max` ASCII digits.
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let len = self.0.bytes().take_while(u8::is_ascii_digit).count();
        if len < min || len > max {
            return None;
        }
        let n = self.0[..len].parse().ok()?;
        self.0 = &self.0[len..];
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LABEL: &str = "生年月日";

    fn ok(s: &str) -> Date {
        parse(s, LABEL).unwrap_or_else(|e| panic!("{s}: {}", e.message))
    }

    fn refused(s: &str) -> DateError {
        let e = parse(s, LABEL).expect_err(s);
        assert!(e.message.contains("「生年月日」"), "{s}: {}", e.message);
        e
    }

    #[test]
    fn formats_in_the_era_with_gan_nen_for_a_first_year() {
        assert_eq!(format(date!(2025 - 04 - 01)), "令和7年4月1日");
        assert_eq!(format(date!(2019 - 05 - 01)), "令和元年5月1日");
        assert_eq!(format(date!(2019 - 04 - 30)), "平成31年4月30日");
        assert_eq!(format(date!(1989 - 01 - 08)), "平成元年1月8日");
        assert_eq!(format(date!(1873 - 01 - 01)), "明治6年1月1日");
        assert_eq!(format(date!(1872 - 12 - 31)), "1872年12月31日（西暦）");
        assert_eq!(format_short(date!(2025 - 04 - 01)), "R7.4.1");
        assert_eq!(format_short(date!(2019 - 05 - 01)), "R1.5.1");
        assert_eq!(format_short(date!(1926 - 12 - 25)), "S1.12.25");
        assert_eq!(format_short(date!(1872 - 12 - 31)), "1872-12-31");
    }

    /// (last day of an era, its text; first day of the next, its text)
    const BOUNDARIES: [(Date, &str, Date, &str); 4] = [
        (
            date!(1912 - 07 - 29),
            "明治45年7月29日",
            date!(1912 - 07 - 30),
            "大正元年7月30日",
        ),
        (
            date!(1926 - 12 - 24),
            "大正15年12月24日",
            date!(1926 - 12 - 25),
            "昭和元年12月25日",
        ),
        (
            date!(1989 - 01 - 07),
            "昭和64年1月7日",
            date!(1989 - 01 - 08),
            "平成元年1月8日",
        ),
        (
            date!(2019 - 04 - 30),
            "平成31年4月30日",
            date!(2019 - 05 - 01),
            "令和元年5月1日",
        ),
    ];

    #[test]
    fn every_era_boundary_both_ways() {
        for (last, last_text, first, first_text) in BOUNDARIES {
            assert_eq!(format(last), last_text);
            assert_eq!(format(first), first_text);
            assert_eq!(ok(last_text), last);
            assert_eq!(ok(first_text), first);
            let (old, _) = era_year(last).unwrap();
            let (new, _) = era_year(first).unwrap();
            assert_eq!(old.last_day(), Some(last));
            assert_eq!(new.first_day(), first);
            // The day after the old era ends, written in the old era: refused, pointing to
            // the new one.
            let (y, m, d) = (
                last.year() - old.first_year() + 1,
                u8::from(first.month()),
                first.day(),
            );
            let e = refused(&format!("{}{y}年{m}月{d}日", old.name()));
            assert_eq!(e.code, "outside_era");
            assert!(
                e.message.contains(&format!("{}は{y}年（", old.name())),
                "{}",
                e.message
            );
            assert!(e.message.contains(first_text), "{}", e.message);
            // The day before the new era starts, written in the new era: refused, pointing
            // to the old one.
            let e = refused(&format!(
                "{}元年{}月{}日",
                new.name(),
                u8::from(last.month()),
                last.day()
            ));
            assert_eq!(e.code, "outside_era");
            assert!(
                e.message.contains(&format!("{}は元年", new.name())),
                "{}",
                e.message
            );
            assert!(e.message.contains(last_text), "{}", e.message);
        }
        assert_eq!(Era::of(date!(1872 - 12 - 31)), None);
        assert_eq!(Era::of(GREGORIAN_FROM), Some(Era::Meiji));
        assert_eq!(Era::of(date!(2100 - 12 - 31)), Some(Era::Reiwa));
    }

    #[test]
    fn each_input_style() {
        let d = date!(2025 - 04 - 01);
        for s in [
            "令和7年4月1日",
            "令和7年04月01日",
            "R7.4.1",
            "r7.4.1",
            "R07.04.01",
            "R7/4/1",
            "R7-4-1",
            "令7.4.1",
            "令和7.4.1",
            "R7年4月1日",
            "2025-04-01",
            "2025/4/1",
            "2025.4.1",
            "2025年4月1日",
            "20250401",
            "令和７年４月１日",
            "Ｒ７．４．１",
            "２０２５－０４－０１",
            "２０２５／４／１",
            "2025ー04ー01",
            "2025−04−01",
            "  令和 7年 4月 1日  ",
            "\u{3000}R7.4.1\u{3000}",
            "\t2025-04-01\n",
            "令和7年4月1",
            "㋿7年4月1日",
            "西暦2025年4月1日",
        ] {
            assert_eq!(ok(s), d, "{s}");
        }
        assert_eq!(ok("令和元年5月1日"), date!(2019 - 05 - 01));
        assert_eq!(ok("R元.5.1"), date!(2019 - 05 - 01));
        assert_eq!(ok("R1.5.1"), date!(2019 - 05 - 01));
        assert_eq!(ok("H31.4.30"), date!(2019 - 04 - 30));
        assert_eq!(ok("h31.4.30"), date!(2019 - 04 - 30));
        assert_eq!(ok("平31.4.30"), date!(2019 - 04 - 30));
        assert_eq!(ok("㍻31年4月30日"), date!(2019 - 04 - 30));
        assert_eq!(ok("S64.1.7"), date!(1989 - 01 - 07));
        assert_eq!(ok("昭和64年1月7日"), date!(1989 - 01 - 07));
        assert_eq!(ok("T15.12.24"), date!(1926 - 12 - 24));
        assert_eq!(ok("M45.7.29"), date!(1912 - 07 - 29));
        assert_eq!(ok("明治6年1月1日"), GREGORIAN_FROM);
        assert_eq!(ok("1872年12月31日（西暦）"), date!(1872 - 12 - 31));
        assert_eq!(ok("2024年2月29日"), date!(2024 - 02 - 29));
    }

    #[test]
    fn t15_12_25_is_already_showa() {
        let e = refused("T15.12.25");
        assert_eq!(e.code, "outside_era");
        assert!(
            e.message.contains("大正は15年（1926年12月24日）までです。"),
            "{}",
            e.message
        );
        assert!(e.message.contains("昭和元年12月25日"), "{}", e.message);
    }

    #[test]
    fn bad_dates_get_a_clear_message() {
        let e = refused("令和0年4月1日");
        assert_eq!(e.code, "era_year_zero");
        assert!(e.message.contains("令和元年"), "{}", e.message);

        let e = refused("平成32年4月1日");
        assert_eq!(e.code, "outside_era");
        assert_eq!(
            e.message,
            "「生年月日」：平成は31年（2019年4月30日）までです。平成32年4月1日は令和2年4月1日にあたります。"
        );

        let e = refused("昭和64年1月8日");
        assert_eq!(e.code, "outside_era");
        assert!(e.message.contains("平成元年1月8日"), "{}", e.message);

        let e = refused("令和元年4月30日");
        assert_eq!(e.code, "outside_era");
        assert!(
            e.message
                .contains("令和は元年5月1日（2019年5月1日）からです。"),
            "{}",
            e.message
        );
        assert!(e.message.contains("平成31年4月30日"), "{}", e.message);

        let e = refused("令和7年2月30日");
        assert_eq!(e.code, "invalid_day");
        assert_eq!(
            e.message,
            "「生年月日」：令和7年2月30日という日はありません（2月は28日までです）。"
        );
        assert_eq!(refused("2025-02-29").code, "invalid_day");
        assert!(refused("2024-02-30").message.contains("2月は29日まで"));
        assert_eq!(refused("2025-04-31").code, "invalid_day");
        assert_eq!(refused("2025-04-00").code, "invalid_day");
        assert_eq!(refused("2025-13-01").code, "invalid_month");
        assert_eq!(refused("R7.0.1").code, "invalid_month");

        let e = refused("明治5年12月2日");
        assert_eq!(e.code, "before_gregorian");
        assert!(e.message.contains("西暦"), "{}", e.message);
        assert_eq!(refused("M46.1.1").code, "outside_era");

        assert_eq!(refused("").code, "required");
        assert_eq!(refused("　 ").code, "required");
        for s in [
            "令和",
            "R7",
            "R7.4",
            "25/4/1",
            "2025-4-1-1",
            "令和7年4月1日です",
            "X7.4.1",
            "R7..4.1",
            "R7.4.1 12:00",
            "2025-04-01T00:00:00Z",
            "令和7年4月1日\u{0}",
            "R1234.1.1",
            "２０２５年",
        ] {
            assert_eq!(refused(s).code, "invalid_date", "{s}");
        }
    }

    #[test]
    fn messages_can_become_field_errors() {
        let f = refused("平成32年1月1日").into_field_error("date_of_birth");
        assert_eq!(f.field, "date_of_birth");
        assert_eq!(f.code, "outside_era");
    }

    /// Every day from 1873-01-01 to 2100-12-31, not a sample: about 83,000 of them.
    #[test]
    fn every_date_round_trips() {
        let mut d = GREGORIAN_FROM;
        while d <= date!(2100 - 12 - 31) {
            assert_eq!(parse(&format(d), LABEL), Ok(d), "{}", format(d));
            assert_eq!(parse(&format_short(d), LABEL), Ok(d), "{}", format_short(d));
            d = d.next_day().unwrap();
        }
    }

    const DAYS: i64 =
        (date!(2100 - 12 - 31).to_julian_day() - GREGORIAN_FROM.to_julian_day()) as i64;

    fn full_width(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c),
                other => other,
            })
            .collect()
    }

    fn any_input() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,40}",
            "[0-9０-９元年月日令和平成昭大明治RHSTMrhstm./\\-－ 　\\x00-\\x1f]{0,20}",
            proptest::collection::vec(any::<char>(), 0..60).prop_map(|v| v.into_iter().collect()),
            (0usize..1_100_000).prop_map(|n| "９".repeat(n / 3)),
        ]
    }

    proptest! {
        #[test]
        fn round_trips_by_day_offset(offset in 0..=DAYS) {
            let d = GREGORIAN_FROM + time::Duration::days(offset);
            prop_assert_eq!(parse(&format(d), LABEL), Ok(d));
            prop_assert_eq!(parse(&format_short(d), LABEL), Ok(d));
            prop_assert_eq!(parse(&full_width(&format_short(d)), LABEL), Ok(d));
            prop_assert_eq!(parse(&d.to_string(), LABEL), Ok(d));
        }

        #[test]
        fn any_input_gives_a_date_or_a_message_naming_the_field(s in any_input()) {
            match parse(&s, LABEL) {
                Ok(d) => prop_assert!(d.year() >= 1000),
                Err(e) => {
                    prop_assert!(e.message.contains("「生年月日」"), "{}", e.message);
                    prop_assert!(!e.code.is_empty());
                }
            }
        }
    }

    #[test]
    fn a_megabyte_of_input_is_refused_at_once() {
        for s in [
            "７".repeat(400_000),
            "R7.4.1".repeat(200_000),
            "\u{0}".repeat(1 << 20),
        ] {
            assert_eq!(refused(&s).code, "invalid_date");
        }
    }
}
