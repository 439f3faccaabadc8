//! CSV downloads that Excel in Japan opens with a double click: UTF-8 with a BOM by default
//! (the BOM is how Excel knows the file is UTF-8), or cp932 (Windows-31J, 「Shift_JIS」) on
//! request for older Excel and tools that read nothing else. Lines end in CRLF.
//!
//! cp932 cannot hold every character (𠮷, ♥, é …). Such a file is refused with a message
//! naming each character and where it is, never written with 「?」 in its place: a wrong
//! name in a list is worse than no list.

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use time::Date;

use crate::http::failure::Failure;

/// The character encoding of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvEncoding {
    /// UTF-8 with a byte order mark: every character, and Excel (2016 and later) opens it.
    #[default]
    Utf8Bom,
    /// cp932 (Windows-31J): what Excel has always read, for characters of JIS X 0208 and
    /// the Windows extensions (①, ㈱, 髙) only.
    Cp932,
}

impl CsvEncoding {
    /// From the `encoding` query parameter: `utf8` (default) or `cp932`.
    pub fn from_param(v: Option<&str>) -> Result<CsvEncoding, Failure> {
        let v = v.map(|s| s.trim().to_ascii_lowercase()).unwrap_or_default();
        match v.as_str() {
            "" | "utf8" | "utf-8" => Ok(CsvEncoding::Utf8Bom),
            "cp932" | "sjis" | "shift_jis" | "shift-jis" | "windows-31j" => Ok(CsvEncoding::Cp932),
            _ => Err(Failure::bad_request(
                "invalid_encoding",
                "文字コードは utf8（標準）または cp932（Shift_JIS）を指定してください。",
            )),
        }
    }

    /// The `encoding` query parameter that asks for this encoding.
    pub fn param(self) -> &'static str {
        match self {
            CsvEncoding::Utf8Bom => "utf8",
            CsvEncoding::Cp932 => "cp932",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            CsvEncoding::Utf8Bom => "text/csv; charset=utf-8",
            CsvEncoding::Cp932 => "text/csv; charset=Shift_JIS",
        }
    }
}

/// A character cp932 cannot hold, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unencodable {
    /// The data row, counting from 1 (0: the heading row).
    pub row: usize,
    /// The column's heading.
    pub column: String,
    /// The characters, in order, each once.
    pub chars: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvError {
    /// Characters the chosen encoding cannot hold.
    Unencodable(Vec<Unencodable>),
    /// The CSV writer failed (it writes to memory, so this is not expected).
    Write(String),
}

/// At most this many places are listed in one message.
const LISTED_PLACES: usize = 10;

impl CsvError {
    /// The message for the person who asked for the file.
    pub fn message(&self) -> String {
        match self {
            CsvError::Unencodable(places) => {
                let mut listed = String::new();
                for (i, p) in places.iter().take(LISTED_PLACES).enumerate() {
                    if i > 0 {
                        listed.push('、');
                    }
                    let quoted: Vec<String> = p.chars.chars().map(|c| format!("「{c}」")).collect();
                    if p.row == 0 {
                        let _ = write!(listed, "見出し「{}」の{}", p.column, quoted.join(""));
                    } else {
                        let _ = write!(
                            listed,
                            "{}件目の「{}」の{}",
                            p.row,
                            p.column,
                            quoted.join("")
                        );
                    }
                }
                if places.len() > LISTED_PLACES {
                    let _ = write!(listed, "ほか{}か所", places.len() - LISTED_PLACES);
                }
                format!(
                    "Shift_JIS（cp932）では表せない文字があるため、このファイルを作成できませんでした（{listed}）。UTF-8（標準）でダウンロードしてください。UTF-8 のファイルも Excel でそのまま開けます。"
                )
            }
            CsvError::Write(_) => {
                "CSVファイルを作成できませんでした。時間をおいてもう一度お試しください。".into()
            }
        }
    }

    pub fn into_failure(self) -> Failure {
        match &self {
            CsvError::Unencodable(_) => Failure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "csv_unencodable",
                self.message(),
            ),
            CsvError::Write(detail) => Failure::internal(format!("csv: {detail}")),
        }
    }
}

