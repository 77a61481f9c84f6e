//! The conformance suite: behaviour every [`Store`] implementation must have.
//!
//! Call [`run`] with a freshly migrated, empty store. Each check panics with
//! its name and what differed.
//!
//! Which product traits each part exercises: `migrations_are_idempotent`:
//! [`CoreStore`](crate::CoreStore); `members_round_trip`, `users_and_keys`,
//! `groups_are_transactional`, `sessions`: [`MemberStore`](crate::MemberStore);
//! `audit_log`: [`AuditStore`](crate::AuditStore);
//! `releases_and_advisories`, `notifications_and_webhooks`:
//! [`AdvisoryStore`](crate::AdvisoryStore); `urls`: [`UrlStore`](crate::UrlStore)
//! and [`FeedStore`](crate::FeedStore); `botnet`: [`BotnetStore`](crate::BotnetStore);
//! `cleanfiles`: [`CleanFileStore`](crate::CleanFileStore); `partnership`:
//! [`PartnershipStore`](crate::PartnershipStore) and
//! [`ExchangeStore`](crate::ExchangeStore) (a group's TAXII collection);
//! `single_sign_on`: [`SsoStore`](crate::SsoStore).

use isx_domain::{
    Clearance, Constituency, GroupRole, KeyId, Login, MemberKind, MemberName, NewApiKey,
    NewAuditEvent, NewMember, NewTrustGroup, NewUser, Tier, Timestamp, TrustGroupKind, UserRole,
};

use crate::{AuditQuery, Session, Store, StoreError};

const T0: Timestamp = Timestamp::from_secs(1_800_000_000);

fn new_member(name: &str, kind: MemberKind) -> NewMember {
    NewMember {
        name: MemberName::new(name).expect("valid name"),
        kind,
        country: Some("JP".parse().expect("country")),
        tier: Tier::Advance5d,
        clearance: Clearance::Restricted,
        constituency: Constituency {
            cidrs: vec![
                "2001:db8::/32".parse().expect("cidr"),
                "192.0.2.0/24".parse().expect("cidr"),
            ],
            asns: vec!["AS64500".parse().expect("asn")],
            domains: vec![isx_domain::DomainName::new("example.jp").expect("domain")],
            country: Some("JP".parse().expect("country")),
        },
    }
}

/// Runs every check against `store`, which must be migrated and empty.
pub async fn run(store: &dyn Store) {
    migrations_are_idempotent(store).await;
    members_round_trip(store).await;
    users_and_keys(store).await;
    groups_are_transactional(store).await;
    sessions(store).await;
    audit_log(store).await;
    releases_and_advisories(store).await;
    notifications_and_webhooks(store).await;
    urls(store).await;
    second_factors(store).await;
    single_sign_on(store).await;
    passkeys(store).await;
    url_revocation_is_one_arrival(store).await;
    botnet(store).await;
    cleanfiles(store).await;
    partnership(store).await;
}

fn advisory(cve: &str, title: &str) -> isx_advisories::Advisory {
    isx_advisories::Advisory {
        id: cve.parse().expect("cve"),
        kind: isx_advisories::AdvisoryKind::Vulnerability,
        other_ids: vec![],
        title: title.into(),
        description: "d".into(),
        cwe: None,
        cvss_v31: Some(
            isx_advisories::CvssV3::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
                .expect("vector"),
        ),
        cvss_v40: None,
        exploitability: Some(isx_advisories::Exploitability::default()),
        exploit_statement: None,
        epss: None,
        ssvc: None,
        known_exploited: None,
        affected: vec![],
        remediations: vec![],
        faqs: vec![],
        references: vec![],
        revisions: vec![],
    }
}

/// Notifications are recorded once each; a new one queues a delivery when
/// the member has a webhook; a due delivery is claimed by one node only and
/// its outcome saved.
async fn notifications_and_webhooks(store: &dyn Store) {
    use isx_advisories::{NewRelease, ReleaseStatus};
    let member = store
        .insert_member(&new_member("Notified CERT", MemberKind::NationalCert), T0)
        .await
        .expect("member");
    let quiet = store
        .insert_member(&new_member("Quiet CERT", MemberKind::NationalCert), T0)
        .await
        .expect("member");
    let release = store
        .insert_release(
            &NewRelease {
                title: "notified release".into(),
                release_at: T0.add_secs(86_400),
                notes: String::new(),
                status: ReleaseStatus::Scheduled,
                marking: isx_domain::Tlp::Amber,
            },
            T0,
        )
        .await
        .expect("release");
    let hook = crate::Webhook {
        member: member.id,
        url: "https://hooks.example/isx".into(),
        secret: "s3cret".into(),
    };
    store.put_webhook(&hook, T0).await.expect("webhook");
    assert_eq!(store.webhook(member.id).await.expect("get"), Some(hook));
    assert_eq!(store.webhook(quiet.id).await.expect("get"), None);
    let note = |m: isx_domain::MemberId| crate::Notification {
        id: 0,
        member: m,
        release: release.id,
        kind: "advance".into(),
        version: 1,
        at: T0.add_secs(10),
        message: "window open".into(),
    };
    assert!(store.notify(&note(member.id), "{}").await.expect("notify"));
    assert!(
        !store.notify(&note(member.id), "{}").await.expect("again"),
        "the same notification is recorded once"
    );
    assert!(store.notify(&note(quiet.id), "{}").await.expect("notify"));
    let mut notified = store.notified(release.id).await.expect("notified");
    notified.sort();
    // (Member ids are random: sorted the same way.)
    let mut want = vec![
        (member.id, "advance".to_owned(), 1),
        (quiet.id, "advance".to_owned(), 1),
    ];
    want.sort();
    assert_eq!(notified, want);
    let mine = store.notifications(member.id, 10).await.expect("list");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].message, "window open");
    // Only the member with a webhook gets a delivery.
    let due = store
        .due_deliveries(T0.add_secs(10), 10)
        .await
        .expect("due");
    assert_eq!(due.len(), 1);
    let mut d = due[0].clone();
    assert_eq!(
        (d.member, d.status.as_str(), d.attempts),
        (member.id, "pending", 0)
    );
    assert!(store
        .claim_delivery(d.id, T0.add_secs(10), T0.add_secs(70))
        .await
        .expect("claim"));
    assert!(
        !store
            .claim_delivery(d.id, T0.add_secs(10), T0.add_secs(70))
            .await
            .expect("claim again"),
        "a claimed delivery is not due until its lease ends"
    );
    d.attempts = 1;
    d.status = "delivered".into();
    d.delivered_at = Some(T0.add_secs(11));
    store.finish_delivery(&d).await.expect("finish");
    assert_eq!(
        store.deliveries(Some(member.id), 10).await.expect("list"),
        vec![d.clone()]
    );
    assert!(store
        .deliveries(Some(quiet.id), 10)
        .await
        .expect("list")
        .is_empty());
    assert!(store
        .due_deliveries(T0.add_secs(10_000), 10)
        .await
        .expect("due")
        .is_empty());
}

