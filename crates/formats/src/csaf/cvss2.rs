//! CVSS v2.0 scores from a vector (FIRST's CVSS v2 guide, §3.2): base,
//! temporal and environmental, for mandatory test 6.1.9. Metrics missing
//! from the vector are "not defined".

/// The three scores a vector computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scores {
    pub base: f64,
    pub temporal: f64,
    pub environmental: f64,
}

fn round1(x: f64) -> f64 {
    // Half up at one decimal; the epsilon keeps 4.45 (stored as 4.4499…)
    // where decimal arithmetic puts it.
    ((x * 10.0) + 1e-9).round() / 10.0
}

/// The scores of a CVSS v2 vector (`AV:N/AC:L/Au:N/C:P/I:P/A:N`, with
/// optional temporal and environmental metrics), or `None` when it does
/// not parse (each base metric once, known values, nothing else).
pub(crate) fn scores(vector: &str) -> Option<Scores> {
    let mut m: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for part in vector.split('/') {
        let (k, v) = part.split_once(':')?;
        if m.insert(k, v).is_some() {
            return None;
        }
    }
    let pick = |key: &str, table: &[(&str, f64)], default: Option<f64>| -> Option<f64> {
        match m.get(key) {
            Some(v) => table.iter().find(|(n, _)| n == v).map(|(_, x)| *x),
            None => default,
        }
    };
    let cia = [("N", 0.0), ("P", 0.275), ("C", 0.660)];
    let av = pick("AV", &[("L", 0.395), ("A", 0.646), ("N", 1.0)], None)?;
    let ac = pick("AC", &[("H", 0.35), ("M", 0.61), ("L", 0.71)], None)?;
    let au = pick("Au", &[("M", 0.45), ("S", 0.56), ("N", 0.704)], None)?;
    let c = pick("C", &cia, None)?;
    let i = pick("I", &cia, None)?;
    let a = pick("A", &cia, None)?;
    let e = pick(
        "E",
        &[
            ("U", 0.85),
            ("POC", 0.9),
            ("F", 0.95),
            ("H", 1.0),
            ("ND", 1.0),
        ],
        Some(1.0),
    )?;
    let rl = pick(
        "RL",
        &[
            ("OF", 0.87),
            ("TF", 0.90),
            ("W", 0.95),
            ("U", 1.0),
            ("ND", 1.0),
        ],
        Some(1.0),
    )?;
    let rc = pick(
        "RC",
        &[("UC", 0.90), ("UR", 0.95), ("C", 1.0), ("ND", 1.0)],
        Some(1.0),
    )?;
    let cdp = pick(
        "CDP",
        &[
            ("N", 0.0),
            ("L", 0.1),
            ("LM", 0.3),
            ("MH", 0.4),
            ("H", 0.5),
            ("ND", 0.0),
        ],
        Some(0.0),
    )?;
    let td = pick(
        "TD",
        &[
            ("N", 0.0),
            ("L", 0.25),
            ("M", 0.75),
            ("H", 1.0),
            ("ND", 1.0),
        ],
        Some(1.0),
    )?;
    let req = [("L", 0.5), ("M", 1.0), ("H", 1.51), ("ND", 1.0)];
    let cr = pick("CR", &req, Some(1.0))?;
    let ir = pick("IR", &req, Some(1.0))?;
    let ar = pick("AR", &req, Some(1.0))?;
    let known = [
        "AV", "AC", "Au", "C", "I", "A", "E", "RL", "RC", "CDP", "TD", "CR", "IR", "AR",
    ];
    if m.keys().any(|k| !known.contains(k)) {
        return None;
    }
    let exploitability = 20.0 * av * ac * au;
    let base_of = |impact: f64| {
        let f = if impact == 0.0 { 0.0 } else { 1.176 };
        round1(((0.6 * impact) + (0.4 * exploitability) - 1.5) * f)
    };
    let impact = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    let base = base_of(impact);
    let temporal = round1(base * e * rl * rc);
    let adjusted_impact =
        (10.41 * (1.0 - (1.0 - c * cr) * (1.0 - i * ir) * (1.0 - a * ar))).min(10.0);
    let adjusted_temporal = round1(base_of(adjusted_impact) * e * rl * rc);
    // A low adjusted impact can make the adjusted scores negative (they
    // are used so); the environmental score itself is never below 0, as
    // the reference implementations have it.
    let environmental =
        round1((adjusted_temporal + (10.0 - adjusted_temporal) * cdp) * td).max(0.0);
    Some(Scores {
        base,
        temporal,
        environmental,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_score_as_nvd_shows_them() {
        // NVD's scores for well-known CVEs.
        let s = scores("AV:N/AC:L/Au:N/C:P/I:P/A:N").unwrap();
        assert_eq!(s.base, 6.4);
        assert_eq!(scores("AV:N/AC:L/Au:N/C:C/I:C/A:C").unwrap().base, 10.0);
        assert_eq!(scores("AV:N/AC:M/Au:N/C:P/I:N/A:N").unwrap().base, 4.3);
        assert_eq!(scores("AV:L/AC:L/Au:N/C:N/I:N/A:N").unwrap().base, 0.0);
        let t = scores("AV:N/AC:L/Au:N/C:C/I:C/A:C/E:F/RL:OF/RC:C").unwrap();
        assert_eq!(t.temporal, 8.3);
        assert!(scores("AV:N/AC:L/Au:N/C:P/I:P").is_none());
        assert!(scores("AV:N/AC:L/Au:N/C:P/I:P/A:N/X:Y").is_none());
        assert!(scores("AV:N/AV:N/AC:L/Au:N/C:P/I:P/A:N").is_none());
    }
}
