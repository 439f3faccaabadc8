//! The access policy: the one place that decides whether a principal may do an action.
//!
//! Security-sensitive. Every use case that reads or changes something asks [`decide`] and
//! gets either a [`Permit`] (which only this module can make, so a use case that demands one
//! cannot be called without the check) or a [`Denial`]. Outside a principal's own
//! organisations the denial is `NotFound`, so probing reveals nothing about other tenants.
//! Later parts (cases, consent, 取扱規程) extend [`Action`] here, never a handler.
//!
//! Case information is decided by [`decide_case`], which takes the facts about one case
//! ([`CaseContext`]: its worker, employer, attached hospitals and coordinators, closed flag,
//! the worker's consents and the employer's [`HandlingRules`]) and the current time. Its
//! invariants:
//! - The principal's relationship to the case ([`CaseRelation`]) is derived from those
//!   facts, never supplied by the caller. No relationship → `NotFound`, because even the
//!   existence of a case is health information (要配慮個人情報).
//! - The worker sees every category of their own case, always.
//! - Nobody else sees a category that [`InformationCategory::requires_consent`] without an
//!   active consent naming them (organisation + role, optionally the person) for that
//!   category of that case; no 取扱規程 can lift this, and the engine caps stored rules even
//!   when they were never validated.
//! - Within the employer the 取扱規程 decides the rest and can only narrow the safe defaults.
//!   Hospitals and coordinators see nothing but what the worker consented to share.
//! - A closed case is read-only; reads are decided as for an open case. Withdrawing a
//!   consent stays possible, since it is the worker's right over data still held.
//! - Only the worker confirms or signs in the worker's name, and only the worker grants or
//!   withdraws consents.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::consent::Consent;
use crate::error::{FieldError, ValidationErrors};
use crate::info::InformationCategory;
use crate::org::{OrganisationKind, Role};

/// One membership of the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipRef {
    pub organisation: Uuid,
    pub kind: OrganisationKind,
    pub role: Role,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user: Uuid,
    pub operator: bool,
    pub memberships: Vec<MembershipRef>,
    /// True when the session passed a second factor, or none is required for this user.
    pub second_factor_ok: bool,
}

impl Principal {
    pub fn roles_in(&self, org: Uuid) -> impl Iterator<Item = Role> + '_ {
        self.memberships
            .iter()
            .filter(move |m| m.organisation == org)
            .map(|m| m.role)
    }

    pub fn is_member_of(&self, org: Uuid) -> bool {
        self.roles_in(org).next().is_some()
    }

    pub fn has_role_in(&self, org: Uuid, role: Role) -> bool {
        self.roles_in(org).any(|r| r == role)
    }

    /// Whether any of this user's roles needs a second factor.
    pub fn needs_second_factor(&self) -> bool {
        self.operator
            || self
                .memberships
                .iter()
                .any(|m| m.role.requires_second_factor())
    }

    /// The role to record in the audit log for an action in `org`.
    pub fn audit_role(&self, org: Option<Uuid>) -> Option<Role> {
        if let Some(r) = org.and_then(|org| self.roles_in(org).max_by_key(|r| *r == Role::OrgAdmin))
        {
            return Some(r);
        }
        if self.operator {
            return Some(Role::SystemOperator);
        }
        self.memberships.first().map(|m| m.role)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", content = "organisation", rename_all = "snake_case")]
pub enum Action {
    /// See and manage one's own account and sessions.
    ManageOwnAccount,
    /// The system operator creates organisations.
    CreateOrganisation,
    ListAllOrganisations,
    ViewOrganisation(Uuid),
    /// Invite members, change their roles, deactivate them.
    ManageMembers(Uuid),
    /// Add and edit workplaces of an employer, and organisation details.
    ManageOrganisation(Uuid),
    /// Check the audit chain.
    VerifyAudit,
    // Case actions: decided only by [`decide_case`]; [`decide`] answers `NotFound` for them
    // because without the case's facts nothing can be allowed. (Serialised, their fields sit
    // under the `organisation` key that the adjacent tagging of the older variants fixed.)
    /// See that the case exists, its parties and its status, but no category's content.
    ViewCase {
        case: Uuid,
    },
    /// Read one category of the case's information.
    ViewCaseCategory {
        case: Uuid,
        category: InformationCategory,
    },
    /// Write or change a draft document of one category in the case.
    EditCaseDocument {
        case: Uuid,
        category: InformationCategory,
    },
    /// The attending physician writes the 主治医意見書 (and may read the draft being written).
    WriteOpinion {
        case: Uuid,
    },
    /// Confirm or sign a document in the worker's name (本人確認・署名).
    ConfirmAsWorker {
        case: Uuid,
    },
    GrantConsent {
        case: Uuid,
    },
    WithdrawConsent {
        case: Uuid,
    },
    /// Upload a scan of a paper form (the worker hands over what the physician wrote).
    UploadScan {
        case: Uuid,
    },
    /// Copy an uploaded scan of one category into its form, for the physician who wrote on
    /// paper.
    TranscribeScan {
        case: Uuid,
        category: InformationCategory,
    },
    /// Read the 両立支援指導 sessions the hospital recorded on the case (billing records that
    /// name the disease): the worker, and staff of an attached hospital.
    ViewGuidance {
        case: Uuid,
    },
    /// Record, correct or cancel a 両立支援指導 session: staff of an attached hospital.
    RecordGuidance {
        case: Uuid,
    },
}

impl Action {
    /// The case a case action is about; `None` for organisation and account actions.
    pub fn case(self) -> Option<Uuid> {
        match self {
            Action::ManageOwnAccount
            | Action::CreateOrganisation
            | Action::ListAllOrganisations
            | Action::ViewOrganisation(_)
            | Action::ManageMembers(_)
            | Action::ManageOrganisation(_)
            | Action::VerifyAudit => None,
            Action::ViewCase { case }
            | Action::ViewCaseCategory { case, .. }
            | Action::EditCaseDocument { case, .. }
            | Action::WriteOpinion { case }
            | Action::ConfirmAsWorker { case }
            | Action::GrantConsent { case }
            | Action::WithdrawConsent { case }
            | Action::UploadScan { case }
            | Action::TranscribeScan { case, .. }
            | Action::ViewGuidance { case }
            | Action::RecordGuidance { case } => Some(case),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Denial {
    /// The target is outside the principal's scope; answered as if it did not exist.
    NotFound,
    /// Within scope but not allowed for the principal's role.
    Forbidden,
    /// The principal must pass the second factor first.
    SecondFactorRequired,
}

impl Denial {
    pub fn code(self) -> &'static str {
        match self {
            Denial::NotFound => "not_found",
            Denial::Forbidden => "forbidden",
            Denial::SecondFactorRequired => "second_factor_required",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Denial::NotFound => "お探しのページまたはデータは見つかりませんでした。",
            Denial::Forbidden => "この操作を行う権限がありません。",
            Denial::SecondFactorRequired => {
                "この操作には二要素認証（確認コード）が必要です。設定してからもう一度お試しください。"
            }
        }
    }
}

/// Proof that [`decide`] allowed `action` for `user`. It has no public constructor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    action: Action,
    user: Uuid,
}

impl Permit {
    pub fn action(&self) -> Action {
        self.action
    }

    pub fn user(&self) -> Uuid {
        self.user
    }
}

pub fn decide(p: &Principal, action: Action) -> Result<Permit, Denial> {
    if !p.second_factor_ok && p.needs_second_factor() && action != Action::ManageOwnAccount {
        return Err(Denial::SecondFactorRequired);
    }
    let allowed = match action {
        Action::ManageOwnAccount => true,
        Action::CreateOrganisation | Action::ListAllOrganisations | Action::VerifyAudit => {
            if p.operator {
                true
            } else {
                return Err(Denial::Forbidden);
            }
        }
        Action::ViewOrganisation(org) => {
            if p.operator || p.is_member_of(org) {
                true
            } else {
                return Err(Denial::NotFound);
            }
        }
        Action::ManageMembers(org) | Action::ManageOrganisation(org) => {
            if p.operator {
                true
            } else if !p.is_member_of(org) {
                return Err(Denial::NotFound);
            } else {
                p.has_role_in(org, Role::OrgAdmin)
            }
        }
        // Fail closed: a case action needs the case's facts, see `decide_case`.
        Action::ViewCase { .. }
        | Action::ViewCaseCategory { .. }
        | Action::EditCaseDocument { .. }
        | Action::WriteOpinion { .. }
        | Action::ConfirmAsWorker { .. }
        | Action::GrantConsent { .. }
        | Action::WithdrawConsent { .. }
        | Action::UploadScan { .. }
        | Action::TranscribeScan { .. }
        | Action::ViewGuidance { .. }
        | Action::RecordGuidance { .. } => return Err(Denial::NotFound),
    };
    if allowed {
        Ok(Permit {
            action,
            user: p.user,
        })
    } else {
        Err(Denial::Forbidden)
    }
}

// ---------------------------------------------------------------------------------------------
// 健康情報等取扱規程 and case access
// ---------------------------------------------------------------------------------------------

/// How far one employer role may go with one category of case information.
/// Ordered: `Never` < `WithConsent` < `Always`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Never,
    /// Only while an active consent names the person's role (or the person) and category.
    WithConsent,
    /// As part of the role's duties under the 取扱規程.
    Always,
}

impl Access {
    pub fn label(self) -> &'static str {
        match self {
            Access::Never => "取り扱わない",
            Access::WithConsent => "本人の同意がある場合のみ",
            Access::Always => "取り扱う",
        }
    }
}