async fn releases_and_advisories(store: &dyn Store) {
    use isx_advisories::{NewRelease, ReleaseStatus};
    let new = NewRelease {
        title: "2026-12 release".into(),
        release_at: T0.add_secs(86_400),
        notes: "n".into(),
        status: ReleaseStatus::Draft,
        marking: isx_domain::Tlp::Green,
    };
    let mut r = store.insert_release(&new, T0).await.expect("release");
    assert_eq!(
        (r.status, r.release_at),
        (ReleaseStatus::Draft, T0.add_secs(86_400))
    );
    r.status = ReleaseStatus::Scheduled;
    r.release_at = T0.add_secs(2 * 86_400);
    r.revisions.push(isx_advisories::Revision {
        number: 1,
        date: T0,
        summary: "moved".into(),
        exploitability_only: false,
        label: None,
    });
    let saved = store.update_release(&r).await.expect("update");
    assert_eq!(saved, r);
    assert_eq!(store.releases().await.expect("list").len(), 1);

    let a1 = advisory("CVE-2026-0001", "one");
    let a2 = advisory("CVE-2026-0002", "two");
    let out = store
        .put_advisories(r.id, &[a1.clone(), a2.clone()], "Initial", T0)
        .await
        .expect("put");
    assert_eq!((out.created, out.revised, out.unchanged), (2, 0, 0));
    let again = store
        .put_advisories(r.id, &[a1.clone(), a2.clone()], "Initial", T0.add_secs(5))
        .await
        .expect("put again");
    assert_eq!(
        (again.created, again.revised, again.unchanged),
        (0, 0, 2),
        "re-import is idempotent"
    );
    let mut changed = a1.clone();
    changed.title = "one, corrected".into();
    let rev = store
        .put_advisories(r.id, &[changed], "Title corrected", T0.add_secs(9))
        .await
        .expect("revise");
    assert_eq!(rev.revised, 1);
    let (rid, got) = store.advisory(&a1.id).await.expect("get").expect("exists");
    assert_eq!(rid, r.id);
    assert_eq!(got.title, "one, corrected");
    assert_eq!(
        got.revisions.iter().map(|x| x.number).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(got.revisions[1].summary, "Title corrected");

    // A batch that touches another release's CVE stores nothing at all.
    let other = store
        .insert_release(
            &NewRelease {
                title: "other".into(),
                ..new.clone()
            },
            T0,
        )
        .await
        .expect("other");
    let a3 = advisory("CVE-2026-0003", "three");
    let clash = store
        .put_advisories(other.id, &[a3.clone(), a2.clone()], "x", T0)
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    assert!(
        store.advisory(&a3.id).await.expect("get").is_none(),
        "all or nothing"
    );
    assert_eq!(store.advisories(Some(r.id)).await.expect("list").len(), 2);
    assert!(store
        .advisories(Some(other.id))
        .await
        .expect("list")
        .is_empty());

    let kev = isx_advisories::KevRecord {
        cve: a2.id.cve().expect("a CVE"),
        vendor: "v".into(),
        product: "p".into(),
        name: "n".into(),
        known: isx_advisories::KnownExploited {
            date_added: "2026-11-01".into(),
            due_date: None,
            ransomware: true,
        },
    };
    assert_eq!(
        store
            .put_known_exploited(std::slice::from_ref(&kev))
            .await
            .expect("kev"),
        1
    );
    assert_eq!(
        store
            .put_known_exploited(std::slice::from_ref(&kev))
            .await
            .expect("kev again"),
        0,
        "unchanged entries are not rewritten"
    );
    let (_, marked) = store.advisory(&a2.id).await.expect("get").expect("exists");
    assert!(marked.known_exploited.is_some_and(|k| k.ransomware));
}

async fn migrations_are_idempotent(store: &dyn Store) {
    assert_eq!(
        store.migrate().await.expect("migrate again"),
        0,
        "second migrate applies nothing"
    );
    store.ping().await.expect("ping");
}

async fn members_round_trip(store: &dyn Store) {
    let new = new_member("CERT Example", MemberKind::NationalCert);
    let m = store.insert_member(&new, T0).await.expect("insert member");
    assert_eq!(m.name, new.name);
    assert_eq!(m.kind, MemberKind::NationalCert);
    assert_eq!(m.tier, Tier::Advance5d);
    assert_eq!(m.created_at, T0);
    assert_eq!(
        m.constituency,
        new.constituency.clone().normalise(),
        "constituency round trip"
    );
    assert_eq!(store.member(m.id).await.expect("get").as_ref(), Some(&m));
    assert_eq!(
        store
            .member_by_name("CERT Example")
            .await
            .expect("by name")
            .as_ref(),
        Some(&m)
    );
    assert!(store
        .member(isx_domain::MemberId(m.id.0 + 1000))
        .await
        .expect("get")
        .is_none());

    let dup = store.insert_member(&new, T0).await;
    assert!(
        matches!(dup, Err(StoreError::Conflict(_))),
        "duplicate name is a conflict: {dup:?}"
    );
    assert_eq!(
        store.members().await.expect("list").len(),
        1,
        "failed insert left nothing behind"
    );

    let mut changed = new.clone();
    changed.tier = Tier::Advance24h;
    changed
        .constituency
        .asns
        .push("AS64501".parse().expect("asn"));
    let updated = store.update_member(m.id, &changed).await.expect("update");
    assert_eq!(updated.tier, Tier::Advance24h);
    assert_eq!(updated.constituency.asns.len(), 2);
    let missing = store
        .update_member(isx_domain::MemberId(99_999), &changed)
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
}

async fn users_and_keys(store: &dyn Store) {
    let m = store
        .insert_member(&new_member("Agency A", MemberKind::Government), T0)
        .await
        .expect("member");
    let login = Login::new("alice").expect("login");
    let u = store
        .insert_user(
            &NewUser {
                login: login.clone(),
                member: m.id,
                role: UserRole::Member,
                password_hash: "$argon2id$x".into(),
            },
            T0,
        )
        .await
        .expect("user");
    assert_eq!(
        store
            .user_by_login(&login)
            .await
            .expect("by login")
            .map(|x| x.id),
        Some(u.id)
    );
    assert_eq!(
        store
            .user(u.id)
            .await
            .expect("get")
            .map(|x| x.password_hash),
        Some("$argon2id$x".into())
    );
    let orphan = store
        .insert_user(
            &NewUser {
                login: Login::new("bob").expect("login"),
                member: isx_domain::MemberId(424_242),
                role: UserRole::Member,
                password_hash: String::new(),
            },
            T0,
        )
        .await;
    assert!(
        matches!(orphan, Err(StoreError::Reference(_))),
        "user of unknown member: {orphan:?}"
    );

    let kid = KeyId::new("00112233445566aa").expect("key id");
    let k = store
        .insert_api_key(
            &NewApiKey {
                key_id: kid.clone(),
                member: m.id,
                name: "ci".into(),
                secret_hash: "h".into(),
                expires_at: Some(T0.add_secs(3600)),
                role: UserRole::MemberAdmin,
                parent: None,
                creator: None,
            },
            T0,
        )
        .await
        .expect("key");
    assert!(k.is_active(T0));
    assert_eq!(k.role, UserRole::MemberAdmin);
    // A key minted by that key, and one minted by it: revoking the first
    // revokes both (a key never outlives its maker's authority).
    let child = KeyId::new("00112233445566bb").expect("key id");
    let grandchild = KeyId::new("00112233445566cc").expect("key id");
    for (id, parent) in [(&child, &kid), (&grandchild, &child)] {
        let made = store
            .insert_api_key(
                &NewApiKey {
                    key_id: id.clone(),
                    member: m.id,
                    name: "minted".into(),
                    secret_hash: "h".into(),
                    expires_at: Some(T0.add_secs(60)),
                    role: UserRole::Member,
                    parent: Some(parent.clone()),
                    creator: None,
                },
                T0,
            )
            .await
            .expect("minted key");
        assert_eq!(made.parent.as_ref(), Some(parent));
    }
    assert_eq!(k.expires_at, Some(T0.add_secs(3600)));
    assert_eq!(store.api_keys(Some(m.id)).await.expect("list").len(), 3);
    assert!(store
        .api_keys(Some(isx_domain::MemberId(424_242)))
        .await
        .expect("list")
        .is_empty());
    assert!(!store.api_keys(None).await.expect("list all").is_empty());
    store
        .touch_api_key(&kid, T0.add_secs(5))
        .await
        .expect("touch");
    assert_eq!(
        store
            .api_key(&kid)
            .await
            .expect("get")
            .and_then(|k| k.last_used_at),
        Some(T0.add_secs(5))
    );
    assert!(store
        .revoke_api_key(&kid, T0.add_secs(10))
        .await
        .expect("revoke"));
    assert!(
        !store
            .revoke_api_key(&kid, T0.add_secs(11))
            .await
            .expect("revoke twice"),
        "second revoke is a no-op"
    );
    let revoked = store
        .api_key(&kid)
        .await
        .expect("get")
        .expect("still listed");
    assert_eq!(revoked.revoked_at, Some(T0.add_secs(10)));
    for id in [&child, &grandchild] {
        let k = store.api_key(id).await.expect("get").expect("listed");
        assert_eq!(k.revoked_at, Some(T0.add_secs(10)), "cascade to {id}");
    }
    assert!(!revoked.is_active(T0.add_secs(10)));
}

async fn groups_are_transactional(store: &dyn Store) {
    let owner = store
        .insert_member(&new_member("ISP B", MemberKind::CriticalInfrastructure), T0)
        .await
        .expect("member");
    let reader = store
        .insert_member(&new_member("Bank C", MemberKind::Enterprise), T0)
        .await
        .expect("member");
    let formal = NewTrustGroup {
        name: "Energy ISAC".into(),
        description: "Formal sector group".into(),
        kind: TrustGroupKind::Formal {
            agreement: "MoU-2026-01".into(),
            min_clearance: Clearance::Confidential,
        },
        hide_members: true,
    };
    let g = store
        .insert_group(&formal, owner.id, T0)
        .await
        .expect("group");
    assert_eq!(g.kind, formal.kind);
    assert!(g.hide_members);
    let members = store.group_members(g.id).await.expect("members");
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].member, members[0].role),
        (owner.id, GroupRole::Owner)
    );

    // A group whose owner does not exist must not be created half-way.
    let ghost = NewTrustGroup {
        name: "Ghost".into(),
        description: String::new(),
        kind: TrustGroupKind::AdHoc { ends_at: Some(T0) },
        hide_members: false,
    };
    let failed = store
        .insert_group(&ghost, isx_domain::MemberId(424_242), T0)
        .await;
    assert!(failed.is_err(), "group with unknown owner: {failed:?}");
    assert!(
        store
            .group_by_name("Ghost")
            .await
            .expect("by name")
            .is_none(),
        "no half-created group"
    );

    store
        .put_group_member(g.id, reader.id, GroupRole::Reader, T0)
        .await
        .expect("join");
    let up = store
        .put_group_member(g.id, reader.id, GroupRole::Contributor, T0.add_secs(9))
        .await
        .expect("change role");
    assert_eq!(up.role, GroupRole::Contributor);
    assert_eq!(up.joined_at, T0, "changing the role keeps the join time");
    assert_eq!(
        store
            .memberships_of(reader.id)
            .await
            .expect("memberships")
            .len(),
        1
    );
    assert_eq!(store.group_members(g.id).await.expect("members").len(), 2);

    let adhoc = NewTrustGroup {
        name: "Incident 2026-11".into(),
        description: String::new(),
        kind: TrustGroupKind::AdHoc {
            ends_at: Some(T0.add_secs(86_400)),
        },
        hide_members: false,
    };
    let g2 = store
        .insert_group(&adhoc, owner.id, T0)
        .await
        .expect("ad hoc");
    assert_eq!(
        store.group(g2.id).await.expect("get").map(|g| g.kind),
        Some(adhoc.kind.clone())
    );
    assert_eq!(store.groups().await.expect("list").len(), 2);
    let dup = store.insert_group(&adhoc, owner.id, T0).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
}

