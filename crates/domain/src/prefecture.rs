//! The 47 prefectures with their JIS X 0401 codes.

use serde::{Deserialize, Serialize};

/// A prefecture, identified by its JIS X 0401 code (1 = 北海道 … 47 = 沖縄県).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Prefecture(u8);

const NAMES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

impl Prefecture {
    /// Every prefecture in JIS order.
    pub fn all() -> impl Iterator<Item = Prefecture> {
        (1..=47).map(Prefecture)
    }

    pub fn from_code(code: u8) -> Option<Prefecture> {
        (1..=47).contains(&code).then_some(Prefecture(code))
    }

    /// Accepts the JIS code ("13", "01") or the name, with or without its suffix
    /// (「東京都」「東京」).
    pub fn parse(input: &str) -> Option<Prefecture> {
        let s = input.trim();
        if let Ok(code) = s.parse::<u8>() {
            return Prefecture::from_code(code);
        }
        Prefecture::all().find(|p| {
            let name = p.name();
            name == s
                || (s.chars().count() >= 2 && name.strip_suffix(['都', '府', '県']) == Some(s))
        })
    }

    pub fn code(self) -> u8 {
        self.0
    }

    /// The two-digit JIS code as written in official lists ("01" … "47").
    pub fn jis_code(self) -> String {
        format!("{:02}", self.0)
    }

    pub fn name(self) -> &'static str {
        NAMES
            .get(usize::from(self.0).saturating_sub(1))
            .copied()
            .unwrap_or("")
    }
}

impl TryFrom<u8> for Prefecture {
    type Error = String;
    fn try_from(code: u8) -> Result<Self, Self::Error> {
        Prefecture::from_code(code)
            .ok_or_else(|| format!("都道府県コードが正しくありません: {code}"))
    }
}

impl From<Prefecture> for u8 {
    fn from(p: Prefecture) -> u8 {
        p.0
    }
}

impl std::fmt::Display for Prefecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_47_with_known_codes() {
        assert_eq!(Prefecture::all().count(), 47);
        assert_eq!(Prefecture::from_code(1).unwrap().name(), "北海道");
        assert_eq!(Prefecture::from_code(13).unwrap().name(), "東京都");
        assert_eq!(Prefecture::from_code(26).unwrap().name(), "京都府");
        assert_eq!(Prefecture::from_code(47).unwrap().name(), "沖縄県");
        assert_eq!(Prefecture::from_code(13).unwrap().jis_code(), "13");
        assert_eq!(Prefecture::from_code(1).unwrap().jis_code(), "01");
        assert!(Prefecture::from_code(0).is_none());
        assert!(Prefecture::from_code(48).is_none());
    }

    #[test]
    fn parses_codes_and_names() {
        assert_eq!(Prefecture::parse("13").map(|p| p.code()), Some(13));
        assert_eq!(Prefecture::parse("01").map(|p| p.code()), Some(1));
        assert_eq!(Prefecture::parse("大阪府").map(|p| p.code()), Some(27));
        assert_eq!(Prefecture::parse("大阪").map(|p| p.code()), Some(27));
        // 「京都」 is 京都府, never a prefix match on 東京都.
        assert_eq!(Prefecture::parse("京都").map(|p| p.code()), Some(26));
        assert_eq!(Prefecture::parse("東京").map(|p| p.code()), Some(13));
        assert!(Prefecture::parse("京").is_none());
        assert!(Prefecture::parse("ニューヨーク").is_none());
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = Prefecture::all().map(|p| p.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 47);
    }
}