/// 健康情報等取扱規程, item (2) "who handles which information with what authority": per
/// employer, a map role → category → [`Access`]. A missing entry means `Never`.
///
/// The defaults ([`HandlingRules::defaults`]) are also the ceiling: an employer's rules can
/// only narrow them. The defaults are the widest the 指針 allows (consent first for category
/// ③ information, WH-03; HR and line managers never get the diagnosis without the worker's
/// consent, WH-04), so there is nothing safe left to widen: the health roles (産業医・産業保健
/// スタッフ) already have medical information "with consent", and nobody can have it without.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlingRules {
    pub employer: Uuid,
    pub grants: BTreeMap<Role, BTreeMap<InformationCategory, Access>>,
}

impl HandlingRules {
    /// The employer roles that take part in cases and so appear in the rules.
    pub const ROLES: &'static [Role] = &[
        Role::HrOfficer,
        Role::LineManager,
        Role::OccupationalPhysician,
        Role::OccupationalHealthStaff,
    ];

    /// The safe default for one role and category, which is also the most any rules may grant.
    ///
    /// - HR: work information (it helps write the 勤務情報提供書, 指針 p.19) and work measures;
    ///   medical and consultation notes only with the worker's consent.
    /// - Line manager: work measures; everything else only with consent. Work information is
    ///   consent-only because the 勤務情報提供書 carries the worker's own wishes to the doctor.
    /// - 産業医 and 産業保健スタッフ: work information and measures; medical and consultation
    ///   notes with consent.
    /// - Account and audit-log data are never case information for employer staff.
    pub fn default_access(role: Role, category: InformationCategory) -> Access {
        use InformationCategory as C;
        if !Self::ROLES.contains(&role) || !category.is_case_information() {
            return Access::Never;
        }
        if category.requires_consent() {
            return Access::WithConsent;
        }
        match (role, category) {
            (Role::LineManager, C::WorkInformation) => Access::WithConsent,
            _ => Access::Always,
        }
    }

    /// The rules an employer starts with.
    pub fn defaults(employer: Uuid) -> HandlingRules {
        let grants = Self::ROLES
            .iter()
            .map(|&role| {
                let per = InformationCategory::ALL
                    .iter()
                    .map(|&c| (c, Self::default_access(role, c)))
                    .filter(|(_, a)| *a != Access::Never)
                    .collect();
                (role, per)
            })
            .collect();
        HandlingRules { employer, grants }
    }

    /// The access as written in the rules.
    pub fn stated(&self, role: Role, category: InformationCategory) -> Access {
        self.grants
            .get(&role)
            .and_then(|m| m.get(&category))
            .copied()
            .unwrap_or(Access::Never)
    }

    /// The access the engine applies: as written, capped at the default. Capping here as well
    /// as in [`HandlingRules::validate`] means rules read from storage can never widen access,
    /// even if they were written by something that skipped validation.
    pub fn effective(&self, role: Role, category: InformationCategory) -> Access {
        self.stated(role, category)
            .min(Self::default_access(role, category))
    }

    /// Refuses rules that reach beyond the defaults: roles that take no part in cases, and any
    /// wider access (above all, HR or line managers with medical information without consent).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        for (role, per) in &self.grants {
            if !Self::ROLES.contains(role) {
                if per.values().any(|a| *a != Access::Never) {
                    errs.push(FieldError::new(
                        &format!("grants.{}", role.code()),
                        "role_not_allowed",
                        format!(
                            "「{}」は取扱規程で健康情報等を取り扱う者に指定できません。",
                            role.label()
                        ),
                    ));
                }
                continue;
            }
            for (category, access) in per {
                let ceiling = Self::default_access(*role, *category);
                if *access > ceiling {
                    let message = if ceiling == Access::Never {
                        format!(
                            "「{}」に「{}」を取り扱わせることはできません。",
                            role.label(),
                            category.label()
                        )
                    } else {
                        format!(
                            "「{}」が「{}」を取り扱えるのは「{}」までです。",
                            role.label(),
                            category.label(),
                            ceiling.label()
                        )
                    };
                    errs.push(FieldError::new(
                        &format!("grants.{}.{}", role.code(), category.code()),
                        "wider_than_allowed",
                        message,
                    ));
                }
            }
        }
        errs.into_result(())
    }
}

/// A coordinator added to a case, acting for one organisation (hospital or support agency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CaseCoordinator {
    pub user: Uuid,
    pub organisation: Uuid,
}

/// The facts about one case that access depends on; loaded by the caller, decided here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseContext {
    pub case: Uuid,
    /// The worker's user id.
    pub worker: Uuid,
    pub employer: Uuid,
    pub closed: bool,
    /// The worker's 所属長 for this case; other line managers of the employer have no relation.
    pub line_managers: Vec<Uuid>,
    /// Medical institutions attached to the case (the worker's 主治医's).
    pub hospitals: Vec<Uuid>,
    pub coordinators: Vec<CaseCoordinator>,
    /// The worker's consents for this case (consents of any other case are ignored).
    pub consents: Vec<Consent>,
    /// The employer's rules (rules of any other employer are treated as granting nothing).
    pub rules: HandlingRules,
}

impl CaseContext {
    /// The consents that name `organisation` and `role` for `category` of this case.
    fn consents_naming(
        &self,
        organisation: Uuid,
        role: Role,
        category: InformationCategory,
    ) -> impl Iterator<Item = &Consent> + '_ {
        self.consents
            .iter()
            .filter(move |c| c.applies_to(self.case, self.worker, organisation, role, category))
    }

    fn rule(&self, role: Role, category: InformationCategory) -> Access {
        if self.rules.employer == self.employer {
            self.rules.effective(role, category)
        } else {
            Access::Never
        }
    }
}

/// How a principal stands to a case. Derived by [`case_relations`], never given by a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "relation", rename_all = "snake_case")]
pub enum CaseRelation {
    /// The worker whose case it is.
    Worker,
    /// Staff of the case's employer in a role that takes part in cases (a line manager only
    /// when listed for this case).
    Employer { role: Role },
    /// Staff of a hospital attached to the case.
    Hospital { organisation: Uuid, role: Role },
    /// A coordinator added to the case.
    Coordinator { organisation: Uuid, role: Role },
}

impl CaseRelation {
    /// The stored kind: `worker`, `employer`, `hospital` or `coordinator`.
    pub fn kind(self) -> &'static str {
        match self {
            CaseRelation::Worker => "worker",
            CaseRelation::Employer { .. } => "employer",
            CaseRelation::Hospital { .. } => "hospital",
            CaseRelation::Coordinator { .. } => "coordinator",
        }
    }

    /// The role the relation is held in (the worker's is [`Role::Worker`]).
    pub fn role(self) -> Role {
        match self {
            CaseRelation::Worker => Role::Worker,
            CaseRelation::Employer { role }
            | CaseRelation::Hospital { role, .. }
            | CaseRelation::Coordinator { role, .. } => role,
        }
    }

    /// The organisation of a hospital or coordinator relation.
    pub fn organisation(self) -> Option<Uuid> {
        match self {
            CaseRelation::Hospital { organisation, .. }
            | CaseRelation::Coordinator { organisation, .. } => Some(organisation),
            CaseRelation::Worker | CaseRelation::Employer { .. } => None,
        }
    }

    /// The relation of stored parts, if they make one.
    pub fn from_parts(kind: &str, organisation: Option<Uuid>, role: Role) -> Option<CaseRelation> {
        match (kind, organisation) {
            ("worker", None) if role == Role::Worker => Some(CaseRelation::Worker),
            ("employer", None) => Some(CaseRelation::Employer { role }),
            ("hospital", Some(organisation)) => Some(CaseRelation::Hospital { organisation, role }),
            ("coordinator", Some(organisation)) => {
                Some(CaseRelation::Coordinator { organisation, role })
            }
            _ => None,
        }
    }
}

/// Who stands in a relation to a case, named so that a principal can be matched without
/// loading the case: the index of who sees which case ([`case_grants`]) is keyed by these,
/// and a principal presents the keys of [`subject_keys`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "subject", rename_all = "snake_case")]
pub enum Subject {
    /// One user as such: the worker of the case.
    User { user: Uuid },
    /// Anyone holding `role` in `organisation`.
    Members { organisation: Uuid, role: Role },
    /// One user, while holding `role` in `organisation`.
    Member {
        organisation: Uuid,
        role: Role,
        user: Uuid,
    },
}