async fn sessions(store: &dyn Store) {
    let m = store
        .insert_member(&new_member("Op", MemberKind::Operator), T0)
        .await
        .expect("member");
    let u = store
        .insert_user(
            &NewUser {
                login: Login::new("admin").expect("login"),
                member: m.id,
                role: UserRole::Admin,
                password_hash: "x".into(),
            },
            T0,
        )
        .await
        .expect("user");
    let s = Session {
        token_hash: "ab".repeat(32),
        user: u.id,
        csrf_token: "c".into(),
        created_at: T0,
        expires_at: T0.add_secs(60),
        source_ip: Some("192.0.2.1".into()),
        user_agent: Some("Firefox".into()),
    };
    store.insert_session(&s).await.expect("insert session");
    assert_eq!(
        store.session(&s.token_hash).await.expect("get"),
        Some(s.clone())
    );
    assert_eq!(
        store.sessions_of(u.id).await.expect("list"),
        vec![s.clone()]
    );
    assert_eq!(
        store
            .delete_expired_sessions(T0.add_secs(59))
            .await
            .expect("gc"),
        0
    );
    assert_eq!(
        store
            .delete_expired_sessions(T0.add_secs(60))
            .await
            .expect("gc"),
        1
    );
    assert!(store.session(&s.token_hash).await.expect("get").is_none());
    store.insert_session(&s).await.expect("insert again");
    store.delete_session(&s.token_hash).await.expect("delete");
    assert!(store.session(&s.token_hash).await.expect("get").is_none());
}

