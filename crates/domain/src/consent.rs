//! The worker's consents (同意) and the records of each provision to a third party
//! (第三者提供記録).
//!
//! Security-sensitive. Invariants:
//! - Nothing is shared by default: a recipient other than the worker sees a category that
//!   needs consent only while a consent naming that recipient and that category is active.
//! - A consent is active from `granted_at` (inclusive) until the earlier of `expires_at` and
//!   `withdrawn_at` (both exclusive): a read at or after the withdrawal is denied, at once.
//! - Withdrawal can only move earlier, never be undone or postponed; a new consent is a new
//!   record, so the history of what the worker agreed to is kept.
//! - Every consent stores the version of the plain-Japanese explanation the worker saw (T11).
//! - A provision record can only be made from a consent active at the moment of provision and
//!   only for categories that consent covers, so every record carries the fact of consent
//!   (個人情報保護法 29条, PI-03). Records are kept at least 3 years after the last provision.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::error::{FieldError, ValidationErrors};
use crate::info::InformationCategory;
use crate::org::{OrganisationKind, Role};

/// The current version of the explanation shown before granting; bump it whenever the
/// wording of [`explain`] changes, so that a consent shows which text the worker agreed to.
pub const EXPLANATION_VERSION: u32 = 1;

/// Longest purpose, in characters.
pub const PURPOSE_MAX_CHARS: usize = 200;

/// Third-party provision records are kept this many years after the last provision
/// (個人情報保護法施行規則 21条; PI-03).
pub const DISCLOSURE_RETENTION_YEARS: i32 = 3;

/// Who a consent lets see the information: a role within one organisation, and optionally
/// one named person holding that role there.
///
/// Role-level is the default because the 指針 ties handling to positions (産業医等, 人事) and
/// people in them change: a consent to "the 産業医 of company X" should keep working when the
/// 産業医 is replaced. A worker who trusts one person only (typically a coordinator) can narrow
/// the consent to that person; narrowing is always safe, since the person must still hold
/// the role in that organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Recipient {
    pub organisation: Uuid,
    pub role: Role,
    /// A user id; `None` means anyone holding `role` in `organisation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<Uuid>,
}

impl Recipient {
    /// Roles a worker may share case information with. Administrators, the operator and
    /// labour-bureau staff run systems or programmes; they never need a worker's health
    /// information, so a consent to them is refused rather than stored.
    pub fn role_may_receive(role: Role) -> bool {
        matches!(
            role,
            Role::HrOfficer
                | Role::LineManager
                | Role::OccupationalPhysician
                | Role::OccupationalHealthStaff
                | Role::AttendingPhysician
                | Role::HospitalCoordinator
                | Role::AgencyCoordinator
        )
    }

    /// Whether `user`, holding `role` in `organisation`, is this recipient.
    pub fn matches(&self, organisation: Uuid, role: Role, user: Uuid) -> bool {
        self.organisation == organisation
            && self.role == role
            && self.person.is_none_or(|p| p == user)
    }
}

/// What the worker fills in when granting a consent; validated into a [`Consent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentDraft {
    pub recipient: Recipient,
    /// The kind of the recipient's organisation, looked up by the caller, to check the role
    /// fits it.
    pub recipient_kind: OrganisationKind,
    pub categories: BTreeSet<InformationCategory>,
    pub purpose: String,
    #[serde(default, with = "crate::time_format::micros::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// One consent of a worker: this recipient may see these categories of this case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub id: Uuid,
    /// The worker's user id.
    pub worker: Uuid,
    pub case: Uuid,
    pub recipient: Recipient,
    pub categories: BTreeSet<InformationCategory>,
    pub purpose: String,
    #[serde(with = "crate::time_format::micros")]
    pub granted_at: OffsetDateTime,
    #[serde(default, with = "crate::time_format::micros::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(default, with = "crate::time_format::micros::option")]
    pub withdrawn_at: Option<OffsetDateTime>,
    /// The [`EXPLANATION_VERSION`] shown to the worker when granting.
    pub explanation_version: u32,
}

