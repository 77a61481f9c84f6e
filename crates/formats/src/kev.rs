//! CISA's Known Exploited Vulnerabilities catalogue.

use isx_advisories::{CveId, KevRecord, KnownExploited};
use serde::Deserialize;

use crate::FormatError;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Catalogue {
    vulnerabilities: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    vulnerability_name: String,
    date_added: String,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
}

/// Whether a JSON document looks like the KEV catalogue.
pub fn is_kev(doc: &serde_json::Value) -> bool {
    doc.get("catalogVersion").is_some()
        && doc
            .get("vulnerabilities")
            .is_some_and(serde_json::Value::is_array)
}

pub fn parse(bytes: &[u8]) -> Result<Vec<KevRecord>, FormatError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let cat: Catalogue = serde_path_to_error_lite(&mut de)?;
    cat.vulnerabilities
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let cve: CveId = e
                .cve_id
                .parse()
                .map_err(|err| FormatError::value(format!("/vulnerabilities/{i}/cveID"), err))?;
            Ok(KevRecord {
                cve,
                vendor: e.vendor_project,
                product: e.product,
                name: e.vulnerability_name,
                known: KnownExploited {
                    date_added: e.date_added,
                    due_date: e.due_date,
                    ransomware: e
                        .known_ransomware_campaign_use
                        .is_some_and(|k| k.eq_ignore_ascii_case("known")),
                },
            })
        })
        .collect()
}

fn serde_path_to_error_lite<'de, T: Deserialize<'de>>(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>,
) -> Result<T, FormatError> {
    T::deserialize(de).map_err(|e| FormatError::Json(e.to_string()))
}
