//! The application's use cases on a real SQLite store with a manual
//! clock: no TLS, no HTTP. Each test drives a service as the server and the
//! CLI do, with callers authenticated by real API keys.

use std::sync::Arc;

use isx_app::admin::{self, KeySpec};
use isx_app::identity::{caller_from_token, Caller};
use isx_app::{App, AppError, Settings};
use isx_domain::{
    Clearance, Clock, Constituency, GroupRole, ManualClock, Member, MemberKind, MemberName,
    NewMember, NewTrustGroup, Tier, Timestamp, Tlp, TrustGroupKind,
};
use serde_json::json;

const DAY: i64 = 86_400;

struct World {
    app: App,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = isx_store::open(&dir.path().join("isx.sqlite").display().to_string())
            .await
            .expect("store");
        let clock = Arc::new(ManualClock::new(
            Timestamp::parse("2026-06-01T12:00:00Z").expect("time"),
        ));
        let settings = Settings::new(dir.path().to_owned());
        let app = App::new(settings, store, clock.clone()).expect("app");
        World {
            app,
            clock,
            _dir: dir,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    async fn member(&self, name: &str, kind: MemberKind, tier: Tier, c: Constituency) -> Member {
        let new = NewMember {
            name: MemberName::new(name).expect("name"),
            kind,
            country: Some("NL".parse().expect("country")),
            tier,
            clearance: Clearance::Confidential,
            constituency: c.normalise(),
        };
        admin::create_member(self.app.store.as_ref(), self.clock.as_ref(), &new)
            .await
            .expect("member")
    }

    /// An enterprise of the standard tier with no constituency.
    async fn plain_member(&self, name: &str) -> Member {
        self.member(
            name,
            MemberKind::Enterprise,
            Tier::Standard,
            Constituency::default(),
        )
        .await
    }

    /// An ad-hoc trust group owned by `owner`.
    async fn group(&self, owner: &Member) -> isx_domain::TrustGroup {
        admin::create_group(
            self.app.store.as_ref(),
            self.clock.as_ref(),
            &NewTrustGroup {
                name: "Water ISAC".into(),
                description: String::new(),
                kind: TrustGroupKind::AdHoc { ends_at: None },
                hide_members: false,
            },
            owner.id,
        )
        .await
        .expect("group")
    }

    /// A caller as the server sees one: a key minted for the member, then
    /// authenticated.
    async fn caller(&self, m: &Member) -> Caller {
        let (_, token) = admin::create_api_key(
            self.app.store.as_ref(),
            self.clock.as_ref(),
            None,
            &KeySpec::cli(m, "test"),
        )
        .await
        .expect("key");
        caller_from_token(self.app.store.as_ref(), &token, self.now())
            .await
            .expect("caller")
    }
}

fn constituency(cidrs: &[&str]) -> Constituency {
    Constituency {
        cidrs: cidrs.iter().map(|c| c.parse().expect("cidr")).collect(),
        ..Constituency::default()
    }
}

mod advisories {
    use super::*;
    use isx_advisories::{Advisory, NewRelease, ReleaseStatus};

    async fn scheduled_release(w: &World, release_in_secs: i64) -> i64 {
        let r = w
            .app
            .store
            .insert_release(
                &NewRelease {
                    title: "June patch day".into(),
                    release_at: w.now().add_secs(release_in_secs),
                    notes: String::new(),
                    status: ReleaseStatus::Scheduled,
                    marking: Tlp::Amber,
                },
                w.now(),
            )
            .await
            .expect("release");
        let a: Advisory = serde_json::from_value(json!({
            "cve": "CVE-2026-10001",
            "title": "Remote code execution in the examplia gateway",
            "description": "A crafted request runs code as the gateway.",
            "exploitability": {"latest": "more-likely", "older": "less-likely"},
        }))
        .expect("advisory");
        w.app
            .store
            .put_advisories(r.id, &[a], "first", w.now())
            .await
            .expect("advisories");
        r.id
    }

