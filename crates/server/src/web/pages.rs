//! The signed-in pages. Each page reads through the same record metadata and
//! policy function as the REST API (`records`), and each form goes through
//! the same operations (`admin`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use isx_domain::{
    AuditEvent, Clearance, Constituency, GroupId, GroupRole, KeyId, Login, Member, MemberId,
    MemberKind, MemberName, NewMember, NewTrustGroup, Tier, Timestamp, TrustGroup, TrustGroupKind,
    UserRole,
};
use isx_store::AuditQuery;
use serde::Deserialize;

use super::{check_csrf, render};
use crate::audit::{noted, AuditNote};
use crate::auth::Caller;
use crate::extract::WebForm;
use crate::problem::ApiError;
use crate::AppState;
use isx_app::admin;
use isx_app::records;

/// What every page's frame shows.
pub(crate) struct Layout {
    pub(super) title: &'static str,
    pub(super) active: &'static str,
    pub(super) login: String,
    pub(super) member_name: String,
    pub(super) admin: bool,
    /// The caller administers its organisation (member administrators).
    pub(super) org_admin: bool,
    pub(super) csrf: String,
    pub(super) error: Option<String>,
    pub(super) notice: Option<String>,
}

pub(super) fn layout(caller: &Caller, title: &'static str, active: &'static str) -> Layout {
    Layout {
        title,
        active,
        login: caller
            .user
            .as_ref()
            .map(|u| u.login.to_string())
            .unwrap_or_default(),
        member_name: caller.member.name.to_string(),
        admin: caller.is_admin(),
        org_admin: caller
            .require(&isx_policy::Action::ManageMemberSettings {
                member: caller.member.id,
            })
            .is_ok(),
        csrf: caller
            .session
            .as_ref()
            .map(|s| s.csrf_token.clone())
            .unwrap_or_default(),
        error: None,
        notice: None,
    }
}

/// Outcome of a form: a notice, or an error shown on the re-rendered page
/// with the error's status code.
pub(super) type Flash = Result<String, ApiError>;

pub(super) fn apply(mut l: Layout, flash: Option<&Flash>) -> (Layout, StatusCode) {
    match flash {
        Some(Ok(n)) => {
            l.notice = Some(n.clone());
            (l, StatusCode::OK)
        }
        Some(Err(e)) => {
            l.error = Some(e.problem().detail);
            (l, e.status())
        }
        None => (l, StatusCode::OK),
    }
}

/// The page, with the audit note of the change it reports (if it made one).
pub(super) fn with_note(note: Option<AuditNote>, page: Response) -> Response {
    match note {
        Some(n) => noted(n, page),
        None => page,
    }
}

pub(super) fn not_found() -> ApiError {
    ApiError::not_found("page")
}

// ---- dashboard ----

#[derive(askama::Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    member: Member,
    groups: Vec<GroupRow>,
    active_keys: usize,
    member_count: usize,
    /// Malicious URLs seen in the last 24 hours that the caller may see.
    urls_24h: i64,
    /// Infected and IoT events about the caller's networks in the last 24 hours.
    botnet_24h: u64,
    /// Known-good files in the hash set (every member may look them up).
    clean_files: u64,
    recent: Vec<isx_domain::NewAuditEvent>,
    notifications: Vec<isx_store::Notification>,
}

struct GroupRow {
    name: String,
    kind: &'static str,
    description: String,
}

fn kind_label(g: &TrustGroup) -> &'static str {
    match g.kind {
        TrustGroupKind::Formal { .. } => "formal",
        TrustGroupKind::AdHoc { .. } => "ad hoc",
    }
}

