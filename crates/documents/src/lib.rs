//! The official 両立支援 forms (MHLW 様式例) as A4 PDF.
//!
//! [`render`] prints one form in one version, filled from answers or blank for handwriting, in
//! the layout of the sample forms: title, addressee, tables, ☑/☐ per option, signature and date
//! lines, footnotes. Typst lays the page out from one template per form
//! (`templates/*.typ`); the answers reach it as data, already worded as the paper form words
//! them (see `view.rs`), never as Typst source.
//!
//! The fonts are compiled into the binary (IPAex Gothic and Mincho, and a three-glyph ballot-box
//! font; see `assets/fonts/README.md`) and no system font is ever looked up, so a server with
//! no fonts installed prints the same PDF. The PDF embeds subsets of them and its text can be
//! copied or extracted.

mod dates;
mod view;

use std::sync::LazyLock;

use qrcode::QrCode;
use qrcode::render::svg;
use ryoritsu_domain::forms::{Answers, FormKind, FormVersion, schema};
use typst::diag::SourceDiagnostic;
use typst::foundations::{Dict, Smart, Value};
use typst_as_lib::TypstEngine;
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

static GOTHIC: &[u8] = include_bytes!("../../../assets/fonts/ipaexg.ttf");
static MINCHO: &[u8] = include_bytes!("../../../assets/fonts/ipaexm.ttf");
static BALLOT: &[u8] = include_bytes!("../../../assets/fonts/RyoritsuBallot.ttf");

/// The templates by file name; forms import `common.typ`.
static TEMPLATES: &[(&str, &str)] = &[
    ("common.typ", include_str!("../templates/common.typ")),
    (
        "work_information.typ",
        include_str!("../templates/work_information.typ"),
    ),
    (
        "continuation_opinion.typ",
        include_str!("../templates/continuation_opinion.typ"),
    ),
    (
        "return_to_work_opinion.typ",
        include_str!("../templates/return_to_work_opinion.typ"),
    ),
    ("plan.typ", include_str!("../templates/plan.typ")),
    (
        "support_card.typ",
        include_str!("../templates/support_card.typ"),
    ),
];

/// Built once and shared by every render: the font book over the compiled-in fonts, and the
/// templates. Nothing else is reachable: no file system, no system fonts, no packages.
static ENGINE: LazyLock<TypstEngine> = LazyLock::new(|| {
    TypstEngine::builder()
        .fonts([GOTHIC, MINCHO, BALLOT])
        .with_static_source_file_resolver(TEMPLATES.iter().copied())
        .build()
});

/// What the printed form carries besides the answers.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The case's share code (e.g. `ABCD-EFGH-JKLM`). On the 勤務情報提供書 it is printed with a
    /// QR code holding it, so that the hospital can open the case; other forms ignore it.
    pub share_code_qr: Option<String>,
    /// A sentence printed in a box at the top of the first page, for when the caller left out
    /// answers this reader may not see (e.g. 「主治医記載欄は、閲覧の権限がないため印刷していません。」).
    pub hidden_note: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The share code cannot be put into a QR code (far too long).
    #[error("共有コードをQRコードにできませんでした: {0}")]
    QrCode(String),
    /// A template failed to compile: a bug in this crate, never in the answers.
    #[error("書類のレイアウトに失敗しました: {0}")]
    Layout(String),
    #[error("PDFの作成に失敗しました: {0}")]
    Pdf(String),
}

/// A rendered PDF and what Typst warned about while laying it out.
#[derive(Debug)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    /// Warnings such as an unknown font family; the templates are written to give none.
    pub warnings: Vec<String>,
}

/// Prints `form` in `version` as an A4 PDF: filled from `answers`, or blank for handwriting when
/// `answers` is `None`. Answers need not be complete or valid: drafts print as they stand.
pub fn render(
    form: FormKind,
    version: FormVersion,
    answers: Option<&Answers>,
    opts: RenderOptions,
) -> Result<Vec<u8>, RenderError> {
    render_with_warnings(form, version, answers, opts).map(|r| r.pdf)
}

/// [`render`], also returning Typst's warnings (tests require none).
pub fn render_with_warnings(
    form: FormKind,
    version: FormVersion,
    answers: Option<&Answers>,
    opts: RenderOptions,
) -> Result<Rendered, RenderError> {
    let share = match (form, opts.share_code_qr) {
        (FormKind::WorkInformation, Some(code)) => Some(share_view(&code)?),
        _ => None,
    };
    let view = view::form_view(schema(form, version), answers, share, opts.hidden_note);
    let data: Value = serde_json::to_value(&view)
        .and_then(serde_json::from_value)
        .map_err(|e| RenderError::Layout(e.to_string()))?;
    let mut inputs = Dict::new();
    inputs.insert("data".into(), data);

    let compiled = ENGINE.compile_with_input::<_, _, PagedDocument>(template(form), inputs);
    let warnings = compiled.warnings.iter().map(diagnostic).collect();
    let document = compiled
        .output
        .map_err(|e| RenderError::Layout(e.to_string()))?;
    let options = PdfOptions {
        creator: Smart::Custom(Some("Ryoritsu".to_owned())),
        ..PdfOptions::default()
    };
    let pdf = typst_pdf::pdf(&document, &options).map_err(|errors| {
        RenderError::Pdf(errors.iter().map(diagnostic).collect::<Vec<_>>().join("; "))
    })?;
    Ok(Rendered { pdf, warnings })
}

/// The font families compiled in: the only fonts a PDF can use.
pub fn embedded_font_families() -> Vec<String> {
    [GOTHIC, MINCHO, BALLOT]
        .into_iter()
        .flat_map(|data| typst::text::Font::iter(typst::foundations::Bytes::new(data)))
        .map(|font| font.info().family.clone())
        .collect()
}

fn template(form: FormKind) -> &'static str {
    match form {
        FormKind::WorkInformation => "work_information.typ",
        FormKind::ContinuationOpinion => "continuation_opinion.typ",
        FormKind::ReturnToWorkOpinion => "return_to_work_opinion.typ",
        FormKind::SupportPlan | FormKind::ReturnToWorkPlan => "plan.typ",
        FormKind::SupportCard => "support_card.typ",
    }
}

fn share_view(code: &str) -> Result<view::ShareView, RenderError> {
    let qr = QrCode::new(code.as_bytes()).map_err(|e| RenderError::QrCode(e.to_string()))?;
    let svg = qr.render::<svg::Color<'_>>().quiet_zone(false).build();
    Ok(view::ShareView {
        svg,
        text: format!(
            "医療機関の方へ：Ryoritsu で共有コード {code} を入力すると、この事例を開けます。"
        ),
    })
}

fn diagnostic(d: &SourceDiagnostic) -> String {
    let mut text = d.message.to_string();
    for hint in &d.hints {
        text.push_str(" / ");
        text.push_str(&hint.v);
    }
    text
}