async fn audit_log(store: &dyn Store) {
    let m = store
        .member_by_name("Op")
        .await
        .expect("get")
        .expect("operator exists");
    let mut ids = Vec::new();
    for i in 0..5 {
        let e = NewAuditEvent {
            at: T0.add_secs(i),
            actor: format!("user:admin{i}"),
            member: (i % 2 == 0).then_some(m.id),
            action: "member.create".into(),
            target: format!("member/{i}"),
            source_ip: Some("127.0.0.1".into()),
            outcome: "ok".into(),
        };
        ids.push(store.append_audit(&e).await.expect("append"));
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase");
    let all = store
        .audit_events(&AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].id, ids[4], "newest first");
    let mine = store
        .audit_events(&AuditQuery {
            member: Some(m.id),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(mine.len(), 3);
    let page = store
        .audit_events(&AuditQuery {
            before_id: Some(ids[2]),
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("page");
    assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ids[1]]);
    assert_eq!(page[0].event.actor, "user:admin1");
}

fn url_candidate(
    url: &str,
    threat: &str,
    first: i64,
    last: i64,
    tlp: isx_domain::Tlp,
) -> isx_urls::UrlCandidate {
    let obs = isx_urls::UrlObservation {
        url: url.into(),
        threat: Some(threat.into()),
        first_seen: Some(Timestamp::from_secs(first)),
        last_seen: Some(Timestamp::from_secs(last)),
        ip: Some("192.0.2.10".parse().expect("ip")),
        geo: isx_domain::GeoInfo {
            asn: Some("AS64500".parse().expect("asn")),
            country: Some("GB".parse().expect("cc")),
            latitude: Some(51.5),
            longitude: Some(-0.1),
            ..Default::default()
        },
        tlp: Some(tlp),
        ..Default::default()
    };
    let defaults = isx_urls::ImportDefaults {
        source: "test".into(),
        tlp: isx_domain::Tlp::Green,
        confidence: 50,
        threat: isx_domain::ThreatType::Other,
        now: T0,
    };
    isx_urls::prepare(&obs, &defaults).expect("valid observation")
}

/// URL imports merge sightings, are idempotent, number their batches, and
/// the queries filter by every field and by the allowed markings.
pub async fn urls(store: &dyn Store) {
    use isx_domain::{ThreatType, Tlp};
    let t = 1_800_000_000;
    let batch1 = vec![
        url_candidate("http://a.example/x", "phishing", t, t + 10, Tlp::Green),
        url_candidate(
            "http://b.example/y",
            "malware_download",
            t,
            t + 20,
            Tlp::Amber,
        ),
        url_candidate(
            "HTTP://A.example:80/x",
            "phishing",
            t - 100,
            t + 5,
            Tlp::Green,
        ),
    ];
    let b = crate::UrlBatch {
        candidates: &batch1,
        source: "test",
        actor: "cli",
    };
    let out = store.import_urls(&b, T0).await.expect("import");
    assert_eq!(
        (out.created, out.updated, out.unchanged),
        (2, 1, 0),
        "first import"
    );
    assert_eq!(out.seq, Some(1));
    let again = store
        .import_urls(&b, T0.add_secs(60))
        .await
        .expect("re-import");
    assert_eq!(
        (again.created, again.updated, again.unchanged, again.seq),
        (0, 0, 3, None),
        "re-import changes nothing"
    );
    let all_markings = Tlp::ALL.to_vec();
    let q = |f: &dyn Fn(&mut crate::UrlQuery)| {
        let mut q = crate::UrlQuery {
            markings: all_markings.clone(),
            limit: 100,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let all = store.url_records(&q(&|_| {})).await.expect("all");
    assert_eq!(all.len(), 2);
    let a = all
        .iter()
        .find(|r| r.url == "http://a.example/x")
        .expect("a");
    assert_eq!(a.times_seen, 2);
    assert_eq!(a.first_seen, Timestamp::from_secs(t - 100));
    assert_eq!(a.last_seen, Timestamp::from_secs(t + 10));
    assert_eq!(a.geo.asn.map(|x| x.get()), Some(64500));
    assert_eq!(
        store.url_record(a.id).await.expect("by id").as_ref(),
        Some(a)
    );

    let green_only = store
        .url_records(&q(&|q| q.markings = vec![Tlp::Clear, Tlp::Green]))
        .await
        .expect("green");
    assert_eq!(green_only.len(), 1, "markings filter");
    assert!(store
        .url_records(&q(&|q| q.markings.clear()))
        .await
        .expect("none")
        .is_empty());
    let by_threat = store
        .url_records(&q(&|q| q.threat = Some(ThreatType::MalwareDistribution)))
        .await
        .expect("threat");
    assert_eq!(by_threat.len(), 1);
    assert_eq!(by_threat[0].host, "b.example");
    assert_eq!(
        store
            .url_records(&q(&|q| q.text = Some("A.EXAMPLE/X".into())))
            .await
            .expect("text")
            .len(),
        1
    );
    assert_eq!(
        store
            .url_records(&q(&|q| q.text = Some("%".into())))
            .await
            .expect("escaped")
            .len(),
        0,
        "LIKE wildcards are literal"
    );
    assert_eq!(
        store
            .url_records(&q(&|q| q.domain = Some("b.example".into())))
            .await
            .expect("domain")
            .len(),
        1
    );
    assert_eq!(
        store
            .url_records(&q(&|q| q.asn = Some(64500)))
            .await
            .expect("asn")
            .len(),
        2
    );
    assert_eq!(
        store
            .url_records(&q(&|q| q.country = Some("gb".into())))
            .await
            .expect("cc")
            .len(),
        2
    );
    assert_eq!(
        store
            .url_records(&q(&|q| q.since = Some(Timestamp::from_secs(t + 15))))
            .await
            .expect("since")
            .len(),
        1
    );
    let page = store
        .url_records(&q(&|q| {
            q.limit = 1;
            q.after_id = Some(a.id.min(by_threat[0].id));
        }))
        .await
        .expect("page");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, a.id.max(by_threat[0].id), "keyset paging");

    // A second batch: only its changes are selected by batch number.
    let batch2 = vec![url_candidate(
        "http://c.example/z",
        "c2",
        t + 30,
        t + 40,
        Tlp::Red,
    )];
    let out2 = store
        .import_urls(
            &crate::UrlBatch {
                candidates: &batch2,
                source: "test",
                actor: "cli",
            },
            T0.add_secs(3600),
        )
        .await
        .expect("batch 2");
    assert_eq!(out2.seq, Some(2));
    assert_eq!(store.url_seq_before(T0.add_secs(1)).await.expect("seq"), 1);
    assert_eq!(
        store.url_seq_before(T0.add_secs(7200)).await.expect("seq"),
        2
    );
    let changed = store
        .url_records(&q(&|q| {
            q.changed_after_seq = Some(1);
            q.changed_upto_seq = Some(2);
        }))
        .await
        .expect("changed");
    assert_eq!(
        changed.iter().map(|r| r.url.as_str()).collect::<Vec<_>>(),
        vec!["http://c.example/z"]
    );

    let stats = store
        .url_stats(&q(&|q| {
            q.markings = vec![Tlp::Clear, Tlp::Green, Tlp::Amber]
        }))
        .await
        .expect("stats");
    assert_eq!(stats.total, 2, "RED excluded from aggregates too");
    assert_eq!(stats.top_asns, vec![(64500, None, 2)]);
    assert_eq!(stats.top_countries, vec![("GB".to_owned(), 2)]);
    assert_eq!(stats.points.len(), 1);
    assert_eq!(stats.points[0].urls, 2);

    // Feed runs: one claim wins; a done slot is never claimed again.
    let slot = Timestamp::from_secs(1_800_007_200);
    assert!(store
        .claim_feed_run("urls", slot, "n1", T0, T0.add_secs(600))
        .await
        .expect("claim"));
    assert!(!store
        .claim_feed_run("urls", slot, "n2", T0, T0.add_secs(600))
        .await
        .expect("claim 2"));
    assert!(store
        .claim_feed_run("urls", slot, "n2", T0.add_secs(601), T0.add_secs(1200))
        .await
        .expect("expired lease"));
    let file = crate::FeedFile {
        name: "f.json".into(),
        product: "urls".into(),
        kind: "full".into(),
        format: "json".into(),
        slot,
        period_start: slot.add_secs(-5 * 86_400),
        period_end: slot,
        records: 2,
        size: 10,
        sha256: "00".repeat(32),
        marking: Tlp::Amber,
        signature: "sig".into(),
        created_at: T0,
        member: None,
    };
    let run = crate::FeedRun {
        product: "urls".into(),
        slot,
        from_seq: 0,
        to_seq: 2,
        finished_at: T0,
    };
    store
        .finish_feed_run(&run, std::slice::from_ref(&file))
        .await
        .expect("finish");
    assert!(!store
        .claim_feed_run("urls", slot, "n3", T0.add_secs(9999), T0.add_secs(99_999))
        .await
        .expect("done"));
    assert_eq!(
        store
            .last_feed_run("urls")
            .await
            .expect("last")
            .map(|r| r.to_seq),
        Some(2)
    );
    assert_eq!(
        store.feed_run_before("urls", slot).await.expect("before"),
        None
    );
    assert_eq!(
        store.feed_files("urls", 10).await.expect("files"),
        vec![file.clone()]
    );
    assert_eq!(store.feed_file("f.json").await.expect("file"), Some(file));
}

/// Botnet events: ids in arrival order, duplicates skipped, the member
/// pre-selection, zone serials, pruning.
pub async fn botnet(store: &dyn Store) {
    use isx_botnet::BotnetEvent;
    use isx_domain::BotnetProduct;
    let at = T0.add_secs(-3600);
    let mut infected = BotnetEvent::new(BotnetProduct::Infected, at, "sinkhole");
    infected.ip = Some("192.0.2.10".parse().expect("ip"));
    infected.port = Some(50_000);
    infected.family = "emotet".into();
    infected.country = Some("NL".parse().expect("cc"));
    let mut other = infected.clone();
    other.ip = Some("198.51.100.10".parse().expect("ip"));
    let mut c2 = BotnetEvent::new(BotnetProduct::C2, at, "tracker");
    c2.ip = Some("203.0.113.66".parse().expect("ip"));
    c2.domain = Some("c2.example".parse().expect("domain"));
    let (m1, m2) = (isx_domain::MemberId(9001), isx_domain::MemberId(9002));
    let batch = vec![
        (infected.clone(), vec![m1]),
        (other.clone(), vec![m2]),
        (c2.clone(), vec![]),
    ];
    let first = store
        .insert_botnet_events(&batch, T0)
        .await
        .expect("insert");
    assert_eq!((first.inserted, first.duplicates), (3, 0));
    let again = store.insert_botnet_events(&batch, T0).await.expect("again");
    assert_eq!((again.inserted, again.duplicates), (0, 3));
    let all = store
        .botnet_events(&crate::BotnetQuery::default())
        .await
        .expect("all");
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(all[0].event, infected);
    assert_eq!(all[0].recipients, vec![m1]);
    assert_eq!(all[2].event, c2);
    let mine = store
        .botnet_events(&crate::BotnetQuery {
            member: Some(m1),
            ..Default::default()
        })
        .await
        .expect("mine");
    let ids: Vec<i64> = mine.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        vec![all[0].id, all[2].id],
        "m1 gets its victim and the C2, not m2's victim"
    );
    let after = store
        .botnet_events(&crate::BotnetQuery {
            after_id: Some(all[0].id),
            products: vec![BotnetProduct::C2],
            ..Default::default()
        })
        .await
        .expect("after");
    assert_eq!(after.len(), 1);
    assert_eq!(store.botnet_id_before(T0).await.expect("before"), 0);
    assert_eq!(
        store
            .botnet_id_before(T0.add_secs(1))
            .await
            .expect("before"),
        all[2].id
    );
    let mut streamed = 0;
    store
        .for_each_botnet_event(&crate::BotnetQuery::default(), &mut |_| {
            streamed += 1;
            Ok(())
        })
        .await
        .expect("stream");
    assert_eq!(streamed, 3);

    let s1 = store.zone_serial("rpz", "aa", T0).await.expect("serial");
    assert_eq!(store.zone_serial("rpz", "aa", T0).await.expect("same"), s1);
    let s2 = store.zone_serial("rpz", "bb", T0).await.expect("changed");
    assert!(s2 > s1);
    let late = store
        .zone_serial("rpz", "cc", T0.add_secs(-3600))
        .await
        .expect("an older slot");
    assert_eq!(late, s2, "an older slot produced late leaves the serial");
    assert_eq!(
        store
            .zone_serial("rpz", "bb", T0.add_secs(3600))
            .await
            .expect("next"),
        s2
    );

    // The newest import is never pruned (the next instant counts from it).
    assert_eq!(
        store
            .prune_botnet_events(at.add_secs(1))
            .await
            .expect("prune"),
        0
    );
    // Once a newer import exists, the stale one goes, whole.
    let mut later = batch[0].clone();
    later.0.seen_at = at.add_secs(7200);
    later.0.last_seen = at.add_secs(7200);
    store
        .insert_botnet_events(&[later], T0.add_secs(7200))
        .await
        .expect("later import");
    assert_eq!(
        store
            .prune_botnet_events(at.add_secs(1))
            .await
            .expect("prune"),
        3
    );
    assert_eq!(
        store
            .botnet_events(&crate::BotnetQuery::default())
            .await
            .expect("rest")
            .len(),
        1
    );
}

/// Clean files: idempotent import with a change log, lookups by each
/// algorithm, removal, ordered streaming, statistics.
pub async fn cleanfiles(store: &dyn Store) {
    use isx_cleanfiles::{CleanFile, HashAlgo, Md5, Sha1, Sha256};
    let t = Timestamp::from_secs(1_800_000_000);
    let file = |i: u8| {
        let mut f = CleanFile::bare(
            Sha256([i; 32]),
            if i.is_multiple_of(2) {
                "NSRL"
            } else {
                "Vendor"
            },
        );
        f.sha1 = Some(Sha1([i; 20]));
        f.md5 = (i != 3).then_some(Md5([i; 16]));
        f.size = Some(u64::from(i) * 100);
        f.file_name = format!("f{i}.dll");
        f.vendor = Some("Contoso".into());
        f.product = Some(format!("Product {}", i % 3));
        f.published = Some(Timestamp::from_secs(1_700_000_000));
        f
    };
    let first: Vec<CleanFile> = (1..=5).map(file).collect();
    let out = store.import_clean_files(&first, t).await.expect("import");
    assert_eq!((out.added, out.unchanged), (5, 0));
    assert_eq!(out.seq, 5);
    // Re-import: nothing changes, no new change rows.
    let again = store
        .import_clean_files(&first, t.add_secs(60))
        .await
        .expect("re-import");
    assert_eq!((again.added, again.unchanged, again.seq), (0, 5, 5));
    // Lookups by each algorithm return the whole record.
    let got = store
        .clean_files_by(HashAlgo::Sha256, &[vec![2; 32], vec![9; 32]])
        .await
        .expect("by sha256");
    assert_eq!(got, vec![file(2)]);
    let got = store
        .clean_files_by(HashAlgo::Sha1, &[vec![4; 20]])
        .await
        .expect("by sha1");
    assert_eq!(got, vec![file(4)]);
    let got = store
        .clean_files_by(HashAlgo::Md5, &[vec![3; 16], vec![5; 16]])
        .await
        .expect("by md5");
    assert_eq!(got, vec![file(5)], "file 3 has no MD5");
    // Removal logs a change with the record's hashes.
    let removed = store
        .remove_clean_files(&[Sha256([2; 32]), Sha256([77; 32])], t.add_secs(120))
        .await
        .expect("remove");
    assert_eq!(removed, 1);
    let changes = store
        .clean_changes(0, i64::MAX, 100)
        .await
        .expect("changes");
    assert_eq!(changes.len(), 6);
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    let last = changes.last().expect("a change");
    assert!(!last.added);
    assert_eq!(last.sha256, Sha256([2; 32]));
    assert_eq!(last.md5, Some(Md5([2; 16])));
    assert_eq!(store.clean_changes(5, 6, 100).await.expect("tail").len(), 1);
    assert_eq!(
        store
            .clean_seq_before(t.add_secs(100))
            .await
            .expect("before"),
        5
    );
    assert_eq!(
        store
            .clean_seq_before(t.add_secs(200))
            .await
            .expect("before"),
        6
    );
    // Streaming in SHA-256 order.
    let mut seen = Vec::new();
    let n = store
        .for_each_clean_file(&mut |f| {
            seen.push(f.sha256);
            Ok(())
        })
        .await
        .expect("stream");
    assert_eq!(n, 4);
    assert_eq!(
        seen,
        vec![
            Sha256([1; 32]),
            Sha256([3; 32]),
            Sha256([4; 32]),
            Sha256([5; 32])
        ]
    );
    let stats = store.clean_stats().await.expect("stats");
    assert_eq!(stats.files, 4);
    assert_eq!(stats.seq, 6);
    assert_eq!(
        stats.sources,
        vec![("Vendor".to_owned(), 3), ("NSRL".to_owned(), 1)]
    );
    assert_eq!(stats.vendors, vec![("Contoso".to_owned(), 4)]);

    // Evidence: a key asked many times (in several chunks) counts once.
    let many = vec![Sha256([1; 32]); 2_500];
    let ev = store.clean_evidence(&many).await.expect("evidence");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[&Sha256([1; 32])].sources, vec!["Vendor".to_owned()]);

    // hashlookup lookup counts: pruned to the most looked-up per member and
    // day, older days dropped; another member's counts untouched.
    let day = 86_400;
    store
        .count_lookup(1, "OLD", true, t.add_secs(-40 * day))
        .await
        .expect("count");
    for _ in 0..3 {
        store.count_lookup(1, "HOT", true, t).await.expect("count");
    }
    for i in 0..(crate::TOP_KEPT_PER_DAY + 5) {
        store
            .count_lookup(1, &format!("H{i:05}"), false, t)
            .await
            .expect("count");
    }
    store
        .count_lookup(2, "B-ONLY", true, t)
        .await
        .expect("count");
    let pruned = store
        .prune_lookups(t.add_secs(-30 * day), t)
        .await
        .expect("prune");
    assert_eq!(pruned, 1 + 6, "the old day and the 6 least looked-up");
    let top = store
        .top_lookups(1, t.add_secs(-30 * day), 5_000)
        .await
        .expect("top");
    assert_eq!(top.len() as i64, crate::TOP_KEPT_PER_DAY);
    assert_eq!(top[0], ("HOT".to_owned(), true, 3));
    assert!(top.iter().all(|(h, _, _)| h != "OLD" && h != "B-ONLY"));
    let top_b = store.top_lookups(2, t, 10).await.expect("top");
    assert_eq!(top_b, vec![("B-ONLY".to_owned(), true, 1)]);

    // Sessions: each member's own, noted while they live, capped per member.
    store
        .lookup_session_create(1, "case", t, 60)
        .await
        .expect("session");
    assert!(store
        .lookup_session_note(1, "case", "AA", true, t)
        .await
        .expect("note"));
    assert!(store
        .lookup_session_note(1, "case", "AA", true, t)
        .await
        .expect("again: the session lives"));
    assert!(!store
        .lookup_session_note(2, "case", "BB", true, t)
        .await
        .expect("note"));
    let s = store.lookup_session(1, "case", t).await.expect("get");
    assert_eq!(s.map(|s| s.hashes), Some(vec![("AA".to_owned(), true)]));
    assert!(store
        .lookup_session(1, "case", t.add_secs(61))
        .await
        .expect("get")
        .is_none());
    for i in 1..crate::SESSIONS_PER_MEMBER {
        store
            .lookup_session_create(1, &format!("s{i}"), t, 60)
            .await
            .expect("session");
    }
    assert!(matches!(
        store.lookup_session_create(1, "one-too-many", t, 60).await,
        Err(StoreError::Conflict(_))
    ));
    store
        .lookup_session_create(2, "b's", t, 60)
        .await
        .expect("another member has its own allowance");
    store
        .prune_lookups(t.add_secs(-30 * day), t.add_secs(61))
        .await
        .expect("prune");
    store
        .lookup_session_create(1, "after-expiry", t.add_secs(61), 60)
        .await
        .expect("expired sessions no longer count");
}

/// Contributions, history, comments, attachments, share requests, rules
/// and retention; the group's TAXII collection follows its contributions.
pub async fn partnership(store: &dyn Store) {
    use isx_partnership::{
        ContributionKind, Details, GroupRules, IndicatorType, NewComment, NewContribution,
        ShareStatus, ShareTarget,
    };
    let author = store
        .insert_member(
            &new_member("Water Utility P", MemberKind::CriticalInfrastructure),
            T0,
        )
        .await
        .expect("member");
    let ad_hoc = |name: &str| NewTrustGroup {
        name: name.into(),
        description: String::new(),
        kind: TrustGroupKind::AdHoc { ends_at: None },
        hide_members: false,
    };
    let g1 = store
        .insert_group(&ad_hoc("Partnership G1"), author.id, T0)
        .await
        .expect("group");
    let g2 = store
        .insert_group(&ad_hoc("Partnership G2"), author.id, T0)
        .await
        .expect("group");
    let content = NewContribution {
        title: "C2 seen".into(),
        description: "beacons every 60 s".into(),
        marking: isx_domain::Tlp::Amber,
        anonymous: true,
        details: Details::Indicator {
            indicator_type: IndicatorType::Domain,
            value: "c2.evil.example".into(),
            valid_until: None,
        },
    };
    let stix = |id: &str, at: Timestamp| crate::NewExchangeObject {
        id: id.into(),
        object_type: "indicator".into(),
        version: at,
        spec_version: "2.1".into(),
        marking: isx_domain::Tlp::Amber,
        body: format!("{{\"id\":\"{id}\"}}"),
    };
    let sid = "indicator--00000000-0000-4000-8000-000000000001";
    let row = crate::NewContributionRow {
        group: g1.id,
        author: author.id,
        content: &content,
        stix_id: sid,
        origin: None,
    };
    let c = store
        .insert_contribution(&row, &[stix(sid, T0)], T0)
        .await
        .expect("insert");
    assert_eq!(
        (c.version, c.kind(), c.content.anonymous),
        (1, ContributionKind::Indicator, true)
    );
    assert!(
        store.insert_contribution(&row, &[], T0).await.is_err(),
        "a STIX id is unique"
    );
    let coll = crate::group_collection(g1.id);
    assert_eq!(
        store
            .exchange_window(&coll, Timestamp::from_micros(0), 10)
            .await
            .expect("window")
            .len(),
        1
    );
    // An object keeps at most MAX_VERSIONS versions: the rest of a post
    // is refused as too many, other objects of the post are kept.
    let many: Vec<crate::NewExchangeObject> = (0..crate::MAX_VERSIONS + 1)
        .map(|i| {
            stix(
                "indicator--00000000-0000-4000-8000-0000000000aa",
                T0.add_secs(i),
            )
        })
        .chain(std::iter::once(stix(
            "indicator--00000000-0000-4000-8000-0000000000bb",
            T0,
        )))
        .collect();
    let added = store
        .exchange_add("conformance-versions", author.id, &many, T0, false)
        .await
        .expect("versions");
    let count = |what: crate::ExchangeAdded| added.iter().filter(|a| **a == what).count();
    assert_eq!(
        (
            count(crate::ExchangeAdded::New),
            count(crate::ExchangeAdded::TooManyVersions)
        ),
        (crate::MAX_VERSIONS as usize + 1, 1)
    );
    assert_eq!(
        added[crate::MAX_VERSIONS as usize],
        crate::ExchangeAdded::TooManyVersions
    );
    let again = store
        .exchange_add(
            "conformance-versions",
            author.id,
            &[stix(
                "indicator--00000000-0000-4000-8000-0000000000aa",
                T0.add_secs(-5),
            )],
            T0,
            true,
        )
        .await
        .expect("versions");
    assert_eq!(
        again,
        vec![crate::ExchangeAdded::TooManyVersions],
        "the operator too"
    );
    // A version already held is answered as held at the bound as below it
    // (a client retrying its post is not told it failed).
    let retried = store
        .exchange_add(
            "conformance-versions",
            author.id,
            &[stix(
                "indicator--00000000-0000-4000-8000-0000000000aa",
                T0.add_secs(7),
            )],
            T0,
            false,
        )
        .await
        .expect("versions");
    assert_eq!(retried, vec![crate::ExchangeAdded::Held]);
    // Status resources: kept, read back with their maker, pruned by age.
    store
        .put_exchange_status("st-old", author.id, T0, "{}")
        .await
        .expect("status");
    store
        .put_exchange_status("st-new", author.id, T0.add_secs(3_600), "{\"n\":1}")
        .await
        .expect("status");
    assert_eq!(
        store.exchange_status("st-new").await.expect("read"),
        Some((author.id, "{\"n\":1}".to_owned()))
    );
    assert_eq!(
        store
            .prune_exchange_status(T0.add_secs(60))
            .await
            .expect("prune"),
        1
    );
    assert_eq!(store.exchange_status("st-old").await.expect("read"), None);
    assert!(store
        .exchange_status("st-new")
        .await
        .expect("read")
        .is_some());

    let mut edited = content.clone();
    edited.description = "beacons every 30 s".into();
    let t1 = T0.add_secs(60);
    let c2 = store
        .update_contribution(c.id, author.id, 1, &edited, &[stix(sid, t1)], t1)
        .await
        .expect("edit");
    assert_eq!((c2.version, c2.updated_at, c2.created_at), (2, t1, T0));
    assert!(
        matches!(
            store
                .update_contribution(c.id, author.id, 1, &edited, &[], t1)
                .await,
            Err(StoreError::Conflict(_))
        ),
        "an edit of a stale version is refused"
    );
    let versions = store.contribution_versions(c.id).await.expect("versions");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].content.description, "beacons every 60 s");
    assert_eq!(
        store
            .exchange_window(&coll, Timestamp::from_micros(0), 10)
            .await
            .expect("window")
            .len(),
        2
    );

    let note = |t: &str, parent| NewComment {
        text: t.into(),
        parent,
        anonymous: false,
    };
    let first = store
        .insert_comment(&c2, author.id, &note("seen too", None), "note--1", &[], t1)
        .await
        .expect("comment");
    store
        .insert_comment(
            &c2,
            author.id,
            &note("same here", Some(first.id)),
            "note--2",
            &[],
            t1,
        )
        .await
        .expect("reply");
    assert!(store
        .insert_comment(&c2, author.id, &note("x", Some(9_999)), "note--3", &[], t1)
        .await
        .is_err());
    assert_eq!(store.comments(c.id).await.expect("comments").len(), 2);

    let a = store
        .insert_attachment(c.id, "report.pdf", "application/pdf", b"%PDF-1.7", "ab", t1)
        .await
        .expect("attach");
    let (owner, meta, bytes) = store.attachment(a.id).await.expect("read").expect("there");
    assert_eq!(
        (owner, meta.size, bytes.as_slice()),
        (c.id, 8, &b"%PDF-1.7"[..])
    );

    let target = ShareTarget::Group { group: g2.id };
    let req = store
        .insert_share(c.id, target, author.id, "wider", t1)
        .await
        .expect("share");
    assert_eq!(req.status, ShareStatus::Pending);
    assert!(matches!(
        store.insert_share(c.id, target, author.id, "", t1).await,
        Err(StoreError::Conflict(_))
    ));
    let copy_sid = "indicator--00000000-0000-4000-8000-000000000002";
    let copy_row = crate::NewContributionRow {
        group: g2.id,
        author: author.id,
        content: &edited,
        stix_id: copy_sid,
        origin: Some(c.id),
    };
    let done = store
        .decide_share(
            req.id,
            crate::ShareDecision::ApproveCopy(&copy_row, &[stix(copy_sid, t1)][..]),
            t1,
        )
        .await
        .expect("approve");
    let copy = done.copy.expect("copy made");
    assert_eq!(
        store
            .contribution(copy)
            .await
            .expect("copy")
            .expect("there")
            .origin,
        Some(c.id)
    );
    assert!(matches!(
        store
            .decide_share(req.id, crate::ShareDecision::Reject, t1)
            .await,
        Err(StoreError::Conflict(_))
    ));

    // Into the malicious-URL feed: the URL and the decision commit
    // together, and a decision that comes too late stores no URL.
    let feed_req = store
        .insert_share(c.id, ShareTarget::UrlFeed, author.id, "feed", t1)
        .await
        .expect("share into the feed");
    let urls_for = |url: &str| crate::UrlQuery {
        text: Some(url.into()),
        markings: isx_domain::Tlp::ALL.to_vec(),
        limit: 10,
        ..Default::default()
    };
    let first = [url_candidate(
        "http://shared.example/payload",
        "malware",
        1_800_000_000,
        1_800_000_000,
        isx_domain::Tlp::Green,
    )];
    let batch = crate::UrlBatch {
        candidates: &first,
        source: "contribution",
        actor: "member:1",
    };
    store
        .decide_share(feed_req.id, crate::ShareDecision::ApproveUrls(&batch), t1)
        .await
        .expect("approve into the feed");
    assert_eq!(
        store
            .url_records(&urls_for("shared.example"))
            .await
            .expect("urls")
            .len(),
        1
    );
    let late = [url_candidate(
        "http://late.example/payload",
        "malware",
        1_800_000_000,
        1_800_000_000,
        isx_domain::Tlp::Green,
    )];
    let batch = crate::UrlBatch {
        candidates: &late,
        source: "contribution",
        actor: "member:1",
    };
    assert!(matches!(
        store
            .decide_share(feed_req.id, crate::ShareDecision::ApproveUrls(&batch), t1)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .url_records(&urls_for("late.example"))
            .await
            .expect("urls")
            .is_empty(),
        "a refused decision leaves the feed as it was"
    );

    assert_eq!(
        store
            .group_rules(g1.id)
            .await
            .expect("rules")
            .retention_days,
        None
    );
    let rules = GroupRules {
        retention_days: Some(30),
        mandatory: vec![ContributionKind::Incident],
        report_period_days: 7,
    };
    store
        .put_group_rules(g1.id, &rules)
        .await
        .expect("put rules");
    assert_eq!(store.group_rules(g1.id).await.expect("rules"), rules);

    assert_eq!(
        store.prune_contributions(g1.id, t1).await.expect("prune"),
        0,
        "changed at t1: kept"
    );
    assert_eq!(
        store
            .prune_contributions(g1.id, t1.add_secs(1))
            .await
            .expect("prune"),
        1
    );
    assert!(store.contribution(c.id).await.expect("read").is_none());
    assert!(store
        .exchange_window(&coll, Timestamp::from_micros(0), 10)
        .await
        .expect("window")
        .is_empty());
    assert!(
        store.contribution(copy).await.expect("read").is_some(),
        "the copy in G2 stays"
    );
}

