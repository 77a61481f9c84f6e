//! Release tables as CSV: one row per affected product of each advisory.

use isx_advisories::Advisory;

/// Column names, in order.
pub const COLUMNS: [&str; 12] = [
    "cve",
    "title",
    "severity",
    "cvss_v31",
    "cvss_v40",
    "exploitability_latest",
    "exploitability_older",
    "known_exploited",
    "vendor",
    "product",
    "version",
    "fix",
];

fn cell(s: &str) -> String {
    // RFC 4180 quoting, and a leading quote for cells a spreadsheet would
    // run as a formula.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The affected-software table of a set of advisories, as CSV text.
/// `withheld`: the caller's view withholds exploitability data (the
/// exploitability and KEV cells then say so rather than "no").
pub fn to_csv(advisories: &[Advisory], withheld: bool) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for cells in rows(advisories, withheld) {
        out.push_str(&cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// The table's rows, one cell per column of [`COLUMNS`].
pub fn rows(advisories: &[Advisory], withheld: bool) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for a in advisories {
        let sev = a.severity().map(|s| s.as_str()).unwrap_or("");
        let v3 = a
            .cvss_v31
            .as_ref()
            .map(|c| c.score().to_string())
            .unwrap_or_default();
        let v4 = a
            .cvss_v40
            .as_ref()
            .map(|c| c.score().to_string())
            .unwrap_or_default();
        let (latest, older) = match (a.exploitability, withheld) {
            (Some(e), _) => (e.latest.as_str(), e.older.as_str()),
            (None, true) => ("withheld", "withheld"),
            (None, false) => ("", ""),
        };
        let kev = match (&a.known_exploited, withheld) {
            (Some(_), _) => "yes",
            (None, true) => "withheld",
            (None, false) => "no",
        };
        let rows: Vec<(String, String, String, String)> = if a.affected.is_empty() {
            vec![(String::new(), String::new(), String::new(), String::new())]
        } else {
            a.affected
                .iter()
                .map(|p| {
                    (
                        p.vendor.clone(),
                        p.product.clone(),
                        p.version.clone().unwrap_or_default(),
                        p.fix.clone().unwrap_or_default(),
                    )
                })
                .collect()
        };
        for (vendor, product, version, fix) in rows {
            let cells = [
                a.id.as_str(),
                &a.title,
                sev,
                &v3,
                &v4,
                latest,
                older,
                kev,
                &vendor,
                &product,
                &version,
                &fix,
            ];
            out.push(cells.iter().map(|c| (*c).to_owned()).collect());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::cell("a,b"), "\"a,b\"");
        assert_eq!(super::cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::cell("=cmd()"), "'=cmd()");
    }
}
