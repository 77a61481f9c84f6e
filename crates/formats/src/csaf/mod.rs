//! CSAF 2.0 (OASIS Common Security Advisory Framework).
//!
//! Import validates a document against the CSAF 2.0 JSON schema (embedded,
//! with FIRST's CVSS schemas) and runs every mandatory test of §6.1
//! ([`mandatory`]), refusing a document that fails any, then maps each vulnerability with a CVE to an
//! isx [`Advisory`](isx_advisories::Advisory). Export writes one advisory as
//! a schema-valid `csaf_security_advisory`.
//!
//! Mapping rules beyond the obvious fields:
//! * product tree branches `vendor` / `product_name` (or `product_family`) /
//!   `product_version` (or `product_version_range`) / `architecture` give an
//!   affected product's vendor, product, version and platform;
//! * a `vendor_fix` remediation without URL and with a one-line detail is
//!   the *fix* (fixed version or update id) of the products it names; other
//!   remediations are kept as remediations;
//! * the `exploit_status` threat carries Microsoft's convention
//!   (`Publicly Disclosed:No;Exploited:No;Latest Software Release:…`);
//! * notes: `description` is the description, `faq` notes are FAQs, and
//!   isx writes CVSS v4.0 vectors (which CSAF 2.0 cannot hold in `scores`)
//!   and KEV status as `other` notes titled `CVSS v4.0` and `CISA KEV`;
//! * TLP 1.0 labels map to TLP 2.0 (WHITE is CLEAR) and back (AMBER+STRICT
//!   is written as AMBER, the nearest TLP 1.0 label).

mod cvss2;
mod cvss3;
mod export;
mod import;
pub mod mandatory;
pub mod optional;
pub mod provider;
mod schema;
mod version;

pub use export::{add_canonical_url, to_csaf, ExportContext};
pub use import::{parse, CsafDocument};
pub use mandatory::Finding;
pub use schema::validate;

#[cfg(test)]
mod tests;
