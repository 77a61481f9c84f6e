use std::io::Read;

use anyhow::Context;
use isx_domain::Login;

use super::Ctx;
use crate::args::UserCommand;
use crate::output;

pub async fn run(ctx: &Ctx, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            login,
            member,
            role,
            password_stdin,
            json,
        } => {
            let m = ctx.member(&member).await?;
            let login = Login::new(&login)?;
            let (password, generated) = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("cannot read the password from standard input")?;
                (s.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else if let Ok(p) = std::env::var("ISX_PASSWORD") {
                (p, false)
            } else {
                (isx_app::identity::random_hex32()[..24].to_owned(), true)
            };
            let u = isx_app::admin::create_user(
                ctx.store.as_ref(),
                ctx.clock.as_ref(),
                &login,
                &password,
                m.id,
                role.parse()?,
            )
            .await?;
            ctx.audit(Some(m.id), "user.create", &format!("user/{}", u.login))
                .await?;
            let shown = generated.then_some(password);
            if json.json {
                output::json(&serde_json::json!({ "user": u, "generated_password": shown }))
            } else {
                let mut text = format!("added user {} ({}) for {}", u.login, u.role, m.name);
                if let Some(p) = shown {
                    text.push_str(&format!("\ngenerated password (shown once): {p}"));
                }
                output::print(&text)
            }
        }
        UserCommand::List(j) => {
            let users = ctx.store.users().await?;
            if j.json {
                return output::json(&users);
            }
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| {
                    vec![
                        u.id.to_string(),
                        u.login.to_string(),
                        u.member.to_string(),
                        u.role.to_string(),
                        u.created_at.to_rfc3339(),
                        u.disabled_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(
                &["ID", "LOGIN", "MEMBER", "ROLE", "CREATED", "DISABLED"],
                &rows,
            )
        }
        UserCommand::Disable { login, json } => {
            let u = user(ctx, &login).await?;
            let (u, done) =
                isx_app::admin::disable_user(ctx.store.as_ref(), ctx.clock.as_ref(), u.id, None)
                    .await?;
            ctx.audit(
                Some(u.member),
                "user.disable",
                &format!(
                    "user/{} ({} sessions ended, {} keys revoked)",
                    u.login, done.sessions_ended, done.keys_revoked
                ),
            )
            .await?;
            if json.json {
                output::json(&serde_json::json!({ "user": u, "ended": done }))
            } else {
                output::print(&format!(
                    "disabled user {}: {} session(s) ended, {} key(s) revoked",
                    u.login, done.sessions_ended, done.keys_revoked
                ))
            }
        }
        UserCommand::Enable { login, json } => {
            let u = user(ctx, &login).await?;
            let u = isx_app::admin::enable_user(ctx.store.as_ref(), u.id, None).await?;
            ctx.audit(Some(u.member), "user.enable", &format!("user/{}", u.login))
                .await?;
            if json.json {
                output::json(&u)
            } else {
                output::print(&format!("enabled user {}", u.login))
            }
        }
        UserCommand::SignOut { login, json } => {
            let u = user(ctx, &login).await?;
            let n = isx_app::admin::end_sessions(ctx.store.as_ref(), u.id, None).await?;
            ctx.audit(
                Some(u.member),
                "user.sign-out",
                &format!("user/{} ({n} sessions ended)", u.login),
            )
            .await?;
            if json.json {
                output::json(&serde_json::json!({ "sessions_ended": n }))
            } else {
                output::print(&format!("{n} session(s) of {} ended", u.login))
            }
        }
        UserCommand::ResetSecondFactor { login } => {
            let u = user(ctx, &login).await?;
            let (had, n) =
                isx_app::admin::reset_second_factor(ctx.store.as_ref(), u.id, None).await?;
            ctx.audit(
                Some(u.member),
                "factor.reset",
                &format!("user/{} ({n} sessions ended)", u.login),
            )
            .await?;
            if had {
                output::print(&format!(
                    "second factor of {} removed; {n} session(s) ended",
                    u.login
                ))
            } else {
                output::print(&format!("{} had no second factor", u.login))
            }
        }
    }
}

async fn user(ctx: &Ctx, login: &str) -> anyhow::Result<isx_domain::User> {
    let login = Login::new(login)?;
    ctx.store
        .user_by_login(&login)
        .await?
        .with_context(|| format!("no user {login}"))
}
