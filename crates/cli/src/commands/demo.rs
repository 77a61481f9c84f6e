//! `isx demo`: a generated demo world on the embedded default, served over
//! HTTPS, with credentials printed. The world is made of fictitious
//! organisations on documentation address space (RFC 5737, RFC 3849) and
//! documentation AS numbers (RFC 5398), so nothing points at real victims;
//! `demo_world` describes it, this module resets the directory, serves and
//! prints.

use std::path::Path;

use anyhow::Context;

use super::demo_world::{self, World};
use super::serve;
use super::Ctx;
use crate::args::ServeArgs;
use crate::config::Settings;

const MARKER: &str = ".isx-demo";

pub async fn run(settings: &Settings, args: &ServeArgs) -> anyhow::Result<()> {
    if settings.database_url().is_some() {
        anyhow::bail!("`isx demo` always uses the embedded store in its own data directory; drop --database-url (or ISX_DATABASE_URL)");
    }
    let data_dir = settings.data_dir_or("isx-demo");
    reset(&data_dir)?;
    let url = settings.store_url(&data_dir)?;
    let store = isx_store::open(&url)
        .await
        .with_context(|| format!("cannot open the demo store {url}"))?;
    let ctx = Ctx {
        store: store.clone(),
        clock: std::sync::Arc::new(isx_domain::SystemClock),
        actor: "demo".into(),
    };
    let instance = serve::server_config(settings, args, data_dir.clone())?.instance_name;
    let world = demo_world::seed(&ctx, &instance).await?;
    let client = demo_client_cert(&ctx, &world, &data_dir).await?;
    let app = serve::build(settings, args, data_dir.clone(), store).await?;
    let ca = app.ca_path().map(|p| p.display().to_string());
    let mut text = banner(&world, &app.base_url(), ca.as_deref());
    if let (Some(ca), Some((who, dir))) = (ca.as_deref(), client) {
        let tail = text.split_off(text.find("  CSAF trusted provider").unwrap_or(text.len()));
        text.push_str(&format!(
            "        curl --cacert {ca} --cert {d}/cert.pem --key {d}/key.pem {}/api/v1/me   (client certificate of {who})\n",
            app.base_url(),
            d = dir.display()
        ));
        text.push_str(&tail);
    }
    crate::output::print(&text)?;
    serve::run(app).await
}

/// A client certificate (mTLS) for the second demo member with a key,
/// written to `DATA_DIR/demo-client/`: who it is for, and where.
async fn demo_client_cert(
    ctx: &Ctx,
    world: &World,
    data_dir: &Path,
) -> anyhow::Result<Option<(String, std::path::PathBuf)>> {
    let Some((name, _)) = world.keys.get(1) else {
        return Ok(None);
    };
    let Some(member) = ctx.store.member_by_name(name).await? else {
        return Ok(None);
    };
    let issued = isx_app::admin::issue_certificate(
        ctx.store.as_ref(),
        ctx.clock.as_ref(),
        data_dir,
        None,
        member.id,
        30,
    )
    .await?;
    let dir = data_dir.join("demo-client");
    isx_app::files::private_dir(&dir)?;
    isx_app::files::write_private(&dir.join("key.pem"), issued.key_pem.as_bytes())?;
    std::fs::write(dir.join("cert.pem"), &issued.cert_pem)
        .with_context(|| format!("cannot write {}", dir.display()))?;
    Ok(Some((name.clone(), dir)))
}

/// Empties the demo data directory (keeping the TLS certificate so that a
/// trusted demo CA stays trusted), refusing to touch a directory that was not
/// made by `isx demo`.
fn reset(dir: &Path) -> anyhow::Result<()> {
    let marker = dir.join(MARKER);
    if dir.exists() && !marker.exists() && std::fs::read_dir(dir)?.next().is_some() {
        anyhow::bail!(
            "{} exists and was not created by `isx demo`; refusing to reset it (choose another --data-dir)",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("isx.sqlite") {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    std::fs::write(
        &marker,
        "created by `isx demo`; the demo resets this directory on every start\n",
    )?;
    Ok(())
}

/// What `isx demo` prints once it serves: where, how to sign in, the keys,
/// and two commands to try them with.
fn banner(world: &World, base: &str, ca: Option<&str>) -> String {
    let mut text = format!("\nisx demo is running at {base}\n\n");
    for u in &world.sign_ins {
        let who = format!("{}:", u.who);
        text.push_str(&format!(
            "  Sign in as {who:<29}login {}  password {}\n",
            u.login, u.password
        ));
    }
    text.push_str("\n  Demo API keys (send as Authorization: Bearer <key>):\n");
    for (who, token) in &world.keys {
        text.push_str(&format!("    {who:<32} {token}\n"));
    }
    let token = |i: usize| world.keys.get(i).map_or("", |(_, t)| t.as_str());
    match ca {
        Some(ca) => {
            text.push_str(&format!(
                "\n  The certificate is self-signed by a local CA: trust {ca}\n"
            ));
            text.push_str(&format!(
                "  Try:  curl --cacert {ca} -H 'Authorization: Bearer {}' {base}/api/v1/me\n",
                token(0)
            ));
            text.push_str(&format!(
                "        curl --cacert {ca} -u {} {base}/lookup/sha256/<hash>   (CIRCL hashlookup API)\n",
                basic(token(1))
            ));
        }
        None => text.push_str(&format!(
            "\n  Try:  curl -H 'Authorization: Bearer {}' {base}/api/v1/me\n",
            token(0)
        )),
    }
    text.push_str(&format!(
        "  CSAF trusted provider: {base}/.well-known/csaf/provider-metadata.json (signed; white/ needs no key)\n"
    ));
    text.push_str(&format!(
        "  OpenAPI: {base}/api/openapi.json   Metrics: {base}/metrics\n\nPress Ctrl-C to stop.\n"
    ));
    text
}

/// `key_id:secret` of an API key (HTTP Basic, as hashlookup clients send).
fn basic(token: &str) -> String {
    token
        .split_once('_')
        .and_then(|(_, rest)| rest.split_once('_'))
        .map(|(id, secret)| format!("{id}:{secret}"))
        .unwrap_or_default()
}
