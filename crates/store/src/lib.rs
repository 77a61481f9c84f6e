//! isx storage.
//!
//! [`Store`] is the one seam between the server and its database: the
//! supertrait of one trait per product ([`CoreStore`], [`MemberStore`],
//! [`AdvisoryStore`], [`AuditStore`], [`UrlStore`], [`FeedStore`],
//! [`BotnetStore`], [`CleanFileStore`], [`ExchangeStore`],
//! [`PartnershipStore`]), implemented for every type that implements them
//! all. Two implementations pass the same conformance suite:
//!
//! * [`sqlite::SqliteStore`] — the embedded default: one file in the data
//!   directory, WAL, `synchronous=FULL` so that acknowledged writes survive a
//!   crash, migrations applied on open.
//! * [`postgres::PostgresStore`] — for deployments that run several stateless
//!   isx nodes on one database; migrations are serialised with an advisory
//!   lock so nodes can start together.
//!
//! Both are [`engine::SqlStore`] on an engine: the SQL is written once, in
//! ordinary functions (`sql.rs` and one `sql_*.rs` per product), for any
//! [`engine::Engine`]; each backend module owns its connection setup and
//! implements `Engine` with what really differs (its `migrations/`, how a
//! write transaction begins and which locks it takes, a few engine-specific
//! statements and placeholders).

mod arrival;
mod botnet;
mod cleanfiles;
pub mod engine;
mod error;
mod exchange;
pub mod migrate;
pub mod nsrl;
pub mod postgres;
mod rows;
mod sql;
mod sql_advisories;
mod sql_audit;
mod sql_botnet;
mod sql_cleanfiles;
mod sql_exchange;
mod sql_factors;
mod sql_feeds;
mod sql_members;
pub(crate) mod sql_partnership;
mod sql_sso;
mod sql_urls;
pub use sql_urls::URL_OBJECTS_PER_RECORD;
pub mod sqlite;
mod urls;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::sync::Arc;

use async_trait::async_trait;
use isx_advisories::{Advisory, AdvisoryId, CveId, KevRecord, NewRelease, Release};
use isx_domain::{
    ApiKey, AuditEvent, GroupId, GroupMembership, GroupRole, KeyId, Login, Member, MemberId,
    NewApiKey, NewAuditEvent, NewMember, NewTrustGroup, NewUser, Timestamp, TrustGroup, User,
    UserId, UserRole,
};
use serde::Serialize;

pub use arrival::{UrlArrival, MIN_ROOM as ARRIVAL_ROOM};
pub use botnet::{BotnetInsertOutcome, BotnetQuery, StoredBotnetEvent};
pub use cleanfiles::{
    CleanChange, CleanImportOutcome, CleanStats, LookupSession, Related, SESSIONS_PER_MEMBER,
    SESSION_MAX_HASHES, TOP_KEPT_PER_DAY,
};

pub use error::StoreError;
pub use exchange::{ExchangeAdded, ExchangeEntry, NewExchangeObject, MAX_VERSIONS};
pub use sql_partnership::{group_collection, NewContributionRow, ShareDecision};
pub use urls::{
    FeedFile, FeedRun, MapPoint, UrlBatch, UrlImportOutcome, UrlOrder, UrlQuery, UrlSort, UrlStats,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A web session. Only the SHA-256 of the cookie value is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user: UserId,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The address the sign-in came from.
    pub source_ip: Option<String>,
    /// The browser's `User-Agent` at sign-in (at most 200 characters).
    pub user_agent: Option<String>,
}

/// Which audit events to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only events acted by (or on behalf of) this member.
    pub member: Option<MemberId>,
    /// Only events with an id below this one (for paging back in time).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// An in-app notification to a member about a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub member: MemberId,
    pub release: i64,
    /// `advance` (the member's window opened), `release` (public) or `revision`.
    pub kind: String,
    /// The release's content version the notification is about.
    pub version: i64,
    pub at: Timestamp,
    pub message: String,
}

/// A member's webhook: HTTPS POSTs signed with HMAC-SHA256 of `secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub member: MemberId,
    pub url: String,
    pub secret: String,
}

/// One webhook delivery and its state: `pending` (with the time of the next
/// attempt), `delivered` or `failed` (gave up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub notification: i64,
    pub member: MemberId,
    pub url: String,
    pub payload: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub status: String,
    pub last_error: Option<String>,
    pub delivered_at: Option<Timestamp>,
}

/// What [`AdvisoryStore::put_advisories`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PutOutcome {
    pub created: usize,
    pub revised: usize,
    pub unchanged: usize,
}

/// The engine behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Everything isx keeps, one trait per product; what the server is wired
/// with (`Arc<dyn Store>`: the product traits' methods are callable on it
/// without importing them). Implementations must pass [`conformance`].
///
/// Methods that change several rows do so in one transaction: either all of
/// it is stored or none of it.
pub trait Store:
    CoreStore
    + MemberStore
    + FactorStore
    + SsoStore
    + AdvisoryStore
    + AuditStore
    + UrlStore
    + FeedStore
    + BotnetStore
    + CleanFileStore
    + ExchangeStore
    + PartnershipStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: CoreStore
        + MemberStore
        + FactorStore
        + SsoStore
        + AdvisoryStore
        + AuditStore
        + UrlStore
        + FeedStore
        + BotnetStore
        + CleanFileStore
        + ExchangeStore
        + PartnershipStore
        + Send
        + Sync
        + 'static
{
}

