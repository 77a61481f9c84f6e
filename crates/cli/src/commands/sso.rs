//! `isx sso`: OpenID Connect providers for web sign-in.

use anyhow::Context;
use isx_app::sso::ProviderSpec;
use isx_domain::UserRole;
use isx_store::SsoMapping;

use super::Ctx;
use crate::args::SsoCommand;
use crate::config::Settings;
use crate::output;

/// Reads `VALUE=MEMBER[:ROLE]`; the member is an id or exact name (which
/// may itself hold ':'; a role is only taken from a last part that is one).
async fn mapping(ctx: &Ctx, text: &str) -> anyhow::Result<SsoMapping> {
    let (value, rest) = text
        .rsplit_once('=')
        .filter(|(v, m)| !v.is_empty() && !m.is_empty())
        .with_context(|| format!("--map {text:?}: expected VALUE=MEMBER[:ROLE]"))?;
    let (member, role) = match rest.rsplit_once(':') {
        Some((m, r)) if r.parse::<UserRole>().is_ok() => (m, r.parse::<UserRole>()?),
        _ => (rest, UserRole::Member),
    };
    let m = ctx.member(member).await?;
    Ok(SsoMapping {
        value: value.to_owned(),
        member: m.id,
        role,
    })
}

pub async fn run(ctx: &Ctx, settings: &Settings, command: SsoCommand) -> anyhow::Result<()> {
    match command {
        SsoCommand::Add {
            name,
            issuer,
            client_id,
            client_secret,
            client_secret_file,
            display,
            claim,
            login_claim,
            map,
            scope,
            create_users,
            ca_file,
        } => {
            let client_secret = match (client_secret, client_secret_file) {
                (Some(s), _) => s,
                (None, Some(f)) => std::fs::read_to_string(&f)
                    .with_context(|| format!("cannot read {}", f.display()))?
                    .trim()
                    .to_owned(),
                (None, None) => anyhow::bail!(
                    "give the client secret: --client-secret-file FILE or ISX_SSO_CLIENT_SECRET"
                ),
            };
            let mut mappings = Vec::new();
            for m in &map {
                mappings.push(mapping(ctx, m).await?);
            }
            let ca_pem = match ca_file {
                Some(f) => Some(
                    std::fs::read_to_string(&f)
                        .with_context(|| format!("cannot read {}", f.display()))?,
                ),
                None => None,
            };
            let scopes = if scope.is_empty() {
                vec!["profile".to_owned(), "email".to_owned()]
            } else {
                scope
            };
            let p = isx_app::sso::configure(
                ctx.store.as_ref(),
                ctx.clock.now(),
                ProviderSpec {
                    name,
                    display_name: display,
                    issuer,
                    client_id,
                    client_secret,
                    scopes,
                    claim,
                    login_claim,
                    mappings,
                    create_users,
                    ca_pem,
                },
            )
            .await?;
            ctx.audit(None, "sso.provider.put", &format!("sso/{}", p.name))
                .await?;
            let public = settings
                .file
                .public_url
                .clone()
                .unwrap_or_else(|| "https://<public URL>".into());
            output::print(&format!(
                "single sign-on provider {} saved ({} mapping(s); users {}).\nRegister this redirect URI at the provider:\n  {}",
                p.name,
                p.mappings.len(),
                if p.create_users {
                    "created at first sign-in"
                } else {
                    "must exist first"
                },
                isx_app::sso::redirect_uri(public.trim_end_matches('/'), &p.name)
            ))
        }
        SsoCommand::List { json } => {
            let all = ctx.store.sso_providers().await?;
            if json.json {
                return output::json(&all);
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        p.issuer.clone(),
                        p.client_id.clone(),
                        p.claim.clone(),
                        p.mappings
                            .iter()
                            .map(|m| format!("{}={}:{}", m.value, m.member, m.role))
                            .collect::<Vec<_>>()
                            .join(" "),
                        if p.create_users { "create" } else { "existing" }.to_owned(),
                    ]
                })
                .collect();
            output::table(
                &["NAME", "ISSUER", "CLIENT", "CLAIM", "MAPPINGS", "USERS"],
                &rows,
            )
        }
        SsoCommand::Unlink { login } => {
            let login = isx_domain::Login::new(&login)?;
            let user = ctx
                .store
                .user_by_login(&login)
                .await?
                .with_context(|| format!("no user {login}"))?;
            let n = ctx.store.unlink_sso_identities(user.id).await?;
            ctx.audit(Some(user.member), "sso.unlink", &format!("user/{login}"))
                .await?;
            output::print(&format!(
                "{login}: {n} provider identit{} unbound",
                if n == 1 { "y" } else { "ies" }
            ))
        }
        SsoCommand::Remove { name } => {
            if !ctx.store.delete_sso_provider(&name).await? {
                anyhow::bail!("no single sign-on provider {name:?} (see `isx sso list`)");
            }
            ctx.audit(None, "sso.provider.remove", &format!("sso/{name}"))
                .await?;
            output::print(&format!("removed single sign-on provider {name}"))
        }
    }
}
