//! The isx domain model: the vocabulary every other crate speaks.
//!
//! This crate owns the types that can only hold valid values (`Cidr`, `Asn`,
//! `CountryCode`, `Tlp`, …) and the plain records built from them (member,
//! user, API key, trust group, embargo, audit event). It does no I/O: no
//! files, no network, no clock reads except through the [`Clock`] trait, so
//! that tests can stand at any instant.

#[macro_use]
mod choice;
mod audit;
mod clock;
mod error;
mod geo;
mod group;
mod key;
mod marking;
mod member;
mod threat;
mod user;

pub use audit::{AuditEvent, NewAuditEvent};
pub use choice::{check_display_name, is_deceptive, label_problem};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp, MAX_CLOCK_SKEW_SECS};
pub use error::DomainError;
pub use geo::GeoInfo;
pub use group::{GroupId, GroupMembership, GroupRole, NewTrustGroup, TrustGroup, TrustGroupKind};
pub use key::{ApiKey, ApiToken, KeyId, NewApiKey};
pub use marking::Tlp;
pub use member::{
    Asn, Cidr, Clearance, Constituency, CountryCode, DomainName, Member, MemberId, MemberKind,
    MemberName, NewMember, Tier,
};
pub use threat::{BotnetProduct, ThreatType};
pub use user::{Login, NewUser, User, UserId, UserRole};