/// The store itself: its engine, its schema and whether it can write.
#[async_trait]
pub trait CoreStore: Send + Sync {
    fn backend(&self) -> Backend;
    /// Applies pending migrations; returns how many were applied.
    async fn migrate(&self) -> Result<usize>;
    async fn ping(&self) -> Result<()>;
    /// Commits a one-row write: fails when the store cannot write (disk
    /// full, read-only, lost primary), which `/healthz` reports.
    async fn check_writable(&self) -> Result<()>;
    /// The instance's secret `name`: `candidate` when none was stored yet
    /// (it is stored then), else the one stored first — so every node,
    /// and every restart, uses the same.
    async fn instance_secret(&self, name: &str, candidate: &str) -> Result<String>;
}

/// Who may use isx: members, their users, API keys, trust groups and
/// web sessions.
#[async_trait]
pub trait MemberStore: Send + Sync {
    // Members.
    async fn insert_member(&self, new: &NewMember, now: Timestamp) -> Result<Member>;
    async fn update_member(&self, id: MemberId, new: &NewMember) -> Result<Member>;
    async fn member(&self, id: MemberId) -> Result<Option<Member>>;
    async fn member_by_name(&self, name: &str) -> Result<Option<Member>>;
    async fn members(&self) -> Result<Vec<Member>>;
    // Users.
    async fn insert_user(&self, new: &NewUser, now: Timestamp) -> Result<User>;
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    async fn user_by_login(&self, login: &Login) -> Result<Option<User>>;
    async fn users(&self) -> Result<Vec<User>>;
    /// Disables a user (`Some(at)`: its sessions are deleted in the same
    /// transaction) or enables it again (`None`); the number of sessions
    /// ended.
    async fn set_user_disabled(&self, id: UserId, at: Option<Timestamp>) -> Result<u64>;
    /// Marks whether the operator's administrators disabled `id` (then
    /// only they enable it); [`MemberStore::set_user_disabled`] with
    /// `None` clears the mark.
    async fn set_disabled_by_operator(&self, id: UserId, by_operator: bool) -> Result<()>;
    async fn disabled_by_operator(&self, id: UserId) -> Result<bool>;
    /// Ends every session of a user; the number ended.
    async fn delete_sessions_of(&self, user: UserId) -> Result<u64>;
    // API keys.
    async fn insert_api_key(&self, new: &NewApiKey, now: Timestamp) -> Result<ApiKey>;
    async fn api_key(&self, id: &KeyId) -> Result<Option<ApiKey>>;
    /// A key with the member it belongs to and the trust groups that member
    /// is in, in one read (every authenticated API request asks this).
    async fn api_key_caller(&self, id: &KeyId) -> Result<Option<(ApiKey, Member, Vec<GroupId>)>>;
    /// All keys, or those of one member; newest first.
    async fn api_keys(&self, member: Option<MemberId>) -> Result<Vec<ApiKey>>;
    /// Revokes an active key; `false` if there is no such key or it was
    /// already revoked.
    async fn revoke_api_key(&self, id: &KeyId, now: Timestamp) -> Result<bool>;
    async fn touch_api_key(&self, id: &KeyId, now: Timestamp) -> Result<()>;
    // Trust groups.
    /// Creates a group with `owner` as its first member (role owner).
    async fn insert_group(
        &self,
        new: &NewTrustGroup,
        owner: MemberId,
        now: Timestamp,
    ) -> Result<TrustGroup>;
    async fn group(&self, id: GroupId) -> Result<Option<TrustGroup>>;
    async fn group_by_name(&self, name: &str) -> Result<Option<TrustGroup>>;
    async fn groups(&self) -> Result<Vec<TrustGroup>>;
    /// Adds a member to a group, or changes its role.
    async fn put_group_member(
        &self,
        group: GroupId,
        member: MemberId,
        role: GroupRole,
        now: Timestamp,
    ) -> Result<GroupMembership>;
    /// Removes a member from a group; `false` if it was not in it, or is
    /// the group's last owner (a group always keeps one).
    async fn remove_group_member(&self, group: GroupId, member: MemberId) -> Result<bool>;
    async fn group_members(&self, group: GroupId) -> Result<Vec<GroupMembership>>;
    async fn memberships_of(&self, member: MemberId) -> Result<Vec<GroupMembership>>;
    // Web sessions.
    async fn insert_session(&self, session: &Session) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;
    /// A user's live and expired sessions not yet deleted, newest first.
    async fn sessions_of(&self, user: UserId) -> Result<Vec<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64>;
}

/// A user's TOTP factor: its secret (base32) and the last step whose
/// code signed in (each step's code is accepted once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpFactor {
    pub secret: String,
    pub last_step: i64,
    pub created_at: Timestamp,
    /// Wrong codes in a row since the last right one.
    pub failures: i64,
}

/// The step of a web sign-in between a right password and a second
/// factor: a random token (only its SHA-256 stored) that grants nothing
/// but the second-factor page. `pending_secret` is the TOTP secret being
/// enrolled when the user's member requires a factor it has not got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInChallenge {
    pub token_hash: String,
    pub user: UserId,
    pub pending_secret: Option<String>,
    /// A single sign-on identity to bind to the user once this step
    /// succeeds (its first sign-in through that provider).
    pub pending_link: Option<SsoIdentity>,
    pub attempts: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An OpenID provider the operator trusts for web sign-in, and how its
