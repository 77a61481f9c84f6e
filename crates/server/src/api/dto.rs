//! Wire shapes of the REST API (v1). Domain types are converted explicitly
//! at this edge; requests reject unknown fields.

use isx_domain::{
    ApiKey, Asn, AuditEvent, Cidr, Clearance, Constituency, CountryCode, DomainName,
    GroupMembership, GroupRole, Login, Member, MemberKind, MemberName, NewMember, Tier, Timestamp,
    TrustGroup, TrustGroupKind, User, UserRole,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstituencyDto {
    /// IPv4/IPv6 networks, e.g. `192.0.2.0/24`.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub cidrs: Vec<Cidr>,
    /// AS numbers, e.g. `64500`.
    #[serde(default)]
    #[schema(value_type = Vec<crate::api::schema::AsnNumber>)]
    pub asns: Vec<Asn>,
    /// DNS names and suffixes, e.g. `example.org`.
    #[serde(default)]
    #[schema(value_type = Vec<crate::api::schema::DomainNameText>)]
    pub domains: Vec<DomainName>,
    /// ISO 3166-1 alpha-2 country of a national CERT.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z]{2}$")]
    pub country: Option<CountryCode>,
}

impl From<ConstituencyDto> for Constituency {
    fn from(d: ConstituencyDto) -> Self {
        Constituency {
            cidrs: d.cidrs,
            asns: d.asns,
            domains: d.domains,
            country: d.country,
        }
        .normalise()
    }
}

impl From<&Constituency> for ConstituencyDto {
    fn from(c: &Constituency) -> Self {
        ConstituencyDto {
            cidrs: c.cidrs.clone(),
            asns: c.asns.clone(),
            domains: c.domains.clone(),
            country: c.country,
        }
    }
}

/// A member organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    pub id: i64,
    pub name: String,
    /// operator, government, national-cert, critical-infrastructure, enterprise, security-company, researcher
    pub kind: String,
    pub country: Option<String>,
    /// standard, advance-5d, advance-24h
    pub tier: String,
    /// none, restricted, confidential, secret
    pub clearance: String,
    pub constituency: ConstituencyDto,
    pub created_at: String,
}

impl From<&Member> for MemberDto {
    fn from(m: &Member) -> Self {
        MemberDto {
            id: m.id.0,
            name: m.name.to_string(),
            kind: m.kind.to_string(),
            country: m.country.map(|c| c.to_string()),
            tier: m.tier.to_string(),
            clearance: m.clearance.to_string(),
            constituency: (&m.constituency).into(),
            created_at: m.created_at.to_rfc3339(),
        }
    }
}

/// Registers a member organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMemberRequest {
    #[schema(value_type = String, example = "CERT Example", min_length = 1, max_length = 200, pattern = r"^(?=.*\S)[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]*$")]
    pub name: MemberName,
    #[schema(value_type = MemberKindName, example = "national-cert")]
    pub kind: MemberKind,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "JP", pattern = "^[A-Za-z]{2}$")]
    pub country: Option<CountryCode>,
    #[serde(default)]
    #[schema(value_type = Option<TierName>, example = "advance-24h")]
    pub tier: Option<Tier>,
    #[serde(default)]
    #[schema(value_type = Option<ClearanceName>, example = "restricted")]
    pub clearance: Option<Clearance>,
    #[serde(default)]
    pub constituency: Option<ConstituencyDto>,
}

impl From<NewMemberRequest> for NewMember {
    fn from(r: NewMemberRequest) -> Self {
        NewMember {
            name: r.name,
            kind: r.kind,
            country: r.country,
            tier: r.tier.unwrap_or(Tier::Standard),
            clearance: r.clearance.unwrap_or(Clearance::None),
            constituency: r.constituency.map(Into::into).unwrap_or_default(),
        }
    }
}

/// An API key's metadata (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyDto {
    pub key_id: String,
    pub member: i64,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    /// The authority the key carries: `admin`, `staff`, `member-admin` or
    /// `member`.
    pub role: String,
    /// The key that minted this one, if a key did.
    pub parent: Option<String>,
}

fn ts(t: Option<Timestamp>) -> Option<String> {
    t.map(Timestamp::to_rfc3339)
}

impl From<&ApiKey> for ApiKeyDto {
    fn from(k: &ApiKey) -> Self {
        ApiKeyDto {
            key_id: k.key_id.to_string(),
            member: k.member.0,
            name: k.name.clone(),
            created_at: k.created_at.to_rfc3339(),
            expires_at: ts(k.expires_at),
            revoked_at: ts(k.revoked_at),
            last_used_at: ts(k.last_used_at),
            role: k.role.to_string(),
            parent: k.parent.as_ref().map(ToString::to_string),
        }
    }
}

