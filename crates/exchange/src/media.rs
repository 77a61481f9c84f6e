//! TAXII 2.1 media types and a tolerant reading of `Accept`.

/// The media type of every TAXII 2.1 response, errors included.
pub const TAXII: &str = "application/taxii+json;version=2.1";
/// The media type of STIX 2.1 content (in collection and manifest entries).
pub const STIX: &str = "application/stix+json;version=2.1";

/// Whether an `Accept` header admits a TAXII 2.1 response. Spaces, lists
/// and parameters in any order are fine; `application/taxii+json` without
/// a version means the latest, which is 2.1; `*/*` and `application/*`
/// accept anything; a missing header accepts too. A listed type with
/// `q=0` is refused.
pub fn accepts_taxii(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return true;
    };
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let kind = parts.next().unwrap_or_default().to_ascii_lowercase();
        let mut version = None;
        let mut q_zero = false;
        for p in parts {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            match k.trim().to_ascii_lowercase().as_str() {
                "version" => version = Some(v.trim().trim_matches('"').to_owned()),
                "q" => q_zero = v.trim().parse::<f32>().is_ok_and(|q| q <= 0.0),
                _ => {}
            }
        }
        if q_zero {
            return false;
        }
        match kind.as_str() {
            "*/*" | "application/*" => true,
            "application/taxii+json" => version.as_deref().is_none_or(|v| v == "2.1"),
            _ => false,
        }
    })
}

/// Whether a request body's `Content-Type` is a TAXII 2.1 envelope.
pub fn is_taxii_content(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let mut parts = ct.split(';').map(str::trim);
    if !parts
        .next()
        .is_some_and(|k| k.eq_ignore_ascii_case("application/taxii+json"))
    {
        return false;
    }
    parts.all(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        !k.trim().eq_ignore_ascii_case("version") || v.trim().trim_matches('"') == "2.1"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_is_read_tolerantly() {
        for ok in [
            None,
            Some(""),
            Some("application/taxii+json;version=2.1"),
            Some("application/taxii+json; version=2.1"),
            Some("application/taxii+json"),
            Some("text/html, application/taxii+json;version=2.1;q=0.9"),
            Some("*/*"),
            Some("application/*"),
        ] {
            assert!(accepts_taxii(ok), "{ok:?}");
        }
        for no in [
            Some("application/taxii+json;version=2.0"),
            Some("application/stix+json;version=2.1"),
            Some("text/html"),
            Some("application/taxii+json;version=2.1;q=0"),
        ] {
            assert!(!accepts_taxii(no), "{no:?}");
        }
    }

    #[test]
    fn content_type_of_envelopes() {
        assert!(is_taxii_content(Some("application/taxii+json;version=2.1")));
        assert!(is_taxii_content(Some(
            "application/taxii+json; version=2.1"
        )));
        assert!(is_taxii_content(Some("application/taxii+json")));
        assert!(!is_taxii_content(Some("application/json")));
        assert!(!is_taxii_content(Some(
            "application/taxii+json;version=2.0"
        )));
        assert!(!is_taxii_content(None));
    }
}