/// ID tokens' claims map to members and roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SsoProvider {
    /// The short name in the sign-in address (`/login/sso/<name>`).
    pub name: String,
    /// What the sign-in page's button says.
    pub display_name: String,
    /// The issuer identifier; discovery is read from
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Never serialised (lists and exports leave it out).
    #[serde(skip_serializing)]
    pub client_secret: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The claim whose values map to a member and role (a dotted path
    /// such as `realm_access.roles` reaches into an object).
    pub claim: String,
    /// The claim that names the isx login (e.g. `preferred_username`).
    pub login_claim: String,
    pub mappings: Vec<SsoMapping>,
    /// Whether a sign-in whose login has no user yet creates one.
    pub create_users: bool,
    /// Extra CA certificate(s) (PEM) to trust for the provider's HTTPS.
    pub ca_pem: Option<String>,
    pub created_at: Timestamp,
}

/// One value of a provider's claim, and the member and role it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SsoMapping {
    pub value: String,
    pub member: MemberId,
    pub role: UserRole,
}

/// A sign-in in progress at a provider: what the callback must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoPending {
    /// Hash of the token in the browser's cookie (the cookie binds the
    /// sign-in to the browser that started it).
    pub token_hash: String,
    pub provider: String,
    pub state: String,
    pub nonce: String,
    /// The PKCE code verifier (RFC 7636).
    pub verifier: String,
    pub redirect_uri: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A provider identity (`iss`, `sub`) bound to an isx user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SsoIdentity {
    pub issuer: String,
    pub subject: String,
    pub provider: String,
    pub user: UserId,
    pub linked_at: Timestamp,
}

/// A WebAuthn credential (passkey) of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredPasskey {
    /// The credential id, base64url.
    pub credential_id: String,
    pub user: UserId,
    /// What the user called it.
    pub name: String,
    /// The credential as the WebAuthn library keeps it (JSON): public key,
    /// signature counter. Not serialised.
    #[serde(skip_serializing)]
    pub passkey: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A WebAuthn ceremony in progress: the library's state (JSON) for one
/// user, taken once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnCeremony {
    pub token_hash: String,
    pub user: UserId,
    /// `register` or `authenticate`.
    pub kind: String,
    pub state: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A certificate authority client certificates may chain to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientCa {
    /// SHA-256 of the CA certificate (DER), lowercase hex.
    pub fingerprint: String,
    /// `isx` (the instance's own, which issues) or `operator`.
    pub origin: String,
    pub subject: String,
    pub cert_pem: String,
    /// The private key (isx's own CA only). Never serialised.
    #[serde(skip_serializing)]
    pub key_pem: Option<String>,
    pub created_at: Timestamp,
}

/// A client certificate that authenticates a machine as a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientCert {
    /// SHA-256 of the certificate (DER), lowercase hex.
    pub fingerprint: String,
    pub member: MemberId,
    pub subject: String,
    pub serial: String,
    pub not_after: Timestamp,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Second factors of web sign-in: TOTP secrets, recovery codes (hashed),