pub(crate) async fn dashboard(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let groups = state
        .store
        .groups()
        .await?
        .into_iter()
        .filter(|g| {
            caller.principal.in_group(g.id) && records::may_see(&state, &caller, &records::group(g))
        })
        .map(|g| GroupRow {
            kind: kind_label(&g),
            name: g.name,
            description: g.description,
        })
        .collect();
    let active_keys = state
        .store
        .api_keys(Some(caller.member.id))
        .await?
        .iter()
        .filter(|k| k.is_active(now))
        .count();
    let (member_count, recent) = if records::may_see(&state, &caller, &records::operator_data()) {
        state.audit.flush().await;
        let recent = state
            .store
            .audit_events(&AuditQuery {
                limit: 8,
                ..Default::default()
            })
            .await?;
        (
            state.store.members().await?.len(),
            recent.into_iter().map(|e| e.event).collect(),
        )
    } else {
        (0, Vec::new())
    };
    let visible: std::collections::HashSet<i64> =
        isx_app::advisories::visible_releases(&state, &caller.principal)
            .await?
            .into_iter()
            .map(|(r, _)| r.id)
            .collect();
    let notifications = state
        .store
        .notifications(caller.member.id, 10)
        .await?
        .into_iter()
        .filter(|n| visible.contains(&n.release))
        .collect();
    let urls_24h = isx_app::urls::stats(
        &state,
        &caller,
        isx_store::UrlQuery {
            since: Some(now.add_secs(-86_400)),
            ..Default::default()
        },
    )
    .await?
    .total;
    let day = isx_app::botnet::summary(
        state.store.as_ref(),
        &caller.principal,
        now.add_secs(-86_400),
        now,
    )
    .await?;
    let page = DashboardPage {
        notifications,
        urls_24h,
        botnet_24h: day.infected_events + day.iot_events,
        clean_files: if records::may_see(&state, &caller, &isx_cleanfiles::cleanfile_record()) {
            state.clean.view().sha256_count()
        } else {
            0
        },
        layout: layout(&caller, "Dashboard", "dashboard"),
        member: caller.member.clone(),
        groups,
        active_keys,
        member_count,
        recent,
    };
    Ok(render(&page)?.into_response())
}

// ---- API keys ----

#[derive(askama::Template)]
#[template(path = "keys.html")]
struct KeysPage {
    layout: Layout,
    keys: Vec<KeyRow>,
    members: Vec<Member>,
    own_member: i64,
    new_token: Option<String>,
    /// The roles the caller may give a key (its own authority at most).
    roles: Vec<&'static str>,
}

struct KeyRow {
    key_id: String,
    name: String,
    role: &'static str,
    member_name: String,
    created_at: String,
    expires_at: String,
    last_used_at: String,
    status: &'static str,
}

fn opt_ts(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_rfc3339()).unwrap_or_else(|| "—".into())
}

async fn keys_page(
    state: &AppState,
    caller: &Caller,
    flash: Option<Flash>,
    new_token: Option<String>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let members = state.store.members().await?;
    let names: HashMap<MemberId, String> =
        members.iter().map(|m| (m.id, m.name.to_string())).collect();
    let keys = state
        .store
        .api_keys(None)
        .await?
        .into_iter()
        .filter(|k| records::may_see(state, caller, &records::api_key(k)))
        .map(|k| KeyRow {
            status: if k.revoked_at.is_some() {
                "revoked"
            } else if k.is_active(now) {
                "active"
            } else {
                "expired"
            },
            key_id: k.key_id.to_string(),
            name: k.name.clone(),
            role: k.role.as_str(),
            member_name: names.get(&k.member).cloned().unwrap_or_default(),
            created_at: k.created_at.to_rfc3339(),
            expires_at: opt_ts(k.expires_at),
            last_used_at: opt_ts(k.last_used_at),
        })
        .collect();
    let (l, status) = apply(layout(caller, "API keys", "keys"), flash.as_ref());
    let members = if caller.is_admin() {
        members
    } else {
        Vec::new()
    };
    let page = KeysPage {
        layout: l,
        keys,
        members,
        own_member: caller.member.id.0,
        new_token,
        roles: UserRole::ALL
            .iter()
            .rev()
            .filter(|r| caller.role.covers(**r))
            .map(|r| r.as_str())
            .collect(),
    };
    Ok((status, render(&page)?).into_response())
}

pub(crate) async fn keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    keys_page(&state, &caller, None, None).await
}

#[derive(Deserialize)]
pub(crate) struct KeyForm {
    csrf: String,
    name: String,
    #[serde(default)]
    member: Option<i64>,
    #[serde(default)]
    expires_at: String,
    #[serde(default)]
    role: String,
}

