//! Every form × version, filled and blank, printed to PDF and read back with poppler's
//! `pdftotext` / `pdffonts` / `pdftoppm` (Debian package `poppler-utils`): every label, every
//! option with its ☐/☑, the answers, the fonts embedded, and the share code's QR code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../samples/answers.rs"]
mod answers;

use std::io::Write;
use std::process::Command;

use ryoritsu_documents::{RenderOptions, Rendered, embedded_font_families, render_with_warnings};
use ryoritsu_domain::forms::{
    AnswerValue, Answers, FieldKind, FieldSpec, FormKind, FormVersion, schema, validate,
};

/// Fields printed inside an option's brackets rather than under their own label:
/// 「現時点で不可（休業：～令和8年6月30日）」, 「不可（令和8年6月30日まで）」.
const INLINE_IN_OPTION: &[&str] = &["leave_until", "unfit_until"];

/// Runs a poppler tool on the PDF; `None` (and a note) when poppler-utils is not installed.
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> Option<String> {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(pdf).expect("write pdf");
    let path = file.path().to_str().expect("utf-8 path");
    let mut all: Vec<&str> = args.to_vec();
    all.push(path);
    if tool == "pdftotext" {
        all.push("-");
    }
    match Command::new(tool).args(&all).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{tool} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).expect("utf-8 output"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Straight to stderr: the test harness swallows `eprintln!` of passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {tool} is not installed (apt-get install poppler-utils); the PDF's text, fonts and QR code are not checked"
            );
            None
        }
        Err(e) => panic!("{tool}: {e}"),
    }
}