/// which members require a factor, and sign-in challenges.
#[async_trait]
pub trait FactorStore: Send + Sync {
    async fn totp(&self, user: UserId) -> Result<Option<TotpFactor>>;
    /// Stores `user`'s confirmed TOTP secret with `step` as its last used
    /// step, and a new set of recovery codes (their hashes; earlier codes
    /// end), in one transaction — replacing a factor only if `replace`:
    /// `false` when one exists and `replace` is not set (two enrolments
    /// at once: one wins).
    async fn put_totp(
        &self,
        user: UserId,
        secret: &str,
        step: i64,
        recovery_hashes: &[String],
        replace: bool,
        now: Timestamp,
    ) -> Result<bool>;
    /// Counts a wrong code; the wrong codes in a row so far.
    async fn note_factor_failure(&self, user: UserId) -> Result<i64>;
    /// A right code: the count starts again.
    async fn clear_factor_failures(&self, user: UserId) -> Result<()>;
    /// Ends `user`'s sign-in steps in progress; how many.
    async fn delete_challenges_of(&self, user: UserId) -> Result<u64>;
    /// Records `step` as used if it is later than the last used one;
    /// `false` for a replay (checked and set in one statement, so two
    /// nodes cannot both accept one code).
    async fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool>;
    /// Removes `user`'s TOTP factor and recovery codes; `false` if it had
    /// none.
    async fn delete_totp(&self, user: UserId) -> Result<bool>;
    /// Uses one of `user`'s unused recovery codes; `false` when no unused
    /// code has that hash.
    async fn use_recovery_code(&self, user: UserId, hash: &str, now: Timestamp) -> Result<bool>;
    /// Replaces `user`'s recovery codes with a new set.
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        hashes: &[String],
        now: Timestamp,
    ) -> Result<()>;
    async fn recovery_codes_left(&self, user: UserId) -> Result<u64>;
    /// Whether `member`'s users must sign in with a second factor.
    async fn second_factor_required(&self, member: MemberId) -> Result<bool>;
    async fn set_second_factor_required(&self, member: MemberId, required: bool) -> Result<()>;
    async fn insert_challenge(&self, c: &SignInChallenge) -> Result<()>;
    async fn challenge(&self, token_hash: &str) -> Result<Option<SignInChallenge>>;
    /// Counts one attempt at a challenge; the attempts so far.
    async fn challenge_attempt(&self, token_hash: &str) -> Result<i64>;
    async fn delete_challenge(&self, token_hash: &str) -> Result<()>;
    /// Deletes expired challenges; how many.
    async fn delete_expired_challenges(&self, now: Timestamp) -> Result<u64>;
    // WebAuthn passkeys.
    /// Stores a new passkey; `false` if that credential id is stored
    /// already (for anyone).
    async fn insert_passkey(&self, p: &StoredPasskey) -> Result<bool>;
    async fn passkeys(&self, user: UserId) -> Result<Vec<StoredPasskey>>;
    /// Writes a passkey's state back after a sign-in (its counter).
    async fn update_passkey(
        &self,
        user: UserId,
        credential_id: &str,
        passkey: &str,
        used_at: Timestamp,
    ) -> Result<()>;
    /// Removes one of `user`'s passkeys; `false` if it has none of that id.
    async fn delete_passkey(&self, user: UserId, credential_id: &str) -> Result<bool>;
    /// Removes all of `user`'s passkeys; how many.
    async fn delete_passkeys_of(&self, user: UserId) -> Result<u64>;
    async fn insert_ceremony(&self, c: &WebauthnCeremony) -> Result<()>;
    /// Takes (reads and deletes in one statement) an unexpired ceremony.
    async fn take_ceremony(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<WebauthnCeremony>>;
    // Keys a member's own files are encrypted to.
    /// `member`'s recipients, oldest first.
    async fn recipients(&self, member: MemberId) -> Result<Vec<String>>;
    /// Replaces `member`'s recipients (none: its files are plain again).
    async fn set_recipients(
        &self,
        member: MemberId,
        recipients: &[String],
        now: Timestamp,
    ) -> Result<()>;
    // Client certificate authorities.
    /// Every trusted CA, isx's own first.
    async fn client_cas(&self) -> Result<Vec<ClientCa>>;
    /// Adds a CA; `false` if it is there already, or (for `isx`) isx has
    /// one already (two nodes making one at once: one wins).
    async fn insert_client_ca(&self, ca: &ClientCa) -> Result<bool>;
    /// Removes an operator CA; `false` if there is none of that
    /// fingerprint (isx's own is never removed).
    async fn delete_client_ca(&self, fingerprint: &str) -> Result<bool>;
    // Client certificates.
    async fn insert_client_cert(&self, c: &ClientCert) -> Result<()>;
    async fn client_cert(&self, fingerprint: &str) -> Result<Option<ClientCert>>;
    /// All certificates, or one member's; newest first.
    async fn client_certs(&self, member: Option<MemberId>) -> Result<Vec<ClientCert>>;
    /// Revokes a certificate; `false` if unknown or already revoked.
    async fn revoke_client_cert(&self, fingerprint: &str, now: Timestamp) -> Result<bool>;
}

