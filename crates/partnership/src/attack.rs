//! MITRE ATT&CK technique ids (`T1566`, `T1566.001`).

use crate::{invalid, PartnershipError};

/// Checks and normalises an ATT&CK technique or sub-technique id: `T` and
/// four digits, optionally `.` and three digits (`t1566.001` → `T1566.001`).
pub fn technique(id: &str) -> Result<String, PartnershipError> {
    let t = id.trim().to_ascii_uppercase();
    let digits = |d: &str| d.bytes().all(|c| c.is_ascii_digit());
    let ok = t.strip_prefix('T').is_some_and(|id| {
        let (technique, sub) = match id.split_once('.') {
            Some((technique, sub)) => (technique, Some(sub)),
            None => (id, None),
        };
        technique.len() == 4
            && digits(technique)
            && sub.is_none_or(|sub| sub.len() == 3 && digits(sub))
    });
    if ok {
        Ok(t)
    } else {
        Err(invalid(
            "techniques",
            format!("\"{id}\" is not a MITRE ATT&CK technique id (T1234 or T1234.001)"),
        ))
    }
}

/// ATT&CK Enterprise's techniques and sub-techniques, `id<TAB>name`, sorted
/// by id (`scripts/attack-names` makes the file from ATT&CK's STIX bundle).
const TABLE: &str = include_str!("../data/attack-techniques.tsv");

fn table() -> &'static [(&'static str, &'static str)] {
    static ROWS: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .collect()
    })
}

fn own_name(id: &str) -> Option<&'static str> {
    let rows = table();
    rows.binary_search_by(|(t, _)| (*t).cmp(id))
        .ok()
        .and_then(|i| rows.get(i))
        .map(|(_, n)| *n)
}

/// The ATT&CK name of a technique (`T1566` → `Phishing`); a
/// sub-technique's with its parent's, as ATT&CK writes it (`T1566.001` →
/// `Phishing: Spearphishing Attachment`). `None` for an id ATT&CK
/// Enterprise does not have (or no longer has).
pub fn name(id: &str) -> Option<String> {
    let own = own_name(id)?;
    Some(match id.split_once('.') {
        Some((parent, _)) => match own_name(parent) {
            Some(p) => format!("{p}: {own}"),
            None => own.to_owned(),
        },
        None => own.to_owned(),
    })
}

/// An id with its name, for people: `T1566.001 Phishing: Spearphishing
/// Attachment`, or the id alone when ATT&CK has no such technique.
pub fn labelled(id: &str) -> String {
    match name(id) {
        Some(n) => format!("{id} {n}"),
        None => id.to_owned(),
    }
}

/// The technique's page on attack.mitre.org.
pub fn url(id: &str) -> String {
    format!(
        "https://attack.mitre.org/techniques/{}/",
        id.replace('.', "/")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_come_from_attack() {
        assert_eq!(super::name("T1566").as_deref(), Some("Phishing"));
        assert_eq!(
            super::name("T1566.001").as_deref(),
            Some("Phishing: Spearphishing Attachment")
        );
        assert_eq!(super::labelled("T1486"), "T1486 Data Encrypted for Impact");
        assert_eq!(super::name("T9999"), None);
        assert_eq!(super::labelled("T9999.001"), "T9999.001");
        // The table is well formed: valid ids, sorted, each once, named.
        let rows = super::table();
        assert!(rows.len() > 600, "{} techniques", rows.len());
        for w in rows.windows(2) {
            assert!(w[0].0 < w[1].0, "{:?} before {:?}", w[0], w[1]);
        }
        for (id, name) in rows {
            assert_eq!(super::technique(id).unwrap(), *id);
            assert!(!name.trim().is_empty() && name.trim() == *name, "{id}");
        }
    }

    #[test]
    fn technique_ids() {
        assert_eq!(super::technique("t1566.001").unwrap(), "T1566.001");
        assert_eq!(super::technique(" T1486 ").unwrap(), "T1486");
        for bad in [
            "T156",
            "T15660",
            "1566",
            "T1566.01",
            "T1566-001",
            "TA0001",
            "",
        ] {
            assert!(super::technique(bad).is_err(), "{bad}");
        }
        assert_eq!(
            super::url("T1566.001"),
            "https://attack.mitre.org/techniques/T1566/001/"
        );
    }
}
