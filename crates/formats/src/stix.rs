//! STIX 2.1 building blocks shared by every product's bundle: the TLP 2.0
//! marking definitions (official ids), the instance's identity,
//! deterministic ids and timestamps in the precision STIX asks for.

use isx_domain::{Timestamp, Tlp};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The namespace of isx's own deterministic (UUIDv5) object ids.
pub const ISX_NAMESPACE: Uuid = Uuid::from_u128(0x7c1c_2f4e_5b8a_4e1e_9d51_6f3b_2a9e_8c10);

/// The TLP 2.0 extension definition (oasis-open/cti-stix-common-objects).
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The official id of a TLP 2.0 marking definition.
pub fn tlp_marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The TLP 2.0 marking-definition object, as published by OASIS.
pub fn tlp_marking(tlp: Tlp) -> Value {
    let word = match tlp {
        Tlp::Clear => "clear",
        Tlp::Green => "green",
        Tlp::Amber => "amber",
        Tlp::AmberStrict => "amber+strict",
        Tlp::Red => "red",
    };
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking_id(tlp),
        "created": "2022-10-01T00:00:00.000Z",
        "name": tlp.label(),
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": word}
        }
    })
}

/// A deterministic id for an SDO or bundle: `kind--` and a UUID whose bits
/// are the SHA-256 of the isx namespace and `key`, shaped as version 4
/// (STIX 2.1 asks SDO ids to be UUIDv4; deriving the bits from a hash keeps
/// a record's id the same in every file, so consumers update one object).
pub fn object_id(kind: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(ISX_NAMESPACE.as_bytes());
    h.update(key.as_bytes());
    let mut bytes = [0u8; 16];
    // The UUID takes the digest's first 16 bytes.
    for (b, d) in bytes.iter_mut().zip(h.finalize()) {
        *b = d;
    }
    format!(
        "{kind}--{}",
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    )
}

/// Sets `key` of an object built with `json!({..})` (other values have no
/// properties to set).
pub(crate) fn set(object: &mut Value, key: &str, value: Value) {
    if let Some(o) = object.as_object_mut() {
        o.insert(key.to_owned(), value);
    }
}

/// The identity object of the instance that produced a bundle.
pub fn instance_identity(name: &str) -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": object_id("identity", &format!("isx-instance:{name}")),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": name,
        "identity_class": "organization",
    })
}

/// A STIX timestamp, UTC, to the millisecond: `2026-11-23T09:00:00.123Z`.
pub fn timestamp(t: Timestamp) -> String {
    let ms = Timestamp::from_micros(t.as_micros().div_euclid(1000) * 1000);
    let text = Timestamp::from_secs(ms.as_secs()).to_rfc3339();
    let millis = t.as_micros().div_euclid(1000).rem_euclid(1000);
    match text.strip_suffix('Z') {
        Some(base) => format!("{base}.{millis:03}Z"),
        None => text,
    }
}

/// A string literal inside a STIX pattern: `'` and `\` escaped.
pub fn pattern_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The id of isx's property extension (its `extension-definition`): the
/// properties STIX has no place for — a clean file's *known good* verdict
/// and provenance, an advisory's CVSS vectors and exploitability index.
pub const ISX_EXTENSION: &str = "extension-definition--5e0b8f5c-6f5e-4d2a-9a57-3c1a4f0e7d21";

/// The `extension-definition` object that declares [`ISX_EXTENSION`].
pub fn isx_extension_definition(identity: &str) -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": ISX_EXTENSION,
        "created_by_ref": identity,
        "created": "2026-11-29T00:00:00.000Z",
        "modified": "2026-11-29T00:00:00.000Z",
        "name": "isx properties",
        "description": "Properties isx adds to STIX objects: on file, known_good (true: the file is \
            published by its vendor and known to be benign), product, version, vendor, source and \
            published; on vulnerability, cvss_v31 and cvss_v40 (vector, base score, severity), \
            exploitability (the exploitability index for the latest and older releases, publicly \
            disclosed, exploited), known_exploited (CISA KEV) and release_at.",
        "schema": "https://github.com/isx-project/isx/blob/main/docs/stix-extension.md",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    })
}

/// A STIX timestamp of a STIX object's version (`modified`, else
/// `created`), as TAXII compares them.
pub fn version_of(object: &Value) -> Option<Timestamp> {
    object
        .get("modified")
        .or_else(|| object.get("created"))
        .and_then(Value::as_str)
        .and_then(|t| Timestamp::parse(t).ok())
}

/// The namespace STIX 2.1 fixes for deterministic SCO ids (section 2.9).
const STIX_SCO_NAMESPACE: uuid::Uuid = uuid::uuid!("00abedb4-aa42-466c-9c01-fed23315a9b7");

/// The deterministic UUIDv5 id of a cyber-observable: `kind--` and the
/// UUIDv5 of the STIX namespace and the canonical JSON of the
/// id-contributing properties (e.g. `{"value":"192.0.2.1"}`).
pub fn sco_id(kind: &str, contributing: &Value) -> String {
    // serde_json writes object keys sorted (no `preserve_order`) and
    // without spaces: the JSON canonical form for these simple values.
    let text = serde_json::to_string(contributing).unwrap_or_default();
    sco_id_of_text(kind, &text)
}

/// [`sco_id`] over id-contributing properties already written in canonical
/// form (keys sorted, no spaces, serde_json's escaping).
pub fn sco_id_of_text(kind: &str, canonical: &str) -> String {
    format!(
        "{kind}--{}",
        uuid::Uuid::new_v5(&STIX_SCO_NAMESPACE, canonical.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_millisecond_precision_and_zulu() {
        assert_eq!(
            timestamp(Timestamp::parse("2026-11-23T09:00:00Z").unwrap()),
            "2026-11-23T09:00:00.000Z"
        );
        assert_eq!(
            timestamp(Timestamp::parse("2026-11-23T09:00:00.123456Z").unwrap()),
            "2026-11-23T09:00:00.123Z"
        );
    }

    #[test]
    fn pattern_strings_escape_quotes_and_backslashes() {
        assert_eq!(pattern_string(r"http://a/'x\y"), r"'http://a/\'x\\y'");
    }

    #[test]
    fn ids_are_deterministic_and_typed() {
        assert_eq!(object_id("indicator", "a"), object_id("indicator", "a"));
        assert_ne!(object_id("indicator", "a"), object_id("indicator", "b"));
        assert!(object_id("indicator", "a").starts_with("indicator--"));
        let id = object_id("indicator", "a");
        let uuid = Uuid::parse_str(id.trim_start_matches("indicator--")).expect("uuid");
        assert_eq!(uuid.get_version_num(), 4, "SDO ids are UUIDv4-shaped");
    }
}
