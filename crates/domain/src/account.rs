//! Account rules: sign-in names, display names, the password policy.

use std::collections::HashSet;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::FieldError;

/// NFKC, trimmed and lower-cased, so that 全角 and 半角 forms of the same name are the same
/// account (「ＴＡＮＡＫＡ」 and 「tanaka」).
fn fold(input: &str) -> String {
    input.nfkc().collect::<String>().trim().to_lowercase()
}

/// A sign-in name: 3–64 characters of a–z, 0–9 and `. _ - @`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LoginName(String);

impl LoginName {
    pub fn parse(input: &str) -> Result<LoginName, FieldError> {
        let s = fold(input);
        let n = s.chars().count();
        if n == 0 {
            return Err(FieldError::new(
                "login",
                "required",
                "ログインIDを入力してください。",
            ));
        }
        if !(3..=64).contains(&n) {
            return Err(FieldError::new(
                "login",
                "length",
                "ログインIDは3文字以上64文字以内で入力してください。",
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c))
        {
            return Err(FieldError::new(
                "login",
                "charset",
                "ログインIDに使える文字は半角英数字と「. _ - @」です。",
            ));
        }
        Ok(LoginName(s))
    }

    /// The folded form used to count sign-in failures, for names that may not exist or may
    /// not even be valid: throttling must treat every name alike.
    pub fn throttle_key(input: &str) -> String {
        let mut s = fold(input);
        s.truncate(s.char_indices().nth(64).map_or(s.len(), |(i, _)| i));
        s
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LoginName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        LoginName::parse(&s).map_err(|e| e.message)
    }
}

impl From<LoginName> for String {
    fn from(l: LoginName) -> String {
        l.0
    }
}

impl std::fmt::Display for LoginName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's or organisation's name as shown: 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(field: &str, label: &str, input: &str) -> Result<DisplayName, FieldError> {
        let s: String = input.nfc().collect::<String>().trim().to_owned();
        let n = s.chars().count();
        if n == 0 {
            return Err(FieldError::new(
                field,
                "required",
                format!("{label}を入力してください。"),
            ));
        }
        if n > 100 {
            return Err(FieldError::new(
                field,
                "too_long",
                format!("{label}は100文字以内で入力してください。"),
            ));
        }
        if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return Err(FieldError::new(
                field,
                "charset",
                format!("{label}に使えない文字が含まれています。"),
            ));
        }
        Ok(DisplayName(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Bidirectional overrides can make a name display as something else.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

impl TryFrom<String> for DisplayName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DisplayName::parse("name", "名前", &s).map_err(|e| e.message)
    }
}

impl From<DisplayName> for String {
    fn from(d: DisplayName) -> String {
        d.0
    }
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, checked for shape only (delivery proves the rest).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, FieldError> {
        let s = fold(input);
        let ok = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            })
            && s.matches('@').count() == 1;
        if ok {
            Ok(Email(s))
        } else {
            Err(FieldError::new(
                "email",
                "format",
                "メールアドレスの形式が正しくありません。",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Email::parse(&s).map_err(|e| e.message)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 128;

static COMMON_PASSWORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(fold)
        .filter(|l| !l.is_empty())
        .collect()
});

/// A password that passed the policy: at least 12 characters, at most 128, not on the list
/// of common passwords shipped with the project, and not the sign-in name. No composition
/// rules and no forced rotation (OWASP ASVS 6.2.5, 6.2.10; the MHLW guideline's Q&A accepts
/// long passwords without periodic change).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(input: &str, login: Option<&LoginName>) -> Result<NewPassword, FieldError> {
        let n = input.chars().count();
        if n < PASSWORD_MIN_CHARS {
            return Err(FieldError::new(
                "password",
                "too_short",
                format!("パスワードは{PASSWORD_MIN_CHARS}文字以上にしてください。"),
            ));
        }
        if n > PASSWORD_MAX_CHARS {
            return Err(FieldError::new(
                "password",
                "too_long",
                format!("パスワードは{PASSWORD_MAX_CHARS}文字以内にしてください。"),
            ));
        }
        let folded = fold(input);
        if is_common_password(&folded) {
            return Err(FieldError::new(
                "password",
                "common",
                "このパスワードはよく使われていて推測されやすいため使えません。別のパスワードにしてください。",
            ));
        }
        if login.is_some_and(|l| folded.contains(l.as_str())) {
            return Err(FieldError::new(
                "password",
                "contains_login",
                "パスワードにログインIDを含めないでください。",
            ));
        }
        if folded.chars().all(|c| folded.starts_with(c)) {
            return Err(FieldError::new(
                "password",
                "common",
                "同じ文字の繰り返しはパスワードに使えません。",
            ));
        }
        Ok(NewPassword(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

pub fn is_common_password(folded: &str) -> bool {
    COMMON_PASSWORDS.contains(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_fold_width_and_case() {
        assert_eq!(LoginName::parse("ＴＡＮＡＫＡ").unwrap().as_str(), "tanaka");
        assert_eq!(
            LoginName::parse("  Sato.H@Example ").unwrap().as_str(),
            "sato.h@example"
        );
        assert_eq!(LoginName::parse("ab").unwrap_err().code, "length");
        assert_eq!(LoginName::parse("田中").unwrap_err().code, "length");
        assert_eq!(LoginName::parse("田中太郎").unwrap_err().code, "charset");
        assert_eq!(LoginName::parse("").unwrap_err().code, "required");
    }

    #[test]
    fn passwords_need_twelve_characters_counted_as_characters() {
        assert_eq!(
            NewPassword::parse("short", None).unwrap_err().code,
            "too_short"
        );
        // 12 Japanese characters are 36 bytes but exactly 12 characters: accepted.
        assert!(NewPassword::parse("みどりのやまとあおいうみだ", None).is_ok());
        assert_eq!(
            NewPassword::parse(&"x".repeat(129), None).unwrap_err().code,
            "too_long"
        );
        assert!(NewPassword::parse(&"korekara-ikou-".repeat(4), None).is_ok());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_width() {
        assert!(COMMON_PASSWORDS.len() > 1000, "the shipped list is loaded");
        assert_eq!(
            NewPassword::parse("password1234", None).unwrap_err().code,
            "common"
        );
        assert_eq!(
            NewPassword::parse("ＰＡＳＳＷＯＲＤ１２３４", None)
                .unwrap_err()
                .code,
            "common"
        );
        assert_eq!(
            NewPassword::parse("aaaaaaaaaaaaaa", None).unwrap_err().code,
            "common"
        );
    }

    #[test]
    fn the_login_name_may_not_hide_in_the_password() {
        let login = LoginName::parse("hanako").unwrap();
        assert_eq!(
            NewPassword::parse("my-hanako-secret-9", Some(&login))
                .unwrap_err()
                .code,
            "contains_login"
        );
    }

    #[test]
    fn debug_never_shows_a_password() {
        let p = NewPassword::parse("correct-horse-battery", None).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn display_names_refuse_controls_and_bidi_overrides() {
        assert!(DisplayName::parse("name", "氏名", "山田 花子").is_ok());
        assert_eq!(
            DisplayName::parse("name", "氏名", " ").unwrap_err().code,
            "required"
        );
        assert_eq!(
            DisplayName::parse("name", "氏名", "abc\u{202E}def")
                .unwrap_err()
                .code,
            "charset"
        );
        assert_eq!(
            DisplayName::parse("name", "氏名", "a\u{0}b")
                .unwrap_err()
                .code,
            "charset"
        );
        assert_eq!(
            DisplayName::parse("name", "氏名", "x".repeat(101).as_str())
                .unwrap_err()
                .code,
            "too_long"
        );
    }

    #[test]
    fn emails_need_a_domain() {
        assert!(Email::parse("hr@example.co.jp").is_ok());
        assert!(Email::parse("hr@localhost").is_err());
        assert!(Email::parse("a@b@c.jp").is_err());
        assert!(Email::parse("no at sign").is_err());
    }
}