impl Subject {
    /// The stored key: `u:<user>`, `m:<organisation>:<role>` or `p:<organisation>:<role>:<user>`.
    pub fn key(&self) -> String {
        match self {
            Subject::User { user } => format!("u:{user}"),
            Subject::Members { organisation, role } => format!("m:{organisation}:{}", role.code()),
            Subject::Member {
                organisation,
                role,
                user,
            } => format!("p:{organisation}:{}:{user}", role.code()),
        }
    }

    /// The subject of a stored key, if it is one.
    pub fn from_key(key: &str) -> Option<Subject> {
        let parts: Vec<&str> = key.split(':').collect();
        let id = |s: &str| Uuid::parse_str(s).ok();
        match parts.as_slice() {
            ["u", user] => Some(Subject::User { user: id(user)? }),
            ["m", org, role] => Some(Subject::Members {
                organisation: id(org)?,
                role: Role::from_code(role)?,
            }),
            ["p", org, role, user] => Some(Subject::Member {
                organisation: id(org)?,
                role: Role::from_code(role)?,
                user: id(user)?,
            }),
            _ => None,
        }
    }

    /// Whether the principal is this subject (by their memberships; the second factor is
    /// checked by [`subject_keys`] and [`decide_case`], not here).
    pub fn held_by(&self, p: &Principal) -> bool {
        match *self {
            Subject::User { user } => p.user == user,
            Subject::Members { organisation, role } => p.has_role_in(organisation, role),
            Subject::Member {
                organisation,
                role,
                user,
            } => p.user == user && p.has_role_in(organisation, role),
        }
    }
}

/// Every subject that stands in a relation to the case, with that relation: the worker; the
/// employer's HR, 産業医 and 産業保健スタッフ and the 所属長 named for the case; the staff of
/// every attached hospital who take part in cases; each coordinator added to the case.
pub fn case_subjects(ctx: &CaseContext) -> Vec<(Subject, CaseRelation)> {
    let mut out = vec![(Subject::User { user: ctx.worker }, CaseRelation::Worker)];
    for role in [
        Role::HrOfficer,
        Role::OccupationalPhysician,
        Role::OccupationalHealthStaff,
    ] {
        out.push((
            Subject::Members {
                organisation: ctx.employer,
                role,
            },
            CaseRelation::Employer { role },
        ));
    }
    for &user in &ctx.line_managers {
        out.push((
            Subject::Member {
                organisation: ctx.employer,
                role: Role::LineManager,
                user,
            },
            CaseRelation::Employer {
                role: Role::LineManager,
            },
        ));
    }
    for &organisation in &ctx.hospitals {
        for role in [Role::AttendingPhysician, Role::HospitalCoordinator] {
            out.push((
                Subject::Members { organisation, role },
                CaseRelation::Hospital { organisation, role },
            ));
        }
    }
    for c in &ctx.coordinators {
        for role in [Role::HospitalCoordinator, Role::AgencyCoordinator] {
            out.push((
                Subject::Member {
                    organisation: c.organisation,
                    role,
                    user: c.user,
                },
                CaseRelation::Coordinator {
                    organisation: c.organisation,
                    role,
                },
            ));
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|(s, _)| seen.insert(*s));
    out
}

/// Every relation the principal has to the case; empty means the case is outside their scope.
///
/// The worker is only the worker: someone who is both the worker and, say, HR at the same
/// employer does not handle their own case as staff.
pub fn case_relations(p: &Principal, ctx: &CaseContext) -> Vec<CaseRelation> {
    if p.user == ctx.worker {
        return vec![CaseRelation::Worker];
    }
    let mut out = Vec::new();
    for (subject, relation) in case_subjects(ctx) {
        if relation != CaseRelation::Worker && subject.held_by(p) && !out.contains(&relation) {
            out.push(relation);
        }
    }
    out
}

/// Why one relation may view one category: the grounds of [`view_grounds`].
#[derive(Debug, Clone, Copy)]
enum Ground<'a> {
    /// The worker's own case.
    Worker,
    /// The employer's 取扱規程 gives the role this category as part of its duties.
    Rule,
    /// A consent of the worker names the relation's organisation and role (and perhaps one
    /// person) for the category.
    Consent(&'a Consent),
}

impl Ground<'_> {
    fn holds_for(&self, user: Uuid, now: OffsetDateTime) -> bool {
        match self {
            Ground::Worker | Ground::Rule => true,
            Ground::Consent(c) => c.recipient.person.is_none_or(|p| p == user) && c.is_active(now),
        }
    }
}

/// Everything that could let `rel` view `category`: the single rule behind both a decision
/// about one principal ([`may_view`]) and the index of who sees what ([`case_grants`]).
fn view_grounds(
    rel: CaseRelation,
    ctx: &CaseContext,
    category: InformationCategory,
) -> Vec<Ground<'_>> {
    match rel {
        CaseRelation::Worker => vec![Ground::Worker],
        CaseRelation::Employer { role } => match ctx.rule(role, category) {
            Access::Never => Vec::new(),
            // `effective` already caps these at WithConsent; checked again so that the
            // consent floor never rests on one line elsewhere.
            Access::Always if !category.requires_consent() => vec![Ground::Rule],
            Access::Always | Access::WithConsent => ctx
                .consents_naming(ctx.employer, role, category)
                .map(Ground::Consent)
                .collect(),
        },
        CaseRelation::Hospital { organisation, role }
        | CaseRelation::Coordinator { organisation, role } => {
            if category.is_case_information() {
                ctx.consents_naming(organisation, role, category)
                    .map(Ground::Consent)
                    .collect()
            } else {
                Vec::new()
            }
        }
    }
}

fn may_view(
    rel: CaseRelation,
    p: &Principal,
    ctx: &CaseContext,
    category: InformationCategory,
    now: OffsetDateTime,
) -> bool {
    view_grounds(rel, ctx, category)
        .iter()
        .any(|g| g.holds_for(p.user, now))
}

/// Who writes which category (apart from the opinion, see [`Action::WriteOpinion`]). Editing
/// also needs the right to view the category, except for the worker, who sees everything.
fn may_edit(
    rel: CaseRelation,
    p: &Principal,
    ctx: &CaseContext,
    category: InformationCategory,
    now: OffsetDateTime,
) -> bool {
    use InformationCategory as C;
    let authors = match rel {
        // The worker writes the 申出 and work information (R8: worker-authored 勤務情報提供書)
        // and their own part of the 両立支援カード; measures are the employer's to decide
        // (the worker confirms them) and notes are the coordinator's record.
        CaseRelation::Worker => matches!(category, C::WorkInformation | C::Medical),
        CaseRelation::Employer { role } => match category {
            C::WorkInformation | C::WorkMeasures => true,
            // Health staff process the doctor's information and hold health consultations
            // (指針 p.19, WH-04); HR and line managers do not author health information.
            C::Medical | C::ConsultationNotes => matches!(
                role,
                Role::OccupationalPhysician | Role::OccupationalHealthStaff
            ),
            C::Account | C::AuditLog => false,
        },
        // The hospital writes only its opinion, through its own action.
        CaseRelation::Hospital { .. } => false,
        CaseRelation::Coordinator { .. } => category == C::ConsultationNotes,
    };
    authors && may_view(rel, p, ctx, category, now)
}

