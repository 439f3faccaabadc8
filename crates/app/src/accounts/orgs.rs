//! Organisations, workplaces, memberships and invitations.

use ryoritsu_domain::account::DisplayName;
use ryoritsu_domain::audit::{AuditAction, Outcome};
use ryoritsu_domain::org::{OrganisationKind, Role, RoleDetail, SupportAgencyKind};
use ryoritsu_domain::policy::{Action, Permit, Principal, decide};
use ryoritsu_domain::prefecture::Prefecture;
use ryoritsu_domain::{FieldError, ValidationErrors};
use uuid::Uuid;

use crate::accounts::ports::AccountReads;
use crate::accounts::ports::AccountWrites;
use crate::accounts::ports::{
    InvitationRecord, MemberCursor, MembershipRecord, OrganisationRecord, UserRecord,
    WorkplaceRecord,
};
use crate::accounts::{Authenticated, NewUser};
use crate::error::AppError;
use crate::ports::{Store, WriteRepo};
use crate::secrets::{random_token, token_digest};
use crate::{App, Planned, RequestContext};

/// How many of an organisation's invitations its page lists (the newest).
pub const RECENT_INVITATIONS: u32 = 50;

/// The most members one page lists.
pub const MAX_MEMBERS_PAGE: u32 = 200;

/// One page of an organisation's members, and where the next one starts.
#[derive(Debug, Clone)]
pub struct MemberPage {
    pub items: Vec<(MembershipRecord, UserRecord)>,
    pub next: Option<MemberCursor>,
}

#[derive(Debug, Clone)]
pub struct NewWorkplace {
    pub name: DisplayName,
    pub prefecture: Prefecture,
    pub has_occupational_physician: bool,
}

#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub kind: OrganisationKind,
    pub name: DisplayName,
    pub prefecture: Prefecture,
    pub agency_kind: Option<SupportAgencyKind>,
    pub workplaces: Vec<NewWorkplace>,
}

pub fn parse_prefecture(field: &str, input: &str) -> Result<Prefecture, FieldError> {
    Prefecture::parse(input)
        .ok_or_else(|| FieldError::new(field, "prefecture", "都道府県を選んでください。"))
}

impl NewOrganisation {
    pub fn parse(
        kind: &str,
        name: &str,
        prefecture: &str,
        agency_kind: Option<&str>,
    ) -> Result<NewOrganisation, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let kind = OrganisationKind::from_code(kind.trim());
        if kind.is_none() {
            errs.push(FieldError::new(
                "kind",
                "required",
                "組織の種類を選んでください。",
            ));
        }
        let name = DisplayName::parse("name", "組織名", name)
            .map_err(|e| errs.push(e))
            .ok();
        let prefecture = parse_prefecture("prefecture", prefecture)
            .map_err(|e| errs.push(e))
            .ok();
        let agency_kind = match (kind, agency_kind.map(str::trim).filter(|s| !s.is_empty())) {
            (Some(OrganisationKind::SupportAgency), Some(a)) => {
                match SupportAgencyKind::from_code(a) {
                    Some(a) => Some(a),
                    None => {
                        errs.push(FieldError::new(
                            "agency_kind",
                            "invalid",
                            "支援機関の種類を選んでください。",
                        ));
                        None
                    }
                }
            }
            (Some(OrganisationKind::SupportAgency), None) => Some(SupportAgencyKind::OtherAgency),
            _ => None,
        };
        match (kind, name, prefecture) {
            (Some(kind), Some(name), Some(prefecture)) if errs.is_empty() => Ok(NewOrganisation {
                kind,
                name,
                prefecture,
                agency_kind,
                workplaces: Vec::new(),
            }),
            _ => Err(errs),
        }
    }
}

/// An invitation as issued: the link token is shown once.
#[derive(Debug, Clone)]
pub struct IssuedInvitation {
    pub record: InvitationRecord,
    pub token: String,
}

/// What the accept page shows about an invitation.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub invitation: InvitationRecord,
    pub organisation: OrganisationRecord,
}

