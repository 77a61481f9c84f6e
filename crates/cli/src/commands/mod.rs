//! One module per command family.

mod advisories;
mod botnet;
mod cert;
mod cleanfiles;
mod demo;
mod demo_advisories;
mod demo_botnet;
mod demo_cleanfiles;
mod demo_partnership;
mod demo_urls;
mod demo_world;
mod group;
mod key;
mod member;
mod partnership;
mod release;
mod scan;
mod serve;
mod sso;
mod urls;
mod user;

use std::sync::Arc;

use anyhow::Context;
use isx_domain::{Clock, GroupId, Member, MemberId, SystemClock, TrustGroup};
use isx_store::Store;

use crate::args::Command;
use crate::config::Settings;

pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve::serve(&settings, &args).await,
        Command::Demo(args) => demo::run(&settings, &args).await,
        Command::Migrate => {
            let ctx = Ctx::open(&settings).await?;
            crate::output::print(&format!(
                "database is up to date ({:?})",
                ctx.store.backend()
            ))
        }
        Command::Member(c) => member::run(&Ctx::open(&settings).await?, c).await,
        Command::Key(c) => key::run(&Ctx::open(&settings).await?, c).await,
        Command::User(c) => user::run(&Ctx::open(&settings).await?, c).await,
        Command::Cert(c) => cert::run(&Ctx::open(&settings).await?, &settings, c).await,
        Command::Sso(c) => sso::run(&Ctx::open(&settings).await?, &settings, c).await,
        Command::Group(c) => group::run(&Ctx::open(&settings).await?, c).await,
        Command::Partnership(c) => {
            partnership::run(&Ctx::open(&settings).await?, &settings, c).await
        }
        Command::Release(c) => release::run(&Ctx::open(&settings).await?, c).await,
        Command::Advisories(c) => advisories::run(&Ctx::open(&settings).await?, c).await,
        Command::Urls(c) => urls::run(&Ctx::open(&settings).await?, &settings, c).await,
        Command::Botnet(c) => botnet::run(&Ctx::open(&settings).await?, &settings, c).await,
        Command::Cleanfiles(c) => cleanfiles::run(&Ctx::open(&settings).await?, &settings, c).await,
        Command::Scan(args) => scan::run(&settings, &args).await,
    }
}

/// What an administrative command works with: the store (migrated) and the
/// clock, plus how the audit log names the person at the terminal.
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub actor: String,
}

impl Ctx {
    pub async fn open(settings: &Settings) -> anyhow::Result<Ctx> {
        let data_dir = settings.data_dir_or("isx-data");
        let url = settings.store_url(&data_dir)?;
        let store = isx_store::open(&url)
            .await
            .with_context(|| format!("cannot open the store {}", isx_store::redact_url(&url)))?;
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Ok(Ctx {
            store,
            clock: Arc::new(SystemClock),
            actor: format!("cli:{user}"),
        })
    }

    pub async fn audit(
        &self,
        member: Option<MemberId>,
        action: &str,
        target: &str,
    ) -> anyhow::Result<()> {
        isx_app::admin::record(
            self.store.as_ref(),
            self.clock.as_ref(),
            &self.actor,
            member,
            action,
            target,
        )
        .await?;
        Ok(())
    }

    /// A member by id or exact name.
    pub async fn member(&self, reference: &str) -> anyhow::Result<Member> {
        let found = match reference.parse::<i64>() {
            Ok(id) => self.store.member(MemberId(id)).await?,
            Err(_) => self.store.member_by_name(reference).await?,
        };
        found.with_context(|| {
            format!("no member {reference:?} (give its id or exact name; see `isx member list`)")
        })
    }

    /// A trust group by id or exact name.
    pub async fn group(&self, reference: &str) -> anyhow::Result<TrustGroup> {
        let found = match reference.parse::<i64>() {
            Ok(id) => self.store.group(GroupId(id)).await?,
            Err(_) => self.store.group_by_name(reference).await?,
        };
        found.with_context(|| format!("no trust group {reference:?} (see `isx group list`)"))
    }
}