/// The single decision for case actions: may `p` do `action` on the case described by `ctx`
/// at `now`? Organisation and account actions are passed on to [`decide`].
pub fn decide_case(
    p: &Principal,
    ctx: &CaseContext,
    action: Action,
    now: OffsetDateTime,
) -> Result<Permit, Denial> {
    let Some(case) = action.case() else {
        return decide(p, action);
    };
    if !p.second_factor_ok && p.needs_second_factor() {
        return Err(Denial::SecondFactorRequired);
    }
    // A context loaded for another case must never answer for this one.
    if case != ctx.case {
        return Err(Denial::NotFound);
    }
    let rels = case_relations(p, ctx);
    if rels.is_empty() {
        return Err(Denial::NotFound);
    }
    let is_worker = rels.contains(&CaseRelation::Worker);
    let open = !ctx.closed;
    let allowed = match action {
        Action::ViewCase { .. } => true,
        Action::ViewCaseCategory { category, .. } => {
            rels.iter().any(|&r| may_view(r, p, ctx, category, now))
        }
        Action::EditCaseDocument { category, .. } => {
            open && rels.iter().any(|&r| may_edit(r, p, ctx, category, now))
        }
        Action::WriteOpinion { .. } => {
            open && rels.iter().any(|r| {
                matches!(
                    r,
                    CaseRelation::Hospital {
                        role: Role::AttendingPhysician,
                        ..
                    }
                )
            })
        }
        Action::ConfirmAsWorker { .. }
        | Action::GrantConsent { .. }
        | Action::UploadScan { .. } => open && is_worker,
        Action::WithdrawConsent { .. } => is_worker,
        // Transcribing is handling the health information, not authoring it: those of the
        // employer who process health information under its rules (人事労務担当者 with the
        // worker's consent, 産業医 and 産業保健スタッフ), never a line manager or an outsider.
        Action::TranscribeScan { category, .. } => {
            open && rels.iter().any(|&r| match r {
                CaseRelation::Employer { role } => {
                    matches!(
                        role,
                        Role::HrOfficer
                            | Role::OccupationalPhysician
                            | Role::OccupationalHealthStaff
                    ) && may_view(r, p, ctx, category, now)
                }
                _ => false,
            })
        }
        // The hospital's own billing records: its staff attached to the case and the worker
        // they are about. Everyone else (the employer above all) learns nothing of them, not
        // even that there are any.
        Action::ViewGuidance { .. } | Action::RecordGuidance { .. } => {
            let hospital = rels
                .iter()
                .any(|r| matches!(r, CaseRelation::Hospital { .. }));
            if !hospital && !is_worker {
                return Err(Denial::NotFound);
            }
            match action {
                Action::ViewGuidance { .. } => true,
                _ => open && hospital,
            }
        }
        Action::ManageOwnAccount
        | Action::CreateOrganisation
        | Action::ListAllOrganisations
        | Action::ViewOrganisation(_)
        | Action::ManageMembers(_)
        | Action::ManageOrganisation(_)
        | Action::VerifyAudit => false,
    };
    if allowed {
        Ok(Permit {
            action,
            user: p.user,
        })
    } else {
        Err(Denial::Forbidden)
    }
}

/// What one principal may see and edit in one case, computed once by [`case_access`] from
/// [`decide_case`] so that pages and API responses are built from it instead of filtering
/// fields by hand. It has no public constructor and is not deserialisable, like [`Permit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseAccess {
    case: Uuid,
    user: Uuid,
    closed: bool,
    relations: Vec<CaseRelation>,
    visible: BTreeSet<InformationCategory>,
    editable: BTreeSet<InformationCategory>,
}

impl CaseAccess {
    pub fn case(&self) -> Uuid {
        self.case
    }

    pub fn user(&self) -> Uuid {
        self.user
    }

    pub fn closed(&self) -> bool {
        self.closed
    }

    pub fn relations(&self) -> &[CaseRelation] {
        &self.relations
    }

    pub fn visible(&self) -> &BTreeSet<InformationCategory> {
        &self.visible
    }

    pub fn editable(&self) -> &BTreeSet<InformationCategory> {
        &self.editable
    }

    pub fn may_view(&self, category: InformationCategory) -> bool {
        self.visible.contains(&category)
    }

    pub fn may_edit(&self, category: InformationCategory) -> bool {
        self.editable.contains(&category)
    }

    /// `value` if its category is visible, else `None`: build every field of a view through
    /// this so that what may not be seen is never put into the view at all.
    pub fn reveal<T>(&self, category: InformationCategory, value: T) -> Option<T> {
        self.may_view(category).then_some(value)
    }
}

/// The principal's access to the case, or the denial for the case itself (`NotFound` outside
/// any relation).
pub fn case_access(
    p: &Principal,
    ctx: &CaseContext,
    now: OffsetDateTime,
) -> Result<CaseAccess, Denial> {
    let case = ctx.case;
    decide_case(p, ctx, Action::ViewCase { case }, now)?;
    let allowed = |make: fn(Uuid, InformationCategory) -> Action| {
        InformationCategory::ALL
            .iter()
            .copied()
            .filter(|&category| decide_case(p, ctx, make(case, category), now).is_ok())
            .collect::<BTreeSet<_>>()
    };
    Ok(CaseAccess {
        case,
        user: p.user,
        closed: ctx.closed,
        relations: case_relations(p, ctx),
        visible: allowed(|case, category| Action::ViewCaseCategory { case, category }),
        editable: allowed(|case, category| Action::EditCaseDocument { case, category }),
    })
}

/// What a grant opens: the case itself (that it exists, its status and its parties) or one
/// category of its information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "scope", content = "category", rename_all = "snake_case")]
pub enum GrantScope {
    Case,
    Category(InformationCategory),
}

impl GrantScope {
    /// The stored code: `case`, or the category's code.
    pub fn code(self) -> &'static str {
        match self {
            GrantScope::Case => "case",
            GrantScope::Category(c) => c.code(),
        }
    }

    pub fn from_code(code: &str) -> Option<GrantScope> {
        match code {
            "case" => Some(GrantScope::Case),
            other => InformationCategory::from_code(other).map(GrantScope::Category),
        }
    }
}

/// Why the policy grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "source", content = "consent", rename_all = "snake_case")]
pub enum GrantSource {
    /// The relation itself: the case for everyone related to it, everything for the worker.
    Relation,
    /// The employer's 取扱規程 gives the role the category as part of its duties.
    Rule,
    /// This consent of the worker.
    Consent(Uuid),
}

impl GrantSource {
    /// The stored code: `relation`, `rule` or `consent:<consent id>`.
    pub fn code(self) -> String {
        match self {
            GrantSource::Relation => "relation".into(),
            GrantSource::Rule => "rule".into(),
            GrantSource::Consent(id) => format!("consent:{id}"),
        }
    }

    pub fn from_code(code: &str) -> Option<GrantSource> {
        match code {
            "relation" => Some(GrantSource::Relation),
            "rule" => Some(GrantSource::Rule),
            other => other
                .strip_prefix("consent:")
                .and_then(|id| Uuid::parse_str(id).ok())
                .map(GrantSource::Consent),
        }
    }
}

/// One row of the access index: `subject`, standing to the case as `relation`, may see
/// `scope` of `case` from `valid_from` (inclusive) until `valid_until` (exclusive), because
/// of `source`. The rows of a case are [`case_grants`] of its context, and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseGrant {
    pub case: Uuid,
    pub subject: Subject,
    pub relation: CaseRelation,
    pub scope: GrantScope,
    pub source: GrantSource,
    pub valid_from: Option<OffsetDateTime>,
    pub valid_until: Option<OffsetDateTime>,
}

impl CaseGrant {
    pub fn valid_at(&self, now: OffsetDateTime) -> bool {
        self.valid_from.is_none_or(|f| f <= now) && self.valid_until.is_none_or(|u| now < u)
    }
}

