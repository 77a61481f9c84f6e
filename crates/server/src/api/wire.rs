//! Wire shapes of the application's own values: the query filters and
//! reports the API documents in OpenAPI. The application layer knows no
//! OpenAPI; these are its values as the API sends and takes them, converted
//! field by field (a field added to one side and not the other does not
//! compile).

use isx_app::advisories::AdvisoryFilter;
use isx_app::botnet::{BotnetSummary, EventFilter, Indicator, Located, TopIp};
use isx_app::urls::{ImportReport, UrlFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Search filters of URL records (list, statistics).
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UrlFilterParams {
    /// Part of the URL (case-insensitive).
    pub q: Option<String>,
    pub host: Option<String>,
    /// Registrable domain, e.g. `example.co.uk`.
    pub domain: Option<String>,
    /// An IPv4 or IPv6 address.
    #[param(schema_with = crate::api::schema::ip_filter)]
    pub ip: Option<String>,
    /// `AS64500` or `64500`.
    #[param(
        pattern = r"^((AS|as)?0*([1-9][0-9]{0,8}|[1-3][0-9]{9}|4[01][0-9]{8}|42[0-8][0-9]{7}|429[0-3][0-9]{6}|4294[0-8][0-9]{5}|42949[0-5][0-9]{4}|429496[0-6][0-9]{3}|4294967[01][0-9]{2}|42949672[0-8][0-9]|429496729[0-4]))?$"
    )]
    pub asn: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[param(pattern = "^([A-Za-z]{2})?$")]
    pub country: Option<String>,
    /// phishing, malware-distribution, command-and-control, scam,
    /// exploit-kit, cryptojacking, spam, other.
    #[param(
        pattern = "^(|phishing|malware-distribution|command-and-control|scam|exploit-kit|cryptojacking|spam|other)$"
    )]
    pub threat: Option<String>,
    /// Last seen at or after (RFC 3339).
    #[param(schema_with = crate::api::schema::instant_filter)]
    pub since: Option<String>,
    /// Last seen before (RFC 3339).
    #[param(schema_with = crate::api::schema::instant_filter)]
    pub until: Option<String>,
    /// At most this many records (default 100, at most 10,000).
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Sorted by `last_seen` (default), `first_seen`, `url`, `host`,
    /// `threat`, `country`, `asn` or `times_seen` (ties by record id).
    #[param(pattern = r"^(|last_seen|first_seen|url|host|threat|country|asn|times_seen)$")]
    pub sort: Option<String>,
    /// `desc` (default for times and counts) or `asc` (default for the
    /// others).
    #[param(pattern = r"^(|asc|desc)$")]
    pub dir: Option<String>,
    /// `json` (default), `ndjson`, `csv` or `stix`.
    #[param(pattern = r"^(json|ndjson|csv|stix)$")]
    pub format: Option<String>,
}

impl From<UrlFilterParams> for UrlFilter {
    fn from(p: UrlFilterParams) -> Self {
        let UrlFilterParams {
            q,
            host,
            domain,
            ip,
            asn,
            country,
            threat,
            since,
            until,
            limit,
            offset,
            sort,
            dir,
            format,
        } = p;
        UrlFilter {
            q,
            host,
            domain,
            ip,
            asn,
            country,
            threat,
            since,
            until,
            limit,
            offset,
            sort,
            dir,
            format,
        }
    }
}

/// Filters of the botnet event list and the stream.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilterParams {
    /// Comma-separated products (`infected,iot,c2,domains`); default all.
    #[param(
        pattern = "^(|(botnet-)?(infected|iot|c2|domains)(,(botnet-)?(infected|iot|c2|domains))*)$"
    )]
    pub products: Option<String>,
    /// Events after this id.
    pub after: Option<i64>,
    /// Events last seen at or after (RFC 3339).
    #[param(schema_with = crate::api::schema::instant_filter)]
    pub since: Option<String>,
    /// The event's (victim's or server's) IPv4 or IPv6 address.
    #[param(schema_with = crate::api::schema::ip_filter)]
    pub ip: Option<String>,
    pub family: Option<String>,
    /// At most (default 1,000, at most 10,000).
    pub limit: Option<u32>,
}

impl From<EventFilterParams> for EventFilter {
    fn from(p: EventFilterParams) -> Self {
        let EventFilterParams {
            products,
            after,
            since,
            ip,
            family,
            limit,
        } = p;
        EventFilter {
            products,
            after,
            since,
            ip,
            family,
            limit,
        }
    }
}

