//! Advance vulnerability notices as callers see them: every read of a
//! release or advisory (REST, web, search, tables, CSAF export) goes through
//! these functions, which ask the policy function and apply its mask.

use isx_advisories::{Advisory, ExploitIndex, Release, Severity};
use isx_policy::{decide, Decision, FieldMask, Principal};

use crate::records;
use crate::App;
use crate::AppError;

/// Releases the caller may see now, with the mask for their content.
pub async fn visible_releases(
    app: &App,
    reader: &Principal,
) -> Result<Vec<(Release, FieldMask)>, AppError> {
    let releases = app.store.releases().await?;
    Ok(releases
        .into_iter()
        .filter_map(
            |r| match decide(reader, &records::release(&r), app.clock.now()) {
                Decision::Allow(mask) => Some((r, mask)),
                Decision::Deny(_) => None,
            },
        )
        .collect())
}

/// One release, or 404 when it does not exist or is not visible.
pub async fn visible_release(
    app: &App,
    reader: &Principal,
    id: i64,
) -> Result<(Release, FieldMask), AppError> {
    let r = app
        .store
        .release(id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("release {id}")))?;
    match decide(reader, &records::release(&r), app.clock.now()) {
        Decision::Allow(mask) => Ok((r, mask)),
        Decision::Deny(_) => Err(AppError::not_found(format!("release {id}"))),
    }
}

/// A visible release with its advisories, masked for the caller, or 404.
pub async fn release_contents(
    app: &App,
    reader: &Principal,
    id: i64,
) -> Result<(Release, FieldMask, Vec<Advisory>), AppError> {
    let (r, mask) = visible_release(app, reader, id).await?;
    let advisories = app
        .store
        .advisories(Some(id))
        .await?
        .into_iter()
        .map(|(_, a)| a.masked(mask))
        .collect();
    Ok((r, mask, advisories))
}

/// Search filters; all optional, combined with AND, applied to what the
/// caller may see (a withheld field never matches).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryFilter {
    /// Only this release.
    pub release: Option<i64>,
    /// Vendor or product name contains this text (case-insensitive).
    pub product: Option<String>,
    /// Minimum severity: low, medium, high, critical.
    pub severity: Option<String>,
    /// Exploitability index of the latest release at most this (0 detected … 3 unlikely).
    pub exploitability: Option<u8>,
    /// Only advisories in (true) or not in (false) CISA's KEV catalogue.
    pub known_exploited: Option<bool>,
    /// CVE id, title or description contains this text.
    pub q: Option<String>,
    /// Latest EPSS score at least this (0–1).
    pub epss_min: Option<f64>,
    /// CISA SSVC Exploitation at least this: none, poc, active.
    pub ssvc_exploitation: Option<String>,
    /// Order: `cve` (default), `epss` (highest first), `score` (CVSS,
    /// highest first), `ssvc` (active first).
    pub sort: Option<String>,
}

/// How search results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Cve,
    Epss,
    Score,
    Ssvc,
}

impl AdvisoryFilter {
    fn parse_sort(&self) -> Result<Sort, AppError> {
        match crate::urls::given(&self.sort).unwrap_or("cve") {
            "cve" => Ok(Sort::Cve),
            "epss" => Ok(Sort::Epss),
            "score" => Ok(Sort::Score),
            "ssvc" => Ok(Sort::Ssvc),
            other => Err(AppError::invalid(format!(
                "sort {other:?}: expected cve, epss, score or ssvc"
            ))),
        }
    }

    fn parse_ssvc(&self) -> Result<Option<isx_advisories::SsvcExploitation>, AppError> {
        crate::urls::given(&self.ssvc_exploitation)
            .map(|s| s.parse().map_err(AppError::invalid))
            .transpose()
    }

    fn check_epss(&self) -> Result<(), AppError> {
        match self.epss_min {
            Some(v) if !(0.0..=1.0).contains(&v) => Err(AppError::invalid(format!(
                "epss_min {v}: must be between 0 and 1"
            ))),
            _ => Ok(()),
        }
    }

    pub fn parse_severity(&self) -> Result<Option<Severity>, AppError> {
        crate::urls::given(&self.severity)
            .map(|s| s.parse::<Severity>().map_err(AppError::invalid))
            .transpose()
    }

