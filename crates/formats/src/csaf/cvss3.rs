//! CVSS v3.0/v3.1 base, temporal and environmental scores (FIRST's
//! specification, §7 "Formulas"), for CSAF test 6.1.9: a CVSS object's
//! stated scores must be those its vector computes.

use std::collections::HashMap;

/// The three scores of a vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scores {
    pub base: f64,
    pub temporal: f64,
    pub environmental: f64,
}

/// The severity rating of a score (`NONE` … `CRITICAL`).
pub(crate) fn severity(score: f64) -> &'static str {
    match score {
        s if s <= 0.0 => "NONE",
        s if s < 4.0 => "LOW",
        s if s < 7.0 => "MEDIUM",
        s if s < 9.0 => "HIGH",
        _ => "CRITICAL",
    }
}

fn roundup(x: f64, v31: bool) -> f64 {
    if v31 {
        // Appendix A of v3.1: round up on integers to avoid floating
        // point artefacts.
        let int = (x * 100_000.0).round() as i64;
        if int % 10_000 == 0 {
            int as f64 / 100_000.0
        } else {
            ((int / 10_000) + 1) as f64 / 10.0
        }
    } else {
        (x * 10.0).ceil() / 10.0
    }
}

/// Scores a `CVSS:3.0/…` or `CVSS:3.1/…` vector; `None` if a base metric
/// is missing or a value is not one the specification defines.
pub(crate) fn scores(vector: &str) -> Option<Scores> {
    let mut parts = vector.split('/');
    let v31 = match parts.next()? {
        "CVSS:3.1" => true,
        "CVSS:3.0" => false,
        _ => return None,
    };
    let m: HashMap<&str, &str> = parts.filter_map(|p| p.split_once(':')).collect();
    let get = |k: &str| m.get(k).copied();
    // A modified metric not defined takes the base metric's value.
    let modified = |k: &str, base: &str| match get(k) {
        None | Some("X") => get(base),
        v => v,
    };
    let av = |v: &str| -> Option<f64> {
        match v {
            "N" => Some(0.85),
            "A" => Some(0.62),
            "L" => Some(0.55),
            "P" => Some(0.2),
            _ => None,
        }
    };
    let ac = |v: &str| -> Option<f64> {
        match v {
            "L" => Some(0.77),
            "H" => Some(0.44),
            _ => None,
        }
    };
    let pr = |v: &str, changed: bool| -> Option<f64> {
        match (v, changed) {
            ("N", _) => Some(0.85),
            ("L", false) => Some(0.62),
            ("L", true) => Some(0.68),
            ("H", false) => Some(0.27),
            ("H", true) => Some(0.5),
            _ => None,
        }
    };
    let ui = |v: &str| -> Option<f64> {
        match v {
            "N" => Some(0.85),
            "R" => Some(0.62),
            _ => None,
        }
    };
    let cia = |v: &str| -> Option<f64> {
        match v {
            "H" => Some(0.56),
            "L" => Some(0.22),
            "N" => Some(0.0),
            _ => None,
        }
    };
    let scope = |v: &str| match v {
        "U" => Some(false),
        "C" => Some(true),
        _ => None,
    };
    let temporal = |k: &str, table: &[(&str, f64)]| -> Option<f64> {
        let v = get(k).unwrap_or("X");
        table.iter().find(|(l, _)| *l == v).map(|(_, w)| *w)
    };
    let e = temporal(
        "E",
        &[
            ("X", 1.0),
            ("H", 1.0),
            ("F", 0.97),
            ("P", 0.94),
            ("U", 0.91),
        ],
    )?;
    let rl = temporal(
        "RL",
        &[
            ("X", 1.0),
            ("U", 1.0),
            ("W", 0.97),
            ("T", 0.96),
            ("O", 0.95),
        ],
    )?;
    let rc = temporal("RC", &[("X", 1.0), ("C", 1.0), ("R", 0.96), ("U", 0.92)])?;
    let req = |k: &str| temporal(k, &[("X", 1.0), ("H", 1.5), ("M", 1.0), ("L", 0.5)]);
    let (cr, ir, ar) = (req("CR")?, req("IR")?, req("AR")?);

    let changed = scope(get("S")?)?;
    let (c, i, a) = (cia(get("C")?)?, cia(get("I")?)?, cia(get("A")?)?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability =
        8.22 * av(get("AV")?)? * ac(get("AC")?)? * pr(get("PR")?, changed)? * ui(get("UI")?)?;
    let base = if impact <= 0.0 {
        0.0
    } else if changed {
        roundup((1.08 * (impact + exploitability)).min(10.0), v31)
    } else {
        roundup((impact + exploitability).min(10.0), v31)
    };
    let temporal_score = roundup(base * e * rl * rc, v31);

    let m_changed = scope(modified("MS", "S")?)?;
    let (mc, mi, ma) = (
        cia(modified("MC", "C")?)?,
        cia(modified("MI", "I")?)?,
        cia(modified("MA", "A")?)?,
    );
    let miss = (1.0 - (1.0 - cr * mc) * (1.0 - ir * mi) * (1.0 - ar * ma)).min(0.915);
    let m_impact = if m_changed {
        if v31 {
            7.52 * (miss - 0.029) - 3.25 * (miss * 0.9731 - 0.02).powi(13)
        } else {
            7.52 * (miss - 0.029) - 3.25 * (miss - 0.02).powi(15)
        }
    } else {
        6.42 * miss
    };
    let m_exploitability = 8.22
        * av(modified("MAV", "AV")?)?
        * ac(modified("MAC", "AC")?)?
        * pr(modified("MPR", "PR")?, m_changed)?
        * ui(modified("MUI", "UI")?)?;
    let environmental = if m_impact <= 0.0 {
        0.0
    } else if m_changed {
        roundup(
            roundup((1.08 * (m_impact + m_exploitability)).min(10.0), v31) * e * rl * rc,
            v31,
        )
    } else {
        roundup(
            roundup((m_impact + m_exploitability).min(10.0), v31) * e * rl * rc,
            v31,
        )
    };
    Some(Scores {
        base,
        temporal: temporal_score,
        environmental,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_from_the_specification_and_nvd() {
        let s = |v: &str| scores(v).expect(v);
        // v3.1 specification examples (CVE-2013-1937, CVE-2014-3566, …).
        assert_eq!(s("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N").base, 6.1);
        assert_eq!(s("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N").base, 3.1);
        assert_eq!(s("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").base, 9.8);
        assert_eq!(s("CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H").base, 8.2);
        // Temporal and environmental, as PyPI's `cvss` (an independent
        // implementation) computes them.
        let three = |v: &str| {
            let x = s(v);
            (x.base, x.temporal, x.environmental)
        };
        assert_eq!(
            three("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C"),
            (9.8, 8.8, 8.8)
        );
        assert_eq!(
            three("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:H/IR:H/AR:H/MAV:L/MS:C"),
            (9.8, 8.8, 8.4)
        );
        assert_eq!(
            three("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:N/E:U/RL:T/RC:R/CR:L/MS:C/MC:H"),
            (7.1, 6.0, 5.7)
        );
        assert_eq!(
            three(
                "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:C/C:N/I:N/A:L/E:H/RL:W/RC:U/IR:M/MAV:A/MPR:L/MI:H"
            ),
            (1.8, 1.7, 5.6)
        );
        // Without temporal or environmental metrics, all three agree.
        let plain = s("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N");
        assert_eq!(
            (plain.base, plain.temporal, plain.environmental),
            (6.4, 6.4, 6.4)
        );
        assert!(scores("CVSS:3.1/AV:N/AC:L").is_none());
        assert!(scores("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").is_none());
        assert_eq!(severity(0.0), "NONE");
        assert_eq!(severity(6.9), "MEDIUM");
        assert_eq!(severity(9.0), "CRITICAL");
    }

    /// The base score agrees with the `cvss` crate isx scores advisories
    /// with, over every base vector.
    #[test]
    fn base_scores_agree_with_the_cvss_crate() {
        let mut n = 0;
        for av in ["N", "A", "L", "P"] {
            for ac in ["L", "H"] {
                for pr in ["N", "L", "H"] {
                    for ui in ["N", "R"] {
                        for sc in ["U", "C"] {
                            for c in ["H", "L", "N"] {
                                for i in ["H", "L", "N"] {
                                    for a in ["H", "L", "N"] {
                                        let v = format!("CVSS:3.1/AV:{av}/AC:{ac}/PR:{pr}/UI:{ui}/S:{sc}/C:{c}/I:{i}/A:{a}");
                                        let theirs = isx_advisories::CvssV3::parse(&v)
                                            .expect("parse")
                                            .score();
                                        assert_eq!(scores(&v).expect("score").base, theirs, "{v}");
                                        n += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(n, 2592);
    }
}