pub(crate) async fn create_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<KeyForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    let result = async {
        let expires = match f.expires_at.trim() {
            "" => None,
            t => Some(Timestamp::parse(t)?),
        };
        let role = match f.role.trim() {
            "" => UserRole::Member,
            r => r.parse::<UserRole>()?,
        };
        let spec = admin::KeySpec {
            member: f.member.map_or(caller.member.id, MemberId),
            name: &f.name,
            role,
            expires_at: expires,
        };
        Ok::<_, ApiError>(
            admin::create_api_key(
                state.store.as_ref(),
                state.clock.as_ref(),
                Some(&caller.authority()),
                &spec,
            )
            .await?,
        )
    }
    .await;
    match result {
        Ok((key, token)) => {
            let page = keys_page(
                &state,
                &caller,
                Some(Ok(format!("Key {} created.", key.key_id))),
                Some(token.expose()),
            )
            .await?;
            Ok(noted(
                AuditNote::new("key.create", format!("key/{}", key.key_id)),
                (StatusCode::CREATED, page),
            ))
        }
        Err(e) => keys_page(&state, &caller, Some(Err(e)), None).await,
    }
}

pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key_id): Path<String>,
    WebForm(f): WebForm<super::CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    let id = KeyId::new(&key_id).map_err(|_| not_found())?;
    let by = caller.authority();
    let flash = admin::revoke_api_key(state.store.as_ref(), state.clock.as_ref(), &id, Some(&by))
        .await
        .map(|k| format!("Key {} revoked.", k.key_id))
        .map_err(ApiError::from);
    let page = keys_page(&state, &caller, Some(flash), None).await?;
    Ok(noted(
        AuditNote::new("key.revoke", format!("key/{id}")),
        page,
    ))
}

// ---- members (operator administrators) ----

#[derive(askama::Template)]
#[template(path = "members.html")]
struct MembersPage {
    layout: Layout,
    members: Vec<Member>,
    kinds: Vec<&'static str>,
    tiers: Vec<&'static str>,
    clearances: Vec<&'static str>,
}

async fn members_page(
    state: &AppState,
    caller: &Caller,
    flash: Option<Flash>,
) -> Result<Response, ApiError> {
    if !records::may_see(state, caller, &records::operator_data()) {
        return Err(not_found());
    }
    let members = state.store.members().await?;
    let (l, status) = apply(layout(caller, "Members", "members"), flash.as_ref());
    let page = MembersPage {
        layout: l,
        members,
        kinds: MemberKind::ALL.iter().map(|k| k.as_str()).collect(),
        tiers: Tier::ALL.iter().map(|k| k.as_str()).collect(),
        clearances: Clearance::ALL.iter().map(|k| k.as_str()).collect(),
    };
    Ok((status, render(&page)?).into_response())
}

pub(crate) async fn members(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    members_page(&state, &caller, None).await
}

#[derive(Deserialize)]
pub(crate) struct MemberForm {
    csrf: String,
    name: String,
    kind: String,
    #[serde(default)]
    country: String,
    tier: String,
    clearance: String,
    #[serde(default)]
    cidrs: String,
    #[serde(default)]
    asns: String,
    #[serde(default)]
    domains: String,
    #[serde(default)]
    constituency_country: String,
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
}

fn optional<T: std::str::FromStr>(s: &str) -> Result<Option<T>, T::Err> {
    match s.trim() {
        "" => Ok(None),
        t => t.parse().map(Some),
    }
}

impl MemberForm {
    fn parse(&self) -> Result<NewMember, isx_domain::DomainError> {
        Ok(NewMember {
            name: MemberName::new(&self.name)?,
            kind: self.kind.parse()?,
            country: optional(&self.country)?,
            tier: self.tier.parse()?,
            clearance: self.clearance.parse()?,
            constituency: Constituency {
                cidrs: words(&self.cidrs)
                    .map(str::parse)
                    .collect::<Result<_, _>>()?,
                asns: words(&self.asns)
                    .map(str::parse)
                    .collect::<Result<_, _>>()?,
                domains: words(&self.domains)
                    .map(isx_domain::DomainName::new)
                    .collect::<Result<_, _>>()?,
                country: optional(&self.constituency_country)?,
            }
            .normalise(),
        })
    }
}

