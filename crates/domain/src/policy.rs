//! The access policy: the one place that decides whether a principal may do an action.
//!
//! Security-sensitive. Every use case that reads or changes something asks [`decide`] and
//! gets either a [`Permit`] (which only this module can make, so a use case that demands one
//! cannot be called without the check) or a [`Denial`]. Outside a principal's own
//! organisations the denial is `NotFound`, so probing reveals nothing about other tenants.
//! Later parts (cases, consent, 取扱規程) extend [`Action`] here, never a handler.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