    fn matches(
        &self,
        a: &Advisory,
        min_severity: Option<Severity>,
        min_ssvc: Option<isx_advisories::SsvcExploitation>,
    ) -> bool {
        // EPSS and SSVC are exploitability data: withheld, they never match.
        if let Some(min) = self.epss_min {
            if a.epss.as_ref().is_none_or(|e| e.epss < min) {
                return false;
            }
        }
        if let Some(min) = min_ssvc {
            if a.ssvc.as_ref().is_none_or(|s| s.exploitation < min) {
                return false;
            }
        }
        let contains =
            |hay: &str, needle: &str| hay.to_lowercase().contains(&needle.to_lowercase());
        if let Some(p) = &self.product {
            if !a
                .affected
                .iter()
                .any(|x| contains(&x.vendor, p) || contains(&x.product, p))
            {
                return false;
            }
        }
        if let Some(min) = min_severity {
            if a.severity().is_none_or(|s| s < min) {
                return false;
            }
        }
        if let Some(max) = self.exploitability {
            let idx = a
                .exploitability
                .map(|e| e.latest)
                .unwrap_or(ExploitIndex::NotAssessed);
            if idx.number().is_none_or(|n| n > max) {
                return false;
            }
        }
        if let Some(k) = self.known_exploited {
            if a.known_exploited.is_some() != k {
                return false;
            }
        }
        if let Some(q) = &self.q {
            if !(contains(a.id.as_str(), q) || contains(&a.title, q) || contains(&a.description, q))
            {
                return false;
            }
        }
        true
    }
}

/// Advisories the caller may see, masked, filtered, with their release.
pub async fn search(
    app: &App,
    reader: &Principal,
    f: &AdvisoryFilter,
) -> Result<Vec<(Release, Advisory)>, AppError> {
    let min = f.parse_severity()?;
    let min_ssvc = f.parse_ssvc()?;
    let sort = f.parse_sort()?;
    f.check_epss()?;
    // Only the visible releases' advisories are read, so that what a
    // search (or a provider listing) costs follows what the caller may
    // see, never what is hidden from it: a timed listing must not tell
    // when an embargoed batch arrived or how large it is.
    let mut found: Vec<(Release, Advisory)> = Vec::new();
    for (r, mask) in visible_releases(app, reader).await? {
        if f.release.is_some_and(|id| id != r.id) {
            continue;
        }
        for (_, a) in app.store.advisories(Some(r.id)).await? {
            let a = a.masked(mask);
            if f.matches(&a, min, min_ssvc) {
                found.push((r.clone(), a));
            }
        }
    }
    // Id order; the others are stable sorts on the masked view, so
    // withheld data sorts as absent (last).
    found.sort_by(|(_, x), (_, y)| x.id.cmp(&y.id));
    let desc = |x: Option<f64>, y: Option<f64>| {
        y.unwrap_or(-1.0)
            .partial_cmp(&x.unwrap_or(-1.0))
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    match sort {
        Sort::Cve => {}
        Sort::Epss => found.sort_by(|(_, x), (_, y)| {
            desc(
                x.epss.as_ref().map(|e| e.epss),
                y.epss.as_ref().map(|e| e.epss),
            )
        }),
        Sort::Score => found.sort_by(|(_, x), (_, y)| desc(x.score(), y.score())),
        Sort::Ssvc => found.sort_by_key(|(_, a)| {
            std::cmp::Reverse(
                a.ssvc
                    .as_ref()
                    .map(|s| (s.exploitation, s.automatable, s.technical_impact)),
            )
        }),
    }
    Ok(found)
}

/// One advisory by its id (a CVE id or another), masked (with the mask),
/// or 404.
pub async fn advisory(
    app: &App,
    reader: &Principal,
    id: &str,
) -> Result<(Release, Advisory, FieldMask), AppError> {
    // The id as asked is not repeated: it is the caller's text.
    let missing = || AppError::not_found("advisory");
    let id: isx_advisories::AdvisoryId = id.parse().map_err(|_| missing())?;
    // Visibility is judged before the advisory is read, and a missing CVE
    // makes the same reads as a hidden one (its release is looked up), so
    // that "no such CVE" and "not for you" take about as long.
    let Some(rid) = app.store.advisory_release(&id).await? else {
        let _ = visible_release(app, reader, 0).await;
        return Err(missing());
    };
    let (r, mask) = visible_release(app, reader, rid)
        .await
        .map_err(|_| missing())?;
    let (_, a) = app.store.advisory(&id).await?.ok_or_else(missing)?;
    Ok((r, a.masked(mask), mask))
}

/// The CSAF `tracking.id` of an advisory isx publishes.
pub fn tracking_id(a: &Advisory) -> String {
    format!("ISX-{}", a.id)
}

/// The CSAF 2.0 document of an advisory as the caller may see it: labelled
/// TLP:AMBER at least while it is an advance notice
/// ([`Release::label_at`]), published under the instance's name and URL.
pub fn csaf(app: &App, r: &Release, a: &Advisory) -> serde_json::Value {
    let now = app.clock.now();
    let ctx = isx_formats::csaf::ExportContext {
        publisher_name: app.settings.instance_name.clone(),
        publisher_namespace: app.public_url().to_owned(),
        tracking_id: tracking_id(a),
        title: a.title.clone(),
        tlp: r.label_at(now),
        is_final: now >= r.release_at,
        initial_release: r.release_at,
        current_release: current_release(r, a),
    };
    let mut doc = isx_formats::csaf::to_csaf(a, &ctx);
    // Where the trusted provider publishes this view (its folder follows
    // the label, so an advance notice's URL is in `amber` until release).
    use isx_formats::csaf::provider;
    let url = format!(
        "{}/{}/{}",
        provider::folder_url(app.public_url(), provider::Folder::of(ctx.tlp)),
        provider::year_of(ctx.initial_release),
        provider::file_name(&ctx.tracking_id)
    );
    isx_formats::csaf::add_canonical_url(&mut doc, &url);
    doc
}

/// When an advisory's document last changed: its latest revision, never
/// before the release time.
pub fn current_release(r: &Release, a: &Advisory) -> isx_domain::Timestamp {
    a.revisions
        .last()
        .map_or(r.release_at, |x| x.date.max(r.release_at))
}

/// The most an EPSS file may hold once decompressed (FIRST's daily file is
/// about 12 MB): a gzip bomb stops here.
pub const MAX_EPSS_BYTES: u64 = 256 * 1024 * 1024;

/// Reads one of FIRST's daily EPSS files, gzipped (as published) or not.
/// `file_name` (`epss_scores-2026-12-01.csv.gz`) gives the date when the
/// file has no comment line.
pub fn read_epss(
    bytes: &[u8],
    file_name: Option<&str>,
) -> Result<isx_formats::epss::EpssFile, AppError> {
    use std::io::Read;
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_EPSS_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| AppError::invalid(format!("not a gzip file: {e}")))?;
        if out.len() as u64 > MAX_EPSS_BYTES {
            return Err(AppError::PayloadTooLarge(format!(
                "an EPSS file larger than {MAX_EPSS_BYTES} bytes decompressed"
            )));
        }
        String::from_utf8(out).map_err(|_| AppError::invalid("the EPSS file is not UTF-8"))?
    } else {
        std::str::from_utf8(bytes)
            .map_err(|_| AppError::invalid("the EPSS file is not UTF-8"))?
            .to_owned()
    };
    if !isx_formats::epss::is_epss(&text) {
        return Err(AppError::invalid(
            "not an EPSS file: expected #model_version:…,score_date:… then cve,epss,percentile",
        ));
    }
    let date = file_name.and_then(|n| {
        let i = n.find("epss_scores-")? + "epss_scores-".len();
        n.get(i..i + 10)
    });
    isx_formats::epss::parse(&text, date).map_err(|e| AppError::Validation {
        detail: e.to_string(),
        pointer: None,
    })
}

