use isx_domain::{KeyId, Timestamp};

use super::Ctx;
use crate::args::KeyCommand;
use crate::output;

pub async fn run(ctx: &Ctx, command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create {
            member,
            name,
            expires,
            role,
            json,
        } => {
            let m = ctx.member(&member).await?;
            let expires = expires.as_deref().map(Timestamp::parse).transpose()?;
            let spec = isx_app::admin::KeySpec {
                member: m.id,
                name: &name,
                role,
                expires_at: expires,
            };
            let (key, token) =
                isx_app::admin::create_api_key(ctx.store.as_ref(), ctx.clock.as_ref(), None, &spec)
                    .await?;
            ctx.audit(Some(m.id), "key.create", &format!("key/{}", key.key_id))
                .await?;
            if json.json {
                output::json(&serde_json::json!({ "key": key, "token": token.expose() }))
            } else {
                output::print(&format!(
                    "created key {} for {}\n\n    {}\n\nThis is the only time the key is shown; isx stores only its hash.\nUse it as: Authorization: Bearer <key>",
                    key.key_id,
                    m.name,
                    token.expose()
                ))
            }
        }
        KeyCommand::List { member, json } => {
            let member = match member {
                Some(r) => Some(ctx.member(&r).await?.id),
                None => None,
            };
            let keys = ctx.store.api_keys(member).await?;
            if json.json {
                return output::json(&keys);
            }
            let now = ctx.clock.now();
            let opt =
                |t: Option<Timestamp>| t.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into());
            let rows: Vec<Vec<String>> = keys
                .iter()
                .map(|k| {
                    let status = if k.revoked_at.is_some() {
                        "revoked"
                    } else if k.is_active(now) {
                        "active"
                    } else {
                        "expired"
                    };
                    vec![
                        k.key_id.to_string(),
                        k.member.to_string(),
                        k.name.clone(),
                        status.into(),
                        k.created_at.to_rfc3339(),
                        opt(k.expires_at),
                        opt(k.last_used_at),
                    ]
                })
                .collect();
            output::table(
                &[
                    "KEY ID",
                    "MEMBER",
                    "NAME",
                    "STATUS",
                    "CREATED",
                    "EXPIRES",
                    "LAST USED",
                ],
                &rows,
            )
        }
        KeyCommand::Revoke { key_id } => {
            let id = KeyId::new(&key_id)?;
            let key =
                isx_app::admin::revoke_api_key(ctx.store.as_ref(), ctx.clock.as_ref(), &id, None)
                    .await?;
            ctx.audit(Some(key.member), "key.revoke", &format!("key/{id}"))
                .await?;
            output::print(&format!("revoked key {id}"))
        }
    }
}