/// Spreadsheets read a cell starting with `=`, `+`, `-` or `@` as a formula, and some skip
/// a leading tab or carriage return first: a name like `=HYPERLINK(...)` typed into the
/// system would run in the reader's Excel (CSV injection). As OWASP recommends, such a
/// cell gets a leading apostrophe, which makes it text.
fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Characters that JIS X 0208 holds but that macOS and the JIS mapping write with another
/// code point than Windows does (〜 for ～, ‖ for ∥ …): the same character to a person, so
/// cp932 gets Windows' form instead of a refusal.
fn windows_form(c: char) -> char {
    match c {
        '\u{301C}' => '\u{FF5E}', // 〜 WAVE DASH → ～
        '\u{2016}' => '\u{2225}', // ‖ → ∥
        '\u{2014}' => '\u{2015}', // — EM DASH → ―
        '\u{00A2}' => '\u{FFE0}', // ¢ → ￠
        '\u{00A3}' => '\u{FFE1}', // £ → ￡
        '\u{00AC}' => '\u{FFE2}', // ¬ → ￢
        other => other,
    }
}

fn cp932_holds(c: char) -> bool {
    let mut buf = [0u8; 4];
    let (_, _, unmappable) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf));
    !unmappable
}

/// The characters of `cell` that cp932 cannot hold, each once, in order.
fn unencodable_chars(cell: &str) -> String {
    let mut out = String::new();
    for c in cell.chars().filter(|c| !cp932_holds(*c)) {
        if !out.contains(c) {
            out.push(c);
        }
    }
    out
}

/// Writes a heading row and data rows as a CSV file in the chosen encoding. Every cell is
/// guarded against formula injection; for cp932 every character is checked first.
pub fn encode(
    headings: &[&str],
    rows: &[Vec<String>],
    encoding: CsvEncoding,
) -> Result<Vec<u8>, CsvError> {
    let prepare = |cell: &str| -> String {
        let cell = guard(cell);
        match encoding {
            CsvEncoding::Utf8Bom => cell.into_owned(),
            CsvEncoding::Cp932 => cell.chars().map(windows_form).collect(),
        }
    };
    let headings: Vec<String> = headings.iter().map(|h| prepare(h)).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| prepare(c)).collect())
        .collect();
    if encoding == CsvEncoding::Cp932 {
        let mut places = Vec::new();
        for (i, row) in std::iter::once(&headings).chain(rows.iter()).enumerate() {
            for (j, cell) in row.iter().enumerate() {
                if encoding_rs::SHIFT_JIS.encode(cell).2 {
                    places.push(Unencodable {
                        row: i,
                        column: headings.get(j).cloned().unwrap_or_default(),
                        chars: unencodable_chars(cell),
                    });
                }
            }
        }
        if !places.is_empty() {
            return Err(CsvError::Unencodable(places));
        }
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in std::iter::once(&headings).chain(rows.iter()) {
        w.write_record(row)
            .map_err(|e| CsvError::Write(e.to_string()))?;
    }
    let text = w.into_inner().map_err(|e| CsvError::Write(e.to_string()))?;
    match encoding {
        CsvEncoding::Utf8Bom => {
            let mut out = Vec::with_capacity(text.len() + 3);
            out.extend_from_slice(b"\xEF\xBB\xBF");
            out.extend_from_slice(&text);
            Ok(out)
        }
        CsvEncoding::Cp932 => {
            let text = String::from_utf8(text).map_err(|e| CsvError::Write(e.to_string()))?;
            let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
            if unmappable {
                // Checked cell by cell above; never write a file with substitutes.
                return Err(CsvError::Write("unmappable after the check".into()));
            }
            Ok(bytes.into_owned())
        }
    }
}