/// Creates an API key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// What the key is for, e.g. `siem-import`.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// RFC 3339 instant after which the key stops working.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// The member the key acts for (administrators only; default: your own).
    #[serde(default)]
    pub member: Option<i64>,
    /// The authority the key carries (default `member`): at most your own.
    /// A key that expires can only make keys that expire no later.
    #[serde(default)]
    #[schema(value_type = Option<UserRoleName>)]
    pub role: Option<isx_domain::UserRole>,
}

/// A new key: `token` is shown this once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKeyDto {
    #[serde(flatten)]
    pub key: ApiKeyDto,
    /// `isx_<key id>_<secret>`: send as `Authorization: Bearer …`.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub login: String,
    pub member: i64,
    pub role: String,
    pub created_at: String,
    /// When the user was disabled (it cannot sign in); absent when active.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<String>,
}

/// What disabling a user ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisabledUserDto {
    pub user: UserDto,
    /// Web sessions ended.
    pub sessions_ended: u64,
    /// API keys the user made, revoked (with the keys they minted).
    pub keys_revoked: usize,
}

/// Sessions ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsEndedDto {
    pub sessions_ended: u64,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        UserDto {
            id: u.id.0,
            login: u.login.to_string(),
            member: u.member.0,
            role: u.role.to_string(),
            created_at: u.created_at.to_rfc3339(),
            disabled_at: u.disabled_at.map(|t| t.to_rfc3339()),
        }
    }
}

/// Creates a web user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    #[schema(value_type = String, pattern = r"^[A-Za-z0-9._@-]{2,64}$")]
    pub login: Login,
    /// At least 12 characters.
    pub password: String,
    pub member: i64,
    #[schema(value_type = UserRoleName, example = "member")]
    pub role: UserRole,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDto {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// formal or ad-hoc
    pub kind: String,
    pub agreement: Option<String>,
    pub min_clearance: String,
    pub ends_at: Option<String>,
    pub hide_members: bool,
    pub created_at: String,
}

impl From<&TrustGroup> for GroupDto {
    fn from(g: &TrustGroup) -> Self {
        let (kind, agreement, ends_at) = match &g.kind {
            TrustGroupKind::Formal { agreement, .. } => ("formal", Some(agreement.clone()), None),
            TrustGroupKind::AdHoc { ends_at } => ("ad-hoc", None, ts(*ends_at)),
        };
        GroupDto {
            id: g.id.0,
            name: g.name.clone(),
            description: g.description.clone(),
            kind: kind.to_owned(),
            agreement,
            min_clearance: g.kind.min_clearance().to_string(),
            ends_at,
            hide_members: g.hide_members,
            created_at: g.created_at.to_rfc3339(),
        }
    }
}

/// Creates a trust group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroupRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?=.*\S)[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]*$"
    )]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `{"kind":"formal","agreement":"MoU-1","min_clearance":"restricted"}` or `{"kind":"ad-hoc","ends_at":"2026-12-31T00:00:00Z"}`
    #[schema(value_type = GroupKindDto)]
    pub kind: TrustGroupKind,
    #[serde(default)]
    pub hide_members: bool,
    /// The member that owns the group.
    pub owner: i64,
}

/// Adds a member to a group or changes its role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    pub member: i64,
    #[schema(value_type = GroupRoleName, example = "reader")]
    pub role: GroupRole,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipDto {
    pub group: i64,
    pub member: i64,
    /// The STIX identity that stands for the member: its objects'
    /// `created_by_ref` in TAXII collections.
    #[schema(example = "identity--5b9e4a3c-6f0e-5c1d-8a2b-0c1d2e3f4a5b")]
    pub stix_identity: String,
    pub role: String,
    pub joined_at: String,
}

impl From<&GroupMembership> for MembershipDto {
    fn from(m: &GroupMembership) -> Self {
        MembershipDto {
            group: m.group.0,
            member: m.member.0,
            stix_identity: isx_formats::partnership::member_identity(m.member),
            role: m.role.to_string(),
            joined_at: m.joined_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventDto {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub member: Option<i64>,
    pub action: String,
    pub target: String,
    pub source_ip: Option<String>,
    pub outcome: String,
}

impl From<&AuditEvent> for AuditEventDto {
    fn from(e: &AuditEvent) -> Self {
        AuditEventDto {
            id: e.id,
            at: e.event.at.to_rfc3339(),
            actor: e.event.actor.clone(),
            member: e.event.member.map(|m| m.0),
            action: e.event.action.clone(),
            target: e.event.target.clone(),
            source_ip: e.event.source_ip.clone(),
            outcome: e.event.outcome.clone(),
        }
    }
}

/// Who you are, as the server sees you.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeDto {
    pub member: MemberDto,
    pub admin: bool,
    pub key_id: Option<String>,
    pub groups: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    /// `ok` when the store answers.
    pub status: String,
    /// sqlite or postgres
    pub backend: String,
    pub version: String,
}

// The vocabularies of request fields as the OpenAPI document lists them
// (schema only: the domain types parse and check the values; a test holds
// each list equal to what the domain type accepts).

/// A member's kind.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum MemberKindName {
    Operator,
    Government,
    NationalCert,
    CriticalInfrastructure,
    Enterprise,
    SecurityCompany,
    Researcher,
}

/// How far ahead of release a member sees advance notices.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum TierName {
    #[serde(rename = "standard")]
    Standard,
    #[serde(rename = "advance-5d")]
    Advance5d,
    #[serde(rename = "advance-24h")]
    Advance24h,
}