/// OpenID Connect single sign-on: providers, sign-ins in progress and
/// the identities bound to users.
#[async_trait]
pub trait SsoStore: Send + Sync {
    /// Adds a provider, or replaces the one of that name (its identities
    /// stay bound).
    async fn put_sso_provider(&self, p: &SsoProvider) -> Result<()>;
    async fn sso_provider(&self, name: &str) -> Result<Option<SsoProvider>>;
    async fn sso_providers(&self) -> Result<Vec<SsoProvider>>;
    /// Removes a provider with its sign-ins in progress and identities;
    /// `false` if there was none.
    async fn delete_sso_provider(&self, name: &str) -> Result<bool>;
    async fn insert_sso_pending(&self, p: &SsoPending) -> Result<()>;
    /// Takes (reads and deletes, in one statement) the unexpired sign-in
    /// of `token_hash`: a callback can be used once, on one node.
    async fn take_sso_pending(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SsoPending>>;
    async fn delete_expired_sso_pending(&self, now: Timestamp) -> Result<u64>;
    async fn sso_identity(&self, issuer: &str, subject: &str) -> Result<Option<SsoIdentity>>;
    /// Binds an identity to a user; `false` if that identity is bound
    /// already (to anyone), or the user has one already.
    async fn link_sso_identity(&self, id: &SsoIdentity) -> Result<bool>;
    async fn sso_identities_of(&self, user: UserId) -> Result<Vec<SsoIdentity>>;
    /// Unbinds `user`'s identities; how many.
    async fn unlink_sso_identities(&self, user: UserId) -> Result<u64>;
}

/// Advance vulnerability notices: releases, their advisories, the KEV
/// catalogue, and the notifications, webhooks and deliveries that announce
/// them.
#[async_trait]
pub trait AdvisoryStore: Send + Sync {
    // Advance vulnerability notices.
    async fn insert_release(&self, new: &NewRelease, now: Timestamp) -> Result<Release>;
    /// Saves title, time, notes, status, marking and revision history.
    async fn update_release(&self, release: &Release) -> Result<Release>;
    async fn release(&self, id: i64) -> Result<Option<Release>>;
    /// All releases, newest release time first.
    async fn releases(&self) -> Result<Vec<Release>>;
    /// Stores advisories into a release in one transaction: a new CVE starts
    /// at revision 1, a changed one gets the next revision (with `summary`),
    /// an identical one is left alone. A CVE of another release is a
    /// conflict, and then nothing is stored.
    async fn put_advisories(
        &self,
        release: i64,
        advisories: &[Advisory],
        summary: &str,
        now: Timestamp,
    ) -> Result<PutOutcome>;
    /// Advisories (of one release, or all) with their release id, by CVE;
    /// KEV status is attached from the catalogue.
    async fn advisories(&self, release: Option<i64>) -> Result<Vec<(i64, Advisory)>>;
    async fn advisory(&self, id: &AdvisoryId) -> Result<Option<(i64, Advisory)>>;
    /// The release an advisory belongs to, without reading the advisory
    /// (so that visibility is judged before its body is read).
    async fn advisory_release(&self, id: &AdvisoryId) -> Result<Option<i64>>;
    /// Replaces catalogue entries by CVE, in one transaction; returns how many changed.
    async fn put_known_exploited(&self, records: &[KevRecord]) -> Result<usize>;
    /// Stores EPSS scores of the CVEs isx has advisories for (one day's
    /// scores of others are of no use here and would be most of a file),
    /// in one transaction; a score already stored for that CVE and day is
    /// replaced. Returns how many rows were new or changed and how many
    /// scores were of CVEs without an advisory.
    async fn put_epss(
        &self,
        scores: &[(CveId, isx_advisories::EpssScore)],
    ) -> Result<(usize, usize)>;
    /// Every stored EPSS score of `cve`, oldest first.
    async fn epss_history(&self, cve: &CveId) -> Result<Vec<isx_advisories::EpssScore>>;
    /// Replaces SSVC decisions by CVE, in one transaction; returns how many changed.
    async fn put_ssvc(&self, decisions: &[(CveId, isx_advisories::Ssvc)]) -> Result<usize>;
    // Notifications and webhooks.
    /// Records a notification unless the same (member, release, kind,
    /// version) exists; when new and the member has a webhook, queues a
    /// delivery of `payload` in the same transaction. Returns whether it was new.
    async fn notify(&self, n: &Notification, payload: &str) -> Result<bool>;
    /// (member, kind, version) of every notification about a release.
    async fn notified(&self, release: i64) -> Result<Vec<(MemberId, String, i64)>>;
    async fn notifications(&self, member: MemberId, limit: u32) -> Result<Vec<Notification>>;
    async fn put_webhook(&self, hook: &Webhook, now: Timestamp) -> Result<()>;
    async fn webhook(&self, member: MemberId) -> Result<Option<Webhook>>;
    /// Pending deliveries whose next attempt is due.
    async fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<Delivery>>;
    /// Takes a due delivery for this node until `lease_until`; `false` when
    /// another node took it first.
    async fn claim_delivery(&self, id: i64, now: Timestamp, lease_until: Timestamp)
        -> Result<bool>;
    /// Saves the outcome of an attempt.
    async fn finish_delivery(&self, d: &Delivery) -> Result<()>;
    async fn deliveries(&self, member: Option<MemberId>, limit: u32) -> Result<Vec<Delivery>>;
}

/// The audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    // Audit log.
    async fn append_audit(&self, event: &NewAuditEvent) -> Result<i64>;
    /// Appends events in one transaction (the server's audit writer batches
    /// the events of concurrent requests).
    async fn append_audit_batch(&self, events: &[NewAuditEvent]) -> Result<()>;
    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>>;
}

