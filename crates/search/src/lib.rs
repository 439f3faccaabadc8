//! Japanese text search: the same normalisation and word segmentation on the way into the
//! index and on the way out of a query, so that what a person types finds what was written.
//!
//! Japanese has no spaces between words and two-character words (「肝臓」「通院」) are the common
//! case, so text is cut into words by ICU4X's dictionary segmenter (the dictionary is compiled
//! into the crate: nothing is fetched at build or run time). Each word is then normalised:
//! NFKC (full-width latin and digits to half-width, half-width kana to full-width), lowercase,
//! katakana to hiragana (so 「タナカ」「たなか」「ﾀﾅｶ」 are one word). The databases never see
//! raw Japanese: they index space-separated words (SQLite FTS5 `unicode61`) or a `tsvector`
//! built here with positions (PostgreSQL), and queries are built here for each of them.
//!
//! Words are segmented before kana folding, in the text's own scripts, because the dictionary
//! knows katakana words as katakana; folding first would cut them as if they were hiragana.

use std::fmt::Write as _;
use std::ops::Range;

use icu_segmenter::WordSegmenter;
use icu_segmenter::options::WordBreakInvariantOptions;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Longest word kept in the index; longer runs are noise (codes, pasted garbage) and
/// PostgreSQL limits lexemes anyway.
pub const MAX_TOKEN_CHARS: usize = 64;
/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// Most words in one query: every word is a condition for the index.
pub const MAX_QUERY_WORDS: usize = 16;

/// A word of a text: its normalised form and where it stands in the original text (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub span: Range<usize>,
}

/// Katakana to hiragana, one character for one.
fn kana_fold(c: char) -> char {
    match c {
        '\u{30A1}'..='\u{30F6}' | '\u{30FD}' | '\u{30FE}' => {
            char::from_u32(u32::from(c) - 0x60).unwrap_or(c)
        }
        _ => c,
    }
}

/// Characters kept inside a word; anything else splits it. The same test decides on both
/// backends (FTS5's `unicode61` and the tsvector built here), so every stored word is one
/// `unicode61` token too.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// The writing system of a character, for cutting compounds the dictionary keeps whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Han,
    Hiragana,
    Katakana,
    Digit,
    Other,
}

fn script(c: char) -> Option<Script> {
    match c {
        // The long vowel mark and the iteration marks continue the word they are in.
        '\u{30FC}' | '\u{309D}' | '\u{309E}' | '\u{30FD}' | '\u{30FE}' => None,
        '\u{3005}'
        | '\u{3006}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3FFFF}' => Some(Script::Han),
        '\u{3041}'..='\u{309F}' => Some(Script::Hiragana),
        '\u{30A0}'..='\u{30FF}' => Some(Script::Katakana),
        _ if c.is_numeric() => Some(Script::Digit),
        _ => Some(Script::Other),
    }
}

/// Cuts `word` where the script changes: the dictionary keeps 「胃がん」「肺がん」 as one word,
/// but a person searching 「がん」 expects them (and 「ALT」 in 「ALT80」). Done on both sides, so 「胃がん」 typed as a
/// query becomes the phrase 「胃」「がん」 and still finds exactly itself.
fn script_pieces(word: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut current: Option<Script> = None;
    for (i, c) in word.char_indices() {
        if let Some(s) = script(c) {
            if current.is_some_and(|cur| cur != s) {
                out.push(start..i);
                start = i;
            }
            current = Some(s);
        }
    }
    if start < word.len() {
        out.push(start..word.len());
    }
    out
}

/// The normalised form of a word or a whole text: NFKC, lowercase, katakana to hiragana.
pub fn normalise(s: &str) -> String {
    s.nfkc()
        .flat_map(char::to_lowercase)
        .map(kana_fold)
        .collect()
}

/// NFKC and lowercase of `s`, with the original byte range of every output character, so
/// words found in the normalised text can be shown in the original.
struct Mapped {
    text: String,
    /// (byte offset in `text`, original byte range), one per character of `text`.
    origin: Vec<(usize, Range<usize>)>,
}

