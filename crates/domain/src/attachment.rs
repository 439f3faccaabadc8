//! Scanned documents: paper stays possible. A worker whose physician wrote the opinion on
//! paper uploads a scan (PDF, JPEG or PNG); the employer's staff then transcribe it into the
//! form, and the transcription records which scan it came from.
//!
//! The type is decided by the file's content, never by its name or the browser's claim: a
//! file that does not start as the format it must be is refused.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, ValidationErrors};
use crate::forms::FormKind;
use crate::org::coded_enum;

/// 10 MiB: a multi-page scan at 300 dpi fits; anything larger is almost always a mistake
/// (a photo straight from a phone camera), and every byte is kept for years.
pub const MAX_SCAN_BYTES: usize = 10 * 1024 * 1024;

/// Long enough for any real file name, short enough to show in a list.
pub const MAX_FILE_NAME_CHARS: usize = 120;

coded_enum! {
    /// The formats a scan may have.
    ScanFormat {
        Pdf = "pdf" => "PDF",
        Jpeg = "jpeg" => "JPEG画像",
        Png = "png" => "PNG画像",
    }
}

impl ScanFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ScanFormat::Pdf => "application/pdf",
            ScanFormat::Jpeg => "image/jpeg",
            ScanFormat::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ScanFormat::Pdf => "pdf",
            ScanFormat::Jpeg => "jpg",
            ScanFormat::Png => "png",
        }
    }

    /// Recognises the format from the first bytes. A PDF must also end with its `%%EOF`
    /// marker (within the last KiB, as writers may append a newline), so that a cut-off
    /// upload is refused rather than kept as an unreadable original.
    pub fn sniff(bytes: &[u8]) -> Option<ScanFormat> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        if bytes.starts_with(PNG) && bytes.get(12..16) == Some(b"IHDR") {
            return Some(ScanFormat::Png);
        }
        // SOI followed by the first marker segment.
        if bytes.len() > 4 && bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(ScanFormat::Jpeg);
        }
        if bytes.starts_with(b"%PDF-") {
            let tail = &bytes[bytes.len().saturating_sub(1024)..];
            if tail.windows(5).any(|w| w == b"%%EOF") {
                return Some(ScanFormat::Pdf);
            }
        }
        None
    }
}

/// The forms the physician writes, whose paper originals may be uploaded and transcribed.
pub const SCANNABLE_FORMS: &[FormKind] = &[
    FormKind::ContinuationOpinion,
    FormKind::ReturnToWorkOpinion,
    FormKind::SupportCard,
];

/// A scan that passed the checks, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedScan {
    pub form: FormKind,
    pub format: ScanFormat,
    pub file_name: String,
    pub size: usize,
}

/// Checks an upload: which form it is a scan of, its name and its content. Every message
/// names the field the person has to fix.
pub fn check_scan(
    form: Option<FormKind>,
    file_name: &str,
    bytes: &[u8],
) -> Result<CheckedScan, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    match form {
        None => errs.push(FieldError::new(
            "form",
            "required",
            "「書類の種類」を選んでください。",
        )),
        Some(f) if !SCANNABLE_FORMS.contains(&f) => errs.push(FieldError::new(
            "form",
            "not_scannable",
            "「書類の種類」は主治医が記入する書類（主治医意見書または両立支援カード）から選んでください。",
        )),
        Some(_) => {}
    }
    let name = clean_file_name(file_name);
    let format = if bytes.is_empty() {
        errs.push(FieldError::new(
            "file",
            "required",
            "「ファイル」を選んでください（空のファイルは受け付けられません）。",
        ));
        None
    } else if bytes.len() > MAX_SCAN_BYTES {
        errs.push(FieldError::new(
            "file",
            "too_large",
            format!(
                "「ファイル」が大きすぎます（{}MBまで）。解像度を下げて読み取り直してください。",
                MAX_SCAN_BYTES / (1024 * 1024)
            ),
        ));
        None
    } else {
        let f = ScanFormat::sniff(bytes);
        if f.is_none() {
            errs.push(FieldError::new(
                "file",
                "unsupported_type",
                "「ファイル」はPDF、JPEG、PNGのいずれかにしてください（ファイルの中身から判定しています）。",
            ));
        }
        f
    };
    match (form, format) {
        (Some(form), Some(format)) if errs.is_empty() => Ok(CheckedScan {
            form,
            format,
            file_name: if name.is_empty() {
                format!("scan.{}", format.extension())
            } else {
                name
            },
            size: bytes.len(),
        }),
        _ => Err(errs),
    }
}