/// Version 19 gave a URL one record per marking (on SQLite by building the
/// URL tables again): a version-18 database holding a record and its
/// sighting upgrades with both intact, and the URL can then gain a
/// stricter record beside its first.
pub async fn url_levels_upgrade(url: &str) {
    use isx_domain::Tlp;
    let green = url_candidate("http://old.example/x", "phishing", 100, 200, Tlp::Green);
    // A URL whose one record a RED sighting raised (its GREEN sighting's
    // readers lost it, F1): re-importing the GREEN sighting gives it back.
    let raised = url_candidate("http://raised.example/x", "phishing", 100, 200, Tlp::Green);
    let store: std::sync::Arc<dyn Store> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let s = crate::postgres::PostgresStore::connect(url)
                .await
                .expect("connect");
            at_version_18(&s, &[(&green, Tlp::Green), (&raised, Tlp::Red)]).await;
            std::sync::Arc::new(s)
        } else {
            let s = crate::sqlite::SqliteStore::open(std::path::Path::new(url))
                .await
                .expect("open");
            at_version_18(&s, &[(&green, Tlp::Green), (&raised, Tlp::Red)]).await;
            std::sync::Arc::new(s)
        };
    assert_eq!(store.migrate().await.expect("upgrade"), 13);
    let q = crate::UrlQuery {
        markings: Tlp::ALL.to_vec(),
        limit: 10,
        ..Default::default()
    };
    let old_only = crate::UrlQuery {
        host: Some("old.example".into()),
        ..q.clone()
    };
    let before = store.url_records(&old_only).await.expect("records");
    assert_eq!(before.len(), 1);
    assert_eq!((before[0].tlp, before[0].above), (Tlp::Green, None));
    assert!(before[0].legacy_ids, "a stored record keeps its STIX ids");
    let red = url_candidate("http://old.example/x", "phishing", 150, 250, Tlp::Red);
    let candidates = [green, red, raised];
    let out = store
        .import_urls(
            &crate::UrlBatch {
                candidates: &candidates,
                source: "test",
                actor: "cli",
            },
            Timestamp::from_secs(300),
        )
        .await
        .expect("import after the upgrade");
    assert_eq!(
        (out.unchanged, out.updated),
        (1, 2),
        "the old GREEN sighting is still known; the raised one is news for GREEN readers"
    );
    let green_only = crate::UrlQuery {
        markings: vec![Tlp::Clear, Tlp::Green],
        ..q.clone()
    };
    let green_view = store
        .url_records(&crate::UrlQuery {
            host: Some("old.example".into()),
            ..green_only.clone()
        })
        .await
        .expect("green");
    assert_eq!(green_view.len(), 1);
    assert_eq!(green_view[0].id, before[0].id, "the old record, kept");
    assert_eq!(green_view[0].times_seen, 1);
    let red_view = store.url_records(&old_only).await.expect("all");
    assert_eq!(red_view.len(), 1);
    assert_eq!((red_view[0].tlp, red_view[0].times_seen), (Tlp::Red, 2));
    assert!(!red_view[0].legacy_ids, "a new record keys its own");
    let raised_only = |markings: Vec<Tlp>| crate::UrlQuery {
        host: Some("raised.example".into()),
        markings,
        ..q.clone()
    };
    let back = store
        .url_records(&raised_only(vec![Tlp::Clear, Tlp::Green]))
        .await
        .expect("raised, for GREEN");
    assert_eq!(back.len(), 1, "a GREEN reader has the URL back");
    assert_eq!((back[0].tlp, back[0].times_seen), (Tlp::Green, 1));
    let kept = store
        .url_records(&raised_only(Tlp::ALL.to_vec()))
        .await
        .expect("raised, for RED");
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].tlp, kept[0].times_seen, kept[0].legacy_ids),
        (Tlp::Red, 1, true),
        "the RED record held the sighting already"
    );
}