/// Reads back a file [`encode`] wrote (a UTF-8 BOM is skipped): every row, the heading
/// row first. For checking a download.
pub fn decode(bytes: &[u8], encoding: CsvEncoding) -> Result<Vec<Vec<String>>, String> {
    let text = match encoding {
        CsvEncoding::Utf8Bom => {
            let (text, malformed) = encoding_rs::UTF_8.decode_with_bom_removal(bytes);
            if malformed {
                return Err("not UTF-8".into());
            }
            text
        }
        CsvEncoding::Cp932 => {
            let (text, malformed) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
            if malformed {
                return Err("not cp932".into());
            }
            text
        }
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .map(|rec| {
            rec.map(|rec| rec.iter().map(str::to_owned).collect())
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// `attachment` with the Japanese name for browsers (RFC 6266 `filename*`) and an ASCII
/// one for the rest.
pub(crate) fn disposition(stem: &str, ascii_stem: &str, day: Date) -> String {
    let ymd = format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    );
    let name = format!("{stem}_{ymd}.csv");
    format!(
        "attachment; filename=\"{ascii_stem}_{ymd}.csv\"; filename*=UTF-8''{}",
        utf8_percent_encode(&name, NON_ALPHANUMERIC)
    )
}

pub(crate) fn download(bytes: Vec<u8>, encoding: CsvEncoding, disposition: &str) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Names of people in support: never kept by a shared cache or the browser's.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        vec![
            vec!["髙橋 ①".into(), "㈱みどり精機".into(), "ｱｲｳｴｵ ﾊﾟﾝ".into()],
            vec![
                "改行\r\nを含む".into(),
                "\"引用符\", カンマ".into(),
                "～ ∥ － ￠ ￡ ￢ 﨑 ⅰ №".into(),
            ],
            vec![String::new(), "令和7年4月1日".into(), "2025-04-01".into()],
        ]
    }

    const HEADINGS: [&str; 3] = ["本人氏名", "勤務先", "備考"];

    /// Decodes with the encoding crate and the CSV reader directly, not through [`decode`].
    fn read_back(bytes: &[u8], enc: &'static encoding_rs::Encoding) -> Vec<Vec<String>> {
        let (text, _, malformed) = enc.decode(bytes);
        assert!(!malformed);
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    fn expected(rows: &[Vec<String>]) -> Vec<Vec<String>> {
        std::iter::once(HEADINGS.iter().map(|h| (*h).to_owned()).collect())
            .chain(rows.iter().cloned())
            .collect()
    }

    #[test]
    fn utf8_has_a_bom_crlf_and_reads_back_to_the_same_rows() {
        let mut rows = rows();
        rows.push(vec!["𠮷野家".into(), "♥".into(), "é".into()]);
        let bytes = encode(&HEADINGS, &rows, CsvEncoding::Utf8Bom).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM first");
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(text.starts_with("本人氏名,勤務先,備考\r\n"), "{text}");
        assert!(text.ends_with("\r\n"));
        assert_eq!(read_back(&bytes, encoding_rs::UTF_8), expected(&rows));
        assert_eq!(
            decode(&bytes, CsvEncoding::Utf8Bom).unwrap(),
            expected(&rows)
        );
    }

    #[test]
    fn cp932_reads_back_to_the_same_rows_with_the_windows_extensions() {
        let rows = rows();
        let bytes = encode(&HEADINGS, &rows, CsvEncoding::Cp932).unwrap();
        assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
        assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
        // 髙 is an IBM extension (FB FC), ① an NEC special character (87 40), ｱ one byte.
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(has(&[0xFB, 0xFC]) && has(&[0x87, 0x40]) && has(&[0xB1]));
        assert!(has(b"\r\n"));
        assert_eq!(read_back(&bytes, encoding_rs::SHIFT_JIS), expected(&rows));
        assert_eq!(decode(&bytes, CsvEncoding::Cp932).unwrap(), expected(&rows));
    }

    #[test]
    fn cp932_refuses_characters_it_cannot_hold_and_says_where() {
        let mut rows = rows();
        rows.push(vec!["𠮷田 花子".into(), "株式会社♥".into(), "ok".into()]);
        rows.push(vec!["𠮷𠮷".into(), String::new(), String::new()]);
        let e = encode(&HEADINGS, &rows, CsvEncoding::Cp932).unwrap_err();
        assert_eq!(
            e,
            CsvError::Unencodable(vec![
                Unencodable {
                    row: 4,
                    column: "本人氏名".into(),
                    chars: "𠮷".into()
                },
                Unencodable {
                    row: 4,
                    column: "勤務先".into(),
                    chars: "♥".into()
                },
                Unencodable {
                    row: 5,
                    column: "本人氏名".into(),
                    chars: "𠮷".into()
                },
            ])
        );
        let m = e.message();
        assert!(m.contains("4件目の「本人氏名」の「𠮷」"), "{m}");
        assert!(m.contains("4件目の「勤務先」の「♥」"), "{m}");
        assert!(m.contains("UTF-8"), "{m}");
        assert!(!m.contains('?'));
        let f = e.into_failure();
        assert_eq!(f.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(f.code, "csv_unencodable");
    }

    #[test]
    fn a_long_list_of_places_is_cut_short() {
        let rows: Vec<Vec<String>> = (0..25).map(|_| vec!["𠮷".to_owned()]).collect();
        let m = encode(&["氏名"], &rows, CsvEncoding::Cp932)
            .unwrap_err()
            .message();
        assert!(m.contains("10件目") && !m.contains("11件目"), "{m}");
        assert!(m.contains("ほか15か所"), "{m}");
    }

    #[test]
    fn jis_forms_of_the_same_character_become_windows_forms_in_cp932() {
        let rows = vec![vec!["10時〜12時 ‖ — ¢£¬".to_owned()]];
        let bytes = encode(&["備考"], &rows, CsvEncoding::Cp932).unwrap();
        assert_eq!(
            decode(&bytes, CsvEncoding::Cp932).unwrap()[1],
            vec!["10時～12時 ∥ ― ￠￡￢".to_owned()]
        );
        // UTF-8 keeps what was typed.
        let bytes = encode(&["備考"], &rows, CsvEncoding::Utf8Bom).unwrap();
        assert_eq!(decode(&bytes, CsvEncoding::Utf8Bom).unwrap()[1], rows[0]);
    }

    #[test]
    fn formula_like_cells_become_text() {
        let rows = vec![vec![
            "=HYPERLINK(\"http://example.com\")".to_owned(),
            "+81".to_owned(),
            "-1".to_owned(),
            "@SUM(A1)".to_owned(),
            "\t=1".to_owned(),
            "\r=1".to_owned(),
            "a=b".to_owned(),
            "＝全角".to_owned(),
        ]];
        for enc in [CsvEncoding::Utf8Bom, CsvEncoding::Cp932] {
            let bytes = encode(&["a", "b", "c", "d", "e", "f", "g", "h"], &rows, enc).unwrap();
            let back = decode(&bytes, enc).unwrap();
            assert_eq!(
                back[1],
                vec![
                    "'=HYPERLINK(\"http://example.com\")",
                    "'+81",
                    "'-1",
                    "'@SUM(A1)",
                    "'\t=1",
                    "'\r=1",
                    "a=b",
                    "＝全角"
                ]
            );
        }
    }

    #[test]
    fn encoding_parameter() {
        assert_eq!(CsvEncoding::from_param(None).unwrap(), CsvEncoding::Utf8Bom);
        assert_eq!(
            CsvEncoding::from_param(Some("UTF-8")).unwrap(),
            CsvEncoding::Utf8Bom
        );
        assert_eq!(
            CsvEncoding::from_param(Some(" cp932 ")).unwrap(),
            CsvEncoding::Cp932
        );
        assert_eq!(
            CsvEncoding::from_param(Some("Shift_JIS")).unwrap(),
            CsvEncoding::Cp932
        );
        let f = CsvEncoding::from_param(Some("latin1")).unwrap_err();
        assert_eq!(f.status, StatusCode::BAD_REQUEST);
        assert_eq!(f.code, "invalid_encoding");
    }

    #[test]
    fn the_file_name_is_japanese_with_an_ascii_fallback() {
        let d = disposition(
            "両立支援事例一覧",
            "ryoritsu_cases",
            time::macros::date!(2025 - 04 - 01),
        );
        assert!(d.starts_with(
            "attachment; filename=\"ryoritsu_cases_20250401.csv\"; filename*=UTF-8''"
        ));
        let encoded = d.split("UTF-8''").nth(1).unwrap();
        let name = percent_encoding::percent_decode_str(encoded)
            .decode_utf8()
            .unwrap();
        assert_eq!(name, "両立支援事例一覧_20250401.csv");
    }
}
