//! Turning stored columns back into domain values. Shared by both engines;
//! a value that fails its domain check is reported as corrupt data.

use isx_domain::{
    ApiKey, Clearance, Constituency, CountryCode, GroupId, GroupMembership, GroupRole, KeyId,
    Login, Member, MemberId, MemberKind, MemberName, Tier, Timestamp, TrustGroup, TrustGroupKind,
    User, UserId, UserRole,
};

use crate::engine::Get;
use crate::{Result, StoreError};

pub(crate) fn parse<T: std::str::FromStr>(what: &str, text: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e: T::Err| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn ts(micros: Option<i64>) -> Option<Timestamp> {
    micros.map(Timestamp::from_micros)
}

pub(crate) struct MemberColumns {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub country: Option<String>,
    pub tier: String,
    pub clearance: String,
    pub constituency: String,
    pub created_at: i64,
}

pub(crate) fn member(c: MemberColumns) -> Result<Member> {
    let constituency: Constituency = serde_json::from_str(&c.constituency)
        .map_err(|e| StoreError::Corrupt(format!("member {} constituency: {e}", c.id)))?;
    Ok(Member {
        id: MemberId(c.id),
        name: MemberName::new(&c.name).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        kind: parse::<MemberKind>("member kind", &c.kind)?,
        country: c
            .country
            .as_deref()
            .map(|s| parse::<CountryCode>("member country", s))
            .transpose()?,
        tier: parse::<Tier>("member tier", &c.tier)?,
        clearance: parse::<Clearance>("member clearance", &c.clearance)?,
        constituency,
        created_at: Timestamp::from_micros(c.created_at),
    })
}

pub(crate) fn constituency_json(c: &Constituency) -> String {
    // Serialising plain domain values cannot fail.
    serde_json::to_string(&c.clone().normalise()).unwrap_or_else(|_| "{}".to_owned())
}

pub(crate) struct UserColumns {
    pub id: i64,
    pub login: String,
    pub member_id: i64,
    pub role: String,
    pub password_hash: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

pub(crate) fn user(c: UserColumns) -> Result<User> {
    Ok(User {
        id: UserId(c.id),
        login: Login::new(&c.login).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        member: MemberId(c.member_id),
        role: parse::<UserRole>("user role", &c.role)?,
        password_hash: c.password_hash,
        created_at: Timestamp::from_micros(c.created_at),
        disabled_at: c.disabled_at.map(Timestamp::from_micros),
    })
}

pub(crate) struct KeyColumns {
    pub key_id: String,
    pub member_id: i64,
    pub name: String,
    pub secret_hash: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub role: String,
    pub parent_key: Option<String>,
    pub creator_user: Option<i64>,
}

pub(crate) fn api_key(c: KeyColumns) -> Result<ApiKey> {
    Ok(ApiKey {
        key_id: KeyId::new(&c.key_id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        member: MemberId(c.member_id),
        name: c.name,
        secret_hash: c.secret_hash,
        created_at: Timestamp::from_micros(c.created_at),
        expires_at: ts(c.expires_at),
        revoked_at: ts(c.revoked_at),
        last_used_at: ts(c.last_used_at),
        role: parse::<UserRole>("key role", &c.role)?,
        parent: c
            .parent_key
            .as_deref()
            .map(KeyId::new)
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        creator: c.creator_user.map(UserId),
    })
}

pub(crate) struct GroupColumns {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub agreement: Option<String>,
    pub min_clearance: String,
    pub ends_at: Option<i64>,
    pub hide_members: bool,
    pub created_at: i64,
}

/// The columns a group kind is stored in: (kind, agreement, min_clearance, ends_at).
pub(crate) fn group_kind_columns(
    k: &TrustGroupKind,
) -> (&'static str, Option<&str>, &'static str, Option<i64>) {
    match k {
        TrustGroupKind::Formal {
            agreement,
            min_clearance,
        } => (
            "formal",
            Some(agreement.as_str()),
            min_clearance.as_str(),
            None,
        ),
        TrustGroupKind::AdHoc { ends_at } => (
            "ad-hoc",
            None,
            Clearance::None.as_str(),
            ends_at.map(Timestamp::as_micros),
        ),
    }
}

pub(crate) fn group(c: GroupColumns) -> Result<TrustGroup> {
    let kind = match c.kind.as_str() {
        "formal" => TrustGroupKind::Formal {
            agreement: c.agreement.unwrap_or_default(),
            min_clearance: parse::<Clearance>("group clearance", &c.min_clearance)?,
        },
        "ad-hoc" => TrustGroupKind::AdHoc {
            ends_at: ts(c.ends_at),
        },
        other => return Err(StoreError::Corrupt(format!("group kind {other:?}"))),
    };
    Ok(TrustGroup {
        id: GroupId(c.id),
        name: c.name,
        description: c.description,
        kind,
        hide_members: c.hide_members,
        created_at: Timestamp::from_micros(c.created_at),
    })
}

pub(crate) fn membership(
    group: i64,
    member: i64,
    role: &str,
    joined_at: i64,
) -> Result<GroupMembership> {
    Ok(GroupMembership {
        group: GroupId(group),
        member: MemberId(member),
        role: parse::<GroupRole>("group role", role)?,
        joined_at: Timestamp::from_micros(joined_at),
    })
}

pub(crate) struct ReleaseColumns {
    pub id: i64,
    pub title: String,
    pub release_at: i64,
    pub notes: String,
    pub status: String,
    pub marking: String,
    pub revisions: String,
    pub created_at: i64,
}

pub(crate) fn release(c: ReleaseColumns) -> Result<isx_advisories::Release> {
    Ok(isx_advisories::Release {
        id: c.id,
        title: c.title,
        release_at: Timestamp::from_micros(c.release_at),
        notes: c.notes,
        status: isx_advisories::ReleaseStatus::parse(&c.status)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        marking: parse::<isx_domain::Tlp>("release marking", &c.marking)?,
        revisions: serde_json::from_str(&c.revisions)
            .map_err(|e| StoreError::Corrupt(format!("release {} revisions: {e}", c.id)))?,
        created_at: Timestamp::from_micros(c.created_at),
    })
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

/// An advisory from its stored body, with KEV status from the catalogue
/// taking precedence over what the advisory itself carried.
pub(crate) fn advisory(body: &str, kev: Option<&str>) -> Result<isx_advisories::Advisory> {
    let mut a: isx_advisories::Advisory = serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("advisory body: {e}")))?;
    if let Some(k) = kev {
        a.known_exploited = Some(
            serde_json::from_str(k).map_err(|e| StoreError::Corrupt(format!("KEV entry: {e}")))?,
        );
    }
    Ok(a)
}

pub(crate) struct UrlColumns {
    pub id: i64,
    pub url: String,
    pub host: String,
    pub domain: Option<String>,
    pub ip: Option<String>,
    pub asn: Option<i64>,
    pub as_org: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub threat: String,
    pub tags: String,
    pub source: String,
    pub confidence: i64,
    pub tlp: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub times_seen: i64,
    pub changed_seq: i64,
    pub changed_at: i64,
    pub generation: i64,
    pub live: i64,
    pub revoked_at: Option<i64>,
    pub live_since: Option<i64>,
    pub ended: Option<String>,
    pub above: Option<String>,
    pub legacy_ids: i64,
    pub superseded: Option<String>,
}

pub(crate) fn url_record(c: UrlColumns) -> Result<isx_urls::UrlRecord> {
    let what = |field: &str| format!("url record {} {field}", c.id);
    Ok(isx_urls::UrlRecord {
        id: c.id,
        ip: c.ip.as_deref().map(|i| parse(&what("ip"), i)).transpose()?,
        geo: isx_domain::GeoInfo {
            asn: c
                .asn
                .map(|a| parse(&what("asn"), &a.to_string()))
                .transpose()?,
            as_org: c.as_org,
            country: c
                .country
                .as_deref()
                .map(|x| parse(&what("country"), x))
                .transpose()?,
            city: c.city,
            latitude: c.latitude,
            longitude: c.longitude,
        },
        threat: parse(&what("threat"), &c.threat)?,
        tags: serde_json::from_str(&c.tags)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", what("tags"))))?,
        confidence: u8::try_from(c.confidence)
            .map_err(|_| StoreError::Corrupt(what("confidence")))?,
        tlp: parse(&what("tlp"), &c.tlp)?,
        first_seen: Timestamp::from_micros(c.first_seen),
        last_seen: Timestamp::from_micros(c.last_seen),
        times_seen: c.times_seen,
        changed_seq: c.changed_seq,
        changed_at: Timestamp::from_micros(c.changed_at),
        generation: c.generation,
        live: c.live != 0,
        revoked_at: c.revoked_at.map(Timestamp::from_micros),
        live_since: c.live_since.map(Timestamp::from_micros),
        ended: c
            .ended
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", what("ended"))))?,
        above: c
            .above
            .as_deref()
            .map(|t| parse(&what("above"), t))
            .transpose()?,
        legacy_ids: c.legacy_ids != 0,
        superseded: c
            .superseded
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", what("superseded"))))?
            .unwrap_or_default(),
        url: c.url,
        host: c.host,
        domain: c.domain,
        source: c.source,
    })
}

/// A member from the columns `SELECT`ed by name.
pub(crate) fn member_row<R: Get>(r: &R) -> Result<Member> {
    member(MemberColumns {
        id: r.col("id")?,
        name: r.col("name")?,
        kind: r.col("kind")?,
        country: r.col("country")?,
        tier: r.col("tier")?,
        clearance: r.col("clearance")?,
        constituency: r.col("constituency")?,
        created_at: r.col("created_at")?,
    })
}

pub(crate) fn release_row<R: Get>(r: &R) -> Result<isx_advisories::Release> {
    release(ReleaseColumns {
        id: r.col("id")?,
        title: r.col("title")?,
        release_at: r.col("release_at")?,
        notes: r.col("notes")?,
        status: r.col("status")?,
        marking: r.col("marking")?,
        revisions: r.col("revisions")?,
        created_at: r.col("created_at")?,
    })
}

pub(crate) fn delivery_row<R: Get>(r: &R) -> Result<crate::Delivery> {
    Ok(crate::Delivery {
        id: r.col("id")?,
        notification: r.col("notification_id")?,
        member: MemberId(r.col("member_id")?),
        url: r.col("url")?,
        payload: r.col("payload")?,
        attempts: r.col("attempts")?,
        next_attempt_at: Timestamp::from_micros(r.col("next_attempt_at")?),
        status: r.col("status")?,
        last_error: r.col("last_error")?,
        delivered_at: ts(r.col("delivered_at")?),
    })
}

pub(crate) fn user_row<R: Get>(r: &R) -> Result<User> {
    user(UserColumns {
        id: r.col("id")?,
        login: r.col("login")?,
        member_id: r.col("member_id")?,
        role: r.col("role")?,
        password_hash: r.col("password_hash")?,
        created_at: r.col("created_at")?,
        disabled_at: r.col("disabled_at")?,
    })
}

pub(crate) fn key_row<R: Get>(r: &R) -> Result<ApiKey> {
    api_key(KeyColumns {
        key_id: r.col("key_id")?,
        member_id: r.col("member_id")?,
        name: r.col("name")?,
        secret_hash: r.col("secret_hash")?,
        created_at: r.col("created_at")?,
        expires_at: r.col("expires_at")?,
        revoked_at: r.col("revoked_at")?,
        last_used_at: r.col("last_used_at")?,
        role: r.col("role")?,
        parent_key: r.col("parent_key")?,
        creator_user: r.col("creator_user")?,
    })
}

pub(crate) fn group_row<R: Get>(r: &R) -> Result<TrustGroup> {
    group(GroupColumns {
        id: r.col("id")?,
        name: r.col("name")?,
        description: r.col("description")?,
        kind: r.col("kind")?,
        agreement: r.col("agreement")?,
        min_clearance: r.col("min_clearance")?,
        ends_at: r.col("ends_at")?,
        hide_members: r.col("hide_members")?,
        created_at: r.col("created_at")?,
    })
}

pub(crate) fn membership_row<R: Get>(r: &R) -> Result<GroupMembership> {
    membership(
        r.col("group_id")?,
        r.col("member_id")?,
        &r.col::<String>("role")?,
        r.col("joined_at")?,
    )
}