/// A member's clearance.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum ClearanceName {
    None,
    Restricted,
    Confidential,
    Secret,
}

/// The authority of a user or a key.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum UserRoleName {
    Admin,
    Staff,
    MemberAdmin,
    Member,
}

/// A member's role in a trust group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum GroupRoleName {
    Owner,
    Contributor,
    Reader,
}

/// A group's rules (schema of `isx_partnership::GroupRules`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // schema only
pub struct GroupRulesDto {
    /// Contributions older than this many days (by last change) are deleted.
    #[schema(minimum = 1, maximum = 36500)]
    retention_days: Option<u32>,
    /// Categories every member must report in each period.
    #[serde(default)]
    #[schema(value_type = Vec<ContributionKindName>)]
    mandatory: Vec<String>,
    /// The reporting period, in days (30 by default).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    report_period_days: u32,
}

/// A kind of contribution (schema only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum ContributionKindName {
    Incident,
    Sighting,
    Indicator,
    Mitigation,
    Analysis,
}

/// A marking a contribution may carry: TLP 2.0 but TLP:RED, which is for
/// named people, not groups.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum GroupTlpName {
    #[serde(rename = "clear")]
    Clear,
    #[serde(rename = "green")]
    Green,
    #[serde(rename = "amber")]
    Amber,
    #[serde(rename = "amber+strict")]
    AmberStrict,
}

/// A TLP 2.0 marking.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum TlpName {
    #[serde(rename = "clear")]
    Clear,
    #[serde(rename = "green")]
    Green,
    #[serde(rename = "amber")]
    Amber,
    #[serde(rename = "amber+strict")]
    AmberStrict,
    #[serde(rename = "red")]
    Red,
}

/// How badly an incident hurt (schema only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum ImpactName {
    None,
    Low,
    Moderate,
    High,
    Severe,
}

/// Where an incident stands (schema only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum IncidentStatusName {
    Open,
    Contained,
    Resolved,
}

/// What an indicator or a sighting is about (schema only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // schema only: never built, its variants name the values
pub enum IndicatorTypeName {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    Sha256,
    Sha1,
    Md5,
}

/// A trust group's kind, as a request names it (schema of
/// `isx_domain::TrustGroupKind`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
#[allow(dead_code)] // schema only
pub enum GroupKindDto {
    /// Rests on an agreement; reading its content needs the clearance.
    Formal {
        #[schema(
            min_length = 1,
            max_length = 200,
            pattern = r"^(?=.*\S)[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]*$"
        )]
        agreement: String,
        #[schema(value_type = ClearanceName)]
        min_clearance: String,
    },
    /// Rests on trust alone; closes at its end date, if it has one.
    AdHoc {
        #[serde(default)]
        #[schema(format = DateTime)]
        ends_at: Option<String>,
    },
}

/// One entry of an incident's timeline (schema only).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // schema only
pub struct TimelineEntryDto {
    #[schema(format = DateTime)]
    at: String,
    text: String,
}

/// What each kind of contribution says beyond its title and description
/// (schema of `isx_partnership::Details`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
#[allow(dead_code)] // schema only
pub enum DetailsDto {
    Incident {
        /// What information was lost or exposed.
        #[serde(default)]
        information_lost: String,
        /// MITRE ATT&CK technique ids (`T1486`, `T1566.001`).
        #[serde(default)]
        techniques: Vec<String>,
        /// What the adversary seems to want.
        #[serde(default)]
        intent: String,
        #[schema(value_type = ImpactName)]
        impact: String,
        /// The victim's sector (energy, finance, health…).
        #[serde(default)]
        sector: String,
        #[schema(value_type = IncidentStatusName)]
        status: String,
        #[serde(default)]
        timeline: Vec<TimelineEntryDto>,
    },
    Sighting {
        #[schema(value_type = IndicatorTypeName)]
        indicator_type: String,
        value: String,
        count: u32,
        #[schema(format = DateTime)]
        first_seen: String,
        #[schema(format = DateTime)]
        last_seen: String,
        /// Where it was seen (network, sector, region).
        #[serde(default)]
        location: String,
    },
    Indicator {
        #[schema(value_type = IndicatorTypeName)]
        indicator_type: String,
        value: String,
        #[serde(default)]
        #[schema(format = DateTime)]
        valid_until: Option<String>,
    },
    Mitigation {
        /// The techniques it counters.
        #[serde(default)]
        techniques: Vec<String>,
    },
    /// A strategic analysis: the description is the text; files are attached.
    Analysis {},
}