/// Advisory search filters; all optional, combined with AND, applied to
/// what the caller may see (a withheld field never matches).
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdvisoryFilterParams {
    /// Only this release.
    pub release: Option<i64>,
    /// Vendor or product name contains this text (case-insensitive).
    pub product: Option<String>,
    /// Minimum severity: low, medium, high, critical.
    #[param(pattern = "^(|none|low|medium|high|critical)$")]
    pub severity: Option<String>,
    /// Exploitability index of the latest release at most this (0 detected … 3 unlikely).
    pub exploitability: Option<u8>,
    /// Only advisories in (true) or not in (false) CISA's KEV catalogue.
    pub known_exploited: Option<bool>,
    /// CVE id, title or description contains this text.
    pub q: Option<String>,
    /// Latest EPSS score (FIRST) at least this, 0–1.
    #[param(minimum = 0, maximum = 1)]
    pub epss_min: Option<f64>,
    /// CISA SSVC Exploitation at least this: none, poc, active.
    #[param(pattern = "^(|none|poc|active)$")]
    pub ssvc_exploitation: Option<String>,
    /// Order: cve (default), epss (highest first), score (CVSS, highest
    /// first), ssvc (active and automatable first). Withheld data sorts last.
    #[param(pattern = "^(|cve|epss|score|ssvc)$")]
    pub sort: Option<String>,
}

impl From<AdvisoryFilterParams> for AdvisoryFilter {
    fn from(p: AdvisoryFilterParams) -> Self {
        let AdvisoryFilterParams {
            release,
            product,
            severity,
            exploitability,
            known_exploited,
            q,
            epss_min,
            ssvc_exploitation,
            sort,
        } = p;
        AdvisoryFilter {
            release,
            product,
            severity,
            exploitability,
            known_exploited,
            q,
            epss_min,
            ssvc_exploitation,
            sort,
        }
    }
}

/// What a URL import did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReportDto {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows left out (with `skip_invalid`), as `line N: reason`.
    pub skipped: Vec<String>,
    pub skipped_total: usize,
    /// The batch number of the changes, if anything changed.
    pub batch: Option<i64>,
    /// Whether geo databases were configured for enrichment.
    pub geo_enrichment: bool,
}

impl From<ImportReport> for ImportReportDto {
    fn from(r: ImportReport) -> Self {
        let ImportReport {
            rows,
            created,
            updated,
            unchanged,
            skipped,
            skipped_total,
            batch,
            geo_enrichment,
        } = r;
        ImportReportDto {
            rows,
            created,
            updated,
            unchanged,
            skipped,
            skipped_total,
            batch,
            geo_enrichment,
        }
    }
}

/// The constituency view: computed from the events the caller may see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BotnetSummaryDto {
    /// The period: events last seen at or after this instant.
    pub since: String,
    pub infected_events: u64,
    pub iot_events: u64,
    /// Distinct infected or IoT addresses.
    pub victim_ips: u64,
    /// (day `YYYY-MM-DD`, family, events) for infected and IoT, days ascending.
    pub per_day: Vec<(String, String, u64)>,
    /// Victim addresses with the most events: ip, product, family, events, last seen.
    pub top_ips: Vec<TopIpDto>,
    /// Located victim addresses, for a map.
    pub points: Vec<LocatedDto>,
    pub c2: Vec<IndicatorDto>,
    pub domains: Vec<IndicatorDto>,
}

/// A victim address with coordinates.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocatedDto {
    pub ip: String,
    pub latitude: f64,
    pub longitude: f64,
    pub country: Option<String>,
    pub events: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopIpDto {
    pub ip: String,
    pub product: String,
    pub family: String,
    pub events: u64,
    pub last_seen: String,
}

/// A C2 server or malicious domain as of its latest event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorDto {
    pub ip: Option<String>,
    pub port: Option<u16>,
    pub domain: Option<String>,
    pub family: String,
    pub status: Option<String>,
    pub purpose: Option<String>,
    pub last_seen: String,
    pub marking: String,
}

impl From<BotnetSummary> for BotnetSummaryDto {
    fn from(s: BotnetSummary) -> Self {
        let BotnetSummary {
            since,
            infected_events,
            iot_events,
            victim_ips,
            per_day,
            top_ips,
            points,
            c2,
            domains,
        } = s;
        BotnetSummaryDto {
            since,
            infected_events,
            iot_events,
            victim_ips,
            per_day,
            top_ips: top_ips.into_iter().map(TopIpDto::from).collect(),
            points: points.into_iter().map(LocatedDto::from).collect(),
            c2: c2.into_iter().map(IndicatorDto::from).collect(),
            domains: domains.into_iter().map(IndicatorDto::from).collect(),
        }
    }
}

impl From<Located> for LocatedDto {
    fn from(l: Located) -> Self {
        let Located {
            ip,
            latitude,
            longitude,
            country,
            events,
        } = l;
        LocatedDto {
            ip,
            latitude,
            longitude,
            country,
            events,
        }
    }
}

impl From<TopIp> for TopIpDto {
    fn from(t: TopIp) -> Self {
        let TopIp {
            ip,
            product,
            family,
            events,
            last_seen,
        } = t;
        TopIpDto {
            ip,
            product,
            family,
            events,
            last_seen,
        }
    }
}

impl From<Indicator> for IndicatorDto {
    fn from(i: Indicator) -> Self {
        let Indicator {
            ip,
            port,
            domain,
            family,
            status,
            purpose,
            last_seen,
            marking,
        } = i;
        IndicatorDto {
            ip,
            port,
            domain,
            family,
            status,
            purpose,
            last_seen,
            marking,
        }
    }
}