fn validate_draft(
    d: &ConsentDraft,
    now: OffsetDateTime,
    explanation_version: u32,
) -> ValidationErrors {
    let mut errs = ValidationErrors::default();
    if !Recipient::role_may_receive(d.recipient.role) {
        errs.push(FieldError::new(
            "recipient.role",
            "not_a_recipient",
            format!(
                "共有先の役割「{}」には健康情報を共有できません。",
                d.recipient.role.label()
            ),
        ));
    } else if !d.recipient.role.allowed_in(d.recipient_kind) {
        errs.push(FieldError::new(
            "recipient.role",
            "role_not_in_organisation",
            format!(
                "共有先の役割「{}」は{}にはありません。",
                d.recipient.role.label(),
                d.recipient_kind.label()
            ),
        ));
    }
    if d.categories.is_empty() {
        errs.push(FieldError::new(
            "categories",
            "required",
            "共有する情報の種類を1つ以上選んでください。",
        ));
    } else if let Some(c) = d.categories.iter().find(|c| !c.is_case_information()) {
        errs.push(FieldError::new(
            "categories",
            "not_shareable",
            format!("共有する情報の種類に「{}」は選べません。", c.label()),
        ));
    }
    let purpose = d.purpose.trim();
    if purpose.is_empty() {
        errs.push(FieldError::new(
            "purpose",
            "required",
            "共有の目的を入力してください。",
        ));
    } else if purpose.chars().count() > PURPOSE_MAX_CHARS {
        errs.push(FieldError::new(
            "purpose",
            "too_long",
            format!("共有の目的は{PURPOSE_MAX_CHARS}文字以内で入力してください。"),
        ));
    } else if purpose.chars().any(char::is_control) {
        errs.push(FieldError::new(
            "purpose",
            "invalid_character",
            "共有の目的に改行や制御文字は使えません。",
        ));
    }
    if d.expires_at.is_some_and(|e| e <= now) {
        errs.push(FieldError::new(
            "expires_at",
            "not_after_grant",
            "共有の期限は今より後の日時にしてください。",
        ));
    }
    if explanation_version == 0 || explanation_version > EXPLANATION_VERSION {
        errs.push(FieldError::new(
            "explanation_version",
            "unknown",
            "同意の説明文の版が確認できません。画面を読み込み直してください。",
        ));
    }
    errs
}

impl Consent {
    /// Validates the worker's draft and makes the consent, granted at `now`.
    /// `explanation_version` is the version of the explanation the worker was shown.
    pub fn grant(
        id: Uuid,
        worker: Uuid,
        case: Uuid,
        draft: ConsentDraft,
        now: OffsetDateTime,
        explanation_version: u32,
    ) -> Result<Consent, ValidationErrors> {
        let errs = validate_draft(&draft, now, explanation_version);
        errs.into_result(())?;
        Ok(Consent {
            id,
            worker,
            case,
            recipient: draft.recipient,
            categories: draft.categories,
            purpose: draft.purpose.trim().to_owned(),
            granted_at: now,
            expires_at: draft.expires_at,
            withdrawn_at: None,
            explanation_version,
        })
    }

    /// Withdraws the consent at `now`. Withdrawing again keeps the earlier time: a withdrawal
    /// can never be postponed or undone. Returns whether anything changed.
    pub fn withdraw(&mut self, now: OffsetDateTime) -> bool {
        match self.withdrawn_at {
            Some(w) if w <= now => false,
            _ => {
                self.withdrawn_at = Some(now);
                true
            }
        }
    }