impl<S: Store> App<S> {
    pub async fn create_organisation(
        &self,
        ctx: &RequestContext,
        principal: &Principal,
        permit: Permit,
        new: NewOrganisation,
    ) -> Result<OrganisationRecord, AppError> {
        let p = self.plan_create_organisation(ctx, principal, permit, new)?;
        self.commit(p).await
    }

    pub fn plan_create_organisation(
        &self,
        ctx: &RequestContext,
        principal: &Principal,
        permit: Permit,
        new: NewOrganisation,
    ) -> Result<Planned<S, OrganisationRecord>, AppError> {
        if permit.action() != Action::CreateOrganisation {
            return Err(AppError::Denied(ryoritsu_domain::policy::Denial::Forbidden));
        }
        let now = self.now();
        let org = OrganisationRecord {
            id: self.new_id(),
            kind: new.kind,
            name: new.name,
            prefecture: new.prefecture,
            agency_kind: new.agency_kind,
            created_at: now,
            version: 1,
        };
        let workplaces: Vec<WorkplaceRecord> = new
            .workplaces
            .into_iter()
            .map(|w| WorkplaceRecord {
                id: self.new_id(),
                organisation_id: org.id,
                name: w.name,
                prefecture: w.prefecture,
                has_occupational_physician: w.has_occupational_physician,
                created_at: now,
            })
            .collect();
        let mut ev = self.event(
            ctx,
            Some(principal),
            Some(org.id),
            AuditAction::OrganisationCreated,
            Outcome::Success,
        );
        ev.target = Some(format!("organisation:{}", org.id));
        let mut wev = Vec::new();
        for w in &workplaces {
            let mut e = self.event(
                ctx,
                Some(principal),
                Some(org.id),
                AuditAction::WorkplaceAdded,
                Outcome::Success,
            );
            e.target = Some(format!("workplace:{}", w.id));
            wev.push(e);
        }
        let o = org.clone();
        Ok(Planned {
            value: org,
            apply: Box::new(move |tx| {
                Box::pin(async move {
                    tx.insert_organisation(&o).await?;
                    tx.append_audit(&ev).await?;
                    for (w, e) in workplaces.iter().zip(&wev) {
                        tx.insert_workplace(w).await?;
                        tx.append_audit(e).await?;
                    }
                    Ok(())
                })
            }),
        })
    }

    pub async fn add_workplace(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        org: Uuid,
        new: NewWorkplace,
    ) -> Result<WorkplaceRecord, AppError> {
        let p = self.plan_add_workplace(ctx, auth, org, new).await?;
        self.commit(p).await
    }

