//! The code's layout: one folder per area, and an area names only the areas it may.
//!
//! In the web crate no area names another (`crate::cases` inside `hospital/` is refused): a
//! link to another area's page is a URL, and what several areas need lives in `http/`. In
//! the app crate an area may name the areas listed for it. A new area is a new row in
//! [`WEB_AREAS`] or [`APP_AREAS`].

use std::path::{Path, PathBuf};

/// The web crate's areas (`crates/web/src/<area>/`): none names another.
const WEB_AREAS: &[&str] = &["accounts", "cases", "hospital", "search", "fhir"];

/// The app crate's areas (`crates/app/src/<area>/`) and the other areas each may name.
const APP_AREAS: &[(&str, &[&str])] = &[
    ("search", &["accounts"]),
    ("accounts", &[]),
    ("cases", &["accounts", "search"]),
    ("hospital", &["accounts", "cases"]),
    ("fhir", &["accounts", "cases"]),
    ("records", &["accounts", "cases", "hospital"]),
];

/// The workspace root (files are named relative to it).
fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn crate_src(name: &str) -> PathBuf {
    workspace().join("crates").join(name).join("src")
}

/// Every `.rs` file under `dir`, with its depth below `dir` in modules (`mod.rs` at the top
/// is 0, `pages.rs` beside it is 1, `sub/x.rs` is 2).
fn rust_files(dir: &Path) -> Vec<(PathBuf, usize)> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, usize)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, depth + 1, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let own = if p.file_name().is_some_and(|n| n == "mod.rs") {
                    depth
                } else {
                    depth + 1
                };
                out.push((p, own));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, 0, &mut out);
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn ident_at(bytes: &[u8], i: usize) -> Option<(usize, &str)> {
    let end = (i..bytes.len())
        .find(|&j| !is_ident(bytes[j]))
        .unwrap_or(bytes.len());
    (end > i)
        .then(|| std::str::from_utf8(&bytes[i..end]).ok())
        .flatten()
        .map(|s| (end, s))
}

/// The first path segments named after a root prefix starting at `i`: one identifier, or
/// each item of a `{…}` group (nested groups belong to their item), with their offsets.
fn first_segments(bytes: &[u8], mut i: usize) -> Vec<(usize, String)> {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if bytes.get(i) != Some(&b'{') {
        return ident_at(bytes, i)
            .map(|(_, s)| vec![(i, s.to_owned())])
            .unwrap_or_default();
    }
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut item_start = true;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                depth += 1;
                item_start = depth == 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            b',' if depth == 1 => item_start = true,
            b if b.is_ascii_whitespace() => {}
            b if depth == 1 && item_start && is_ident(b) => {
                if let Some((end, s)) = ident_at(bytes, i) {
                    out.push((i, s.to_owned()));
                    item_start = false;
                    i = end;
                    continue;
                }
            }
            _ => item_start = false,
        }
        i += 1;
    }
    out
}

/// Every area named from the crate root in `text` — `crate::x`, `crate::{…, x, …}`, or a
/// `super::` chain long enough to reach the root from a file `depth` modules below it (or
/// from a module inline in that file) — with the line it is on.
fn named_from_root(text: &str, depth: usize) -> Vec<(usize, String)> {
    let bytes = text.as_bytes();
    let line_of = |at: usize| bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != b':';
        if !starts_word {
            i += 1;
            continue;
        }
        if bytes[i..].starts_with(b"crate::") {
            let after = i + "crate::".len();
            for (at, name) in first_segments(bytes, after) {
                found.push((line_of(at), name));
            }
            i = after;
        } else if bytes[i..].starts_with(b"super::") {
            let mut after = i;
            let mut supers = 0;
            while bytes[after..].starts_with(b"super::") {
                after += "super::".len();
                supers += 1;
            }
            if supers > depth {
                for (at, name) in first_segments(bytes, after) {
                    found.push((line_of(at), name));
                }
            }
            i = after;
        } else {
            i += 1;
        }
    }
    found
}

/// The places where an area of `krate` names an area it may not, as `file:line: …` lines;
/// every listed area must have source files, so the check cannot pass on an empty folder.
fn violations(krate: &str, areas: &[(&str, &[&str])]) -> Vec<String> {
    let src = crate_src(krate);
    let all: Vec<&str> = areas.iter().map(|(a, _)| *a).collect();
    let mut out = Vec::new();
    for (area, allowed) in areas {
        let files = rust_files(&src.join(area));
        assert!(
            !files.is_empty(),
            "no .rs file found under {}",
            src.join(area).display()
        );
        for (path, depth) in files {
            let text = std::fs::read_to_string(&path).unwrap();
            for (line, name) in named_from_root(&text, depth) {
                if name != *area
                    && all.contains(&name.as_str())
                    && !allowed.contains(&name.as_str())
                {
                    let shown = path.strip_prefix(workspace()).unwrap_or(&path);
                    out.push(format!(
                        "{}:{line}: the {area} area names the {name} area",
                        shown.display()
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn the_scanner_sees_every_way_of_naming_an_area() {
    let names = |text: &str, depth: usize| -> Vec<String> {
        named_from_root(text, depth)
            .into_iter()
            .map(|(_, n)| n)
            .collect()
    };
    assert_eq!(names("use crate::cases::pages::X;", 1), ["cases"]);
    assert_eq!(names("use crate::cases;", 1), ["cases"]);
    assert_eq!(names("let x = crate::hospital::f();", 1), ["hospital"]);
    assert_eq!(
        names(
            "use crate::{\n    AppState,\n    cases::{a, b},\n    http::x,\n};",
            1
        ),
        ["AppState", "cases", "http"]
    );
    assert_eq!(
        names("use crate::{Access, AppState, RouteTable};", 1).len(),
        3
    );
    // From cases/pages.rs `super::super` is the root; from cases/mod.rs `super` is.
    assert_eq!(names("use super::super::hospital::x;", 1), ["hospital"]);
    assert_eq!(names("use super::hospital::x;", 0), ["hospital"]);
    assert!(names("use super::pages::x;", 1).is_empty());
    // Only paths that start at the root.
    assert!(names("use ryoritsu_app::cases::ports::X;", 1).is_empty());
    assert!(names("use super::forms::{escape, x};", 1).is_empty());
    let lines: Vec<usize> = named_from_root("//!\n\nuse crate::{\n  x,\n  cases};", 1)
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    assert_eq!(lines, [4, 5]);
}

#[test]
fn no_web_area_names_another() {
    let areas: Vec<(&str, &[&str])> = WEB_AREAS.iter().map(|a| (*a, &[][..])).collect();
    let found = violations("web", &areas);
    assert!(
        found.is_empty(),
        "an area of the web crate names another area (link by URL, or share through http/):\n{}",
        found.join("\n")
    );
}

#[test]
fn app_areas_name_only_the_areas_they_may() {
    let found = violations("app", APP_AREAS);
    assert!(
        found.is_empty(),
        "an area of the app crate names an area it may not:\n{}",
        found.join("\n")
    );
}