    /// Active from the grant (inclusive) until expiry or withdrawal (exclusive).
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.granted_at <= now
            && self.expires_at.is_none_or(|e| now < e)
            && self.withdrawn_at.is_none_or(|w| now < w)
    }

    /// Whether this consent names `organisation` and `role` for `category` of `case` of
    /// `worker`, whoever the person and whenever: the part of [`Consent::covers`] that does
    /// not depend on who asks or when. The case and worker are checked too, so a consent
    /// loaded for the wrong case can never open another one.
    pub fn applies_to(
        &self,
        case: Uuid,
        worker: Uuid,
        organisation: Uuid,
        role: Role,
        category: InformationCategory,
    ) -> bool {
        self.case == case
            && self.worker == worker
            && self.recipient.organisation == organisation
            && self.recipient.role == role
            && self.categories.contains(&category)
    }

    /// The end of the time the consent is active: the earlier of expiry and withdrawal.
    pub fn active_until(&self) -> Option<OffsetDateTime> {
        match (self.expires_at, self.withdrawn_at) {
            (Some(e), Some(w)) => Some(e.min(w)),
            (e, w) => e.or(w),
        }
    }

    /// Whether this consent, right now, lets `user` holding `role` in `organisation` see
    /// `category` of `case` of `worker`.
    #[allow(clippy::too_many_arguments)]
    pub fn covers(
        &self,
        case: Uuid,
        worker: Uuid,
        organisation: Uuid,
        role: Role,
        user: Uuid,
        category: InformationCategory,
        now: OffsetDateTime,
    ) -> bool {
        self.applies_to(case, worker, organisation, role, category)
            && self.recipient.matches(organisation, role, user)
            && self.is_active(now)
    }
}

/// Names the caller looks up for the explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecipientNames<'a> {
    pub organisation: &'a str,
    /// The named person, when the consent is for one person only.
    pub person: Option<&'a str>,
}

/// The text shown to the worker before granting, with its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub version: u32,
    pub sentences: Vec<String>,
}

const JST: time::UtcOffset = time::macros::offset!(+9);

/// "2027年3月31日まで": a deadline at midnight (Japan time) reads as the day before, which is
/// how people say "until the end of the 31st"; any other time is shown with hours and minutes.
fn deadline_ja(t: OffsetDateTime) -> String {
    let t = t.to_offset(JST);
    if t.time() == time::Time::MIDNIGHT {
        let d = t.date().previous_day().unwrap_or(t.date());
        format!("{}年{}月{}日まで", d.year(), u8::from(d.month()), d.day())
    } else {
        format!(
            "{}年{}月{}日 {}時{:02}分まで",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    }
}

/// The plain-Japanese explanation of a prospective consent, e.g.
/// The caution shown before a worker shares health information with their 所属長 or the
/// HR department: the 指針 expects a line manager to need only the work measures, and HR
/// rarely more. `None` when the consent is not of that kind.
pub fn caution(draft: &ConsentDraft) -> Option<String> {
    let to_workplace = matches!(draft.recipient.role, Role::LineManager | Role::HrOfficer);
    let health: Vec<&str> = draft
        .categories
        .iter()
        .filter(|c| c.requires_consent())
        .map(|c| c.label())
        .collect();
    if !to_workplace || health.is_empty() {
        return None;
    }
    Some(format!(
        "{}に「{}」を共有しようとしています。治療と就業の両立支援指針では、職場の上司や人事には、通常、就業上の措置（どのような配慮が必要か）を伝えれば足りるとされています。診断名や治療の内容まで伝える必要があるか、もう一度確かめてください。",
        draft.recipient.role.label(),
        health.join("」「")
    ))
}

/// 「〇〇株式会社の産業医に、診断名・症状・治療の状況を、「職場での配慮を検討する」という目的で、
/// 2027年3月31日まで共有します。」 The purpose is quoted so any phrasing the worker typed reads
/// grammatically. followed by what not consenting and withdrawing mean.
pub fn explain(draft: &ConsentDraft, names: RecipientNames<'_>) -> Explanation {
    let who = match names.person {
        Some(person) => format!(
            "{}の{}（{}さん）",
            names.organisation,
            draft.recipient.role.label(),
            person
        ),
        None => format!("{}の{}", names.organisation, draft.recipient.role.label()),
    };
    let what = draft
        .categories
        .iter()
        .map(|c| c.label())
        .collect::<Vec<_>>()
        .join("、");
    let until = draft
        .expires_at
        .map(deadline_ja)
        .unwrap_or_else(|| "あなたが取り消すまで".to_owned());
    let purpose = draft.purpose.trim();
    Explanation {
        version: EXPLANATION_VERSION,
        sentences: vec![
            format!("{who}に、{what}を、「{purpose}」という目的で、{until}共有します。"),
            "同意しなければ、誰にも共有されません。".to_owned(),
            "この同意はいつでも取り消せます。取り消すと、その時から相手は見られなくなります。"
                .to_owned(),
            "ただし、取り消す前に相手が受け取って使った内容までは取り消せません。".to_owned(),
        ],
    }
}

/// The document that was provided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosedDocument {
    /// The document kind's stable code (e.g. `work_information`, `continuation_opinion`).
    pub kind: String,
    pub id: Uuid,
}