/// The policy's answer for every subject of the case at once, as rows to keep: for each
/// subject in a relation to the case, the case itself and every category the relation may
/// view, each with its ground. A consent naming one person narrows the subject to that
/// person; a consent's rows carry the time it is active, so an expired consent opens
/// nothing even before anyone rewrites the rows.
///
/// The same [`view_grounds`] decide a single principal in [`decide_case`], so the index and
/// the single-case decision cannot disagree (the property tests below check it on random
/// worlds).
pub fn case_grants(ctx: &CaseContext) -> Vec<CaseGrant> {
    let mut out = Vec::new();
    for (subject, relation) in case_subjects(ctx) {
        out.push(CaseGrant {
            case: ctx.case,
            subject,
            relation,
            scope: GrantScope::Case,
            source: GrantSource::Relation,
            valid_from: None,
            valid_until: None,
        });
        for &category in InformationCategory::ALL {
            let scope = GrantScope::Category(category);
            for ground in view_grounds(relation, ctx, category) {
                let (subject, source, valid_from, valid_until) = match ground {
                    Ground::Worker => (subject, GrantSource::Relation, None, None),
                    Ground::Rule => (subject, GrantSource::Rule, None, None),
                    Ground::Consent(c) => {
                        let narrowed = match (subject, c.recipient.person) {
                            (_, None) => subject,
                            (Subject::Members { organisation, role }, Some(user)) => {
                                Subject::Member {
                                    organisation,
                                    role,
                                    user,
                                }
                            }
                            (Subject::Member { user, .. }, Some(person)) if user == person => {
                                subject
                            }
                            // The consent names someone else than this subject.
                            _ => continue,
                        };
                        (
                            narrowed,
                            GrantSource::Consent(c.id),
                            Some(c.granted_at),
                            c.active_until(),
                        )
                    }
                };
                out.push(CaseGrant {
                    case: ctx.case,
                    subject,
                    relation,
                    scope,
                    source,
                    valid_from,
                    valid_until,
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The keys under which the index answers for `p`: themselves as a user, and each of their
/// memberships as a role and as a person in it. None while a second factor is owed, as
/// [`decide_case`] then refuses every case action.
pub fn subject_keys(p: &Principal) -> Vec<String> {
    if !p.second_factor_ok && p.needs_second_factor() {
        return Vec::new();
    }
    let mut keys = vec![Subject::User { user: p.user }.key()];
    for m in &p.memberships {
        keys.push(
            Subject::Members {
                organisation: m.organisation,
                role: m.role,
            }
            .key(),
        );
        keys.push(
            Subject::Member {
                organisation: m.organisation,
                role: m.role,
                user: p.user,
            }
            .key(),
        );
    }
    keys.sort();
    keys.dedup();
    keys
}

/// What the index answers for `p`, given the rows of one case: whether some row for one of
/// `p`'s keys opens `scope` at `now`. The stores ask exactly this in SQL.
pub fn grants_allow(
    grants: &[CaseGrant],
    p: &Principal,
    scope: GrantScope,
    now: OffsetDateTime,
) -> bool {
    let keys = subject_keys(p);
    grants
        .iter()
        .any(|g| g.scope == scope && g.valid_at(now) && keys.contains(&g.subject.key()))
}

/// A change to the rows of every case of an employer after its 取扱規程 changed, as the
/// stores apply it without loading the cases: what [`view_grounds`] says for an employer
/// role and a category depends on the rules only through these two switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulesDelta {
    /// Add a `Rule` row for `category` beside every relation row of `role` at the employer.
    AddRule {
        role: Role,
        category: InformationCategory,
    },
    /// Remove the `Rule` rows of `role` for `category` at the employer.
    RemoveRule {
        role: Role,
        category: InformationCategory,
    },
    /// Remove every consent row of `role` for `category` at the employer (the rules now
    /// forbid the category whatever the worker agreed to).
    RemoveConsents {
        role: Role,
        category: InformationCategory,
    },
    /// Consents naming `role` for `category` count again: the cases with a consent naming
    /// the role at the employer are rebuilt from their context.
    RebuildConsents {
        role: Role,
        category: InformationCategory,
    },
}

/// How the rows of an employer's cases change when its rules go from `old` to `new`.
pub fn rules_delta(employer: Uuid, old: &HandlingRules, new: &HandlingRules) -> Vec<RulesDelta> {
    let access = |rules: &HandlingRules, role: Role, category: InformationCategory| {
        if rules.employer == employer {
            rules.effective(role, category)
        } else {
            Access::Never
        }
    };
    let by_rule = |a: Access, category: InformationCategory| {
        a == Access::Always && !category.requires_consent()
    };
    let by_consent =
        |a: Access, category: InformationCategory| a != Access::Never && !by_rule(a, category);
    let mut out = Vec::new();
    for &role in HandlingRules::ROLES {
        for &category in InformationCategory::ALL {
            let (before, after) = (access(old, role, category), access(new, role, category));
            match (by_rule(before, category), by_rule(after, category)) {
                (false, true) => out.push(RulesDelta::AddRule { role, category }),
                (true, false) => out.push(RulesDelta::RemoveRule { role, category }),
                _ => {}
            }
            match (by_consent(before, category), by_consent(after, category)) {
                (false, true) => out.push(RulesDelta::RebuildConsents { role, category }),
                (true, false) => out.push(RulesDelta::RemoveConsents { role, category }),
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(operator: bool, ms: &[(Uuid, Role)]) -> Principal {
        Principal {
            user: Uuid::from_u128(1),
            operator,
            memberships: ms
                .iter()
                .map(|(o, r)| MembershipRef {
                    organisation: *o,
                    kind: OrganisationKind::Employer,
                    role: *r,
                })
                .collect(),
            second_factor_ok: true,
        }
    }

    const A: Uuid = Uuid::from_u128(0xA);
    const B: Uuid = Uuid::from_u128(0xB);

    /// The policy as a table: (who, action, expected).
    #[test]
    fn decision_table() {
        let admin_a = principal(false, &[(A, Role::OrgAdmin)]);
        let hr_a = principal(false, &[(A, Role::HrOfficer)]);
        let worker_a = principal(false, &[(A, Role::Worker)]);
        let operator = principal(true, &[]);
        let cases: Vec<(&Principal, Action, Result<(), Denial>)> = vec![
            (&admin_a, Action::ManageMembers(A), Ok(())),
            (&admin_a, Action::ManageMembers(B), Err(Denial::NotFound)),
            (&admin_a, Action::ViewOrganisation(A), Ok(())),
            (&admin_a, Action::ViewOrganisation(B), Err(Denial::NotFound)),
            (&admin_a, Action::CreateOrganisation, Err(Denial::Forbidden)),
            (&hr_a, Action::ManageMembers(A), Err(Denial::Forbidden)),
            (&hr_a, Action::ViewOrganisation(A), Ok(())),
            (
                &worker_a,
                Action::ManageOrganisation(A),
                Err(Denial::Forbidden),
            ),
            (&worker_a, Action::ManageOwnAccount, Ok(())),
            (&worker_a, Action::VerifyAudit, Err(Denial::Forbidden)),
            (&operator, Action::CreateOrganisation, Ok(())),
            (&operator, Action::ManageMembers(B), Ok(())),
            (&operator, Action::VerifyAudit, Ok(())),
        ];
        for (p, action, expected) in cases {
            assert_eq!(
                decide(p, action).map(|_| ()),
                expected,
                "{action:?} by {p:?}"
            );
        }
    }

    #[test]
    fn professionals_without_a_second_factor_reach_only_their_own_account() {
        let mut hr = principal(false, &[(A, Role::HrOfficer)]);
        hr.second_factor_ok = false;
        assert_eq!(
            decide(&hr, Action::ViewOrganisation(A)),
            Err(Denial::SecondFactorRequired)
        );
        assert!(decide(&hr, Action::ManageOwnAccount).is_ok());
        let mut worker = principal(false, &[(A, Role::Worker)]);
        worker.second_factor_ok = false;
        assert!(decide(&worker, Action::ViewOrganisation(A)).is_ok());
    }

    #[test]
    fn a_permit_names_its_action_and_user() {
        let p = principal(true, &[]);
        let permit = decide(&p, Action::CreateOrganisation).unwrap();
        assert_eq!(permit.action(), Action::CreateOrganisation);
        assert_eq!(permit.user(), p.user);
    }
}

#[cfg(test)]
mod case_tests {
    use super::*;
    use crate::consent::{EXPLANATION_VERSION, Recipient};
    use proptest::prelude::*;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-01 09:00 UTC);

    const E: Uuid = Uuid::from_u128(0xE1);
    const E2: Uuid = Uuid::from_u128(0xE2);
    const H: Uuid = Uuid::from_u128(0x41);
    const H2: Uuid = Uuid::from_u128(0x42);
    const S: Uuid = Uuid::from_u128(0x51);
    const CASE1: Uuid = Uuid::from_u128(0xCA1);
    const CASE2: Uuid = Uuid::from_u128(0xCA2);
    const WORKER: Uuid = Uuid::from_u128(0x100);
    const WORKER2: Uuid = Uuid::from_u128(0x101);
    const LM: Uuid = Uuid::from_u128(0x202);
    const AC: Uuid = Uuid::from_u128(0x401);

    type Who = (&'static str, Principal);

    fn person(user: u128, operator: bool, ms: &[(Uuid, OrganisationKind, Role)]) -> Principal {
        Principal {
            user: Uuid::from_u128(user),
            operator,
            memberships: ms
                .iter()
                .map(|&(organisation, kind, role)| MembershipRef {
                    organisation,
                    kind,
                    role,
                })
                .collect(),
            second_factor_ok: true,
        }
    }

    fn everyone() -> Vec<Who> {
        use OrganisationKind::*;
        vec![
            (
                "worker",
                person(0x100, false, &[(E, Employer, Role::Worker)]),
            ),
            (
                "hr",
                person(0x201, false, &[(E, Employer, Role::HrOfficer)]),
            ),
            (
                "line_manager",
                person(0x202, false, &[(E, Employer, Role::LineManager)]),
            ),
            (
                "other_line_manager",
                person(0x203, false, &[(E, Employer, Role::LineManager)]),
            ),
            (
                "occ_physician",
                person(0x204, false, &[(E, Employer, Role::OccupationalPhysician)]),
            ),
            (
                "health_staff",
                person(
                    0x205,
                    false,
                    &[(E, Employer, Role::OccupationalHealthStaff)],
                ),
            ),
            (
                "org_admin",
                person(0x206, false, &[(E, Employer, Role::OrgAdmin)]),
            ),
            (
                "colleague",
                person(0x101, false, &[(E, Employer, Role::Worker)]),
            ),
            (
                "attending",
                person(
                    0x301,
                    false,
                    &[(H, MedicalInstitution, Role::AttendingPhysician)],
                ),
            ),
            (
                "hosp_coord",
                person(
                    0x302,
                    false,
                    &[(H, MedicalInstitution, Role::HospitalCoordinator)],
                ),
            ),
            (
                "other_hospital",
                person(
                    0x303,
                    false,
                    &[(H2, MedicalInstitution, Role::AttendingPhysician)],
                ),
            ),
            (
                "agency_coord",
                person(0x401, false, &[(S, SupportAgency, Role::AgencyCoordinator)]),
            ),
            (
                "other_coord",
                person(0x402, false, &[(S, SupportAgency, Role::AgencyCoordinator)]),
            ),
            (
                "other_hr",
                person(0x501, false, &[(E2, Employer, Role::HrOfficer)]),
            ),
            (
                "other_physician",
                person(0x502, false, &[(E2, Employer, Role::OccupationalPhysician)]),
            ),
            ("operator", person(0x601, true, &[])),
            (
                "bureau",
                person(
                    0x602,
                    false,
                    &[(Uuid::from_u128(0x61), LabourBureau, Role::BureauStaff)],
                ),
            ),
        ]
    }

    fn consent_to(organisation: Uuid, role: Role, person: Option<Uuid>, n: u128) -> Consent {
        Consent {
            id: Uuid::from_u128(0xC000 + n),
            worker: WORKER,
            case: CASE1,
            recipient: Recipient {
                organisation,
                role,
                person,
            },
            categories: InformationCategory::CASE.iter().copied().collect(),
            purpose: "両立支援のため".to_owned(),
            granted_at: NOW - Duration::days(30),
            expires_at: None,
            withdrawn_at: None,
            explanation_version: EXPLANATION_VERSION,
        }
    }

    /// Consents to every party in the fixture, including parties outside the case (another
    /// employer and another hospital), to show that a consent alone creates no relation.
    fn all_consents() -> Vec<Consent> {
        [
            (E, Role::HrOfficer, None),
            (E, Role::LineManager, None),
            (E, Role::OccupationalPhysician, None),
            (E, Role::OccupationalHealthStaff, None),
            (H, Role::AttendingPhysician, None),
            (H, Role::HospitalCoordinator, None),
            (S, Role::AgencyCoordinator, Some(AC)),
            (E2, Role::HrOfficer, None),
            (E2, Role::OccupationalPhysician, None),
            (H2, Role::AttendingPhysician, None),
        ]
        .into_iter()
        .zip(0..)
        .map(|((o, r, p), n)| consent_to(o, r, p, n))
        .collect()
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Scenario {
        NoConsent,
        Consented,
        Withdrawn,
        Expired,
        Closed,
        /// Another case at the same employer, whose context wrongly carries case 1's consents.
        OtherCase,
    }

    const SCENARIOS: [Scenario; 6] = [
        Scenario::NoConsent,
        Scenario::Consented,
        Scenario::Withdrawn,
        Scenario::Expired,
        Scenario::Closed,
        Scenario::OtherCase,
    ];

    fn context(s: Scenario) -> CaseContext {
        let mut consents = all_consents();
        match s {
            Scenario::NoConsent => consents.clear(),
            Scenario::Withdrawn => consents
                .iter_mut()
                .for_each(|c| c.withdrawn_at = Some(NOW - Duration::hours(1))),
            // Expiring exactly now: the boundary is exclusive.
            Scenario::Expired => consents.iter_mut().for_each(|c| c.expires_at = Some(NOW)),
            _ => {}
        }
        let mut ctx = CaseContext {
            case: CASE1,
            worker: WORKER,
            employer: E,
            closed: s == Scenario::Closed,
            line_managers: vec![LM],
            hospitals: vec![H],
            coordinators: vec![CaseCoordinator {
                user: AC,
                organisation: S,
            }],
            consents,
            rules: HandlingRules::defaults(E),
        };
        if s == Scenario::OtherCase {
            ctx.case = CASE2;
            ctx.worker = WORKER2;
            ctx.line_managers.clear();
            ctx.hospitals.clear();
            ctx.coordinators.clear();
        }
        ctx
    }

    fn outcome(r: Result<Permit, Denial>) -> char {
        match r {
            Ok(_) => 'A',
            Err(Denial::Forbidden) => 'F',
            Err(Denial::NotFound) => 'N',
            Err(Denial::SecondFactorRequired) => '2',
        }
    }

    /// Reads: per principal, one string per scenario (in `SCENARIOS` order), one letter per
    /// category in `InformationCategory::ALL` order: work_information, medical, work_measures,
    /// consultation_notes, account, audit_log. A = allowed, F = forbidden, N = not found.
    const READS: &[(&str, [&str; 6])] = &[
        //                    none      consented  withdrawn  expired   closed    other case
        (
            "worker",
            ["AAAAAA", "AAAAAA", "AAAAAA", "AAAAAA", "AAAAAA", "NNNNNN"],
        ),
        (
            "hr",
            ["AFAFFF", "AAAAFF", "AFAFFF", "AFAFFF", "AAAAFF", "AFAFFF"],
        ),
        (
            "line_manager",
            ["FFAFFF", "AAAAFF", "FFAFFF", "FFAFFF", "AAAAFF", "NNNNNN"],
        ),
        ("other_line_manager", ["NNNNNN"; 6]),
        (
            "occ_physician",
            ["AFAFFF", "AAAAFF", "AFAFFF", "AFAFFF", "AAAAFF", "AFAFFF"],
        ),
        (
            "health_staff",
            ["AFAFFF", "AAAAFF", "AFAFFF", "AFAFFF", "AAAAFF", "AFAFFF"],
        ),
        ("org_admin", ["NNNNNN"; 6]),
        (
            "colleague",
            ["NNNNNN", "NNNNNN", "NNNNNN", "NNNNNN", "NNNNNN", "AAAAAA"],
        ),
        (
            "attending",
            ["FFFFFF", "AAAAFF", "FFFFFF", "FFFFFF", "AAAAFF", "NNNNNN"],
        ),
        (
            "hosp_coord",
            ["FFFFFF", "AAAAFF", "FFFFFF", "FFFFFF", "AAAAFF", "NNNNNN"],
        ),
        ("other_hospital", ["NNNNNN"; 6]),
        (
            "agency_coord",
            ["FFFFFF", "AAAAFF", "FFFFFF", "FFFFFF", "AAAAFF", "NNNNNN"],
        ),
        ("other_coord", ["NNNNNN"; 6]),
        ("other_hr", ["NNNNNN"; 6]),
        ("other_physician", ["NNNNNN"; 6]),
        ("operator", ["NNNNNN"; 6]),
        ("bureau", ["NNNNNN"; 6]),
    ];

    /// Writes, for the scenarios none / consented / closed (consented), one letter per action:
    /// edit work_information, edit medical, edit work_measures, edit consultation_notes,
    /// write opinion, confirm as worker, grant consent, withdraw consent, view case, upload a
    /// scan, transcribe a scanned (medical) form.
    const WRITES: &[(&str, [&str; 3])] = &[
        //                    none         consented    closed
        ("worker", ["AAFFFAAAAAF", "AAFFFAAAAAF", "FFFFFFFAAFF"]),
        ("hr", ["AFAFFFFFAFF", "AFAFFFFFAFA", "FFFFFFFFAFF"]),
        (
            "line_manager",
            ["FFAFFFFFAFF", "AFAFFFFFAFF", "FFFFFFFFAFF"],
        ),
        ("other_line_manager", ["NNNNNNNNNNN"; 3]),
        (
            "occ_physician",
            ["AFAFFFFFAFF", "AAAAFFFFAFA", "FFFFFFFFAFF"],
        ),
        (
            "health_staff",
            ["AFAFFFFFAFF", "AAAAFFFFAFA", "FFFFFFFFAFF"],
        ),
        ("org_admin", ["NNNNNNNNNNN"; 3]),
        ("colleague", ["NNNNNNNNNNN"; 3]),
        ("attending", ["FFFFAFFFAFF", "FFFFAFFFAFF", "FFFFFFFFAFF"]),
        ("hosp_coord", ["FFFFFFFFAFF", "FFFFFFFFAFF", "FFFFFFFFAFF"]),
        ("other_hospital", ["NNNNNNNNNNN"; 3]),
        (
            "agency_coord",
            ["FFFFFFFFAFF", "FFFAFFFFAFF", "FFFFFFFFAFF"],
        ),
        ("other_coord", ["NNNNNNNNNNN"; 3]),
        ("other_hr", ["NNNNNNNNNNN"; 3]),
        ("other_physician", ["NNNNNNNNNNN"; 3]),
        ("operator", ["NNNNNNNNNNN"; 3]),
        ("bureau", ["NNNNNNNNNNN"; 3]),
    ];

    fn write_actions(case: Uuid) -> [Action; 11] {
        use InformationCategory as C;
        let edit = |category| Action::EditCaseDocument { case, category };
        [
            edit(C::WorkInformation),
            edit(C::Medical),
            edit(C::WorkMeasures),
            edit(C::ConsultationNotes),
            Action::WriteOpinion { case },
            Action::ConfirmAsWorker { case },
            Action::GrantConsent { case },
            Action::WithdrawConsent { case },
            Action::ViewCase { case },
            Action::UploadScan { case },
            Action::TranscribeScan {
                case,
                category: C::Medical,
            },
        ]
    }

    #[test]
    fn read_decision_table() {
        let who = everyone();
        assert_eq!(READS.len(), who.len(), "every principal has a row");
        let mut failures = Vec::new();
        for (name, expected) in READS {
            let (_, p) = who.iter().find(|(n, _)| n == name).unwrap();
            for (s, want) in SCENARIOS.iter().zip(expected) {
                let ctx = context(*s);
                let got: String = InformationCategory::ALL
                    .iter()
                    .map(|&category| {
                        outcome(decide_case(
                            p,
                            &ctx,
                            Action::ViewCaseCategory {
                                case: ctx.case,
                                category,
                            },
                            NOW,
                        ))
                    })
                    .collect();
                if got != *want {
                    failures.push(format!("{name} {s:?}: want {want}, got {got}"));
                }
                // The view helper agrees with the single decisions.
                match case_access(p, &ctx, NOW) {
                    Ok(access) => {
                        let shown: String = InformationCategory::ALL
                            .iter()
                            .map(|c| if access.may_view(*c) { 'A' } else { 'F' })
                            .collect();
                        assert_eq!(shown, got.replace('N', "F"), "{name} {s:?}");
                    }
                    Err(d) => {
                        assert_eq!(d, Denial::NotFound, "{name} {s:?}");
                        assert_eq!(got, "NNNNNN", "{name} {s:?}");
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn write_decision_table() {
        let who = everyone();
        assert_eq!(WRITES.len(), who.len(), "every principal has a row");
        let mut failures = Vec::new();
        for (name, expected) in WRITES {
            let (_, p) = who.iter().find(|(n, _)| n == name).unwrap();
            let scenarios = [Scenario::NoConsent, Scenario::Consented, Scenario::Closed];
            for (s, want) in scenarios.iter().zip(expected) {
                let ctx = context(*s);
                let got: String = write_actions(ctx.case)
                    .into_iter()
                    .map(|a| outcome(decide_case(p, &ctx, a, NOW)))
                    .collect();
                if got != *want {
                    failures.push(format!("{name} {s:?}: want {want}, got {got}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// 両立支援指導 sessions, for the scenarios none / consented / closed: view, record.
    /// Consents change nothing: these are the hospital's own records.
    const GUIDANCE: &[(&str, [&str; 3])] = &[
        ("worker", ["AF", "AF", "AF"]),
        ("hr", ["NN"; 3]),
        ("line_manager", ["NN"; 3]),
        ("other_line_manager", ["NN"; 3]),
        ("occ_physician", ["NN"; 3]),
        ("health_staff", ["NN"; 3]),
        ("org_admin", ["NN"; 3]),
        ("colleague", ["NN"; 3]),
        ("attending", ["AA", "AA", "AF"]),
        ("hosp_coord", ["AA", "AA", "AF"]),
        ("other_hospital", ["NN"; 3]),
        ("agency_coord", ["NN"; 3]),
        ("other_coord", ["NN"; 3]),
        ("other_hr", ["NN"; 3]),
        ("other_physician", ["NN"; 3]),
        ("operator", ["NN"; 3]),
        ("bureau", ["NN"; 3]),
    ];

    #[test]
    fn guidance_decision_table() {
        let who = everyone();
        assert_eq!(GUIDANCE.len(), who.len(), "every principal has a row");
        let mut failures = Vec::new();
        for (name, expected) in GUIDANCE {
            let (_, p) = who.iter().find(|(n, _)| n == name).unwrap();
            let scenarios = [Scenario::NoConsent, Scenario::Consented, Scenario::Closed];
            for (s, want) in scenarios.iter().zip(expected) {
                let ctx = context(*s);
                let case = ctx.case;
                let got: String = [
                    Action::ViewGuidance { case },
                    Action::RecordGuidance { case },
                ]
                .into_iter()
                .map(|a| outcome(decide_case(p, &ctx, a, NOW)))
                .collect();
                if got != *want {
                    failures.push(format!("{name} {s:?}: want {want}, got {got}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        // Without the case's facts nothing is allowed.
        let (_, attending) = &who[8];
        assert_eq!(
            decide(attending, Action::ViewGuidance { case: CASE1 }),
            Err(Denial::NotFound)
        );
    }

    #[test]
    fn a_consent_for_one_role_does_not_open_another() {
        let who = everyone();
        let hr = &who[1].1;
        let mut ctx = context(Scenario::NoConsent);
        ctx.consents
            .push(consent_to(E, Role::OccupationalPhysician, None, 1));
        let medical = Action::ViewCaseCategory {
            case: CASE1,
            category: InformationCategory::Medical,
        };
        assert_eq!(decide_case(hr, &ctx, medical, NOW), Err(Denial::Forbidden));
        ctx.consents.push(consent_to(E, Role::HrOfficer, None, 2));
        assert!(decide_case(hr, &ctx, medical, NOW).is_ok());
        // A consent for one named coordinator does not reach a colleague holding the same role.
        let mut ctx = context(Scenario::Consented);
        let other = who.iter().find(|(n, _)| *n == "other_coord").unwrap();
        ctx.coordinators.push(CaseCoordinator {
            user: other.1.user,
            organisation: S,
        });
        let notes = Action::ViewCaseCategory {
            case: CASE1,
            category: InformationCategory::ConsultationNotes,
        };
        assert_eq!(
            decide_case(&other.1, &ctx, notes, NOW),
            Err(Denial::Forbidden)
        );
    }

    #[test]
    fn the_rules_narrow_and_are_capped() {
        let who = everyone();
        let hr = &who[1].1;
        let op = &who[4].1;
        let wm = Action::ViewCaseCategory {
            case: CASE1,
            category: InformationCategory::WorkMeasures,
        };
        let medical = Action::ViewCaseCategory {
            case: CASE1,
            category: InformationCategory::Medical,
        };
        let mut ctx = context(Scenario::Consented);
        ctx.rules
            .grants
            .entry(Role::HrOfficer)
            .or_default()
            .insert(InformationCategory::WorkMeasures, Access::Never);
        ctx.rules
            .grants
            .entry(Role::OccupationalPhysician)
            .or_default()
            .insert(InformationCategory::Medical, Access::Never);
        assert_eq!(decide_case(hr, &ctx, wm, NOW), Err(Denial::Forbidden));
        assert_eq!(decide_case(op, &ctx, medical, NOW), Err(Denial::Forbidden));

        // Rules that were never validated still cannot give medical without consent.
        let mut ctx = context(Scenario::NoConsent);
        for r in [
            Role::HrOfficer,
            Role::LineManager,
            Role::OccupationalPhysician,
        ] {
            ctx.rules
                .grants
                .entry(r)
                .or_default()
                .insert(InformationCategory::Medical, Access::Always);
        }
        assert!(ctx.rules.validate().is_err());
        assert_eq!(decide_case(hr, &ctx, medical, NOW), Err(Denial::Forbidden));
        assert_eq!(decide_case(op, &ctx, medical, NOW), Err(Denial::Forbidden));

        // Rules of another employer grant nothing.
        let mut ctx = context(Scenario::Consented);
        ctx.rules.employer = E2;
        assert_eq!(decide_case(hr, &ctx, wm, NOW), Err(Denial::Forbidden));
    }

    #[test]
    fn handling_rules_validation() {
        let rules = HandlingRules::defaults(E);
        assert_eq!(rules.validate(), Ok(()));
        assert_eq!(
            rules.stated(Role::HrOfficer, InformationCategory::Medical),
            Access::WithConsent
        );
        assert_eq!(
            rules.stated(Role::LineManager, InformationCategory::WorkMeasures),
            Access::Always
        );
        assert_eq!(
            rules.stated(Role::LineManager, InformationCategory::AuditLog),
            Access::Never
        );

        let mut wide = HandlingRules::defaults(E);
        wide.grants
            .entry(Role::HrOfficer)
            .or_default()
            .insert(InformationCategory::Medical, Access::Always);
        wide.grants
            .entry(Role::LineManager)
            .or_default()
            .insert(InformationCategory::WorkInformation, Access::Always);
        wide.grants
            .entry(Role::OrgAdmin)
            .or_default()
            .insert(InformationCategory::WorkMeasures, Access::Always);
        let e = wide.validate().unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "grants.hr_officer.medical",
                "grants.line_manager.work_information",
                "grants.org_admin"
            ]
        );
        assert_eq!(
            e.errors[0].message,
            "「人事労務担当者」が「診断名・症状・治療の状況」を取り扱えるのは「本人の同意がある場合のみ」までです。"
        );

        // Narrowing is always accepted, and the rules survive JSON.
        let mut narrow = HandlingRules::defaults(E);
        narrow.grants.remove(&Role::LineManager);
        assert_eq!(narrow.validate(), Ok(()));
        let json = serde_json::to_string(&narrow).unwrap();
        assert!(json.contains("\"hr_officer\":{\"work_information\":\"always\""));
        assert_eq!(
            serde_json::from_str::<HandlingRules>(&json).unwrap(),
            narrow
        );
    }

    #[test]
    fn case_actions_need_the_case_context() {
        let who = everyone();
        let worker = &who[0].1;
        let view = Action::ViewCase { case: CASE1 };
        assert_eq!(decide(worker, view), Err(Denial::NotFound));
        // A context for another case never answers.
        let ctx = context(Scenario::Consented);
        assert_eq!(
            decide_case(worker, &ctx, Action::ViewCase { case: CASE2 }, NOW),
            Err(Denial::NotFound)
        );
        // Organisation actions pass through to `decide`.
        assert_eq!(
            decide_case(&who[15].1, &ctx, Action::CreateOrganisation, NOW).map(|p| p.action()),
            Ok(Action::CreateOrganisation)
        );
        let permit = decide_case(worker, &ctx, view, NOW).unwrap();
        assert_eq!((permit.action(), permit.user()), (view, WORKER));
    }

    #[test]
    fn staff_need_a_second_factor_the_worker_does_not() {
        let who = everyone();
        let ctx = context(Scenario::Consented);
        let mut op = who[4].1.clone();
        op.second_factor_ok = false;
        let view = Action::ViewCase { case: CASE1 };
        assert_eq!(
            decide_case(&op, &ctx, view, NOW),
            Err(Denial::SecondFactorRequired)
        );
        let mut worker = who[0].1.clone();
        worker.second_factor_ok = false;
        assert!(decide_case(&worker, &ctx, view, NOW).is_ok());
    }

    #[test]
    fn actions_serialise_with_stable_codes() {
        let a = Action::ViewCaseCategory {
            case: CASE1,
            category: InformationCategory::Medical,
        };
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(json["action"], "view_case_category");
        assert_eq!(json["organisation"]["category"], "medical");
        let old = serde_json::to_value(Action::ViewOrganisation(E)).unwrap();
        assert_eq!(old["organisation"], E.to_string());
    }

    // ---- properties ----

    fn any_role() -> impl Strategy<Value = Role> {
        proptest::sample::select(Role::ALL.to_vec())
    }

    fn any_category() -> impl Strategy<Value = InformationCategory> {
        proptest::sample::select(InformationCategory::ALL.to_vec())
    }

    fn any_access() -> impl Strategy<Value = Access> {
        proptest::sample::select(vec![Access::Never, Access::WithConsent, Access::Always])
    }

    const ORGS: [Uuid; 5] = [E, E2, H, H2, S];
    const USERS: [u128; 4] = [0x900, 0x901, 0x902, 0x903];

    fn any_org() -> impl Strategy<Value = Uuid> {
        proptest::sample::select(ORGS.to_vec())
    }

    fn any_user() -> impl Strategy<Value = Uuid> {
        proptest::sample::select(USERS.to_vec()).prop_map(Uuid::from_u128)
    }

    /// Any non-worker principal: random memberships, possibly the operator.
    fn any_staff() -> impl Strategy<Value = Principal> {
        (
            any_user(),
            any::<bool>(),
            proptest::collection::vec((any_org(), any_role()), 0..5),
        )
            .prop_map(|(user, operator, ms)| Principal {
                user,
                operator,
                memberships: ms
                    .into_iter()
                    .map(|(organisation, role)| MembershipRef {
                        organisation,
                        kind: OrganisationKind::Employer,
                        role,
                    })
                    .collect(),
                second_factor_ok: true,
            })
    }

    /// Arbitrary, unvalidated rules, possibly for another employer.
    fn any_rules() -> impl Strategy<Value = HandlingRules> {
        (
            prop_oneof![Just(E), Just(E2)],
            proptest::collection::vec((any_role(), any_category(), any_access()), 0..20),
        )
            .prop_map(|(employer, triples)| {
                let mut grants: BTreeMap<Role, BTreeMap<InformationCategory, Access>> =
                    BTreeMap::new();
                for (r, c, a) in triples {
                    grants.entry(r).or_default().insert(c, a);
                }
                HandlingRules { employer, grants }
            })
    }

    fn any_context(consents: Vec<Consent>) -> impl Strategy<Value = CaseContext> {
        (
            any::<bool>(),
            proptest::collection::vec(any_user(), 0..4),
            proptest::collection::vec(any_org(), 0..3),
            proptest::collection::vec((any_user(), any_org()), 0..4),
            any_rules(),
        )
            .prop_map(move |(closed, lms, hospitals, coords, rules)| CaseContext {
                case: CASE1,
                worker: WORKER,
                employer: E,
                closed,
                line_managers: lms,
                hospitals,
                coordinators: coords
                    .into_iter()
                    .map(|(user, organisation)| CaseCoordinator { user, organisation })
                    .collect(),
                consents: consents.clone(),
                rules,
            })
    }

    fn any_consent() -> impl Strategy<Value = Consent> {
        (
            any_org(),
            any_role(),
            proptest::option::of(any_user()),
            proptest::sample::subsequence(InformationCategory::ALL.to_vec(), 0..=6),
            -1000i64..1000,
            proptest::option::of(-1000i64..1000),
            proptest::option::of(-1000i64..1000),
        )
            .prop_map(|(org, role, person, cats, g, e, w)| Consent {
                granted_at: NOW + Duration::minutes(g),
                expires_at: e.map(|e| NOW + Duration::minutes(e)),
                withdrawn_at: w.map(|w| NOW + Duration::minutes(w)),
                categories: cats.into_iter().collect(),
                ..consent_to(org, role, person, 0)
            })
    }

    fn view(category: InformationCategory) -> Action {
        Action::ViewCaseCategory {
            case: CASE1,
            category,
        }
    }

    fn edit(category: InformationCategory) -> Action {
        Action::EditCaseDocument {
            case: CASE1,
            category,
        }
    }

    proptest! {
        /// Without any consent, nobody but the worker ever reads medical information or
        /// consultation notes, whatever the memberships, relations and (unvalidated) rules.
        #[test]
        fn no_consent_no_medical(
            p in any_staff(),
            ctx in any_context(Vec::new()),
        ) {
            for c in [InformationCategory::Medical, InformationCategory::ConsultationNotes] {
                prop_assert!(decide_case(&p, &ctx, view(c), NOW).is_err());
                prop_assert!(decide_case(&p, &ctx, edit(c), NOW).is_err());
            }
        }

        /// HR never reads medical without a consent naming HR, whatever other consents exist.
        #[test]
        fn hr_needs_a_consent_naming_hr(
            user in any_user(),
            orgs in proptest::collection::vec(any_org(), 1..4),
            consents in proptest::collection::vec(any_consent(), 0..8),
            seed_ctx in any_context(Vec::new()),
        ) {
            let p = Principal {
                user,
                operator: false,
                memberships: orgs.into_iter().map(|organisation| MembershipRef {
                    organisation,
                    kind: OrganisationKind::Employer,
                    role: Role::HrOfficer,
                }).collect(),
                second_factor_ok: true,
            };
            let ctx = CaseContext {
                consents: consents.into_iter().filter(|c| c.recipient.role != Role::HrOfficer).collect(),
                ..seed_ctx
            };
            prop_assert!(decide_case(&p, &ctx, view(InformationCategory::Medical), NOW).is_err());
        }

        /// After withdrawal at t, every read at t' >= t is decided as if the consent had never
        /// been given.
        #[test]
        fn withdrawal_ends_every_read(
            who in 0usize..17,
            category in any_category(),
            closed in any::<bool>(),
            granted in -10_000i64..0,
            withdrawn in -10_000i64..10_000,
            later in 0i64..100_000,
        ) {
            let p = &everyone()[who].1;
            let mut ctx = context(Scenario::Consented);
            ctx.closed = closed;
            let w = NOW + Duration::seconds(withdrawn);
            for c in &mut ctx.consents {
                c.granted_at = NOW + Duration::seconds(granted);
                c.withdraw(w);
            }
            let at = w + Duration::seconds(later);
            let without = CaseContext { consents: Vec::new(), ..ctx.clone() };
            for action in [view(category), edit(category)] {
                prop_assert_eq!(
                    decide_case(p, &ctx, action, at),
                    decide_case(p, &without, action, at)
                );
            }
        }

        /// The view helper is exactly the set of single decisions, for any context.
        #[test]
        fn case_access_matches_decide_case(
            p in any_staff(),
            consents in proptest::collection::vec(any_consent(), 0..6),
            seed_ctx in any_context(Vec::new()),
        ) {
            let ctx = CaseContext { consents, ..seed_ctx };
            match case_access(&p, &ctx, NOW) {
                Ok(a) => {
                    for &c in InformationCategory::ALL {
                        prop_assert_eq!(a.may_view(c), decide_case(&p, &ctx, view(c), NOW).is_ok());
                        prop_assert_eq!(
                            a.may_edit(c),
                            decide_case(&p, &ctx, edit(c), NOW).is_ok()
                        );
                        prop_assert_eq!(a.reveal(c, 1).is_some(), a.may_view(c));
                    }
                }
                Err(d) => prop_assert_eq!(d, Denial::NotFound),
            }
        }
    }
}

#[cfg(test)]
#[path = "policy_scope_tests.rs"]
mod scope_tests;