/// What an EPSS import did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct EpssOutcome {
    /// Scores in the file.
    pub scores: usize,
    /// Rows new or changed (scores of CVEs isx has advisories for).
    pub stored: usize,
    /// Scores of CVEs without an advisory here, not kept.
    pub other_cves: usize,
}

/// Stores one day's EPSS scores (in one transaction; importing the same
/// file again changes nothing).
pub async fn import_epss(
    store: &dyn isx_store::Store,
    file: &isx_formats::epss::EpssFile,
) -> Result<EpssOutcome, AppError> {
    let (stored, other_cves) = store.put_epss(&file.scores).await?;
    Ok(EpssOutcome {
        scores: file.scores.len(),
        stored,
        other_cves,
    })
}

/// The EPSS history of an advisory the reader may see, oldest first;
/// `None` while exploitability data is withheld from the reader (404 as
/// [`advisory`] for one it may not see).
pub async fn epss_history(
    app: &App,
    reader: &Principal,
    cve: &str,
) -> Result<Option<Vec<isx_advisories::EpssScore>>, AppError> {
    let (_, a, mask) = advisory(app, reader, cve).await?;
    if mask.hides(FieldMask::EXPLOITABILITY) {
        return Ok(None);
    }
    // EPSS scores CVEs only.
    match a.id.cve() {
        Some(cve) => Ok(Some(app.store.epss_history(&cve).await?)),
        None => Ok(Some(Vec::new())),
    }
}
