//! Demo malicious URLs: a crawler's findings over the last six days and a
//! partner feed that overlaps it, hosted on documentation address space
//! (RFC 5737) under reserved top-level domains (`.test`, `.example`,
//! `.invalid`), placed in real cities so that the map has something to
//! show. Numbers are drawn from a fixed seed: every demo looks the same.

use isx_app::urls::{import, ImportOptions};
use isx_domain::Tlp;

use super::Ctx;

/// City, country, latitude, longitude, documentation ASN, fictitious network.
const PLACES: &[(&str, &str, f64, f64, u32, &str)] = &[
    (
        "Frankfurt",
        "DE",
        50.11,
        8.68,
        64496,
        "Example Hosting GmbH",
    ),
    (
        "Amsterdam",
        "NL",
        52.37,
        4.90,
        64497,
        "Demo Datacenter B.V.",
    ),
    ("London", "GB", 51.51, -0.13, 64498, "Sample Cloud Ltd"),
    ("Paris", "FR", 48.86, 2.35, 64499, "Hébergement Exemple SAS"),
    (
        "Ashburn",
        "US",
        39.04,
        -77.49,
        64500,
        "Placeholder Networks Inc",
    ),
    (
        "Dallas",
        "US",
        32.78,
        -96.80,
        64500,
        "Placeholder Networks Inc",
    ),
    ("San Jose", "US", 37.34, -121.89, 64501, "Fictional VPS LLC"),
    ("Toronto", "CA", 43.65, -79.38, 64502, "Maple Demo Hosting"),
    (
        "São Paulo",
        "BR",
        -23.55,
        -46.63,
        64503,
        "Nuvem Exemplo Ltda",
    ),
    ("Moscow", "RU", 55.76, 37.62, 64504, "Primer Telecom"),
    (
        "Singapore",
        "SG",
        1.35,
        103.82,
        64505,
        "Lion City Demo Cloud",
    ),
    (
        "Hong Kong",
        "HK",
        22.32,
        114.17,
        64506,
        "Harbour Sample Hosting",
    ),
    ("Tokyo", "JP", 35.68, 139.69, 64507, "Rei Demo KK"),
    ("Seoul", "KR", 37.57, 126.98, 64508, "Yeosi Networks"),
    ("Mumbai", "IN", 19.08, 72.88, 64509, "Udaharan Cloud Pvt"),
    (
        "Sydney",
        "AU",
        -33.87,
        151.21,
        64510,
        "Southern Example Pty",
    ),
    (
        "Johannesburg",
        "ZA",
        -26.20,
        28.05,
        64511,
        "Voorbeeld Hosting",
    ),
    ("Lagos", "NG", 6.52, 3.38, 65536, "Apeere Networks"),
    ("Istanbul", "TR", 41.01, 28.98, 65537, "Örnek Bulut"),
    ("Kyiv", "UA", 50.45, 30.52, 65538, "Zrazok Hosting"),
    ("Warsaw", "PL", 52.23, 21.01, 65539, "Przykład Sieci"),
    ("Stockholm", "SE", 59.33, 18.07, 65540, "Exempel Moln AB"),
    ("Bucharest", "RO", 44.43, 26.10, 65541, "Exemplu Date SRL"),
    (
        "Ho Chi Minh City",
        "VN",
        10.82,
        106.63,
        65542,
        "Vi Du Cloud",
    ),
];

/// Threat term (as sources write it), weight, path shapes.
const THREATS: &[(&str, u32, &[&str])] = &[
    (
        "phishing",
        38,
        &[
            "/login.php",
            "/signin/verify",
            "/account/update?session={n}",
            "/secure/webmail/index.html",
            "/o365/auth.aspx",
        ],
    ),
    (
        "malware_download",
        30,
        &[
            "/wp-content/uploads/2026/11/invoice_{n}.zip",
            "/bins/mips",
            "/dl/setup_{n}.exe",
            "/docs/scan_{n}.iso",
            "/i",
        ],
    ),
    ("c2", 8, &["/gate.php", "/panel/api/{n}", "/beacon"]),
    (
        "scam",
        9,
        &["/giveaway", "/support/call-now", "/shop/clearance-{n}"],
    ),
    ("exploit_kit", 3, &["/landing/{n}.html", "/ek/flash.swf"]),
    ("coinminer", 4, &["/js/m.js", "/cryptonight.wasm"]),
    ("spam", 6, &["/unsubscribe/{n}", "/offer/{n}"]),
    ("unknown", 2, &["/x/{n}"]),
];

