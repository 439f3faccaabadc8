//! Writes every form, filled with the demo answers, as PDF into a directory:
//! `cargo run -p ryoritsu-documents --example previews -- docs/forms`
//! (docs/forms/make-previews.sh turns the first pages into PNG).
//!
//! With `--all`, also writes both versions and the blank forms.

#[path = "../samples/answers.rs"]
mod answers;

use std::path::PathBuf;

use ryoritsu_documents::{RenderOptions, render};
use ryoritsu_domain::forms::{FormKind, FormVersion, validate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "docs/forms".into()));
    let all = args.any(|a| a == "--all");
    std::fs::create_dir_all(&dir)?;
    let versions: &[FormVersion] = if all {
        FormVersion::ALL
    } else {
        &[FormVersion::V2026]
    };
    for &form in FormKind::ALL {
        for &version in versions {
            let answers = validate(form, version, &answers::filled(form, version))
                .map_err(|e| format!("{form:?} {version:?}: {e:?}"))?
                .into_answers();
            let opts = RenderOptions {
                share_code_qr: Some(answers::SHARE_CODE.to_owned()),
                hidden_note: None,
            };
            let mut outputs = vec![(
                format!("{}-{}.pdf", form.code(), version.code()),
                render(form, version, Some(&answers), opts.clone())?,
            )];
            if all {
                outputs.push((
                    format!("{}-{}-blank.pdf", form.code(), version.code()),
                    render(form, version, None, RenderOptions::default())?,
                ));
            }
            for (name, pdf) in outputs {
                let path = dir.join(name);
                std::fs::write(&path, pdf)?;
                println!("{}", path.display());
            }
        }
    }
    Ok(())
}
