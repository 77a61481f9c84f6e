//! `isx cert`: client certificates (mTLS) for members' machines.

use anyhow::Context;

use super::Ctx;
use crate::args::CertCommand;
use crate::config::Settings;
use crate::output;

pub async fn run(ctx: &Ctx, settings: &Settings, command: CertCommand) -> anyhow::Result<()> {
    match command {
        CertCommand::Issue { member, out, days } => {
            let m = ctx.member(&member).await?;
            if !(1..=3650).contains(&days) {
                anyhow::bail!("--days must be between 1 and 3650");
            }
            let data_dir = settings.data_dir_or("isx-data");
            let key = out.join("key.pem");
            let cert = out.join("cert.pem");
            if key.exists() || cert.exists() {
                anyhow::bail!(
                    "{} already holds a certificate; choose another --out",
                    out.display()
                );
            }
            if !out.exists() {
                isx_app::files::private_dir(&out)
                    .with_context(|| format!("cannot create {}", out.display()))?;
            }
            let issued = isx_app::admin::issue_certificate(
                ctx.store.as_ref(),
                ctx.clock.as_ref(),
                &data_dir,
                None,
                m.id,
                days,
            )
            .await?;
            isx_app::files::write_private(&key, issued.key_pem.as_bytes())
                .with_context(|| format!("cannot write {}", key.display()))?;
            std::fs::write(&cert, &issued.cert_pem)
                .with_context(|| format!("cannot write {}", cert.display()))?;
            ctx.audit(
                Some(m.id),
                "cert.issue",
                &format!("cert/{} ({})", issued.record.fingerprint, m.name),
            )
            .await?;
            output::print(&format!(
                "issued a client certificate for {} until {}\n  {}\n  {}\nfingerprint {}",
                m.name,
                issued.record.not_after,
                cert.display(),
                key.display(),
                issued.record.fingerprint
            ))
        }
        CertCommand::List { member, json } => {
            let m = match member {
                Some(name) => Some(ctx.member(&name).await?.id),
                None => None,
            };
            let certs = ctx.store.client_certs(m).await?;
            if json.json {
                return output::json(&certs);
            }
            let now = ctx.clock.now();
            let rows: Vec<Vec<String>> = certs
                .iter()
                .map(|c| {
                    let status = if c.revoked_at.is_some() {
                        "revoked"
                    } else if c.not_after <= now {
                        "expired"
                    } else {
                        "active"
                    };
                    vec![
                        c.fingerprint.clone(),
                        c.member.to_string(),
                        c.subject.clone(),
                        c.not_after.to_rfc3339(),
                        status.to_owned(),
                    ]
                })
                .collect();
            output::table(
                &["FINGERPRINT", "MEMBER", "SUBJECT", "UNTIL", "STATUS"],
                &rows,
            )
        }
        CertCommand::Trust { file } => {
            let pem = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let ca = isx_app::client_ca::trust(ctx.store.as_ref(), &pem, ctx.clock.now()).await?;
            ctx.audit(None, "cert.ca.trust", &format!("ca/{}", ca.fingerprint))
                .await?;
            output::print(&format!(
                "trusted {} ({}): every server counts it within 30 seconds\nregister its certificates with `isx cert register`",
                ca.subject, ca.fingerprint
            ))
        }
        CertCommand::Untrust { fingerprint } => {
            let fp = fingerprint.trim().replace(':', "").to_ascii_lowercase();
            if !ctx.store.delete_client_ca(&fp).await? {
                anyhow::bail!("no CA of yours {fp} (see `isx cert cas`; isx's own CA stays)");
            }
            ctx.audit(None, "cert.ca.untrust", &format!("ca/{fp}"))
                .await?;
            output::print(&format!(
                "no longer trusted: {fp} (every server refuses its certificates within 30 seconds)"
            ))
        }
        CertCommand::Cas { json } => {
            let cas = ctx.store.client_cas().await?;
            if json.json {
                return output::json(&cas);
            }
            let rows: Vec<Vec<String>> = cas
                .iter()
                .map(|c| vec![c.fingerprint.clone(), c.origin.clone(), c.subject.clone()])
                .collect();
            output::table(&["FINGERPRINT", "ORIGIN", "SUBJECT"], &rows)
        }
        CertCommand::Register { member, file } => {
            let m = ctx.member(&member).await?;
            let pem = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let c =
                isx_app::client_ca::register(ctx.store.as_ref(), &m, &pem, ctx.clock.now()).await?;
            ctx.audit(
                Some(m.id),
                "cert.register",
                &format!("cert/{} ({})", c.fingerprint, m.name),
            )
            .await?;
            output::print(&format!(
                "registered {} for {} until {}\nfingerprint {}",
                c.subject, m.name, c.not_after, c.fingerprint
            ))
        }
        CertCommand::Revoke { fingerprint } => {
            // As `isx cert list` shows it, or as openssl does (AB:CD:…).
            let fp = fingerprint.trim().replace(':', "").to_ascii_lowercase();
            let cert = ctx
                .store
                .client_cert(&fp)
                .await?
                .with_context(|| format!("no client certificate {fp}"))?;
            let done = ctx.store.revoke_client_cert(&fp, ctx.clock.now()).await?;
            ctx.audit(Some(cert.member), "cert.revoke", &format!("cert/{fp}"))
                .await?;
            if done {
                output::print(&format!("revoked {fp}"))
            } else {
                output::print(&format!("{fp} was revoked already"))
            }
        }
    }
}