/// Migrates `store` to version 18 and writes URL records, each with one
/// sighting and the marking given, as that schema held them.
async fn at_version_18<DB: crate::engine::Engine>(
    store: &crate::engine::SqlStore<DB>,
    records: &[(&isx_urls::UrlCandidate, isx_domain::Tlp)],
) {
    at_version(store, 18, records).await;
}

/// Migrates `store` to `version` (18 or 19: the URL columns below are the
/// same) and writes URL records, each with one sighting and the marking
/// given.
async fn at_version<DB: crate::engine::Engine>(
    store: &crate::engine::SqlStore<DB>,
    version: i64,
    records: &[(&isx_urls::UrlCandidate, isx_domain::Tlp)],
) {
    use crate::engine::{scalar, Run};
    crate::migrate::run_through(&store.pool, version)
        .await
        .expect("older version");
    sqlx::query(
        "INSERT INTO url_batches (seq, imported_at, source, actor, created, updated, unchanged)
         VALUES (1, 0, 'test', 'cli', 1, 0, 0)",
    )
    .run(&store.pool)
    .await
    .expect("batch");
    for (c, tlp) in records {
        let id: i64 = scalar(
            sqlx::query(
                "INSERT INTO url_records (url, host, threat, tags, source, confidence, tlp, first_seen,
                 last_seen, times_seen, changed_seq, changed_at, live_since)
                 VALUES ($1, $2, 'phishing', '[]', 'test', 50, $6, $3, $4, 1, 1, $5, $3) RETURNING id",
            )
            .arg(c.canon.url.clone())
            .arg(c.canon.host.clone())
            .arg(c.first_seen.as_micros())
            .arg(c.last_seen.as_micros())
            .arg(Timestamp::from_secs(250).as_micros())
            .arg(tlp.as_str()),
            &store.pool,
        )
        .await
        .expect("record");
        sqlx::query("INSERT INTO url_sightings (url_id, sighting) VALUES ($1, $2)")
            .arg(id)
            .arg(c.sighting.clone())
            .run(&store.pool)
            .await
            .expect("sighting");
    }
}