pub(crate) async fn create_member(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<MemberForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    caller.require_admin().map_err(|_| not_found())?;
    let result = match f.parse() {
        Ok(new) => admin::create_member(state.store.as_ref(), state.clock.as_ref(), &new)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::from(e)),
    };
    let note = result
        .as_ref()
        .ok()
        .map(|m| AuditNote::new("member.create", format!("member/{}", m.id)));
    let page = members_page(
        &state,
        &caller,
        Some(result.map(|m| format!("Member {} added.", m.name))),
    )
    .await?;
    Ok(with_note(note, page))
}

// ---- users (operator administrators) ----

struct UserRow {
    id: i64,
    login: String,
    member_name: String,
    role: String,
    created_at: String,
    disabled: bool,
}

#[derive(askama::Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    members: Vec<Member>,
}

async fn users_page(
    state: &AppState,
    caller: &Caller,
    flash: Option<Flash>,
) -> Result<Response, ApiError> {
    if !records::may_see(state, caller, &records::operator_data()) {
        return Err(not_found());
    }
    let members = state.store.members().await?;
    let names: HashMap<MemberId, String> =
        members.iter().map(|m| (m.id, m.name.to_string())).collect();
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id.0,
            login: u.login.to_string(),
            member_name: names.get(&u.member).cloned().unwrap_or_default(),
            role: u.role.to_string(),
            created_at: u.created_at.to_rfc3339(),
            disabled: u.is_disabled(),
        })
        .collect();
    let (l, status) = apply(layout(caller, "Users", "users"), flash.as_ref());
    Ok((
        status,
        render(&UsersPage {
            layout: l,
            users,
            members,
        })?,
    )
        .into_response())
}

pub(crate) async fn users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    users_page(&state, &caller, None).await
}

#[derive(Deserialize)]
pub(crate) struct UserForm {
    csrf: String,
    login: String,
    password: String,
    member: i64,
    role: String,
}

pub(crate) async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<UserForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    caller.require_admin().map_err(|_| not_found())?;
    let result = async {
        let login = Login::new(&f.login)?;
        let role: UserRole = f.role.parse()?;
        Ok::<_, ApiError>(
            admin::create_user(
                state.store.as_ref(),
                state.clock.as_ref(),
                &login,
                &f.password,
                MemberId(f.member),
                role,
            )
            .await?,
        )
    }
    .await;
    let note = result
        .as_ref()
        .ok()
        .map(|u| AuditNote::new("user.create", format!("user/{}", u.login)));
    let page = users_page(
        &state,
        &caller,
        Some(result.map(|u| format!("User {} added.", u.login))),
    )
    .await?;
    Ok(with_note(note, page))
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    pub(super) csrf: String,
}

/// What a change of a user did: its audit note, the page's flash, and
/// whether the caller signed itself out.
pub(super) struct UserChange {
    pub note: Option<AuditNote>,
    pub flash: Flash,
    pub signed_out_self: bool,
}

