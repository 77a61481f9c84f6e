//! The organisation page: a member's administrators (and the operator's,
//! for their own organisation) manage their organisation's users, client
//! certificates and webhook. Every change is `isx_app::admin`'s, decided
//! by `authorize` — the same use cases as the API and the CLI.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use isx_app::admin;
use isx_domain::{Login, UserRole};
use serde::Deserialize;

use super::pages::{apply, change_user, layout, not_found, with_note, CsrfForm, Flash, Layout};
use super::{check_csrf, render};
use crate::audit::AuditNote;
use crate::auth::Caller;
use crate::extract::WebForm;
use crate::problem::ApiError;
use crate::AppState;

struct UserRow {
    id: i64,
    login: String,
    role: String,
    disabled: bool,
    sso: bool,
}

struct CertRow {
    fingerprint: String,
    subject: String,
    not_after: String,
    status: &'static str,
}

/// A certificate just issued: shown once.
pub(super) struct IssuedView {
    fingerprint: String,
    cert_pem: String,
    key_pem: String,
}

#[derive(askama::Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    layout: Layout,
    member_name: String,
    users: Vec<UserRow>,
    certs: Vec<CertRow>,
    webhook_url: Option<String>,
    /// The age recipients its own files are encrypted to, one per line.
    recipients: String,
    issued: Option<IssuedView>,
}

/// The caller may administer its organisation.
fn admits(caller: &Caller) -> Result<(), ApiError> {
    caller
        .require(&isx_policy::Action::ManageMemberSettings {
            member: caller.member.id,
        })
        .map_err(|_| not_found())
}

async fn page(
    state: &AppState,
    caller: &Caller,
    flash: Option<Flash>,
    issued: Option<IssuedView>,
) -> Result<Response, ApiError> {
    admits(caller)?;
    let member = caller.member.id;
    let mut users = Vec::new();
    for u in state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.member == member)
    {
        let sso = !state.store.sso_identities_of(u.id).await?.is_empty();
        users.push(UserRow {
            id: u.id.0,
            login: u.login.to_string(),
            role: u.role.to_string(),
            disabled: u.is_disabled(),
            sso,
        });
    }
    let now = state.clock.now();
    let certs = admin::certificates(state.store.as_ref(), Some(&caller.authority()), None)
        .await?
        .into_iter()
        .map(|c| CertRow {
            status: if c.revoked_at.is_some() {
                "revoked"
            } else if c.not_after <= now {
                "expired"
            } else {
                "active"
            },
            fingerprint: c.fingerprint,
            subject: c.subject,
            not_after: c.not_after.to_rfc3339(),
        })
        .collect();
    let webhook_url = state.store.webhook(member).await?.map(|w| w.url);
    let recipients = state.store.recipients(member).await?.join("\n");
    let (l, status) = apply(
        layout(caller, "Organisation", "organisation"),
        flash.as_ref(),
    );
    Ok((
        status,
        render(&OrganisationPage {
            layout: l,
            member_name: caller.member.name.to_string(),
            users,
            certs,
            webhook_url,
            recipients,
            issued,
        })?,
    )
        .into_response())
}

pub(crate) async fn organisation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    page(&state, &caller, None, None).await
}

#[derive(Deserialize)]
pub(crate) struct NewUserForm {
    csrf: String,
    login: String,
    password: String,
    role: String,
}

/// Adds a user to the caller's own organisation (`member` or
/// `member-admin`).
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<NewUserForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    admits(&caller)?;
    let member = caller.member.id;
    let result = async {
        let login = Login::new(&f.login)?;
        let role: UserRole = f.role.parse()?;
        caller.require(&isx_policy::Action::ManageUser { member, role })?;
        Ok::<_, ApiError>(
            admin::create_user(
                state.store.as_ref(),
                state.clock.as_ref(),
                &login,
                &f.password,
                member,
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
    let p = page(
        &state,
        &caller,
        Some(result.map(|u| format!("User {} added.", u.login))),
        None,
    )
    .await?;
    Ok(with_note(note, p))
}

/// Disables, enables, signs out or resets the factor of one of the
/// organisation's users.
pub(crate) async fn user_action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, action)): Path<(i64, String)>,
    WebForm(f): WebForm<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    admits(&caller)?;
    let c = change_user(&state, &caller, id, &action).await?;
    if c.signed_out_self {
        return Ok(with_note(
            c.note,
            axum::response::Redirect::to("/login").into_response(),
        ));
    }
    let p = page(&state, &caller, Some(c.flash), None).await?;
    Ok(with_note(c.note, p))
}