/// 第三者提供記録: one provision of a worker's information from one organisation to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureRecord {
    pub id: Uuid,
    pub case: Uuid,
    pub worker: Uuid,
    pub from_organisation: Uuid,
    pub to_organisation: Uuid,
    pub to_role: Role,
    pub categories: BTreeSet<InformationCategory>,
    /// The consent the provision rests on (the fact of consent, 施行規則 20条).
    pub consent: Uuid,
    #[serde(with = "crate::time_format::micros")]
    pub at: OffsetDateTime,
    pub what: DisclosedDocument,
}

impl DisclosureRecord {
    /// Records a provision made at `at` under `consent`. Refuses a provision the consent does
    /// not cover (inactive, another organisation, or a category outside it), so no record
    /// exists without a matching consent.
    pub fn record(
        id: Uuid,
        consent: &Consent,
        from_organisation: Uuid,
        categories: BTreeSet<InformationCategory>,
        what: DisclosedDocument,
        at: OffsetDateTime,
    ) -> Result<DisclosureRecord, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if !consent.is_active(at) {
            errs.push(FieldError::new(
                "consent",
                "inactive",
                "本人の同意が有効でないため、提供できません。",
            ));
        }
        if from_organisation == consent.recipient.organisation {
            errs.push(FieldError::new(
                "from_organisation",
                "same_organisation",
                "提供元と提供先が同じ組織です。",
            ));
        }
        if categories.is_empty() {
            errs.push(FieldError::new(
                "categories",
                "required",
                "提供する情報の種類を1つ以上指定してください。",
            ));
        } else if let Some(c) = categories.iter().find(|c| !consent.categories.contains(c)) {
            errs.push(FieldError::new(
                "categories",
                "not_consented",
                format!("「{}」の提供には本人の同意がありません。", c.label()),
            ));
        }
        errs.into_result(())?;
        Ok(DisclosureRecord {
            id,
            case: consent.case,
            worker: consent.worker,
            from_organisation,
            to_organisation: consent.recipient.organisation,
            to_role: consent.recipient.role,
            categories,
            consent: consent.id,
            at,
            what,
        })
    }

    /// Whether `other` belongs to the same continuing provision (same worker, same sender and
    /// recipient organisation), whose retention runs from its last provision.
    fn same_provision_line(&self, other: &DisclosureRecord) -> bool {
        self.worker == other.worker
            && self.from_organisation == other.from_organisation
            && self.to_organisation == other.to_organisation
    }
}

/// `t` plus `years` calendar years; 29 February becomes 1 March (the later day, so retention
/// is never cut short). `None` on overflow.
fn add_years(t: OffsetDateTime, years: i32) -> Option<OffsetDateTime> {
    let year = t.year().checked_add(years)?;
    match t.replace_year(year) {
        Ok(v) => Some(v),
        Err(_) => t
            .replace_day(28)
            .ok()?
            .replace_year(year)
            .ok()?
            .checked_add(Duration::days(1)),
    }
}

