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
                (isx_server::auth::random_hex32()[..24].to_owned(), true)
            };
            let u = isx_server::admin::create_user(
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
                    ]
                })
                .collect();
            output::table(&["ID", "LOGIN", "MEMBER", "ROLE", "CREATED"], &rows)
        }
    }
}