/// Disables, enables, signs out or resets the second factor of a user as
/// `caller` asks (`authorize` decides: operator administrators any user,
/// a member's administrator its own organisation's). A hidden user is
/// `Err(not found)`.
pub(super) async fn change_user(
    state: &AppState,
    caller: &Caller,
    id: i64,
    action: &str,
) -> Result<UserChange, ApiError> {
    let by = caller.authority();
    let store = state.store.as_ref();
    let user = isx_domain::UserId(id);
    let result: Result<(String, String), ApiError> = match action {
        "disable" => admin::disable_user(store, state.clock.as_ref(), user, Some(&by))
            .await
            .map(|(u, d)| {
                (
                    format!(
                        "user/{} ({} sessions ended, {} keys revoked)",
                        u.login, d.sessions_ended, d.keys_revoked
                    ),
                    format!(
                        "User {} disabled: {} session(s) ended, {} key(s) revoked.",
                        u.login, d.sessions_ended, d.keys_revoked
                    ),
                )
            })
            .map_err(ApiError::from),
        "enable" => admin::enable_user(store, user, Some(&by))
            .await
            .map(|u| {
                (
                    format!("user/{}", u.login),
                    format!("User {} enabled.", u.login),
                )
            })
            .map_err(ApiError::from),
        "sign-out" => admin::end_sessions(store, user, Some(&by))
            .await
            .map(|n| {
                (
                    format!("user/{id} ({n} sessions ended)"),
                    format!("{n} session(s) ended."),
                )
            })
            .map_err(ApiError::from),
        "reset-second-factor" => admin::reset_second_factor(store, user, Some(&by))
            .await
            .map(|(had, n)| {
                (
                    format!("user/{id} ({n} sessions ended)"),
                    if had {
                        format!("Second factor removed; {n} session(s) ended.")
                    } else {
                        "That user had no second factor.".to_owned()
                    },
                )
            })
            .map_err(ApiError::from),
        _ => return Err(not_found()),
    };
    let note = result.as_ref().ok().map(|(target, _)| {
        let kind = match action {
            "disable" => "user.disable",
            "enable" => "user.enable",
            "reset-second-factor" => "factor.reset",
            _ => "user.sign-out",
        };
        AuditNote::new(kind, target.clone())
    });
    if matches!(result, Err(ApiError::NotFound(_))) {
        return Err(not_found());
    }
    Ok(UserChange {
        note,
        flash: result.map(|(_, flash)| flash),
        signed_out_self: action == "sign-out" && caller.user.as_ref().is_some_and(|u| u.id == user),
    })
}

/// Disables, enables or signs out a user (`action` from the path).
pub(crate) async fn user_action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, action)): Path<(i64, String)>,
    WebForm(f): WebForm<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    let c = change_user(&state, &caller, id, &action).await?;
    // Signing oneself out ends this session too: back to the sign-in page.
    if c.signed_out_self {
        return Ok(with_note(
            c.note,
            axum::response::Redirect::to("/login").into_response(),
        ));
    }
    let page = users_page(&state, &caller, Some(c.flash)).await?;
    Ok(with_note(c.note, page))
}

// ---- trust groups ----

struct GroupCard {
    group: TrustGroup,
    kind: &'static str,
    /// (member name, role, member id), or `None` when the list is hidden
    /// from the caller.
    roster: Option<Vec<(String, String, i64)>>,
    /// The caller may admit and remove members (an operator administrator,
    /// or an owner of the group).
    manages: bool,
}

#[derive(askama::Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    layout: Layout,
    groups: Vec<GroupCard>,
    members: Vec<Member>,
    clearances: Vec<&'static str>,
}

async fn groups_page(
    state: &AppState,
    caller: &Caller,
    flash: Option<Flash>,
) -> Result<Response, ApiError> {
    let members = state.store.members().await?;
    let names: HashMap<MemberId, String> =
        members.iter().map(|m| (m.id, m.name.to_string())).collect();
    let mut cards = Vec::new();
    for g in state.store.groups().await? {
        if !records::may_see(state, caller, &records::group(&g)) {
            continue;
        }
        let roster = state.store.group_members(g.id).await?;
        let visible = records::may_see(state, caller, &records::group_roster(&g, &roster));
        let owner = roster
            .iter()
            .any(|m| m.member == caller.member.id && m.role == GroupRole::Owner);
        let manages = caller
            .require(&isx_policy::Action::ManageGroupMembers { owner })
            .is_ok();
        let roster = visible.then(|| {
            roster
                .iter()
                .map(|m| {
                    (
                        names.get(&m.member).cloned().unwrap_or_default(),
                        m.role.to_string(),
                        m.member.0,
                    )
                })
                .collect()
        });
        cards.push(GroupCard {
            kind: kind_label(&g),
            group: g,
            roster,
            manages,
        });
    }
    let (l, status) = apply(layout(caller, "Trust groups", "groups"), flash.as_ref());
    // The member list to admit from: an owner may add members it knows by
    // id, but only administrators see every member's name.
    let members = if caller.is_admin() {
        members
    } else {
        Vec::new()
    };
    let page = GroupsPage {
        layout: l,
        groups: cards,
        members,
        clearances: Clearance::ALL.iter().map(|c| c.as_str()).collect(),
    };
    Ok((status, render(&page)?).into_response())
}

pub(crate) async fn groups(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    groups_page(&state, &caller, None).await
}