/// The earliest moment a provision record may be purged, given the last provision of its line.
pub fn purge_allowed_from(last_provision: OffsetDateTime) -> Option<OffsetDateTime> {
    add_years(last_provision, DISCLOSURE_RETENTION_YEARS)
}

/// Whether `record` may be purged at `now`. `all` are the stored records (it may include
/// `record`); the retention runs from the last provision in the record's line (same worker,
/// sender and recipient), as for batch records, and keeping longer is always safe. Never true
/// before 3 years after that last provision; never true if the date cannot be computed.
pub fn may_purge(record: &DisclosureRecord, all: &[DisclosureRecord], now: OffsetDateTime) -> bool {
    let last = all
        .iter()
        .filter(|r| record.same_provision_line(r))
        .map(|r| r.at)
        .fold(record.at, std::cmp::max);
    purge_allowed_from(last).is_some_and(|from| now >= from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-04-01 09:00 UTC);
    const EMPLOYER: Uuid = Uuid::from_u128(0xE);
    const HOSPITAL: Uuid = Uuid::from_u128(0x4);

    fn draft() -> ConsentDraft {
        ConsentDraft {
            recipient: Recipient {
                organisation: EMPLOYER,
                role: Role::OccupationalPhysician,
                person: None,
            },
            recipient_kind: OrganisationKind::Employer,
            categories: [InformationCategory::Medical].into(),
            purpose: "職場での配慮を検討する".to_owned(),
            expires_at: Some(datetime!(2027-04-01 00:00 +9)),
        }
    }

    #[test]
    fn health_information_for_the_manager_or_hr_asks_the_worker_to_think_again() {
        let mut d = draft();
        assert_eq!(
            caution(&d),
            None,
            "the 産業医 needs the medical information"
        );
        for role in [Role::LineManager, Role::HrOfficer] {
            d.recipient.role = role;
            let c = caution(&d).expect("a caution");
            assert!(
                c.contains(role.label()) && c.contains("診断名・症状・治療の状況"),
                "{c}"
            );
            assert!(c.contains("就業上の措置"), "{c}");
        }
        d.categories = [InformationCategory::WorkMeasures].into();
        assert_eq!(caution(&d), None, "work measures are what a manager needs");
        d.categories = [InformationCategory::ConsultationNotes].into();
        assert!(caution(&d).is_some());
    }

    fn consent() -> Consent {
        Consent::grant(
            Uuid::from_u128(0xC0),
            Uuid::from_u128(1),
            Uuid::from_u128(0xCA),
            draft(),
            T0,
            EXPLANATION_VERSION,
        )
        .unwrap()
    }

    #[test]
    fn a_valid_draft_becomes_an_active_consent() {
        let c = consent();
        assert!(!c.is_active(T0 - Duration::seconds(1)));
        assert!(c.is_active(T0));
        assert!(c.is_active(datetime!(2027-03-31 23:59 +9)));
        assert!(!c.is_active(datetime!(2027-04-01 00:00 +9)));
        assert_eq!(c.explanation_version, EXPLANATION_VERSION);
    }

    #[test]
    fn withdrawal_takes_effect_at_once_and_cannot_be_postponed() {
        let mut c = consent();
        let w = T0 + Duration::hours(1);
        assert!(c.withdraw(w));
        assert!(c.is_active(w - Duration::nanoseconds(1)));
        assert!(!c.is_active(w));
        assert!(!c.withdraw(w + Duration::hours(1)));
        assert_eq!(c.withdrawn_at, Some(w));
        assert!(c.withdraw(w - Duration::minutes(1)));
        assert_eq!(c.withdrawn_at, Some(w - Duration::minutes(1)));
    }

    #[test]
    fn invalid_drafts_name_the_field_in_japanese() {
        let mut d = draft();
        d.purpose = "  ".to_owned();
        d.categories.clear();
        d.expires_at = Some(T0);
        d.recipient.role = Role::OrgAdmin;
        let e = Consent::grant(Uuid::nil(), Uuid::nil(), Uuid::nil(), d, T0, 0).unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "recipient.role",
                "categories",
                "purpose",
                "expires_at",
                "explanation_version"
            ]
        );
        assert_eq!(
            e.message_for("purpose"),
            Some("共有の目的を入力してください。")
        );

        let mut d = draft();
        d.purpose = "あ".repeat(201);
        d.categories.insert(InformationCategory::AuditLog);
        d.recipient.role = Role::AttendingPhysician;
        let e = Consent::grant(Uuid::nil(), Uuid::nil(), Uuid::nil(), d, T0, 1).unwrap_err();
        assert_eq!(e.errors[0].code, "role_not_in_organisation");
        assert_eq!(e.errors[1].code, "not_shareable");
        assert_eq!(e.errors[2].code, "too_long");

        let mut d = draft();
        d.purpose = "あ".repeat(200);
        assert!(Consent::grant(Uuid::nil(), Uuid::nil(), Uuid::nil(), d, T0, 1).is_ok());
    }

    #[test]
    fn a_consent_covers_only_its_recipient_case_and_categories() {
        let mut c = consent();
        let (case, worker, user) = (c.case, c.worker, Uuid::from_u128(7));
        let op = Role::OccupationalPhysician;
        let med = InformationCategory::Medical;
        assert!(c.covers(case, worker, EMPLOYER, op, user, med, T0));
        assert!(!c.covers(Uuid::from_u128(9), worker, EMPLOYER, op, user, med, T0));
        assert!(!c.covers(case, worker, EMPLOYER, Role::HrOfficer, user, med, T0));
        assert!(!c.covers(case, worker, HOSPITAL, op, user, med, T0));
        let cn = InformationCategory::ConsultationNotes;
        assert!(!c.covers(case, worker, EMPLOYER, op, user, cn, T0));
        c.recipient.person = Some(Uuid::from_u128(8));
        assert!(!c.covers(case, worker, EMPLOYER, op, user, med, T0));
        assert!(c.covers(case, worker, EMPLOYER, op, Uuid::from_u128(8), med, T0));
    }

    #[test]
    fn the_explanation_reads_as_plain_japanese() {
        let ex = explain(
            &draft(),
            RecipientNames {
                organisation: "両立商事株式会社",
                person: None,
            },
        );
        assert_eq!(ex.version, EXPLANATION_VERSION);
        assert_eq!(
            ex.sentences[0],
            "両立商事株式会社の産業医に、診断名・症状・治療の状況を、「職場での配慮を検討する」という目的で、2027年3月31日まで共有します。"
        );
        assert_eq!(ex.sentences[1], "同意しなければ、誰にも共有されません。");

        let mut d = draft();
        d.categories.insert(InformationCategory::WorkMeasures);
        d.expires_at = None;
        d.recipient.role = Role::AgencyCoordinator;
        let ex = explain(
            &d,
            RecipientNames {
                organisation: "〇〇産業保健総合支援センター",
                person: Some("山田"),
            },
        );
        assert!(ex.sentences[0].starts_with(
            "〇〇産業保健総合支援センターの支援機関の両立支援コーディネーター・両立支援促進員（山田さん）に、診断名・症状・治療の状況、就業上の措置・治療への配慮を、"
        ));
        assert!(ex.sentences[0].ends_with("あなたが取り消すまで共有します。"));
        let mut d = draft();
        d.expires_at = Some(datetime!(2026-06-30 17:30 +9));
        let ex = explain(
            &d,
            RecipientNames {
                organisation: "A社",
                person: None,
            },
        );
        assert!(ex.sentences[0].ends_with("2026年6月30日 17時30分まで共有します。"));
    }

    #[test]
    fn consents_round_trip_through_json() {
        let mut c = consent();
        c.withdraw(T0 + Duration::days(3));
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"medical\""));
        assert_eq!(serde_json::from_str::<Consent>(&json).unwrap(), c);
    }

    fn doc() -> DisclosedDocument {
        DisclosedDocument {
            kind: "continuation_opinion".to_owned(),
            id: Uuid::from_u128(0xD0C),
        }
    }

    #[test]
    fn a_disclosure_record_needs_a_matching_active_consent() {
        let c = consent();
        let med: BTreeSet<_> = [InformationCategory::Medical].into();
        let r =
            DisclosureRecord::record(Uuid::nil(), &c, HOSPITAL, med.clone(), doc(), T0).unwrap();
        assert_eq!(r.to_organisation, EMPLOYER);
        assert_eq!(r.to_role, Role::OccupationalPhysician);
        assert_eq!(r.consent, c.id);
        assert_eq!((r.case, r.worker), (c.case, c.worker));

        let e = DisclosureRecord::record(
            Uuid::nil(),
            &c,
            HOSPITAL,
            [InformationCategory::WorkMeasures].into(),
            doc(),
            T0,
        )
        .unwrap_err();
        assert_eq!(e.errors[0].code, "not_consented");
        let mut w = c.clone();
        w.withdraw(T0);
        let e = DisclosureRecord::record(Uuid::nil(), &w, HOSPITAL, med.clone(), doc(), T0)
            .unwrap_err();
        assert_eq!(e.errors[0].code, "inactive");
        let e = DisclosureRecord::record(Uuid::nil(), &c, EMPLOYER, med, doc(), T0).unwrap_err();
        assert_eq!(e.errors[0].code, "same_organisation");
    }

    #[test]
    fn records_are_kept_three_years_after_the_last_provision() {
        let c = consent();
        let med: BTreeSet<_> = [InformationCategory::Medical].into();
        let first =
            DisclosureRecord::record(Uuid::nil(), &c, HOSPITAL, med.clone(), doc(), T0).unwrap();
        let later_at = T0 + Duration::days(200);
        let later =
            DisclosureRecord::record(Uuid::nil(), &c, HOSPITAL, med, doc(), later_at).unwrap();
        let all = [first.clone(), later.clone()];
        assert!(!may_purge(&first, &[], datetime!(2029-04-01 08:59 UTC)));
        assert!(may_purge(&first, &[], datetime!(2029-04-01 09:00 UTC)));
        // The later provision to the same recipient extends the first record's retention.
        assert!(!may_purge(&first, &all, datetime!(2029-04-01 09:00 UTC)));
        assert!(may_purge(&first, &all, later_at + Duration::days(3 * 366)));
        // 29 February moves to 1 March, never to 28 February.
        let leap = datetime!(2028-02-29 12:00 UTC);
        assert_eq!(
            purge_allowed_from(leap),
            Some(datetime!(2031-03-01 12:00 UTC))
        );
    }

    proptest! {
        #[test]
        fn never_purged_within_three_years(secs in 0i64..400_000_000, after in 0i64..94_600_000) {
            let at = T0 + Duration::seconds(secs);
            let c = Consent { granted_at: at, expires_at: None, ..consent() };
            let r = DisclosureRecord::record(
                Uuid::nil(), &c, HOSPITAL, [InformationCategory::Medical].into(), doc(), at,
            ).unwrap();
            // 3 years are at least 1095 days; anything less than that must be kept.
            prop_assert!(!may_purge(&r, &[], at + Duration::seconds(after)));
            prop_assert!(may_purge(&r, &[], at + Duration::days(3 * 366)));
        }

        #[test]
        fn never_active_at_or_after_withdrawal(g in 0i64..1_000_000, w in 0i64..1_000_000, later in 0i64..1_000_000) {
            let mut c = Consent { granted_at: T0 + Duration::seconds(g), expires_at: None, ..consent() };
            let w = T0 + Duration::seconds(w);
            c.withdraw(w);
            prop_assert!(!c.is_active(w + Duration::seconds(later)));
        }
    }
}
