//! Dates and times in the words of the paper forms.

use ryoritsu_domain::wareki;
use time::macros::format_description;
use time::{Date, Time};

/// The blanks of an empty date line, as on the sample forms.
pub(crate) const BLANK_DATE: &str = "　　年　　月　　日";
const BLANK_TIME: &str = "　　時　　分";

/// `2025-04-01` → 「令和7年4月1日」; empty → the paper's blanks. Text that is not a date is
/// printed as given (drafts may hold anything), so nothing typed is lost on paper.
pub(crate) fn date_text(iso: &str) -> String {
    let iso = iso.trim();
    if iso.is_empty() {
        return BLANK_DATE.to_owned();
    }
    match Date::parse(iso, format_description!("[year]-[month]-[day]")) {
        Ok(date) => wareki::format(date),
        Err(_) => iso.to_owned(),
    }
}

/// `09:05` → 「9時05分」; empty → blanks.
pub(crate) fn time_text(hhmm: &str) -> String {
    let hhmm = hhmm.trim();
    if hhmm.is_empty() {
        return BLANK_TIME.to_owned();
    }
    match Time::parse(hhmm, format_description!("[hour]:[minute]")) {
        Ok(t) => format!("{}時{:02}分", t.hour(), t.minute()),
        Err(_) => hhmm.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_read_like_the_paper_form() {
        assert_eq!(date_text("2025-04-01"), "令和7年4月1日");
        assert_eq!(date_text("1975-10-03"), "昭和50年10月3日");
        assert_eq!(date_text(""), BLANK_DATE);
        assert_eq!(date_text("来月"), "来月");
        assert_eq!(time_text("09:05"), "9時05分");
        assert_eq!(time_text("17:30"), "17時30分");
        assert_eq!(time_text(""), BLANK_TIME);
    }
}