const WORDS: &[&str] = &[
    "secure", "login", "account", "verify", "update", "bank", "mail", "cloud", "docs", "invoice",
    "billing", "support", "wallet", "delivery", "parcel", "office", "drive", "share", "auth",
    "portal",
];
const TLDS: &[&str] = &["test", "example", "invalid"];

/// A small deterministic generator (SplitMix64).
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0)]
    }
}

/// Generates the demo rows as NDJSON, the way a crawler would send them.
pub fn generate(now: isx_domain::Timestamp, count: usize, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut out = String::new();
    for i in 0..count {
        out.push_str(&row(i, now, &mut rng).to_string());
        out.push('\n');
    }
    out
}

/// The `i`th row; every fourth comes from the partner feed, every seventh
/// is tagged as a phishing kit.
fn row(i: usize, now: isx_domain::Timestamp, rng: &mut Rng) -> serde_json::Value {
    let (threat, _, paths) = pick_threat(rng);
    let place = rng.pick(PLACES);
    let net = rng.pick(&["192.0.2", "198.51.100", "203.0.113"]);
    let ip = format!("{net}.{}", 1 + rng.below(254));
    let host = host(&ip, rng);
    let path = rng
        .pick(paths)
        .replace("{n}", &format!("{}", 1000 + rng.below(9000)));
    let scheme = if rng.below(3) == 0 { "http" } else { "https" };
    let port = if rng.below(10) == 0 {
        format!(":{}", 8000 + rng.below(2000))
    } else {
        String::new()
    };
    let age = i64::try_from(rng.below(6 * 86_400)).unwrap_or(0);
    let first = now.add_secs(-age);
    let last = first
        .add_secs(i64::try_from(rng.below(2 * 86_400)).unwrap_or(0))
        .min(now);
    let tlp = marking(rng);
    let confidence = 50 + rng.below(50);
    serde_json::json!({
        "url": format!("{scheme}://{host}{port}{path}"),
        "threat": threat,
        "tags": if i.is_multiple_of(7) { vec!["kit"] } else { vec![] },
        "source": if i.is_multiple_of(4) { "partner-feed" } else { "demo-crawler" },
        "confidence": confidence,
        "first_seen": first.to_rfc3339(),
        "last_seen": last.to_rfc3339(),
        "ip": ip,
        "asn": place.4,
        "as_org": place.5,
        "country": place.1,
        "city": place.0,
        "latitude": place.2,
        "longitude": place.3,
        "tlp": tlp.as_str(),
    })
}

/// A threat drawn by the weights in `THREATS`.
fn pick_threat(rng: &mut Rng) -> &'static (&'static str, u32, &'static [&'static str]) {
    let total_weight: u32 = THREATS.iter().map(|t| t.1).sum();
    let mut w = u32::try_from(rng.below(u64::from(total_weight))).unwrap_or(0);
    THREATS
        .iter()
        .find(|(_, weight, _)| {
            if w < *weight {
                true
            } else {
                w -= weight;
                false
            }
        })
        .unwrap_or(&THREATS[0])
}

/// A bare IP one time in five, otherwise a made-up name under a reserved TLD.
fn host(ip: &str, rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => ip.to_owned(),
        1 => format!(
            "{}-{}-{}.{}",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.below(90) + 10,
            rng.pick(TLDS)
        ),
        _ => format!(
            "{}.{}-{}.{}",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(TLDS)
        ),
    }
}

/// Mostly GREEN, some CLEAR, a few AMBER, rarely RED.
fn marking(rng: &mut Rng) -> Tlp {
    match rng.below(100) {
        0 => Tlp::Red,
        1..=5 => Tlp::Amber,
        6..=20 => Tlp::Clear,
        _ => Tlp::Green,
    }
}

pub async fn seed(ctx: &Ctx) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    let geo = isx_geo::GeoDb::none();
    // The crawler's batch arrived three hours ago (so the latest feed slot's
    // increment holds it); the partner feed an hour ago repeats part of the
    // crawler's findings (same seed) with its own times: those URLs show
    // more than one sighting.
    for (name, count, at) in [
        ("crawler.ndjson", 1_500, -3 * 3_600),
        ("partner.ndjson", 300, -3_600),
    ] {
        let at = now.add_secs(at);
        let rows = generate(at, count, 7);
        let opts = ImportOptions {
            name: Some(name.to_owned()),
            source: "demo".to_owned(),
            ..ImportOptions::default()
        };
        import(ctx.store.as_ref(), &geo, rows.as_bytes(), &opts, "demo", at).await?;
    }
    Ok(())
}