#[derive(Deserialize)]
pub(crate) struct IssueForm {
    csrf: String,
    days: i64,
}

/// Issues a client certificate for the organisation: the page shows the
/// certificate and its key once.
pub(crate) async fn issue_certificate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<IssueForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    admits(&caller)?;
    let result = admin::issue_certificate(
        state.store.as_ref(),
        state.clock.as_ref(),
        &state.settings.data_dir,
        Some(&caller.authority()),
        caller.member.id,
        f.days,
    )
    .await;
    match result {
        Ok(i) => {
            let fp = i.record.fingerprint.clone();
            let p = page(
                &state,
                &caller,
                Some(Ok(
                    "Certificate issued: save the key now, it is not shown again.".into(),
                )),
                Some(IssuedView {
                    fingerprint: fp.clone(),
                    cert_pem: i.cert_pem,
                    key_pem: i.key_pem,
                }),
            )
            .await?;
            Ok(with_note(
                Some(AuditNote::new("cert.issue", format!("cert/{fp}"))),
                p,
            ))
        }
        Err(e) => page(&state, &caller, Some(Err(e.into())), None).await,
    }
}

/// Revokes one of the organisation's certificates.
pub(crate) async fn revoke_certificate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(fingerprint): Path<String>,
    WebForm(f): WebForm<CsrfForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    admits(&caller)?;
    let result = admin::revoke_certificate(
        state.store.as_ref(),
        state.clock.as_ref(),
        Some(&caller.authority()),
        &fingerprint,
    )
    .await
    .map_err(ApiError::from);
    if matches!(result, Err(ApiError::NotFound(_))) {
        return Err(not_found());
    }
    let note = result
        .as_ref()
        .ok()
        .map(|_| AuditNote::new("cert.revoke", format!("cert/{fingerprint}")));
    let p = page(
        &state,
        &caller,
        Some(result.map(|_| "Certificate revoked.".to_owned())),
        None,
    )
    .await?;
    Ok(with_note(note, p))
}

#[derive(Deserialize)]
pub(crate) struct WebhookForm {
    csrf: String,
    url: String,
    secret: String,
}

/// Sets where the organisation's release notifications go.
pub(crate) async fn set_webhook(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<WebhookForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    admits(&caller)?;
    let result = admin::set_webhook(
        state.store.as_ref(),
        state.clock.as_ref(),
        Some(&caller.authority()),
        caller.member.id,
        f.url.trim(),
        &f.secret,
        state.config.webhook_allow_private,
    )
    .await
    .map_err(ApiError::from);
    let note = result
        .as_ref()
        .ok()
        .map(|()| AuditNote::new("webhook.put", format!("member/{}", caller.member.id)));
    let p = page(
        &state,
        &caller,
        Some(result.map(|()| "Webhook saved.".to_owned())),
        None,
    )
    .await?;
    Ok(with_note(note, p))
}

#[derive(Deserialize)]
pub(crate) struct RecipientsForm {
    csrf: String,
    /// One age recipient per line; empty: plain files.
    recipients: String,
}

/// Sets the age recipients the organisation's own files are encrypted to.
pub(crate) async fn set_recipients(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    WebForm(f): WebForm<RecipientsForm>,
) -> Result<Response, ApiError> {
    check_csrf(&caller, &f.csrf)?;
    admits(&caller)?;
    let list: Vec<String> = f
        .recipients
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let result = isx_app::sealing::set_recipients(
        state.store.as_ref(),
        state.clock.as_ref(),
        Some(&caller.authority()),
        caller.member.id,
        &list,
    )
    .await
    .map_err(ApiError::from);
    let note = result.as_ref().ok().map(|stored| {
        AuditNote::new(
            "recipients.put",
            format!("member/{} [{}]", caller.member.id, stored.join(" ")),
        )
    });
    let p = page(
        &state,
        &caller,
        Some(result.map(|stored| {
            if stored.is_empty() {
                "Your own files are delivered plain.".to_owned()
            } else {
                format!("Your own files are encrypted to {} key(s).", stored.len())
            }
        })),
        None,
    )
    .await?;
    Ok(with_note(note, p))
}