    /// A partner of the 5-day tier and one of the 24-hour tier.
    async fn advance_partners(w: &World) -> (Member, Member) {
        let five = w.member(
            "Five Days",
            MemberKind::Government,
            Tier::Advance5d,
            Constituency::default(),
        );
        let day = w.member(
            "One Day",
            MemberKind::NationalCert,
            Tier::Advance24h,
            Constituency::default(),
        );
        (five.await, day.await)
    }

    /// Before the release time only partners of the advance tiers see a
    /// release, each from its window on; exploitability only within 24 h.
    #[tokio::test]
    async fn advance_windows_and_the_exploitability_index() {
        let w = World::new().await;
        let rid = scheduled_release(&w, 3 * DAY).await;
        let standard = w.plain_member("Standard Co").await;
        let (five, day) = advance_partners(&w).await;
        let (standard, five, day) = (
            w.caller(&standard).await,
            w.caller(&five).await,
            w.caller(&day).await,
        );

        // Three days ahead: the 5-day tier sees it, the others do not (404,
        // the same answer as for a release that does not exist).
        assert!(
            isx_app::advisories::visible_releases(&w.app, &standard.principal)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(matches!(
            isx_app::advisories::visible_release(&w.app, &standard.principal, rid).await,
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(
            isx_app::advisories::visible_release(&w.app, &day.principal, rid).await,
            Err(AppError::NotFound(_))
        ));
        let (_, _, advisories) =
            isx_app::advisories::release_contents(&w.app, &five.principal, rid)
                .await
                .expect("the 5-day tier sees it");
        assert_eq!(advisories.len(), 1);
        assert_eq!(
            advisories[0].exploitability, None,
            "the exploitability index is withheld outside the 24-hour window"
        );

        // Within 24 hours the 24-hour tier sees it, with the index.
        w.clock.advance_secs(2 * DAY + 3600);
        let (_, _, advisories) = isx_app::advisories::release_contents(&w.app, &day.principal, rid)
            .await
            .expect("the 24-hour tier sees it");
        assert!(advisories[0].exploitability.is_some());
        assert!(matches!(
            isx_app::advisories::visible_release(&w.app, &standard.principal, rid).await,
            Err(AppError::NotFound(_))
        ));

        // After the release time everyone does.
        w.clock.advance_secs(DAY);
        assert_eq!(
            isx_app::advisories::visible_releases(&w.app, &standard.principal)
                .await
                .expect("list")
                .len(),
            1
        );
    }

    /// The notification tick notifies each member once, when its window
    /// opens, and again only when the content it sees changes.
    #[tokio::test]
    async fn notifications_follow_the_windows() {
        let w = World::new().await;
        let rid = scheduled_release(&w, 3 * DAY).await;
        let (five, day) = advance_partners(&w).await;
        assert_eq!(isx_app::notify::tick(&w.app).await.expect("tick"), 1);
        assert_eq!(
            isx_app::notify::tick(&w.app).await.expect("tick"),
            0,
            "a second tick notifies nobody again"
        );
        w.clock.advance_secs(2 * DAY + 3600);
        assert_eq!(isx_app::notify::tick(&w.app).await.expect("tick"), 1);
        let notified = w.app.store.notified(rid).await.expect("notified");
        let kinds = |m: isx_domain::MemberId| {
            notified
                .iter()
                .filter(|(n, _, _)| *n == m)
                .map(|(_, k, _)| k.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(five.id), ["advance"]);
        assert_eq!(kinds(day.id), ["advance"]);
    }
}

mod botnet {
    use super::*;
    use isx_botnet::BotnetEvent;
    use isx_domain::BotnetProduct;

    fn infected(ip: &str, at: Timestamp) -> BotnetEvent {
        let mut e = BotnetEvent::new(BotnetProduct::Infected, at, "sinkhole");
        e.ip = Some(ip.parse().expect("ip"));
        e.family = "mirai".into();
        e.marking = Tlp::Amber;
        e.validate().expect("valid event")
    }

    /// Victim data reaches the member whose networks it concerns, and no
    /// other member; the operator sees everything.
    #[tokio::test]
    async fn victim_data_goes_only_to_its_constituency() {
        let w = World::new().await;
        let operator = w
            .member(
                "Operator",
                MemberKind::Operator,
                Tier::Advance24h,
                Constituency::default(),
            )
            .await;
        let grid = w
            .member(
                "Northgrid",
                MemberKind::CriticalInfrastructure,
                Tier::Standard,
                constituency(&["203.0.113.0/24"]),
            )
            .await;
        let other = w
            .member(
                "Elsewhere",
                MemberKind::Enterprise,
                Tier::Standard,
                constituency(&["198.51.100.0/24"]),
            )
            .await;
        let out = isx_app::botnet::ingest(
            &w.app.store,
            &w.app.geo,
            &w.app.botnet,
            vec![
                infected("203.0.113.9", w.now()),
                infected("192.0.2.1", w.now()),
            ],
            w.now(),
        )
        .await
        .expect("ingest");
        assert_eq!(out.inserted, 2);
        let read = |c: Caller| {
            let app = w.app.clone();
            let now = w.now();
            async move {
                isx_app::botnet::events_for(
                    app.store.as_ref(),
                    &c.principal,
                    isx_store::BotnetQuery::default(),
                    now,
                )
                .await
                .expect("events")
                .into_iter()
                .filter_map(|e| e.event.ip.map(|ip| ip.to_string()))
                .collect::<Vec<_>>()
            }
        };
        assert_eq!(read(w.caller(&grid).await).await, ["203.0.113.9"]);
        assert!(read(w.caller(&other).await).await.is_empty());
        assert_eq!(read(w.caller(&operator).await).await.len(), 2);

        // The same events again are duplicates, stored once.
        let again = isx_app::botnet::ingest(
            &w.app.store,
            &w.app.geo,
            &w.app.botnet,
            vec![infected("203.0.113.9", w.now())],
            w.now(),
        )
        .await
        .expect("ingest");
        assert_eq!((again.inserted, again.duplicates), (0, 1));
    }
}

mod partnership {
    use super::*;
    use isx_app::partnership::Draft;
    use isx_domain::GroupId;

    fn sighting() -> Draft {
        serde_json::from_value(json!({
            "title": "Scanning from one address",
            "description": "Seen on three sensors.",
            "marking": "amber",
            "details": {"kind": "sighting", "indicator_type": "ipv4", "value": "203.0.113.77",
                        "count": 4, "first_seen": "2026-05-31T10:00:00Z",
                        "last_seen": "2026-05-31T11:00:00Z"},
        }))
        .expect("draft")
    }

    /// Members of a group read what its members share; a member outside
    /// it finds nothing (404, as for what does not exist) and cannot post.
    #[tokio::test]
    async fn contributions_stay_in_their_group() {
        let w = World::new().await;
        let a = w.plain_member("Alpha").await;
        let b = w.plain_member("Bravo").await;
        let outsider = w.plain_member("Outsider").await;
        let g = w.group(&a).await;
        admin::join_group(
            w.app.store.as_ref(),
            w.clock.as_ref(),
            g.id,
            b.id,
            GroupRole::Contributor,
            None,
        )
        .await
        .expect("join");
        let (ca, cb, co) = (
            w.caller(&a).await,
            w.caller(&b).await,
            w.caller(&outsider).await,
        );
        let c = isx_app::partnership::create(&w.app, &ca, g.id, sighting())
            .await
            .expect("contribution");
        let (_, seen) = isx_app::partnership::get(&w.app, &cb, c.id)
            .await
            .expect("a fellow member reads it");
        assert_eq!(seen.c.content.title, "Scanning from one address");
        assert!(matches!(
            isx_app::partnership::get(&w.app, &co, c.id).await,
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(
            isx_app::partnership::create(&w.app, &co, GroupId(g.id.0), sighting()).await,
            Err(AppError::NotFound(_) | AppError::Forbidden(_))
        ));
        // The refused post changed nothing.
        let access = isx_app::partnership::group_for(&w.app, &ca, g.id)
            .await
            .expect("group");
        assert_eq!(
            isx_app::partnership::list(&w.app, &ca, &access.group)
                .await
                .expect("list")
                .len(),
            1
        );
    }

    /// Personal data the detector finds must be redacted or kept knowingly:
    /// a draft that decides nothing is refused and stores nothing.
    #[tokio::test]
    async fn undecided_personal_data_is_refused() {
        let w = World::new().await;
        let a = w.plain_member("Alpha").await;
        let g = w.group(&a).await;
        let ca = w.caller(&a).await;
        let mut draft = sighting();
        draft.content.description = "Reported by jane.doe@utility.example.".into();
        match isx_app::partnership::create(&w.app, &ca, g.id, draft).await {
            Err(AppError::Invalid { errors, .. }) => {
                assert!(
                    errors.iter().any(|e| e.pointer == "/pii/email"),
                    "{errors:?}"
                )
            }
            other => panic!("expected a PII refusal, got {other:?}"),
        }
        let access = isx_app::partnership::group_for(&w.app, &ca, g.id)
            .await
            .expect("group");
        assert!(isx_app::partnership::list(&w.app, &ca, &access.group)
            .await
            .expect("list")
            .is_empty());
    }
}

mod feeds {
    use super::*;
    use isx_app::feed_files::{self, BOTNET, CLEANFILES, URLS};

    /// A due slot produces signed URL files once; members list and find
    /// them, a name is found only under its own product, and the signature
    /// verifies with the instance's public key.
    #[tokio::test]
    async fn url_slots_are_produced_once_listed_found_and_signed() {
        let w = World::new().await;
        let m = w.plain_member("Alpha").await;
        let opts = isx_app::urls::ImportOptions {
            tlp: Tlp::Green,
            ..Default::default()
        };
        isx_app::urls::import(
            w.app.store.as_ref(),
            &w.app.geo,
            b"{\"url\": \"http://evil.example/login\", \"threat\": \"phishing\"}\n",
            &isx_app::urls::ImportOptions {
                format: Some(isx_formats::urls::UrlInputFormat::Ndjson),
                ..opts
            },
            "test",
            w.now(),
        )
        .await
        .expect("import");
        // The next slot boundary passes.
        w.clock.advance_secs(3 * 3600);
        let runs = isx_app::url_files::produce_due(&w.app.feeds)
            .await
            .expect("produce");
        assert!(!runs.is_empty(), "a slot was due");
        assert!(
            isx_app::url_files::produce_due(&w.app.feeds)
                .await
                .expect("again")
                .is_empty(),
            "a slot is produced once"
        );
        let caller = w.caller(&m).await;
        let files = feed_files::list(&w.app, &caller, &URLS, 50)
            .await
            .expect("list");
        assert!(!files.is_empty());
        let f = &files[0];
        let (found, path) = feed_files::find(&w.app, &caller, &URLS, &f.name)
            .await
            .expect("found under its product");
        assert_eq!(found.name, f.name);
        let bytes = std::fs::read(&path).expect("file on disk");
        assert_eq!(bytes.len() as i64, found.size);
        for other in [&BOTNET, &CLEANFILES] {
            assert!(matches!(
                feed_files::find(&w.app, &caller, other, &f.name).await,
                Err(AppError::NotFound(_))
            ));
        }
        // The signature is Ed25519 over the manifest text, by the key the
        // instance publishes.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = b64.decode(w.app.feeds.signer.public_key()).expect("key");
        let sig = b64.decode(&found.signature).expect("signature");
        let verify = |text: &str| {
            ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &key)
                .verify(text.as_bytes(), &sig)
        };
        assert!(
            verify(&found.signed_text()).is_ok(),
            "the signature verifies"
        );
        let mut forged = found.clone();
        forged.size += 1;
        assert!(
            verify(&forged.signed_text()).is_err(),
            "and covers the size"
        );
        assert_eq!(
            found.sha256,
            hex_sha256(&bytes),
            "the manifest's hash is the file's"
        );
    }

    fn hex_sha256(b: &[u8]) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    }
}
