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