/// A database of version 19 could hold several records of one URL, all
/// keyed by the URL alone: after the upgrade only the loosest keeps that
/// key, so no two records share an id.
pub async fn url_lineage_upgrade(url: &str) {
    use isx_domain::Tlp;
    let clear = url_candidate("http://two.example/x", "phishing", 100, 200, Tlp::Clear);
    let red = url_candidate("http://two.example/x", "phishing", 120, 220, Tlp::Red);
    let store: std::sync::Arc<dyn Store> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let s = crate::postgres::PostgresStore::connect(url)
                .await
                .expect("connect");
            at_version(&s, 19, &[(&clear, Tlp::Clear), (&red, Tlp::Red)]).await;
            std::sync::Arc::new(s)
        } else {
            let s = crate::sqlite::SqliteStore::open(std::path::Path::new(url))
                .await
                .expect("open");
            at_version(&s, 19, &[(&clear, Tlp::Clear), (&red, Tlp::Red)]).await;
            std::sync::Arc::new(s)
        };
    store.migrate().await.expect("upgrade");
    // (Rows written here as schema 19 held them name no `above`: both read.)
    let records = store
        .url_records(&crate::UrlQuery {
            markings: Tlp::ALL.to_vec(),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("records");
    assert_eq!(records.len(), 2);
    let flags: Vec<(Tlp, bool)> = records.iter().map(|r| (r.tlp, r.legacy_ids)).collect();
    assert!(flags.contains(&(Tlp::Clear, true)), "{flags:?}");
    assert!(!flags.contains(&(Tlp::Red, true)), "{flags:?}");
}

/// Red-team pass 2026-12-07 (second, F5): revocation read in rounds took
/// one arrival per round, across markings, so where a CLEAR reader's
/// records split told it how many hidden ones the first round revoked.
/// Every record a revocation run ends shares one arrival.
async fn url_revocation_is_one_arrival(store: &dyn Store) {
    use isx_domain::Tlp;
    let day = 86_400;
    let t = 1_800_000_000 - 1_000;
    let candidates = [
        url_candidate(
            "http://rev-hidden.example/x",
            "phishing",
            t - 100,
            t - 100,
            Tlp::Red,
        ),
        url_candidate(
            "http://rev-a.example/x",
            "phishing",
            t - 50,
            t - 50,
            Tlp::Clear,
        ),
        url_candidate(
            "http://rev-b.example/x",
            "phishing",
            t - 40,
            t - 40,
            Tlp::Clear,
        ),
    ];
    store
        .import_urls(
            &crate::UrlBatch {
                candidates: &candidates,
                source: "test",
                actor: "cli",
            },
            Timestamp::from_secs(t),
        )
        .await
        .expect("import");
    let now = Timestamp::from_secs(t + 10 * day);
    let n = store
        .revoke_urls(now.add_secs(-5 * day), now, 2)
        .await
        .expect("revoke");
    assert!(n >= 3, "{n}");
    let q = crate::UrlQuery {
        markings: vec![Tlp::Clear],
        text: Some("rev-".into()),
        limit: 10,
        ..Default::default()
    };
    let clear = store.url_records(&q).await.expect("records");
    assert_eq!(clear.len(), 2);
    assert!(clear.iter().all(|r| !r.live));
    assert_eq!(clear[0].changed_at, clear[1].changed_at, "one arrival");
}

/// Second factors: a TOTP step is used once, a recovery code once, a new
/// set ends the old one, a challenge counts its tries, requirements are
/// per member, and removal takes the codes with it.
async fn second_factors(store: &dyn Store) {
    let m = store
        .insert_member(&new_member("Factor Agency", MemberKind::Government), T0)
        .await
        .expect("member");
    let u = store
        .insert_user(
            &NewUser {
                login: Login::new("factor-user").expect("login"),
                member: m.id,
                role: UserRole::Member,
                password_hash: "$argon2id$x".into(),
            },
            T0,
        )
        .await
        .expect("user");
    assert!(store.totp(u.id).await.expect("totp").is_none());
    let codes = vec!["h1".to_owned(), "h2".to_owned()];
    assert!(store
        .put_totp(u.id, "SECRET", 100, &codes, false, T0)
        .await
        .expect("put"));
    assert!(
        !store
            .put_totp(u.id, "OTHER", 100, &codes, false, T0)
            .await
            .expect("second"),
        "a first enrolment does not replace one"
    );
    assert_eq!(
        store.totp(u.id).await.expect("totp").map(|f| f.secret),
        Some("SECRET".into())
    );
    assert_eq!(store.note_factor_failure(u.id).await.expect("fail"), 1);
    assert_eq!(store.note_factor_failure(u.id).await.expect("fail"), 2);
    store.clear_factor_failures(u.id).await.expect("clear");
    assert_eq!(
        store.totp(u.id).await.expect("totp").map(|f| f.failures),
        Some(0)
    );
    assert_eq!(
        store.totp(u.id).await.expect("totp").map(|f| f.last_step),
        Some(100)
    );
    assert!(
        !store.use_totp_step(u.id, 100).await.expect("replay"),
        "a used step"
    );
    assert!(
        !store.use_totp_step(u.id, 99).await.expect("older"),
        "an older step"
    );
    assert!(store.use_totp_step(u.id, 101).await.expect("next"));
    assert!(!store.use_totp_step(u.id, 101).await.expect("again"));
    assert_eq!(store.recovery_codes_left(u.id).await.expect("left"), 2);
    assert!(store.use_recovery_code(u.id, "h1", T0).await.expect("use"));
    assert!(!store
        .use_recovery_code(u.id, "h1", T0)
        .await
        .expect("reuse"));
    assert!(!store
        .use_recovery_code(u.id, "nope", T0)
        .await
        .expect("wrong"));
    assert_eq!(store.recovery_codes_left(u.id).await.expect("left"), 1);
    store
        .replace_recovery_codes(u.id, &["h3".to_owned()], T0)
        .await
        .expect("renew");
    assert!(!store
        .use_recovery_code(u.id, "h2", T0)
        .await
        .expect("old set"));
    assert_eq!(store.recovery_codes_left(u.id).await.expect("left"), 1);
    assert!(!store.second_factor_required(m.id).await.expect("required"));
    store
        .set_second_factor_required(m.id, true)
        .await
        .expect("require");
    assert!(store.second_factor_required(m.id).await.expect("required"));
    let c = crate::SignInChallenge {
        token_hash: "challenge-hash".into(),
        user: u.id,
        pending_secret: None,
        pending_link: None,
        attempts: 0,
        created_at: T0,
        expires_at: T0.add_secs(300),
    };
    store.insert_challenge(&c).await.expect("challenge");
    assert_eq!(
        store.challenge_attempt(&c.token_hash).await.expect("try"),
        1
    );
    assert_eq!(
        store.challenge_attempt(&c.token_hash).await.expect("try"),
        2
    );
    assert_eq!(
        store
            .challenge(&c.token_hash)
            .await
            .expect("read")
            .map(|c| c.attempts),
        Some(2)
    );
    assert_eq!(
        store
            .delete_expired_challenges(T0.add_secs(299))
            .await
            .expect("not yet"),
        0
    );
    assert_eq!(
        store
            .delete_expired_challenges(T0.add_secs(300))
            .await
            .expect("expired"),
        1
    );
    assert!(store
        .challenge(&c.token_hash)
        .await
        .expect("gone")
        .is_none());
    assert!(store.delete_totp(u.id).await.expect("remove"));
    assert!(!store.delete_totp(u.id).await.expect("again"));
    assert_eq!(store.recovery_codes_left(u.id).await.expect("left"), 0);
}

async fn single_sign_on(store: &dyn Store) {
    use crate::{SsoIdentity, SsoMapping, SsoPending, SsoProvider};
    let m = store
        .insert_member(&new_member("SSO Agency", MemberKind::Government), T0)
        .await
        .expect("member");
    let u = store
        .insert_user(
            &NewUser {
                login: Login::new("sso-user").expect("login"),
                member: m.id,
                role: UserRole::Member,
                password_hash: "!sso".into(),
            },
            T0,
        )
        .await
        .expect("user");
    let mut p = SsoProvider {
        name: "agency".into(),
        display_name: "Agency sign-in".into(),
        issuer: "https://idp.example".into(),
        client_id: "isx".into(),
        client_secret: "s3cret".into(),
        scopes: vec!["profile".into(), "email".into()],
        claim: "groups".into(),
        login_claim: "preferred_username".into(),
        mappings: vec![SsoMapping {
            value: "cert-team".into(),
            member: m.id,
            role: UserRole::MemberAdmin,
        }],
        create_users: false,
        ca_pem: None,
        created_at: T0,
    };
    store.put_sso_provider(&p).await.expect("put");
    assert_eq!(
        store.sso_provider("agency").await.expect("get"),
        Some(p.clone())
    );
    p.create_users = true;
    p.scopes = vec![];
    store.put_sso_provider(&p).await.expect("replace");
    assert_eq!(store.sso_providers().await.expect("list"), vec![p.clone()]);

    let pending = SsoPending {
        token_hash: "th".into(),
        provider: "agency".into(),
        state: "st".into(),
        nonce: "no".into(),
        verifier: "ve".into(),
        redirect_uri: "https://isx.example/login/sso/agency/callback".into(),
        created_at: T0,
        expires_at: T0.add_secs(600),
    };
    store.insert_sso_pending(&pending).await.expect("pending");
    assert_eq!(
        store.take_sso_pending("th", T0).await.expect("take"),
        Some(pending.clone())
    );
    assert_eq!(
        store.take_sso_pending("th", T0).await.expect("again"),
        None,
        "a sign-in in progress is taken once"
    );
    store.insert_sso_pending(&pending).await.expect("pending");
    assert_eq!(
        store
            .take_sso_pending("th", T0.add_secs(600))
            .await
            .expect("late"),
        None,
        "an expired one is not given out"
    );
    store
        .insert_sso_pending(&SsoPending {
            token_hash: "old".into(),
            ..pending.clone()
        })
        .await
        .expect("pending");
    assert_eq!(
        store
            .delete_expired_sso_pending(T0.add_secs(601))
            .await
            .expect("expire"),
        1
    );

    let id = SsoIdentity {
        issuer: p.issuer.clone(),
        subject: "248289761001".into(),
        provider: "agency".into(),
        user: u.id,
        linked_at: T0,
    };
    assert!(store.link_sso_identity(&id).await.expect("link"));
    assert!(
        !store
            .link_sso_identity(&SsoIdentity {
                user: crate::UserId(u.id.0 + 1000),
                ..id.clone()
            })
            .await
            .expect("relink"),
        "an identity is bound to one user"
    );
    assert_eq!(
        store
            .sso_identity(&p.issuer, "248289761001")
            .await
            .expect("identity"),
        Some(id.clone())
    );
    assert_eq!(
        store.sso_identities_of(u.id).await.expect("of"),
        vec![id.clone()]
    );
    assert!(
        !store
            .link_sso_identity(&SsoIdentity {
                subject: "another-subject".into(),
                ..id.clone()
            })
            .await
            .expect("second"),
        "a user is bound to one identity"
    );
    // A first sign-in's binding rides on its second-factor step.
    let step = crate::SignInChallenge {
        token_hash: "sso-step".into(),
        user: u.id,
        pending_secret: None,
        pending_link: Some(id.clone()),
        attempts: 0,
        created_at: T0,
        expires_at: T0.add_secs(300),
    };
    store.insert_challenge(&step).await.expect("step");
    assert_eq!(store.challenge("sso-step").await.expect("get"), Some(step));
    assert_eq!(store.unlink_sso_identities(u.id).await.expect("unlink"), 1);
    assert!(store.link_sso_identity(&id).await.expect("bind again"));
    store.insert_sso_pending(&pending).await.expect("pending");
    assert!(store.delete_sso_provider("agency").await.expect("delete"));
    assert!(!store.delete_sso_provider("agency").await.expect("again"));
    assert!(store
        .sso_identity(&p.issuer, "248289761001")
        .await
        .expect("identity")
        .is_none());
    assert!(store
        .take_sso_pending("th", T0)
        .await
        .expect("take")
        .is_none());
}

async fn passkeys(store: &dyn Store) {
    use crate::{StoredPasskey, WebauthnCeremony};
    let m = store
        .insert_member(&new_member("Passkey Agency", MemberKind::Government), T0)
        .await
        .expect("member");
    let mut users = Vec::new();
    for login in ["pk-one", "pk-two"] {
        users.push(
            store
                .insert_user(
                    &NewUser {
                        login: Login::new(login).expect("login"),
                        member: m.id,
                        role: UserRole::Member,
                        password_hash: "$argon2id$x".into(),
                    },
                    T0,
                )
                .await
                .expect("user"),
        );
    }
    let (one, two) = (users[0].id, users[1].id);
    let key = StoredPasskey {
        credential_id: "Y3JlZA".into(),
        user: one,
        name: "laptop".into(),
        passkey: "{}".into(),
        created_at: T0,
        last_used_at: None,
    };
    assert!(store.insert_passkey(&key).await.expect("insert"));
    assert!(
        !store
            .insert_passkey(&StoredPasskey {
                user: two,
                ..key.clone()
            })
            .await
            .expect("again"),
        "a credential id belongs to one user"
    );
    assert_eq!(store.passkeys(one).await.expect("list"), vec![key.clone()]);
    assert!(store.passkeys(two).await.expect("list").is_empty());
    store
        .update_passkey(two, "Y3JlZA", "{\"stolen\":1}", T0.add_secs(5))
        .await
        .expect("update other");
    assert_eq!(
        store.passkeys(one).await.expect("list")[0].passkey,
        "{}",
        "another user cannot write it"
    );
    store
        .update_passkey(one, "Y3JlZA", "{\"c\":2}", T0.add_secs(5))
        .await
        .expect("update");
    let got = &store.passkeys(one).await.expect("list")[0];
    assert_eq!(
        (got.passkey.as_str(), got.last_used_at),
        ("{\"c\":2}", Some(T0.add_secs(5)))
    );
    assert!(!store.delete_passkey(two, "Y3JlZA").await.expect("other"));
    assert!(store.delete_passkey(one, "Y3JlZA").await.expect("own"));
    assert!(store.insert_passkey(&key).await.expect("insert"));
    assert_eq!(store.delete_passkeys_of(one).await.expect("all"), 1);

    let c = WebauthnCeremony {
        token_hash: "cer".into(),
        user: one,
        kind: "register".into(),
        state: "{}".into(),
        created_at: T0,
        expires_at: T0.add_secs(300),
    };
    store.insert_ceremony(&c).await.expect("ceremony");
    assert_eq!(
        store.take_ceremony("cer", T0).await.expect("take"),
        Some(c.clone())
    );
    assert_eq!(store.take_ceremony("cer", T0).await.expect("twice"), None);
    store.insert_ceremony(&c).await.expect("ceremony");
    assert_eq!(
        store
            .take_ceremony("cer", T0.add_secs(300))
            .await
            .expect("late"),
        None
    );
}