/// Where a contribution is to be shared beyond its group (schema of
/// `isx_partnership::ShareTarget`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
#[allow(dead_code)] // schema only
pub enum ShareTargetDto {
    /// Another trust group (a redacted copy is posted there).
    Group { group: i64 },
    /// The malicious-URL product feed (URL indicators only).
    UrlFeed,
}

#[cfg(test)]
mod vocabulary_tests {
    use super::*;

    fn names<T: Serialize>(all: &[T]) -> Vec<String> {
        all.iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    /// Each schema list is exactly the domain type's vocabulary.
    #[test]
    fn schema_vocabularies_match_the_domain() {
        use std::str::FromStr;
        fn domain<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<String> {
            all.iter().map(|v| name(*v).to_owned()).collect()
        }
        assert_eq!(
            names(&[
                MemberKindName::Operator,
                MemberKindName::Government,
                MemberKindName::NationalCert,
                MemberKindName::CriticalInfrastructure,
                MemberKindName::Enterprise,
                MemberKindName::SecurityCompany,
                MemberKindName::Researcher,
            ]),
            domain(MemberKind::ALL, MemberKind::as_str)
        );
        assert_eq!(
            names(&[
                TierName::Standard,
                TierName::Advance5d,
                TierName::Advance24h
            ]),
            domain(Tier::ALL, Tier::as_str)
        );
        assert_eq!(
            names(&[
                ClearanceName::None,
                ClearanceName::Restricted,
                ClearanceName::Confidential,
                ClearanceName::Secret,
            ]),
            domain(Clearance::ALL, Clearance::as_str)
        );
        assert_eq!(
            names(&[
                UserRoleName::Admin,
                UserRoleName::Staff,
                UserRoleName::MemberAdmin,
                UserRoleName::Member,
            ]),
            domain(UserRole::ALL, UserRole::as_str)
        );
        assert_eq!(
            names(&[
                GroupRoleName::Owner,
                GroupRoleName::Contributor,
                GroupRoleName::Reader,
            ]),
            domain(GroupRole::ALL, GroupRole::as_str)
        );
        use isx_partnership::{ContributionKind, Impact, IncidentStatus, IndicatorType};
        assert_eq!(
            names(&[
                ContributionKindName::Incident,
                ContributionKindName::Sighting,
                ContributionKindName::Indicator,
                ContributionKindName::Mitigation,
                ContributionKindName::Analysis,
            ]),
            domain(ContributionKind::ALL, ContributionKind::as_str)
        );
        for n in names(&[
            GroupTlpName::Clear,
            GroupTlpName::Green,
            GroupTlpName::Amber,
            GroupTlpName::AmberStrict,
        ]) {
            assert!(isx_domain::Tlp::from_str(&n).is_ok(), "{n}");
        }
        assert_eq!(
            names(&[
                ImpactName::None,
                ImpactName::Low,
                ImpactName::Moderate,
                ImpactName::High,
                ImpactName::Severe,
            ]),
            domain(Impact::ALL, Impact::as_str)
        );
        assert_eq!(
            names(&[
                IncidentStatusName::Open,
                IncidentStatusName::Contained,
                IncidentStatusName::Resolved,
            ]),
            domain(IncidentStatus::ALL, IncidentStatus::as_str)
        );
        assert_eq!(
            names(&[
                IndicatorTypeName::Ipv4,
                IndicatorTypeName::Ipv6,
                IndicatorTypeName::Domain,
                IndicatorTypeName::Url,
                IndicatorTypeName::Email,
                IndicatorTypeName::Sha256,
                IndicatorTypeName::Sha1,
                IndicatorTypeName::Md5,
            ]),
            domain(IndicatorType::ALL, IndicatorType::as_str)
        );
        for n in names(&[
            TlpName::Clear,
            TlpName::Green,
            TlpName::Amber,
            TlpName::AmberStrict,
            TlpName::Red,
        ]) {
            assert!(isx_domain::Tlp::from_str(&n).is_ok(), "{n}");
        }
    }
}