/// The name as people will see it in lists: no path, no control characters, trimmed and
/// shortened. The name is only a label; storage never uses it.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec()
    }

    fn png() -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        v.extend_from_slice(&[0; 17]);
        v
    }

    #[test]
    fn formats_are_told_by_content() {
        assert_eq!(ScanFormat::sniff(&pdf()), Some(ScanFormat::Pdf));
        assert_eq!(ScanFormat::sniff(&png()), Some(ScanFormat::Png));
        assert_eq!(
            ScanFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F']),
            Some(ScanFormat::Jpeg)
        );
        // A PDF cut off before its end marker, HTML named .pdf, an executable, a GIF.
        assert_eq!(ScanFormat::sniff(b"%PDF-1.7\n1 0 obj<<>>"), None);
        assert_eq!(ScanFormat::sniff(b"<html><script>"), None);
        assert_eq!(ScanFormat::sniff(b"MZ\x90\0"), None);
        assert_eq!(ScanFormat::sniff(b"GIF89a"), None);
        assert_eq!(ScanFormat::sniff(b"\x89PNG\r\n\x1a\n"), None);
    }

    #[test]
    fn the_name_of_the_file_does_not_decide_its_type() {
        let e =
            check_scan(Some(FormKind::ContinuationOpinion), "意見書.pdf", b"hello").unwrap_err();
        assert_eq!(e.errors[0].field, "file");
        assert_eq!(e.errors[0].code, "unsupported_type");
        let ok = check_scan(Some(FormKind::ContinuationOpinion), "意見書.txt", &pdf()).unwrap();
        assert_eq!(ok.format, ScanFormat::Pdf);
    }

    #[test]
    fn size_and_emptiness_are_checked() {
        let e = check_scan(Some(FormKind::ContinuationOpinion), "a.pdf", &[]).unwrap_err();
        assert_eq!(e.errors[0].code, "required");
        let mut big = pdf();
        big.resize(MAX_SCAN_BYTES + 1, b' ');
        let e = check_scan(Some(FormKind::ContinuationOpinion), "a.pdf", &big).unwrap_err();
        assert_eq!(e.errors[0].code, "too_large");
        let e = check_scan(None, "a.pdf", &pdf()).unwrap_err();
        assert_eq!(e.errors[0].field, "form");
        let e = check_scan(Some(FormKind::SupportPlan), "a.pdf", &pdf()).unwrap_err();
        assert_eq!(e.errors[0].code, "not_scannable");
    }

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_file_name("C:\\Users\\田中\\意見書.pdf"), "意見書.pdf");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name(" a\u{0}b\n.png "), "ab.png");
        assert_eq!(clean_file_name(&"長".repeat(500)).chars().count(), 120);
        let ok = check_scan(Some(FormKind::SupportCard), "", &png()).unwrap();
        assert_eq!(ok.file_name, "scan.png");
    }

    proptest! {
        #[test]
        fn no_upload_panics_and_every_message_names_its_field(
            name in ".{0,300}",
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
            with_form in any::<bool>(),
        ) {
            let form = with_form.then_some(FormKind::ReturnToWorkOpinion);
            if let Err(e) = check_scan(form, &name, &bytes) {
                for f in &e.errors {
                    prop_assert!(f.field == "file" || f.field == "form");
                    let label = if f.field == "file" { "「ファイル」" } else { "「書類の種類」" };
                    prop_assert!(f.message.contains(label), "{}", f.message);
                }
            }
        }
    }
}