    pub async fn plan_add_workplace(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        org: Uuid,
        new: NewWorkplace,
    ) -> Result<Planned<S, WorkplaceRecord>, AppError> {
        auth.permit(Action::ManageOrganisation(org))?;
        let o = self.get_organisation(auth, org).await?;
        if o.kind != OrganisationKind::Employer {
            return Err(ValidationErrors::from(FieldError::new(
                "organisation",
                "not_employer",
                "事業場を登録できるのは事業者だけです。",
            ))
            .into());
        }
        let w = WorkplaceRecord {
            id: self.new_id(),
            organisation_id: org,
            name: new.name,
            prefecture: new.prefecture,
            has_occupational_physician: new.has_occupational_physician,
            created_at: self.now(),
        };
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            Some(org),
            AuditAction::WorkplaceAdded,
            Outcome::Success,
        );
        ev.target = Some(format!("workplace:{}", w.id));
        let rec = w.clone();
        Ok(Planned {
            value: w,
            apply: Box::new(move |tx| {
                Box::pin(async move {
                    tx.insert_workplace(&rec).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            }),
        })
    }

    pub async fn get_organisation(
        &self,
        auth: &Authenticated,
        org: Uuid,
    ) -> Result<OrganisationRecord, AppError> {
        auth.permit(Action::ViewOrganisation(org))?;
        self.store
            .read()
            .await?
            .get_organisation(org)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The organisations a principal may see: all for the operator, else their own.
    pub async fn list_organisations(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<OrganisationRecord>, AppError> {
        let all = self.store.read().await?.list_organisations().await?;
        Ok(all
            .into_iter()
            .filter(|o| decide(&auth.principal, Action::ViewOrganisation(o.id)).is_ok())
            .collect())
    }

    pub async fn list_workplaces(
        &self,
        auth: &Authenticated,
        org: Uuid,
    ) -> Result<Vec<WorkplaceRecord>, AppError> {
        auth.permit(Action::ViewOrganisation(org))?;
        // The operator may look anywhere, but a list of a missing organisation is a 404.
        self.get_organisation(auth, org).await?;
        Ok(self.store.read().await?.list_workplaces(org).await?)
    }

    /// One page of an organisation's members in the order they joined: at most `limit`
    /// (capped at [`MAX_MEMBERS_PAGE`]) after `after`, and where the next page starts.
    pub async fn list_members(
        &self,
        auth: &Authenticated,
        org: Uuid,
        after: Option<MemberCursor>,
        limit: u32,
    ) -> Result<MemberPage, AppError> {
        auth.permit(Action::ManageMembers(org))?;
        // The operator may look anywhere, but a list of a missing organisation is a 404.
        self.get_organisation(auth, org).await?;
        let limit = limit.clamp(1, MAX_MEMBERS_PAGE);
        let mut items = self
            .store
            .read()
            .await?
            .list_members(org, after, limit + 1)
            .await?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|(m, _)| MemberCursor::of(m))
        } else {
            None
        };
        Ok(MemberPage { items, next })
    }

    /// Whether `user` belongs to `org`, for pages that act on one member of it (asked by
    /// someone who may manage its members).
    pub async fn is_member(
        &self,
        auth: &Authenticated,
        org: Uuid,
        user: Uuid,
    ) -> Result<bool, AppError> {
        auth.permit(Action::ManageMembers(org))?;
        self.get_organisation(auth, org).await?;
        let memberships = self
            .store
            .read()
            .await?
            .list_memberships_of_user(user)
            .await?;
        Ok(memberships.iter().any(|m| m.organisation_id == org))
    }

    /// The newest [`RECENT_INVITATIONS`] invitations of `org`, newest first.
    pub async fn list_invitations(
        &self,
        auth: &Authenticated,
        org: Uuid,
    ) -> Result<Vec<InvitationRecord>, AppError> {
        auth.permit(Action::ManageMembers(org))?;
        // The operator may look anywhere, but a list of a missing organisation is a 404.
        self.get_organisation(auth, org).await?;
        Ok(self
            .store
            .read()
            .await?
            .list_invitations(org, RECENT_INVITATIONS)
            .await?)
    }

    /// Issues a one-time invitation link for a role in `org`.
    pub async fn invite(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        org: Uuid,
        role: Role,
        detail: RoleDetail,
        note: Option<String>,
    ) -> Result<IssuedInvitation, AppError> {
        let p = self.plan_invite(ctx, auth, org, role, detail, note).await?;
        self.commit(p).await
    }

    pub async fn plan_invite(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        org: Uuid,
        role: Role,
        detail: RoleDetail,
        note: Option<String>,
    ) -> Result<Planned<S, IssuedInvitation>, AppError> {
        auth.permit(Action::ManageMembers(org))?;
        let o = self.get_organisation(auth, org).await?;
        if !role.invitable() || !role.allowed_in(o.kind) {
            return Err(ValidationErrors::from(FieldError::new(
                "role",
                "not_allowed",
                format!(
                    "{}には「{}」の役割を設定できません。",
                    o.kind.label(),
                    role.label()
                ),
            ))
            .into());
        }
        let detail = detail
            .normalised_for(role)
            .map_err(ValidationErrors::from)?;
        let note = note
            .map(|n| n.trim().chars().take(200).collect::<String>())
            .filter(|n| !n.is_empty());
        let token = random_token()?;
        let now = self.now();
        let record = InvitationRecord {
            id: self.new_id(),
            organisation_id: org,
            role,
            detail,
            token_hash: token_digest(&token),
            invited_by: auth.user.id,
            note,
            expires_at: now + self.config.invitation_ttl,
            used_at: None,
            used_by: None,
            created_at: now,
        };
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            Some(org),
            AuditAction::InvitationCreated,
            Outcome::Success,
        );
        ev.target = Some(format!("invitation:{}", record.id));
        let r = record.clone();
        Ok(Planned {
            value: IssuedInvitation { record, token },
            apply: Box::new(move |tx| {
                Box::pin(async move {
                    tx.insert_invitation(&r).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            }),
        })
    }

    /// Looks up an invitation by its link token; used or expired ones are refused.
    pub async fn invitation(&self, token: &str) -> Result<InvitationView, AppError> {
        let mut conn = self.store.read().await?;
        let Some(inv) = conn.find_invitation(&token_digest(token)).await? else {
            return Err(AppError::NotFound);
        };
        if inv.used_at.is_some() || inv.expires_at <= self.now() {
            return Err(AppError::Conflict("invitation_used"));
        }
        let organisation = conn
            .get_organisation(inv.organisation_id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(InvitationView {
            invitation: inv,
            organisation,
        })
    }

    /// Accepts an invitation: with `new_user` a new account is made; otherwise the
    /// signed-in user joins. Both happen in one transaction with the invitation's use.
    pub async fn accept_invitation(
        &self,
        ctx: &RequestContext,
        token: &str,
        signed_in: Option<&Authenticated>,
        new_user: Option<NewUser>,
    ) -> Result<(UserRecord, MembershipRecord), AppError> {
        let p = self
            .plan_accept_invitation(ctx, token, signed_in, new_user)
            .await?;
        self.commit(p).await
    }

    pub async fn plan_accept_invitation(
        &self,
        ctx: &RequestContext,
        token: &str,
        signed_in: Option<&Authenticated>,
        new_user: Option<NewUser>,
    ) -> Result<Planned<S, (UserRecord, MembershipRecord)>, AppError> {
        let view = self.invitation(token).await?;
        let inv = view.invitation;
        let reading = new_user.as_ref().and_then(|n| n.name_reading.clone());
        let user = match (signed_in, new_user) {
            (Some(a), _) => a.user.clone(),
            (None, Some(n)) => {
                let hash = crate::secrets::hash_password(
                    n.password.expose().to_owned(),
                    self.config.password_cost,
                )
                .await?;
                let now = self.now();
                UserRecord {
                    id: self.new_id(),
                    login: n.login,
                    display_name: n.display_name,
                    email: n.email,
                    password_hash: hash,
                    active: true,
                    operator: false,
                    demo: false,
                    totp_secret: None,
                    totp_pending_secret: None,
                    totp_last_step: None,
                    created_at: now,
                    password_changed_at: now,
                    version: 1,
                }
            }
            (None, None) => return Err(AppError::Unauthenticated),
        };
        let create = signed_in.is_none();
        let membership = MembershipRecord {
            id: self.new_id(),
            user_id: user.id,
            organisation_id: inv.organisation_id,
            organisation_kind: view.organisation.kind,
            role: inv.role,
            detail: inv.detail.clone(),
            created_at: self.now(),
        };
        let principal = Principal {
            user: user.id,
            operator: user.operator,
            memberships: Vec::new(),
            second_factor_ok: false,
        };
        let mut created_ev = self.event(
            ctx,
            Some(&principal),
            Some(inv.organisation_id),
            AuditAction::UserCreated,
            Outcome::Success,
        );
        created_ev.target = Some(format!("user:{}", user.id));
        let mut ev = self.event(
            ctx,
            Some(&principal),
            Some(inv.organisation_id),
            AuditAction::InvitationAccepted,
            Outcome::Success,
        );
        ev.target = Some(format!("invitation:{}", inv.id));
        let mut gev = self.event(
            ctx,
            Some(&principal),
            Some(inv.organisation_id),
            AuditAction::MembershipGranted,
            Outcome::Success,
        );
        gev.target = Some(format!("membership:{}", membership.id));
        let (u, m) = (user.clone(), membership.clone());
        let now = self.now();
        Ok(Planned {
            value: (user, membership),
            apply: Box::new(move |tx| {
                Box::pin(async move {
                    if create {
                        tx.insert_user(&u).await.map_err(|e| match e {
                            crate::StoreError::Conflict(_) => AppError::Conflict("login_taken"),
                            other => AppError::Store(other),
                        })?;
                        // A newcomer has no case yet: nothing to re-index.
                        if reading.is_some() {
                            tx.set_user_reading(u.id, reading.as_deref()).await?;
                        }
                        tx.append_audit(&created_ev).await?;
                    }
                    // Marked used in the same savepoint: a refusal below undoes it all.
                    if !tx.use_invitation(inv.id, u.id, now).await? {
                        return Err(AppError::Conflict("invitation_used"));
                    }
                    let existing = tx.list_memberships_of_user(u.id).await?;
                    if existing
                        .iter()
                        .any(|x| x.organisation_id == m.organisation_id && x.role == m.role)
                    {
                        return Err(AppError::Conflict("already_member"));
                    }
                    tx.insert_membership(&m).await?;
                    tx.append_audit(&ev).await?;
                    tx.append_audit(&gev).await?;
                    Ok(())
                })
            }),
        })
    }

    /// Grants a role directly (operator CLI and demo data).
    pub async fn grant_membership(
        &self,
        ctx: &RequestContext,
        principal: &Principal,
        user: Uuid,
        org: Uuid,
        role: Role,
        detail: RoleDetail,
    ) -> Result<MembershipRecord, AppError> {
        decide(principal, Action::ManageMembers(org))?;
        let o = self
            .store
            .read()
            .await?
            .get_organisation(org)
            .await?
            .ok_or(AppError::NotFound)?;
        if !role.allowed_in(o.kind) {
            return Err(ValidationErrors::from(FieldError::new(
                "role",
                "not_allowed",
                format!(
                    "{}には「{}」の役割を設定できません。",
                    o.kind.label(),
                    role.label()
                ),
            ))
            .into());
        }
        let detail = detail
            .normalised_for(role)
            .map_err(ValidationErrors::from)?;
        let m = MembershipRecord {
            id: self.new_id(),
            user_id: user,
            organisation_id: org,
            organisation_kind: o.kind,
            role,
            detail,
            created_at: self.now(),
        };
        let mut ev = self.event(
            ctx,
            Some(principal),
            Some(org),
            AuditAction::MembershipGranted,
            Outcome::Success,
        );
        ev.target = Some(format!("membership:{}", m.id));
        let rec = m.clone();
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    let existing = tx.list_memberships_of_user(rec.user_id).await?;
                    if existing
                        .iter()
                        .any(|x| x.organisation_id == rec.organisation_id && x.role == rec.role)
                    {
                        return Err(AppError::Conflict("already_member"));
                    }
                    tx.insert_membership(&rec).await?;
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(m)
    }

    /// Removes a membership; the last organisation admin cannot be removed.
    pub async fn revoke_membership(
        &self,
        ctx: &RequestContext,
        auth: &Authenticated,
        org: Uuid,
        membership: Uuid,
    ) -> Result<(), AppError> {
        auth.permit(Action::ManageMembers(org))?;
        let mut c = self.store.read().await?;
        let Some(target) = c
            .get_membership(membership)
            .await?
            .filter(|m| m.organisation_id == org)
        else {
            return Err(AppError::NotFound);
        };
        let admins = c.list_members_in_role(org, Role::OrgAdmin, 2).await?;
        drop(c);
        if target.role == Role::OrgAdmin && admins.len() <= 1 {
            return Err(AppError::Conflict("last_admin"));
        }
        let mut ev = self.event(
            ctx,
            Some(&auth.principal),
            Some(org),
            AuditAction::MembershipRevoked,
            Outcome::Success,
        );
        ev.target = Some(format!("membership:{membership}"));
        self.writer
            .write(move |tx| {
                Box::pin(async move {
                    if !tx.delete_membership(membership).await? {
                        return Err(AppError::NotFound);
                    }
                    tx.append_audit(&ev).await?;
                    Ok(())
                })
            })
            .await
    }
}