#[derive(Deserialize)]
pub(crate) struct GroupForm {
    csrf: String,
    name: String,
    #[serde(default)]
    description: String,
    kind: String,
    #[serde(default)]
    agreement: String,
    #[serde(default)]
    min_clearance: String,
    #[serde(default)]
    ends_at: String,
    owner: i64,
    #[serde(default)]
    hide_members: Option<String>,
}

pub(crate) async fn create_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<GroupForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    caller.require_admin().map_err(|_| not_found())?;
    let result = async {
        let kind = if f.kind == "formal" {
            TrustGroupKind::Formal {
                agreement: f.agreement.clone(),
                min_clearance: optional(&f.min_clearance)?.unwrap_or(Clearance::None),
            }
        } else {
            TrustGroupKind::AdHoc {
                ends_at: optional::<Timestamp>(&f.ends_at)?,
            }
        };
        let new = NewTrustGroup {
            name: f.name.clone(),
            description: f.description.clone(),
            kind,
            hide_members: f.hide_members.is_some(),
        };
        Ok::<_, ApiError>(
            admin::create_group(
                state.store.as_ref(),
                state.clock.as_ref(),
                &new,
                MemberId(f.owner),
            )
            .await?,
        )
    }
    .await;
    let note = result
        .as_ref()
        .ok()
        .map(|g| AuditNote::new("group.create", format!("group/{}", g.id)));
    let page = groups_page(
        &state,
        &caller,
        Some(result.map(|g| format!("Trust group {} created.", g.name))),
    )
    .await?;
    Ok(with_note(note, page))
}

/// Removes a member from a group (its owners and operator administrators;
/// a member may leave).
pub(crate) async fn remove_from_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, member)): Path<(i64, i64)>,
    WebForm(f): WebForm<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    let g = state
        .store
        .group(GroupId(id))
        .await?
        .filter(|g| records::may_see(&state, &caller, &records::group(g)))
        .ok_or_else(not_found)?;
    let result = admin::remove_group_member(
        state.store.as_ref(),
        g.id,
        MemberId(member),
        Some(&caller.authority()),
    )
    .await
    .map_err(ApiError::from);
    let note = result
        .as_ref()
        .ok()
        .map(|_| AuditNote::new("group.remove", format!("group/{}/member/{member}", g.id)));
    let page = groups_page(
        &state,
        &caller,
        Some(result.map(|_| format!("Member {member} removed from {}.", g.name))),
    )
    .await?;
    Ok(with_note(note, page))
}

#[derive(Deserialize)]
pub(crate) struct JoinForm {
    csrf: String,
    member: i64,
    role: String,
}

pub(crate) async fn join_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    WebForm(f): WebForm<JoinForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    let result = async {
        let role: GroupRole = f.role.parse()?;
        Ok::<_, ApiError>(
            admin::join_group(
                state.store.as_ref(),
                state.clock.as_ref(),
                GroupId(id),
                MemberId(f.member),
                role,
                Some(&caller.authority()),
            )
            .await?,
        )
    }
    .await;
    let note = result.as_ref().ok().map(|m| {
        AuditNote::new(
            "group.join",
            format!("group/{}/member/{}", m.group, m.member),
        )
    });
    let page = groups_page(
        &state,
        &caller,
        Some(result.map(|m| format!("Member {} is now {} of the group.", m.member, m.role))),
    )
    .await?;
    Ok(with_note(note, page))
}

// ---- audit log (operator administrators) ----

#[derive(askama::Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    events: Vec<AuditEvent>,
    older: Option<i64>,
}

#[derive(Deserialize)]
pub(crate) struct AuditParams {
    before: Option<i64>,
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(p): Query<AuditParams>,
) -> Result<Response, ApiError> {
    if !records::may_see(&state, &caller, &records::operator_data()) {
        return Err(not_found());
    }
    state.audit.flush().await;
    let events = state
        .store
        .audit_events(&AuditQuery {
            before_id: p.before,
            limit: 100,
            ..Default::default()
        })
        .await?;
    let older = (events.len() == 100)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    Ok(render(&AuditPage {
        layout: layout(&caller, "Audit log", "audit"),
        events,
        older,
    })?
    .into_response())
}
