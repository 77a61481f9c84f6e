//! FIRST's daily EPSS file (`epss_scores-YYYY-MM-DD.csv`, published
//! gzipped): a comment line naming the model and the score date, a header
//! `cve,epss,percentile`, then one row per scored CVE:
//!
//! ```text
//! #model_version:v2025.03.14,score_date:2026-12-01T12:55:00Z
//! cve,epss,percentile
//! CVE-1999-0001,0.01297,0.79169
//! ```
//!
//! Decompression is the caller's (the file is plain CSV once gunzipped).

use isx_advisories::{CveId, EpssScore};

use crate::FormatError;

/// One day's scores.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssFile {
    pub model_version: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub scores: Vec<(CveId, EpssScore)>,
}

/// Whether `text` looks like an EPSS file (its comment line or header).
pub fn is_epss(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    first.starts_with("#model_version:") || first.trim() == "cve,epss,percentile"
}

/// Parses an EPSS file; `fallback_date` (e.g. from the file name) is used
/// when the comment line is missing. Errors name the line.
pub fn parse(text: &str, fallback_date: Option<&str>) -> Result<EpssFile, FormatError> {
    let at = |line: usize, message: String| FormatError::Value {
        pointer: format!("line {line}"),
        message,
    };
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .enumerate()
        .peekable();
    let mut model_version = None;
    let mut date = fallback_date.map(str::to_owned);
    if let Some((_, first)) = lines.peek() {
        if let Some(meta) = first.strip_prefix('#') {
            for field in meta.split(',') {
                match field.split_once(':') {
                    Some(("model_version", v)) => model_version = Some(v.trim().to_owned()),
                    Some(("score_date", v)) => date = v.trim().get(..10).map(str::to_owned),
                    _ => {}
                }
            }
            lines.next();
        }
    }
    let model_version = model_version.unwrap_or_else(|| "unknown".to_owned());
    let date = date.ok_or_else(|| {
        at(
            1,
            "no score date: expected a first line #model_version:…,score_date:YYYY-MM-DD…".into(),
        )
    })?;
    match lines.next() {
        Some((_, h)) if h.trim() == "cve,epss,percentile" => {}
        Some((i, h)) => {
            return Err(at(
                i + 1,
                format!("expected the header cve,epss,percentile, found {h:?}"),
            ))
        }
        None => return Err(at(1, "empty file: no header cve,epss,percentile".into())),
    }
    let mut scores = Vec::new();
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let mut cells = line.split(',');
        let (Some(cve), Some(epss), Some(pct), None) =
            (cells.next(), cells.next(), cells.next(), cells.next())
        else {
            return Err(at(
                i + 1,
                format!("expected cve,epss,percentile, found {line:?}"),
            ));
        };
        let cve: CveId = cve.trim().parse().map_err(|e| at(i + 1, format!("{e}")))?;
        let num = |v: &str, name: &str| {
            v.trim()
                .parse::<f64>()
                .map_err(|_| at(i + 1, format!("{name} {v:?} is not a number")))
        };
        let score = EpssScore::new(
            &date,
            num(epss, "epss")?,
            num(pct, "percentile")?,
            &model_version,
        )
        .map_err(|e| at(i + 1, e.to_string()))?;
        scores.push((cve, score));
    }
    Ok(EpssFile {
        model_version,
        date,
        scores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "#model_version:v2025.03.14,score_date:2026-12-01T12:55:00Z\ncve,epss,percentile\nCVE-1999-0001,0.01297,0.79169\r\nCVE-2026-30001,0.94012,0.99921\n";

    #[test]
    fn reads_firsts_daily_file() {
        assert!(is_epss(FILE));
        let f = parse(FILE, None).unwrap();
        assert_eq!(f.model_version, "v2025.03.14");
        assert_eq!(f.date, "2026-12-01");
        assert_eq!(f.scores.len(), 2);
        let (cve, s) = &f.scores[1];
        assert_eq!(cve.as_str(), "CVE-2026-30001");
        assert_eq!(s.epss, 0.94012);
        assert_eq!(s.percentile.to_string(), "0.99921");
    }

    #[test]
    fn bad_lines_are_named() {
        let bad = FILE.replace("0.94012", "1.7");
        let e = parse(&bad, None).unwrap_err().to_string();
        assert!(e.starts_with("line 4: EPSS epss 1.7"), "{e}");
        let e = parse(&FILE.replace("CVE-1999-0001", "CVE-99"), None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 3:"), "{e}");
        let e = parse("cve,epss,percentile\nCVE-1999-0001,0.1,0.2\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no score date"), "{e}");
        let f = parse(
            "cve,epss,percentile\nCVE-1999-0001,0.1,0.2\n",
            Some("2026-11-30"),
        )
        .unwrap();
        assert_eq!(f.date, "2026-11-30");
        let e = parse("#model_version:v1,score_date:2026-12-01\ncve,score\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2: expected the header"), "{e}");
        assert!(parse(&FILE.replace("0.79169", "0.79169,9"), None).is_err());
    }
}