fn map_text(s: &str) -> Mapped {
    let mut text = String::with_capacity(s.len());
    let mut origin = Vec::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        // A character with the marks that follow it (the half-width voicing marks too) is
        // normalised as one, so that ｶﾞ becomes ガ.
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = chars.peek() {
            if is_combining_mark(next) || matches!(next, '\u{FF9E}' | '\u{FF9F}') {
                end = i + next.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let cluster = &s[start..end];
        for n in cluster.nfkc().flat_map(char::to_lowercase) {
            origin.push((text.len(), start..end));
            text.push(n);
        }
    }
    Mapped { text, origin }
}

impl Mapped {
    /// The original byte range of the normalised bytes `r`.
    fn original(&self, r: &Range<usize>) -> Option<Range<usize>> {
        let first = self.origin.partition_point(|(at, _)| *at < r.start);
        let last = self.origin.partition_point(|(at, _)| *at < r.end);
        let a = self.origin.get(first)?;
        let b = self.origin.get(last.checked_sub(1)?)?;
        Some(a.1.start..b.1.end)
    }
}

/// The words of `text`, normalised, with their place in `text`.
pub fn tokens(text: &str) -> Vec<Token> {
    let mapped = map_text(text);
    let segmenter = WordSegmenter::new_auto(WordBreakInvariantOptions::default());
    let mut out = Vec::new();
    let mut last = 0;
    for (at, kind) in segmenter.segment_str(&mapped.text).iter_with_word_type() {
        let range = last..at;
        last = at;
        if range.is_empty() || !kind.is_word_like() {
            continue;
        }
        let Some(segment) = mapped.text.get(range.clone()) else {
            continue;
        };
        // A word-like segment may still hold a separator (「3.5」): split there.
        let mut piece_start: Option<usize> = None;
        for (i, c) in segment
            .char_indices()
            .chain(std::iter::once((segment.len(), ' ')))
        {
            let word = i < segment.len() && is_word_char(c);
            match (word, piece_start) {
                (true, None) => piece_start = Some(i),
                (false, Some(s)) => {
                    piece_start = None;
                    let piece = &segment[s..i];
                    if piece.chars().count() > MAX_TOKEN_CHARS {
                        continue;
                    }
                    for sub in script_pieces(piece) {
                        let abs = range.start + s + sub.start..range.start + s + sub.end;
                        if let (Some(span), Some(word)) =
                            (mapped.original(&abs), piece.get(sub.clone()))
                        {
                            out.push(Token {
                                text: word.chars().map(kana_fold).collect(),
                                span,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The words to index for `text`.
pub fn index_words(text: &str) -> Vec<String> {
    tokens(text).into_iter().map(|t| t.text).collect()
}

/// The words to index for a person's name or its reading: the segmented words and, as
/// typed, each space-separated part whole, so that 「たなか」 finds 「タナカ タロウ」 however the
/// segmenter cuts a kana run on its own.
pub fn name_words(name: &str) -> Vec<String> {
    let mut out = index_words(name);
    for part in normalise(name).split_whitespace() {
        if part.chars().all(is_word_char)
            && part.chars().count() <= MAX_TOKEN_CHARS
            && !out.iter().any(|w| w == part)
        {
            out.push(part.to_owned());
        }
    }
    out
}

/// Words as SQLite FTS5 (`unicode61`) stores them: separated by spaces.
pub fn fts5_document(words: &[String]) -> String {
    words.join(" ")
}

/// Words as a PostgreSQL `tsvector` literal with positions (for phrases), so that the
/// database's own parser never re-cuts Japanese text.
pub fn tsvector_literal(words: &[String]) -> String {
    let mut out = String::new();
    // PostgreSQL keeps positions up to 16383; later words share the last position, which
    // only weakens phrase matching at the very end of very long texts.
    for (i, w) in words.iter().enumerate() {
        if !out.is_empty() {
            out.push(' ');
        }
        let pos = (i + 1).min(16383);
        // Words hold only letters and digits, so they need no escaping inside quotes.
        let _ = write!(out, "'{w}':{pos}");
    }
    out
}

/// Why a query cannot be run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    TooLong,
    NoWords,
    TooManyWords,
}

impl QueryError {
    pub fn code(self) -> &'static str {
        match self {
            QueryError::TooLong => "query_too_long",
            QueryError::NoWords => "query_no_words",
            QueryError::TooManyWords => "query_too_many_words",
        }
    }

    pub fn message(self) -> String {
        match self {
            QueryError::TooLong => {
                format!("検索する言葉は{MAX_QUERY_CHARS}文字以内で入力してください。")
            }
            QueryError::NoWords => "検索する言葉には文字か数字を含めてください。".to_owned(),
            QueryError::TooManyWords => "検索する言葉が多すぎます。減らしてください。".to_owned(),
        }
    }
}

/// One space-separated part of a query: its words must appear together, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPart {
    pub words: Vec<String>,
    /// The part as one word, where it is made only of letters and digits: a kana run typed
    /// alone may be cut differently from the same run inside a name or a sentence.
    pub whole: Option<String>,
    /// A one-character query matches the words that start with it (「胃」 finds 「胃腸」).
    pub prefix: bool,
}

/// Words that must stand together, in order, in a text's words; the last one only needs to
/// start with its text where `prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    pub words: Vec<String>,
    pub prefix: bool,
}

impl Phrase {
    /// The phrase as it stands inside a text's words joined by spaces and padded with a
    /// space at each end (`" 短 時間 "`, `" 胃"` for a prefix): the words hold the phrase
    /// exactly when that text occurs there, since words never hold a space.
    pub fn padded(&self) -> String {
        format!(
            " {}{}",
            self.words.join(" "),
            if self.prefix { "" } else { " " }
        )
    }
}

/// A parsed query: every part must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub parts: Vec<QueryPart>,
}

impl Query {
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        if input.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let nfkc: String = input.nfkc().collect();
        let mut parts = Vec::new();
        let mut count = 0;
        for raw in nfkc.split_whitespace() {
            let words = index_words(raw);
            if words.is_empty() {
                continue;
            }
            count += words.len();
            let folded = normalise(raw);
            let whole = (folded.chars().all(is_word_char)
                && folded.chars().count() <= MAX_TOKEN_CHARS
                && (words.len() > 1 || words.first() != Some(&folded)))
            .then_some(folded);
            let prefix = words.len() == 1 && words.iter().all(|w| w.chars().count() == 1);
            parts.push(QueryPart {
                words,
                whole,
                prefix,
            });
        }
        if parts.is_empty() {
            return Err(QueryError::NoWords);
        }
        if count > MAX_QUERY_WORDS {
            return Err(QueryError::TooManyWords);
        }
        Ok(Query { parts })
    }

    /// The query as phrase groups (every group must match, any phrase of a group): each
    /// part's words in a row, or the part typed as one word. What [`Query::fts5`] and
    /// [`Query::tsquery`] say, for testing one text's words directly.
    pub fn phrases(&self) -> Vec<Vec<Phrase>> {
        self.parts
            .iter()
            .map(|p| {
                let mut group = vec![Phrase {
                    words: p.words.clone(),
                    prefix: p.prefix,
                }];
                if let Some(w) = &p.whole {
                    group.push(Phrase {
                        words: vec![w.clone()],
                        prefix: false,
                    });
                }
                group
            })
            .collect()
    }

    /// The query as an FTS5 MATCH expression.
    pub fn fts5(&self) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|p| {
                let phrase = format!(
                    "\"{}\"{}",
                    p.words.join(" "),
                    if p.prefix { "*" } else { "" }
                );
                match &p.whole {
                    Some(w) => format!("({phrase} OR \"{w}\")"),
                    None => phrase,
                }
            })
            .collect();
        parts.join(" AND ")
    }

    /// The query as a PostgreSQL `tsquery` literal.
    pub fn tsquery(&self) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|p| {
                let phrase = p
                    .words
                    .iter()
                    .map(|w| format!("'{w}'{}", if p.prefix { ":*" } else { "" }))
                    .collect::<Vec<_>>()
                    .join(" <-> ");
                match &p.whole {
                    Some(w) => format!("(({phrase}) | '{w}')"),
                    None => format!("({phrase})"),
                }
            })
            .collect();
        parts.join(" & ")
    }

    /// Where the query's words stand in `text` (byte ranges, sorted, not overlapping).
    pub fn matches_in(&self, text: &str) -> Vec<Range<usize>> {
        let toks = tokens(text);
        let mut found: Vec<Range<usize>> = Vec::new();
        for i in 0..toks.len() {
            for p in &self.parts {
                let n = p.words.len();
                if p.prefix {
                    if let (Some(t), Some(w)) = (toks.get(i), p.words.first())
                        && t.text.starts_with(w.as_str())
                    {
                        found.push(t.span.clone());
                    }
                } else if let Some(run) = toks.get(i..i + n)
                    && run.iter().zip(&p.words).all(|(t, w)| &t.text == w)
                    && let (Some(a), Some(b)) = (run.first(), run.last())
                {
                    found.push(a.span.start..b.span.end);
                }
                if let Some(whole) = &p.whole {
                    let mut acc = String::new();
                    for (j, t) in toks.iter().enumerate().skip(i) {
                        acc.push_str(&t.text);
                        if &acc == whole {
                            if let Some(a) = toks.get(i) {
                                found.push(a.span.start..t.span.end);
                            }
                            break;
                        }
                        if !whole.starts_with(acc.as_str()) || j > i + MAX_QUERY_WORDS {
                            break;
                        }
                    }
                }
            }
        }
        found.sort_by_key(|r| (r.start, r.end));
        let mut merged: Vec<Range<usize>> = Vec::new();
        for r in found {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// [`Self::matches_in`] for the part of `text` an excerpt can show: segmenting costs
    /// far more than anything else here, so only a window is segmented, from a little before
    /// the first place where the start of one of the query's parts occurs in the normalised
    /// text (no match can start earlier) to a little past what the excerpt can hold. Marks
    /// within the margins are left out (a word cut by the window may be cut differently).
    /// `None` when the window is the whole text or holds no mark: then the whole text is
    /// segmented.
    fn marks_near_first(&self, text: &str, max_chars: usize) -> Option<Vec<Range<usize>>> {
        /// Characters segmented beyond what an excerpt shows, at each end.
        const MARGIN: usize = 24;
        let mapped = map_text(text);
        let first = self
            .parts
            .iter()
            .flat_map(|p| p.words.first().into_iter().chain(p.whole.iter()))
            .filter_map(|w| mapped.text.find(w.as_str()))
            .min()?;
        let at = mapped.original(&(first..first + 1))?.start;
        let start = text[..at]
            .char_indices()
            .rev()
            .nth(MARGIN - 1)
            .map_or(0, |(i, _)| i);
        let window_end = |chars: usize| {
            text[at..]
                .char_indices()
                .nth(chars)
                .map_or(text.len(), |(i, _)| at + i)
        };
        let end = window_end(max_chars + 2 * MARGIN);
        if start == 0 && end == text.len() {
            return None;
        }
        let trusted_end = if end == text.len() {
            end
        } else {
            window_end(max_chars + MARGIN)
        };
        let marks: Vec<Range<usize>> = self
            .matches_in(&text[start..end])
            .into_iter()
            .map(|r| r.start + start..r.end + start)
            .filter(|r| r.start >= at && r.end <= trusted_end)
            .collect();
        (!marks.is_empty()).then_some(marks)
    }

    /// A short excerpt of `text` around the first match, cut into plain and matched pieces,
    /// or `None` when the query's words are not in it.
    pub fn snippet(&self, text: &str, max_chars: usize) -> Option<Vec<Fragment>> {
        let marks = self
            .marks_near_first(text, max_chars)
            .unwrap_or_else(|| self.matches_in(text));
        let first = marks.first()?;
        // Some context before the first match, then as much as fits.
        let before = max_chars / 4;
        let start = text[..first.start]
            .char_indices()
            .rev()
            .nth(before.saturating_sub(1))
            .map_or(0, |(i, _)| i);
        let end = text[start..]
            .char_indices()
            .nth(max_chars)
            .map_or(text.len(), |(i, _)| start + i)
            .max(first.end.min(text.len()));
        let mut out = Vec::new();
        let mut at = start;
        let push = |out: &mut Vec<Fragment>, s: &str, mark: bool| {
            // Line breaks would break the one-line excerpt.
            let s: String = s
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            if !s.is_empty() {
                out.push(Fragment { text: s, mark });
            }
        };
        if start > 0 {
            push(&mut out, "…", false);
        }
        for m in &marks {
            if m.start >= end {
                break;
            }
            let (ms, me) = (m.start.max(at), m.end.min(end));
            if ms > at {
                push(&mut out, &text[at..ms], false);
            }
            if me > ms {
                push(&mut out, &text[ms..me], true);
            }
            at = me.max(at);
        }
        if at < end {
            push(&mut out, &text[at..end], false);
        }
        if end < text.len() {
            push(&mut out, "…", false);
        }
        Some(out)
    }
}

/// A piece of an excerpt; `mark` when it is what was searched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    pub text: String,
    pub mark: bool,
}

/// A name's reading (フリガナ) as stored: NFKC (half-width kana to full-width), spaces
/// collapsed. `None` when anything but kana, the long vowel mark, the middle dot and spaces
/// remains.
pub fn reading(input: &str) -> Option<String> {
    let nfkc: String = input.nfkc().collect();
    let joined = nfkc.split_whitespace().collect::<Vec<_>>().join(" ");
    let kana = |c: char| {
        matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' | '\u{30A1}'..='\u{30FA}'
            | '\u{30FC}'..='\u{30FE}' | '\u{30FB}' | ' ')
    };
    (!joined.is_empty() && joined.chars().all(kana)).then_some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        index_words(s)
    }

    #[test]
    fn normalises_width_case_and_kana() {
        assert_eq!(normalise("ﾀﾅｶ"), "たなか");
        assert_eq!(normalise("タナカ"), "たなか");
        assert_eq!(normalise("ＴＡＮＡＫＡ１２"), "tanaka12");
        assert_eq!(normalise("ｶﾞﾝ"), "がん");
    }

    #[test]
    fn segments_two_character_words() {
        let w = words("肝臓の数値が悪化したため通院が必要です");
        assert!(w.contains(&"肝臓".to_owned()), "{w:?}");
        assert!(w.contains(&"通院".to_owned()), "{w:?}");
        let w = words("短時間勤務を希望");
        let q = Query::parse("短時間勤務").unwrap();
        assert!(
            !Query::parse("短時間勤務")
                .unwrap()
                .matches_in("短時間勤務を希望")
                .is_empty()
        );
        assert!(!w.is_empty() && !q.parts.is_empty());
    }

    #[test]
    fn spans_point_into_the_original_text() {
        let text = "ﾀﾅｶさんはＡＢＣ社";
        for t in tokens(text) {
            assert_eq!(normalise(&text[t.span.clone()]), t.text);
        }
    }

    #[test]
    fn half_width_query_finds_katakana_and_hiragana() {
        for q in ["ﾀﾅｶ", "タナカ", "たなか"] {
            let q = Query::parse(q).unwrap();
            let index = name_words("タナカ タロウ");
            let ok = q.parts.iter().all(|p| {
                p.whole.as_ref().is_some_and(|w| index.contains(w))
                    || index
                        .windows(p.words.len())
                        .any(|win| win.iter().zip(&p.words).all(|(a, b)| a == b))
            });
            assert!(ok, "{q:?} vs {index:?}");
        }
    }

    #[test]
    fn phrases_are_found_in_the_padded_words_as_the_index_finds_them() {
        let padded = |text: &str| format!(" {} ", index_words(text).join(" "));
        let holds = |q: &Query, text: &str| {
            let words = padded(text);
            q.phrases()
                .iter()
                .all(|g| g.iter().any(|p| words.contains(&p.padded())))
        };
        let q = Query::parse("短時間勤務 通院").unwrap();
        assert!(holds(&q, "週二回の通院のため短時間勤務を希望"));
        assert!(!holds(&q, "短時間勤務を希望"));
        // One character is a prefix: 「胃」 finds the words that start with it.
        let one = Query::parse("胃").unwrap();
        assert_eq!(
            one.phrases(),
            vec![vec![Phrase {
                words: vec!["胃".into()],
                prefix: true
            }]]
        );
        assert_eq!(one.phrases()[0][0].padded(), " 胃");
        assert!(holds(&one, &index_words("胃腸炎").join(" ")));
        // A part typed as one word may also match whole.
        let whole = Query::parse("タナカ").unwrap();
        let group = &whole.phrases()[0];
        assert_eq!(group.len(), 1 + usize::from(whole.parts[0].whole.is_some()));
    }

    #[test]
    fn queries_for_both_backends() {
        let q = Query::parse("肝臓　通院").unwrap();
        assert_eq!(q.parts.len(), 2);
        assert!(q.fts5().contains("\"肝臓\""));
        assert!(q.tsquery().contains("'肝臓'"));
        let one = Query::parse("胃").unwrap();
        assert!(one.parts[0].prefix);
        assert_eq!(one.fts5(), "\"胃\"*");
        assert_eq!(one.tsquery(), "('胃':*)");
    }

    #[test]
    fn bad_queries() {
        assert_eq!(Query::parse("、。！").unwrap_err(), QueryError::NoWords);
        assert_eq!(Query::parse(" ").unwrap_err(), QueryError::NoWords);
        assert_eq!(
            Query::parse(&"あ".repeat(101)).unwrap_err(),
            QueryError::TooLong
        );
    }

    #[test]
    fn an_excerpt_from_a_window_is_the_excerpt_of_the_whole_text() {
        let long = "勤務先では事務を担当しています。".repeat(12);
        let texts = [
            format!(
                "{long}診断名は胃がん（ステージⅠ）で、週二回の通院と化学療法が必要です。{long}"
            ),
            format!("胃がんの治療のため通院します。{long}残業は控えてください。"),
            format!("{long}タナカ タロウ様の短時間勤務について。{long}がんばります。"),
            format!("{long}{long}最後に在宅勤務を希望"),
        ];
        let mut windows = 0;
        for q in [
            "胃がん",
            "通院",
            "化学療法",
            "がん",
            "たなか",
            "短時間勤務",
            "在宅勤務",
            "残業 通院",
        ] {
            let q = Query::parse(q).unwrap();
            for t in &texts {
                let whole = q.matches_in(t);
                let windowed = q.marks_near_first(t, 80);
                if let Some(w) = &windowed {
                    // The window's marks are the whole text's marks within it.
                    let first = w[0].start;
                    let last = w.last().map_or(first, |r| r.end);
                    let expected: Vec<_> = whole
                        .iter()
                        .filter(|r| r.start >= first && r.end <= last)
                        .cloned()
                        .collect();
                    assert_eq!(w, &expected, "{q:?} in {t}");
                    assert_eq!(whole.first(), w.first(), "{q:?} in {t}");
                    windows += 1;
                }
            }
        }
        assert!(windows >= 10, "only {windows} excerpts came from a window");
    }

    #[test]
    fn snippet_marks_the_match() {
        let q = Query::parse("がん").unwrap();
        let s = q.snippet("診断名：胃がん（ステージⅠ）", 40).unwrap();
        let marked: Vec<&str> = s
            .iter()
            .filter(|f| f.mark)
            .map(|f| f.text.as_str())
            .collect();
        assert_eq!(marked, ["がん"]);
        assert!(q.snippet("肝臓の病気", 40).is_none());
    }

    #[test]
    fn tsvector_literal_has_positions() {
        let w = vec!["肝臓".to_owned(), "がん".to_owned()];
        assert_eq!(tsvector_literal(&w), "'肝臓':1 'がん':2");
        assert_eq!(fts5_document(&w), "肝臓 がん");
    }

    #[test]
    fn readings() {
        assert_eq!(reading("ﾀﾅｶ ﾀﾛｳ").as_deref(), Some("タナカ タロウ"));
        assert_eq!(
            reading(" たなか　 はなこ ").as_deref(),
            Some("たなか はなこ")
        );
        assert_eq!(reading("田中"), None);
        assert_eq!(reading("tanaka"), None);
        assert_eq!(reading(""), None);
    }
}