/// The PDF's text in the order it was written (`-raw`: a table cell's lines stay together,
/// where `-layout` would interleave a wrapped label with its neighbour cell), with all white
/// space removed: text wraps where the layout decides, and the forms' own labels contain
/// ideographic spaces (「～　年　月　日」).
fn pdf_text(pdf: &[u8]) -> Option<String> {
    poppler("pdftotext", &["-raw", "-enc", "UTF-8"], pdf).map(|t| squash(&t))
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn filled(form: FormKind, version: FormVersion) -> Answers {
    validate(form, version, &answers::filled(form, version))
        .unwrap_or_else(|e| panic!("sample answers of {form:?} {version:?} are invalid: {e:?}"))
        .into_answers()
}

fn print(
    form: FormKind,
    version: FormVersion,
    answers: Option<&Answers>,
    opts: RenderOptions,
) -> Vec<u8> {
    let Rendered { pdf, warnings } = render_with_warnings(form, version, answers, opts)
        .unwrap_or_else(|e| panic!("{form:?} {version:?}: {e}"));
    assert!(
        warnings.is_empty(),
        "{form:?} {version:?} warned: {warnings:?}"
    );
    assert!(pdf.starts_with(b"%PDF-"));
    pdf
}

fn assert_has(text: &str, needle: &str, what: &str) {
    let needle = squash(needle);
    assert!(
        text.contains(&needle),
        "{what}: 「{needle}」 not found in:\n{text}"
    );
}

/// Every label the paper form prints for this version: fields, fixed wording, headings, and
/// (on blank forms) the hints; a filled form may write an answer inside a hint's wording
/// (「（主治医所属・氏名）都立さくら総合病院…先生」).
fn assert_labels(text: &str, form: FormKind, version: FormVersion, blank: bool) {
    let schema = schema(form, version);
    assert_has(text, schema.title, "title");
    for spec in schema.fields() {
        match spec.kind {
            FieldKind::FixedText { text: wording } => assert_has(text, wording, spec.id),
            _ if INLINE_IN_OPTION.contains(&spec.id) => {}
            _ => assert_has(text, spec.label, spec.id),
        }
        if let Some(hint) = spec.hint.filter(|_| blank) {
            assert_has(text, hint, spec.id);
        }
        if let FieldKind::Signature {
            statement: Some(statement),
        } = spec.kind
        {
            assert_has(text, statement, spec.id);
        }
    }
}

/// A choice field: its id, its options (code, label) and the codes chosen.
type Choice = (String, Vec<(&'static str, &'static str)>, Vec<String>);

/// Every choice in the form, parts of groups included.
fn choices(specs: &[&'static FieldSpec], answers: Option<&Answers>, out: &mut Vec<Choice>) {
    for spec in specs {
        let value = answers.and_then(|a| a.get(spec.id));
        let options: Vec<(&str, &str)> = match spec.kind {
            FieldKind::SingleChoice { options } | FieldKind::MultipleChoice { options } => {
                options.iter().map(|o| (o.code, o.label)).collect()
            }
            FieldKind::YesNo { yes, no } => vec![("true", yes), ("false", no)],
            FieldKind::Group { fields } => {
                let parts = match value {
                    Some(AnswerValue::Group(p)) => Some(p),
                    _ => None,
                };
                choices(&fields.iter().collect::<Vec<_>>(), parts, out);
                continue;
            }
            _ => continue,
        };
        let chosen = match value {
            Some(AnswerValue::Text(code)) => vec![code.clone()],
            Some(AnswerValue::List(codes)) => codes.clone(),
            Some(AnswerValue::Bool(b)) => vec![b.to_string()],
            _ => vec![],
        };
        out.push((spec.id.to_owned(), options, chosen));
    }
}

fn all_choices(form: FormKind, version: FormVersion, answers: Option<&Answers>) -> Vec<Choice> {
    let specs: Vec<&'static FieldSpec> = schema(form, version).fields().collect();
    let mut out = Vec::new();
    choices(&specs, answers, &mut out);
    out
}

/// Every written answer (texts, names on signatures, table cells): these print as typed.
fn texts(specs: &[FieldSpec], answers: &Answers, out: &mut Vec<String>) {
    for spec in specs {
        match (spec.kind, answers.get(spec.id)) {
            (FieldKind::Text { .. } | FieldKind::Multiline { .. }, Some(AnswerValue::Text(s))) => {
                out.push(s.clone())
            }
            (FieldKind::Table { columns, .. }, Some(AnswerValue::Rows(rows))) => {
                rows.iter().for_each(|row| texts(columns, row, out))
            }
            (kind, Some(AnswerValue::Group(parts))) => {
                texts(kind.sub_fields().unwrap_or_default(), parts, out)
            }
            _ => {}
        }
    }
}

#[test]
fn every_filled_form_prints_its_labels_answers_and_ticked_options() {
    for &form in FormKind::ALL {
        for &version in FormVersion::ALL {
            let answers = filled(form, version);
            let pdf = print(form, version, Some(&answers), RenderOptions::default());
            let Some(text) = pdf_text(&pdf) else { return };
            let what = format!("{form:?} {version:?} filled");
            assert_labels(&text, form, version, false);
            for (field, options, chosen) in all_choices(form, version, Some(&answers)) {
                for (code, label) in options {
                    let mark = if chosen.iter().any(|c| c == code) {
                        "☑"
                    } else {
                        "☐"
                    };
                    assert_has(
                        &text,
                        &format!("{mark}{label}"),
                        &format!("{what} {field}.{code}"),
                    );
                }
            }
            let specs: Vec<FieldSpec> = schema(form, version).fields().copied().collect();
            let mut printed = Vec::new();
            texts(&specs, &answers, &mut printed);
            assert!(printed.len() >= 4, "{what}: too few text answers to check");
            for answer in printed {
                assert_has(&text, &answer, &what);
            }
        }
    }
}

#[test]
fn every_blank_form_prints_its_labels_and_every_option_unticked() {
    for &form in FormKind::ALL {
        for &version in FormVersion::ALL {
            let pdf = print(form, version, None, RenderOptions::default());
            let Some(text) = pdf_text(&pdf) else { return };
            assert_labels(&text, form, version, true);
            let choices = all_choices(form, version, None);
            assert!(!choices.is_empty());
            for (field, options, _) in choices {
                for (code, label) in options {
                    assert_has(
                        &text,
                        &format!("☐{label}"),
                        &format!("{form:?} {version:?} blank {field}.{code}"),
                    );
                }
            }
            assert!(
                !text.contains('☑'),
                "{form:?} {version:?}: a blank form has a ticked box"
            );
            // Blank date lines for handwriting, not a date (the footer names the edition).
            assert_has(&text, "年月日", "blank date");
            assert!(
                !text.replace(&squash(version.label()), "").contains("令和"),
                "{form:?} {version:?}: a blank form has a date"
            );
        }
    }
}

#[test]
fn dates_print_in_wareki_and_versions_differ_in_their_2026_fields() {
    let pdf = print(
        FormKind::WorkInformation,
        FormVersion::V2026,
        Some(&filled(FormKind::WorkInformation, FormVersion::V2026)),
        RenderOptions::default(),
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert_has(&text, "昭和54年7月15日", "date of birth");
    assert_has(&text, "令和8年4月10日（本人署名）", "signature date");
    assert_has(
        &text,
        "8時30分～17時30分（休憩1時間。週5日間。）",
        "working hours",
    );
    assert_has(&text, "残12.5日間", "paid leave");
    assert_has(&text, "☑有☐無", "産業医の有無");

    let pdf = print(
        FormKind::WorkInformation,
        FormVersion::V2024,
        None,
        RenderOptions::default(),
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert!(
        !text.contains("産業医の有無"),
        "the 2024 form has no 産業医の有無"
    );
    assert!(
        !text.contains("会社の連絡先"),
        "the 2024 form has no company contact"
    );

    let pdf = print(
        FormKind::ContinuationOpinion,
        FormVersion::V2026,
        None,
        RenderOptions::default(),
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert_has(
        &text,
        "事業者が最終的に決定するものである。",
        "the employer decides",
    );
    let pdf = print(
        FormKind::SupportPlan,
        FormVersion::V2026,
        None,
        RenderOptions::default(),
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert_has(&text, "治療と就業の両立支援プラン", "the 2026 plan's name");
}

#[test]
fn dates_of_the_unfit_options_print_inside_their_brackets() {
    let mut a = filled(FormKind::ReturnToWorkOpinion, FormVersion::V2024);
    a.insert("return_opinion".into(), AnswerValue::text("not_yet"));
    a.insert("leave_until".into(), AnswerValue::text("2026-06-30"));
    let a = validate(FormKind::ReturnToWorkOpinion, FormVersion::V2024, &a)
        .expect("valid")
        .into_answers();
    let pdf = print(
        FormKind::ReturnToWorkOpinion,
        FormVersion::V2024,
        Some(&a),
        RenderOptions::default(),
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert_has(
        &text,
        "☑現時点で不可（休業：～令和8年6月30日）",
        "not yet, with the date",
    );

    let mut a = filled(FormKind::SupportCard, FormVersion::V2026);
    a.insert("work_opinion".into(), AnswerValue::text("unfit"));
    a.insert("unfit_until".into(), AnswerValue::text("2026-06-30"));
    let pdf = print(
        FormKind::SupportCard,
        FormVersion::V2026,
        Some(&a),
        RenderOptions::default(),
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert_has(&text, "☑不可（令和8年6月30日まで）", "unfit, with the date");
}

#[test]
fn answers_are_printed_as_text_never_run_as_typst() {
    let mut a = filled(FormKind::ContinuationOpinion, FormVersion::V2024);
    let hostile = "#set page(width: 1cm) *太字* $x^2$ ] } \" \\ <label> @ref // コメント";
    a.insert("other_considerations".into(), AnswerValue::text(hostile));
    let pdf = print(
        FormKind::ContinuationOpinion,
        FormVersion::V2024,
        Some(&a),
        RenderOptions::default(),
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert_has(&text, hostile, "hostile text printed literally");
    let Some(info) = poppler("pdfinfo", &[], &pdf) else {
        return;
    };
    assert!(
        info.contains("595.276 x 841.89 pts (A4)"),
        "page size changed:\n{info}"
    );
}

#[test]
fn long_answers_flow_onto_more_pages() {
    let mut a = filled(FormKind::SupportPlan, FormVersion::V2026);
    let row = |i: usize| -> Answers {
        [
            ("period".to_owned(), AnswerValue::text(format!("{i}か月目"))),
            (
                "measures".to_owned(),
                AnswerValue::text(
                    "短時間勤務／残業・深夜勤務・休日勤務は禁止／通院配慮。".repeat(4),
                ),
            ),
        ]
        .into_iter()
        .collect()
    };
    a.insert(
        "plan_periods".into(),
        AnswerValue::Rows((1..=24).map(row).collect()),
    );
    let pdf = print(
        FormKind::SupportPlan,
        FormVersion::V2026,
        Some(&a),
        RenderOptions::default(),
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert_has(&text, "24か月目", "last row");
    assert_has(&text, "（人事部）", "signatures after the table");
    let Some(info) = poppler("pdfinfo", &[], &pdf) else {
        return;
    };
    assert!(
        !info.contains("Pages:           1\n"),
        "24 rows cannot fit one page:\n{info}"
    );
}

#[test]
fn the_hidden_note_is_printed_when_given() {
    let note = "主治医記載欄は、閲覧の権限がないため印刷していません。";
    let pdf = print(
        FormKind::SupportCard,
        FormVersion::V2026,
        None,
        RenderOptions {
            share_code_qr: None,
            hidden_note: Some(note.into()),
        },
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert_has(&text, note, "hidden note");
}

#[test]
fn the_work_information_carries_the_share_code_as_a_readable_qr_code() {
    let form = FormKind::WorkInformation;
    let opts = RenderOptions {
        share_code_qr: Some(answers::SHARE_CODE.into()),
        hidden_note: None,
    };
    let pdf = print(
        form,
        FormVersion::V2026,
        Some(&filled(form, FormVersion::V2026)),
        opts.clone(),
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert_has(
        &text,
        &format!(
            "医療機関の方へ：Ryoritsuで共有コード{}を入力すると、この事例を開けます。",
            answers::SHARE_CODE
        ),
        "share code text",
    );
    assert_eq!(
        decode_qr(&pdf).as_deref(),
        Some(answers::SHARE_CODE),
        "the QR code holds the share code"
    );

    // No code, no QR; and other forms never carry one.
    let pdf = print(form, FormVersion::V2026, None, RenderOptions::default());
    let Some(text) = pdf_text(&pdf) else { return };
    assert!(!text.contains("共有コード"));
    assert_eq!(decode_qr(&pdf), None);
    let pdf = print(
        FormKind::ContinuationOpinion,
        FormVersion::V2026,
        None,
        opts,
    );
    let Some(text) = pdf_text(&pdf) else { return };
    assert!(!text.contains("共有コード"));
}

/// Rasterises page 1 (grey, 150 dpi) and reads the QR code on it, if any.
fn decode_qr(pdf: &[u8]) -> Option<String> {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(pdf).expect("write pdf");
    let out = Command::new("pdftoppm")
        .args(["-gray", "-r", "150", "-f", "1", "-l", "1"])
        .arg(file.path())
        .output()
        .ok()?;
    assert!(out.status.success());
    let (width, height, pixels) = parse_pgm(&out.stdout);
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    img.detect_grids()
        .first()
        .and_then(|g| g.decode().ok())
        .map(|(_, content)| content)
}

/// A binary PGM (P5, maxval 255) as written by pdftoppm: header fields, then the pixels.
fn parse_pgm(data: &[u8]) -> (usize, usize, &[u8]) {
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while data[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !data[pos].is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(std::str::from_utf8(&data[start..pos]).expect("header"));
    }
    assert_eq!((fields[0], fields[3]), ("P5", "255"));
    let width: usize = fields[1].parse().expect("width");
    let height: usize = fields[2].parse().expect("height");
    (width, height, &data[pos + 1..pos + 1 + width * height])
}

#[test]
fn fonts_are_the_embedded_ones_and_are_embedded_in_the_pdf() {
    // The engine knows only the fonts compiled into the binary; it never scans the system, so a
    // missing family would show as a warning (checked by `print`) on any machine.
    let mut families = embedded_font_families();
    families.sort();
    assert_eq!(families, ["IPAexGothic", "IPAexMincho", "Ryoritsu Ballot"]);

    let form = FormKind::SupportCard;
    let pdf = print(
        form,
        FormVersion::V2026,
        Some(&filled(form, FormVersion::V2026)),
        RenderOptions::default(),
    );
    let Some(fonts) = poppler("pdffonts", &[], &pdf) else {
        return;
    };
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    let names: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.split_whitespace().next())
        .collect();
    for family in ["IPAexGothic", "IPAexMincho", "RyoritsuBallot"] {
        assert!(
            names.iter().any(|n| n.ends_with(family)),
            "{family} missing:\n{fonts}"
        );
    }
    for row in &rows {
        let name = row.split_whitespace().next().unwrap_or_default();
        assert!(
            ["IPAexGothic", "IPAexMincho", "RyoritsuBallot"]
                .iter()
                .any(|f| name.ends_with(f)),
            "unexpected font:\n{fonts}"
        );
        // Columns: name type encoding emb sub uni object ID; a subset prefix marks `sub`.
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(
            (cols[n - 5], cols[n - 4], cols[n - 3]),
            ("yes", "yes", "yes"),
            "not embedded as a subset with Unicode map:\n{fonts}"
        );
    }
}
