//! Rendering rate: renders the filled forms (every form × version, in turn) in one thread and
//! prints forms per second. Pin it to one core for the figure in docs/benchmarks.md:
//! `taskset -c 0 cargo run --release -p ryoritsu-documents --example bench -- 600`

#[path = "../samples/answers.rs"]
mod answers;

use std::time::Instant;

use ryoritsu_documents::{RenderOptions, render};
use ryoritsu_domain::forms::{FormKind, FormVersion, validate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(600);
    let mut jobs = Vec::new();
    for &form in FormKind::ALL {
        for &version in FormVersion::ALL {
            let answers = validate(form, version, &answers::filled(form, version))
                .map_err(|e| format!("{form:?} {version:?}: {e:?}"))?
                .into_answers();
            jobs.push((form, version, answers));
        }
    }
    let opts = || RenderOptions {
        share_code_qr: Some(answers::SHARE_CODE.to_owned()),
        hidden_note: None,
    };

    // The first render parses the fonts and templates; it is reported apart.
    let start = Instant::now();
    let (form, version, answers) = &jobs[0];
    render(*form, *version, Some(answers), opts())?;
    let first = start.elapsed();

    let mut bytes = 0;
    let start = Instant::now();
    for i in 0..n {
        let (form, version, answers) = &jobs[i % jobs.len()];
        bytes += render(*form, *version, Some(answers), opts())?.len();
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "first render (fonts and templates loaded): {:.0} ms",
        first.as_secs_f64() * 1e3
    );
    println!(
        "{n} forms in {elapsed:.2} s: {:.1} forms/s, {:.1} ms per form, {:.0} KB per PDF",
        n as f64 / elapsed,
        elapsed * 1e3 / n as f64,
        bytes as f64 / n as f64 / 1024.0
    );
    Ok(())
}