/// Malicious URL records, their numbered import batches, and their paging
/// by change for TAXII.
#[async_trait]
pub trait UrlStore: Send + Sync {
    // Malicious URLs.
    /// Merges checked rows into their records in one transaction, under
    /// the URL write lock, as one numbered batch. A sighting already known
    /// changes nothing, so re-imports are idempotent.
    async fn import_urls(&self, batch: &UrlBatch<'_>, now: Timestamp) -> Result<UrlImportOutcome>;
    async fn url_records(&self, query: &UrlQuery) -> Result<Vec<isx_urls::UrlRecord>>;
    /// Every record `query` selects (paging ignored), in id order, handed
    /// to `f` one by one as one read streams them: files of millions of
    /// records are written in one pass without holding them in memory.
    /// An error of `f` stops the pass.
    async fn for_each_url(
        &self,
        query: &UrlQuery,
        f: &mut (dyn FnMut(isx_urls::UrlRecord) -> std::io::Result<()> + Send),
    ) -> Result<u64>;
    async fn url_record(&self, id: i64) -> Result<Option<isx_urls::UrlRecord>>;
    async fn url_stats(&self, query: &UrlQuery) -> Result<UrlStats>;
    /// The last batch imported before `before`. Taken under the URL write
    /// lock, so every batch up to it has committed: batches are a prefix.
    async fn url_seq_before(&self, before: Timestamp) -> Result<i64>;
    /// Revokes the live records whose indicator expired before `now`
    /// (last sighting before `stale_before`), reading `round` at a time,
    /// up to 200,000 a run:
    /// under the URL write lock, as one arrival after the newest import
    /// (so TAXII readers get the revoked versions in order, and where a
    /// reader's records fall tells nothing of the others'), without a new
    /// batch (the 3-hourly files see no change). Returns how many it
    /// revoked.
    async fn revoke_urls(&self, stale_before: Timestamp, now: Timestamp, round: u32)
        -> Result<u64>;
    // TAXII paging of the URL collection.
    /// The arrival instant (`changed_at`) of the newest import at or
    /// before `at`, if any: where a reader resuming at `at` starts.
    async fn url_arrival_at_or_before(&self, at: Timestamp) -> Result<Option<Timestamp>>;
    /// URL records of these markings after `after` (an import's instant
    /// and a place in it, exclusive) in arrival order — by `changed_at`,
    /// then place — each with its place in its import.
    async fn urls_by_added(
        &self,
        markings: &[isx_domain::Tlp],
        after: (Timestamp, i64),
        limit: u32,
    ) -> Result<Vec<(isx_urls::UrlRecord, UrlArrival)>>;
}

/// Feed files: the slots produced per product and their manifest.
#[async_trait]
pub trait FeedStore: Send + Sync {
    // Feed files.
    /// The newest produced slot of a product.
    async fn last_feed_run(&self, product: &str) -> Result<Option<FeedRun>>;
    /// The newest produced slot of a product before `slot`.
    async fn feed_run_before(&self, product: &str, slot: Timestamp) -> Result<Option<FeedRun>>;
    /// Takes a slot for this node until `lease_until`; `false` when it is
    /// done or another node holds an unexpired lease.
    async fn claim_feed_run(
        &self,
        product: &str,
        slot: Timestamp,
        node: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<bool>;
    /// Records the files of a slot and marks it done, in one transaction.
    async fn finish_feed_run(&self, run: &FeedRun, files: &[FeedFile]) -> Result<()>;
    /// Manifest entries, newest slot first.
    async fn feed_files(&self, product: &str, limit: u32) -> Result<Vec<FeedFile>>;
    async fn feed_file(&self, name: &str) -> Result<Option<FeedFile>>;
    /// Manifest entries of a product for one member (`Some`) or for
    /// everyone (`None`), newest slot first.
    async fn member_feed_files(
        &self,
        product: &str,
        member: Option<MemberId>,
        limit: u32,
    ) -> Result<Vec<FeedFile>>;
}

/// Botnet events, their recipients and zone serials.
#[async_trait]
pub trait BotnetStore: Send + Sync {
    // Botnet events.
    /// Stores events with the members each concerns, in one transaction
    /// under the botnet write lock, so ids commit in ascending order (a
    /// stream reader that has seen id N never later finds a smaller one).
    /// Events already stored are skipped.
    async fn insert_botnet_events(
        &self,
        events: &[(isx_botnet::BotnetEvent, Vec<MemberId>)],
        now: Timestamp,
    ) -> Result<BotnetInsertOutcome>;
    async fn botnet_events(&self, query: &BotnetQuery) -> Result<Vec<StoredBotnetEvent>>;
    /// Every event `query` selects (limit ignored), in id order, streamed.
    async fn for_each_botnet_event(
        &self,
        query: &BotnetQuery,
        f: &mut (dyn FnMut(StoredBotnetEvent) -> std::io::Result<()> + Send),
    ) -> Result<u64>;
    /// The highest id received before `before` (all lower ids have
    /// committed: taken under the write lock).
    async fn botnet_id_before(&self, before: Timestamp) -> Result<i64>;
    /// Where a reader resuming at `at` starts: the highest id before the
    /// first event of the newest import at or before `at` (every event of
    /// one import shares its `received_at`); 0 when there is none. Read
    /// without the write lock (that import has committed, and so has
    /// every event before it), so a reader never waits on, or times, an
    /// import it cannot see.
    async fn botnet_import_start(&self, at: Timestamp) -> Result<i64>;
    /// The serial of zone `name` for content with this SHA-256 produced for
    /// `slot`: unchanged content keeps its serial, changed content gets a
    /// higher one; a slot older than the last one that set it leaves it.
    async fn zone_serial(&self, name: &str, sha256: &str, slot: Timestamp) -> Result<i64>;
    /// Deletes the events of every import whose events were all last
    /// seen before `before` (whole imports, so the places of the events a
    /// member may see in an import never shift), except the newest import
    /// (the next import's instant is counted from it); returns how many.
    async fn prune_botnet_events(&self, before: Timestamp) -> Result<u64>;
}

/// Clean file metadata and its change log.
#[async_trait]
pub trait CleanFileStore: Send + Sync {
    // Clean file metadata.
    /// Adds files not yet known (by SHA-256) in one transaction under the
    /// clean-file write lock, logging one change per file added. Files
    /// already known keep their metadata: re-imports change nothing.
    async fn import_clean_files(
        &self,
        files: &[isx_cleanfiles::CleanFile],
        now: Timestamp,
    ) -> Result<CleanImportOutcome>;
    /// Removes files by SHA-256 (logging the removals); returns how many.
    async fn remove_clean_files(
        &self,
        sha256: &[isx_cleanfiles::Sha256],
        now: Timestamp,
    ) -> Result<u64>;
    /// The records whose `algo` hash is one of `keys` (raw bytes).
    async fn clean_files_by(
        &self,
        algo: isx_cleanfiles::HashAlgo,
        keys: &[Vec<u8>],
    ) -> Result<Vec<isx_cleanfiles::CleanFile>>;
    /// Changes with `after < seq <= upto`, in order, at most `limit`.
    async fn clean_changes(&self, after: i64, upto: i64, limit: u32) -> Result<Vec<CleanChange>>;
    /// The last change made before `before` (all lower ones have committed).
    async fn clean_seq_before(&self, before: Timestamp) -> Result<i64>;
    /// Every record in SHA-256 order, streamed.
    async fn for_each_clean_file(
        &self,
        f: &mut (dyn FnMut(isx_cleanfiles::CleanFile) -> std::io::Result<()> + Send),
    ) -> Result<u64>;
    async fn clean_stats(&self) -> Result<CleanStats>;
    /// Clean files added after `after` (their `added_at`, distinct and
    /// ascending), oldest first, at most `limit`, as the JSON text of an array of
    /// rows `[added_at, sha256, sha1, md5, size, file_name, product,
    /// version, vendor, source, published]` (hashes in lower-case hex,
    /// instants in microseconds, absent values `null`), built by the
    /// database: the TAXII collection's full pass reads a page as one value
    /// instead of one row per file.
    async fn clean_page_json(&self, after: Timestamp, limit: u32) -> Result<String>;
    /// Per SHA-256 asked: every source that named the file, and how many
    /// files contain it and it contains (absent: none of these).
    async fn clean_evidence(
        &self,
        sha256: &[isx_cleanfiles::Sha256],
    ) -> Result<std::collections::HashMap<isx_cleanfiles::Sha256, isx_cleanfiles::Evidence>>;
    /// The files that contain `sha256` (`parents`) or that it contains, in
    /// SHA-256 order from `offset`, at most `limit`; and how many in all.
    async fn clean_related(
        &self,
        sha256: &isx_cleanfiles::Sha256,
        parents: bool,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Related>, u64)>;
    // hashlookup sessions and lookup counts, each a member's own.
    /// Starts (or restarts, emptied) `member`'s session `name`, living
    /// `ttl_secs`; sessions that have expired are dropped.
    async fn lookup_session_create(
        &self,
        member: i64,
        name: &str,
        now: Timestamp,
        ttl_secs: i64,
    ) -> Result<()>;
    /// Notes a lookup in `member`'s live session `name`; false when there
    /// is none (expired, never created, another member's).
    async fn lookup_session_note(
        &self,
        member: i64,
        name: &str,
        hash: &str,
        known: bool,
        now: Timestamp,
    ) -> Result<bool>;
    /// `member`'s live session `name`.
    async fn lookup_session(
        &self,
        member: i64,
        name: &str,
        now: Timestamp,
    ) -> Result<Option<LookupSession>>;
    /// Counts one single lookup of `hash` by `member` today.
    async fn count_lookup(
        &self,
        member: i64,
        hash: &str,
        known: bool,
        now: Timestamp,
    ) -> Result<()>;
    /// Drops lookup counts older than `since`, all but the
    /// `TOP_KEPT_PER_DAY` most looked-up hashes of each member and day, and
    /// expired sessions; how many rows went. Idempotent (every node may).
    async fn prune_lookups(&self, since: Timestamp, now: Timestamp) -> Result<u64>;
    /// `member`'s most looked-up hashes since `since` (hash, known,
    /// lookups), most first (a read: `prune_lookups` drops old counts).
    async fn top_lookups(
        &self,
        member: i64,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<(String, bool, u64)>>;
}

/// TAXII collections of trust groups, and status resources.
#[async_trait]
pub trait ExchangeStore: Send + Sync {
    // TAXII collections of trust groups.
    /// Adds object versions to a collection in one transaction under the
    /// exchange write lock, each with its own `added` after every earlier
    /// one. An object id belongs to the member that first posted it in the
    /// collection: versions of another member's object are refused
    /// ([`ExchangeAdded::NotYours`]) unless `any_owner` (the operator).
    async fn exchange_add(
        &self,
        collection: &str,
        author: MemberId,
        objects: &[NewExchangeObject],
        now: Timestamp,
        any_owner: bool,
    ) -> Result<Vec<ExchangeAdded>>;
    /// The versions added to a collection after `after`, oldest first, at
    /// most `limit`, without bodies.
    async fn exchange_window(
        &self,
        collection: &str,
        after: Timestamp,
        limit: u32,
    ) -> Result<Vec<ExchangeEntry>>;
    /// Every version of these objects in a collection, by ascending
    /// `added`, without bodies.
    async fn exchange_versions_of(
        &self,
        collection: &str,
        ids: &[String],
    ) -> Result<Vec<ExchangeEntry>>;
    /// A window and its objects in one read: every version (with its body)
    /// of the objects among the first `limit` versions added after `after`,
    /// by ascending `added`, and the window's last `added` when the window
    /// is full (`None`: the collection ends inside it).
    async fn exchange_window_with_bodies(
        &self,
        collection: &str,
        after: Timestamp,
        limit: u32,
    ) -> Result<(Vec<(ExchangeEntry, String)>, Option<Timestamp>)>;
    /// Every version of these objects with its body, by ascending `added`
    /// (a page's versions and objects in one read).
    async fn exchange_versions_with_bodies(
        &self,
        collection: &str,
        ids: &[String],
    ) -> Result<Vec<(ExchangeEntry, String)>>;
    /// Deletes these versions of an object; returns how many were there.
    async fn exchange_delete(
        &self,
        collection: &str,
        id: &str,
        versions: &[Timestamp],
    ) -> Result<u64>;
    async fn put_exchange_status(
        &self,
        id: &str,
        member: MemberId,
        at: Timestamp,
        body: &str,
    ) -> Result<()>;
    /// A status resource and the member that made it.
    async fn exchange_status(&self, id: &str) -> Result<Option<(MemberId, String)>>;
    /// Drops status resources made before `before`; how many went.
    async fn prune_exchange_status(&self, before: Timestamp) -> Result<u64>;
}

/// Partnership: contributions to trust groups, their versions, comments,
/// attachments, share requests and group rules.
#[async_trait]
pub trait PartnershipStore: Send + Sync {
    // Partnership: contributions to trust groups.
    /// Stores a contribution (version 1) and adds its TAXII objects to its
    /// group's collection, in one transaction.
    async fn insert_contribution(
        &self,
        row: &NewContributionRow<'_>,
        stix: &[NewExchangeObject],
        now: Timestamp,
    ) -> Result<isx_partnership::Contribution>;
    /// Stores several contributions (each version 1, with its TAXII objects)
    /// in one transaction: all of them or, on any error, none. Returns their
    /// ids in order.
    async fn insert_contributions(
        &self,
        rows: &[(NewContributionRow<'_>, Vec<NewExchangeObject>)],
        now: Timestamp,
    ) -> Result<Vec<isx_partnership::ContributionId>>;
    /// The contribution whose STIX object has this id, in whichever group.
    async fn contribution_by_stix_id(
        &self,
        stix_id: &str,
    ) -> Result<Option<isx_partnership::Contribution>>;
    /// Stores an edit as the next version, if the contribution is still at
    /// `expected_version` (otherwise `Conflict`: someone edited it meanwhile).
    async fn update_contribution(
        &self,
        id: isx_partnership::ContributionId,
        editor: MemberId,
        expected_version: u32,
        content: &isx_partnership::NewContribution,
        stix: &[NewExchangeObject],
        now: Timestamp,
    ) -> Result<isx_partnership::Contribution>;
    async fn contribution(
        &self,
        id: isx_partnership::ContributionId,
    ) -> Result<Option<isx_partnership::Contribution>>;
    /// The contributions of a group (of every group with `None`), newest first.
    async fn contributions(
        &self,
        group: Option<GroupId>,
    ) -> Result<Vec<isx_partnership::Contribution>>;
    /// Every version of a contribution, oldest first.
    async fn contribution_versions(
        &self,
        id: isx_partnership::ContributionId,
    ) -> Result<Vec<isx_partnership::Version>>;
    async fn insert_comment(
        &self,
        contribution: &isx_partnership::Contribution,
        author: MemberId,
        new: &isx_partnership::NewComment,
        stix_id: &str,
        stix: &[NewExchangeObject],
        now: Timestamp,
    ) -> Result<isx_partnership::Comment>;
    async fn comments(
        &self,
        contribution: isx_partnership::ContributionId,
    ) -> Result<Vec<isx_partnership::Comment>>;
    async fn insert_attachment(
        &self,
        contribution: isx_partnership::ContributionId,
        name: &str,
        media_type: &str,
        content: &[u8],
        sha256: &str,
        now: Timestamp,
    ) -> Result<isx_partnership::Attachment>;
    async fn attachments(
        &self,
        contribution: isx_partnership::ContributionId,
    ) -> Result<Vec<isx_partnership::Attachment>>;
    /// An attachment with its contribution and bytes.
    async fn attachment(
        &self,
        id: i64,
    ) -> Result<
        Option<(
            isx_partnership::ContributionId,
            isx_partnership::Attachment,
            Vec<u8>,
        )>,
    >;
    /// A pending share request (`Conflict` if one for the same contribution
    /// and target is pending or approved).
    async fn insert_share(
        &self,
        contribution: isx_partnership::ContributionId,
        target: isx_partnership::ShareTarget,
        by: MemberId,
        reason: &str,
        now: Timestamp,
    ) -> Result<isx_partnership::ShareRequest>;
    async fn share(&self, id: i64) -> Result<Option<isx_partnership::ShareRequest>>;
    /// Every share request, newest first.
    async fn shares(&self) -> Result<Vec<isx_partnership::ShareRequest>>;
    /// Approves a pending request, storing what the approval makes (a copy
    /// for the target group, or the URL in the malicious-URL feed) in the
    /// same transaction, or rejects it; `Conflict` if it is no longer
    /// pending (and then nothing is stored).
    async fn decide_share(
        &self,
        id: i64,
        decision: ShareDecision<'_>,
        now: Timestamp,
    ) -> Result<isx_partnership::ShareRequest>;
    async fn group_rules(&self, group: GroupId) -> Result<isx_partnership::GroupRules>;
    async fn put_group_rules(
        &self,
        group: GroupId,
        rules: &isx_partnership::GroupRules,
    ) -> Result<()>;
    /// Deletes a group's contributions last changed before `before`, with
    /// their versions, comments, attachments, share requests and TAXII
    /// objects; returns how many.
    async fn prune_contributions(&self, group: GroupId, before: Timestamp) -> Result<u64>;
}

/// Opens the store named by `url`: `postgres://…` (or `postgresql://…`)
/// selects PostgreSQL; `sqlite://PATH` or a plain path selects SQLite.
/// Migrations are applied before the store is returned.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Arc::new(postgres::PostgresStore::connect(url).await?)
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            Arc::new(sqlite::SqliteStore::open(std::path::Path::new(path)).await?)
        };
    store.migrate().await?;
    Ok(store)
}

/// A database URL with any password replaced by `***`, for logs.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://isx:s3cret@db:5432/isx"),
            "postgres://isx:***@db:5432/isx"
        );
        assert_eq!(
            super::redact_url("/var/lib/isx/isx.sqlite"),
            "/var/lib/isx/isx.sqlite"
        );
    }
}
