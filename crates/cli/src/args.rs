//! The command line. Every flag is documented here, once; `--help` is
//! generated from these comments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// isx — threat-intelligence information sharing and exchange.
///
/// Run `isx demo` to start a server with a generated demo world, or
/// `isx serve` to run your own instance. Administrative commands (member,
/// key, user, group, migrate) work directly on the store, with or without a
/// running server.
///
/// Configuration comes from, in order of precedence: command-line flags,
/// ISX_* environment variables, the --config file (TOML), built-in defaults.
#[derive(Debug, Parser)]
#[command(name = "isx", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// TOML configuration file (see README, "Configuration").
    #[arg(long, global = true, env = "ISX_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database, TLS certificate and feed files
    /// [default: ./isx-data; ./isx-demo for `isx demo`].
    #[arg(long, global = true, env = "ISX_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use PostgreSQL instead of the embedded SQLite file, e.g.
    /// postgres://isx:secret@db.example/isx or postgres:///isx?host=/run/postgresql
    #[arg(
        long,
        global = true,
        env = "ISX_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, global = true, env = "ISX_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// MaxMind-format City or Country database (GeoLite2-City.mmdb,
    /// dbip-city-lite.mmdb, …) for the country and coordinates of IPs.
    #[arg(long, global = true, env = "ISX_GEOIP_LOCATION", value_name = "MMDB")]
    pub geoip_location: Option<PathBuf>,
    /// MaxMind-format ASN database (GeoLite2-ASN.mmdb, …) for the network
    /// and organisation of IPs.
    #[arg(long, global = true, env = "ISX_GEOIP_ASN", value_name = "MMDB")]
    pub geoip_asn: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (HTTPS by default, with a self-signed certificate
    /// generated into the data directory on first start).
    Serve(ServeArgs),
    /// Start a server with a freshly generated demo world and print how to
    /// sign in and call the API. Resets the demo data directory each time.
    Demo(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Member organisations and their constituencies.
    #[command(subcommand)]
    Member(MemberCommand),
    /// API keys (shown once at creation, stored hashed).
    #[command(subcommand)]
    Key(KeyCommand),
    /// People who sign in to the web application.
    #[command(subcommand)]
    User(UserCommand),
    /// Client certificates (mTLS): machines of a member authenticate with
    /// a certificate instead of an API key.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Single sign-on: OpenID Connect providers whose accounts sign in to
    /// the web application, and how their claims map to members.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// Trust groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Partnership content: import MISP events into a trust group.
    #[command(subcommand)]
    Partnership(PartnershipCommand),
    /// Release packages of advance vulnerability notices.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Advisories: import CSAF 2.0 documents and the CISA KEV catalogue.
    #[command(subcommand)]
    Advisories(AdvisoriesCommand),
    /// Malicious URLs: import crawler and partner findings, search, export,
    /// produce the signed feed files.
    #[command(subcommand)]
    Urls(UrlsCommand),
    /// Botnet feeds: import sinkhole and sensor events (CTIP, Shadowserver,
    /// isx NDJSON/CSV), list them, produce the hourly and daily batches,
    /// firewall lists and RPZ zone.
    #[command(subcommand)]
    Botnet(BotnetCommand),
    /// Clean file metadata: import known-good hash sets (NIST NSRL RDS v3,
    /// CSV, NDJSON, sha256sum lists), look hashes up, remove them, produce
    /// the delta/full/Bloom files.
    #[command(subcommand)]
    Cleanfiles(CleanfilesCommand),
    /// Hash every file under a directory (in parallel) and report which are
    /// known-good and which are unknown — for allow-listing and forensic
    /// triage.
    ///
    /// Answers come from this instance's data directory by default, from a
    /// remote isx with --server and --api-key, or offline from a DCSO Bloom
    /// filter (--bloom; "known" then means "in the filter": about one in a
    /// thousand unknown files reads as known).
    ///
    /// Example: isx scan --unknown-only --output csv /mnt/evidence > unknown.csv
    Scan(ScanArgs),
}

#[derive(Debug, Subcommand)]
pub enum CleanfilesCommand {
    /// Import known-good files: an NSRL RDS v3 SQLite database, CSV with a
    /// header (columns by name: sha256, sha1, md5, size, file_name, product,
    /// version, vendor, source, published), NDJSON (the same names, or
    /// CIRCL hashlookup records) or sha256sum output.
    ///
    /// Every record needs its SHA-256. Everything is checked before anything
    /// is written; a bad row is reported with its file and line (or RDS row)
    /// and nothing is imported. Records are then written in transactions of
    /// 50,000: an interrupted import is completed by running it again, and
    /// files already known keep their metadata, so importing again changes
    /// nothing.
    ///
    /// Example: isx cleanfiles import RDS_2025.03.1_modern_minimal.db
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// nsrl, csv, ndjson or hashes [default: from the content].
        #[arg(long)]
        format: Option<String>,
        /// Source name of records that name none [default: the file name].
        #[arg(long)]
        source: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Look hashes up (MD5, SHA-1 or SHA-256, mixed).
    ///
    /// Example: isx cleanfiles lookup 5d41402abc4b2a76b9719d911017c592
    Lookup {
        hashes: Vec<String>,
        /// Also read hashes from this file, one per line.
        #[arg(long)]
        file: Option<PathBuf>,
        /// table, json or csv.
        #[arg(long, default_value = "table")]
        output: String,
    },
    /// Remove files from the known-good set by SHA-256.
    Remove {
        hashes: Vec<String>,
        #[arg(long)]
        file: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Files by source, top vendors and products, and the hash set files.
    Stats(JsonFlag),
    /// Produce the due delta, full-set and Bloom files now (the server does
    /// this by itself every 3 hours).
    Feed(JsonFlag),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The directory to scan (every regular file below it; symbolic links
    /// are not followed).
    pub dir: PathBuf,
    /// Report only files that are not known-good.
    #[arg(long)]
    pub unknown_only: bool,
    /// table, json or csv.
    #[arg(long, default_value = "table")]
    pub output: String,
    /// Look up on this isx server (https://host:port) instead of locally.
    #[arg(long)]
    pub server: Option<String>,
    /// API key for --server.
    #[arg(long, env = "ISX_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// CA certificate (PEM) to trust for --server.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Check offline against a DCSO Bloom filter file (latest.bloom).
    #[arg(long, conflicts_with = "server")]
    pub bloom: Option<PathBuf>,
    /// Hashing threads [default: one per core].
    #[arg(long)]
    pub jobs: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum BotnetCommand {
    /// Import botnet events from NDJSON or CSV files.
    ///
    /// Rows are read by column name: isx's own fields, Microsoft CTIP JSON
    /// lines and Shadowserver sinkhole-event CSV work as downloaded. Each
    /// event is enriched from the geo databases (ASN, country, coordinates)
    /// where the source left them out and matched against every member's
    /// constituency (CIDRs, ASNs, country, domains): infected and IoT events
    /// go only to the members they concern. All files are one
    /// all-or-nothing import; a bad row is reported with its file and line.
    /// Events already stored are skipped, so importing again changes nothing.
    ///
    /// Example: isx botnet import --source shadowserver 2026-11-20-event4_sinkhole.csv
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// ndjson or csv [default: from the file name, then the content].
        #[arg(long)]
        format: Option<String>,
        /// Product of rows that name none: infected, iot, c2, domains.
        #[arg(long)]
        product: Option<String>,
        /// Source name [default: the file name].
        #[arg(long)]
        source: Option<String>,
        /// Marking of rows without one.
        #[arg(long, default_value = "amber")]
        tlp: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List stored events, oldest first (the operator's view: everything).
    ///
    /// Example: isx botnet list --products infected,iot --limit 20
    List {
        /// Comma-separated products (infected, iot, c2, domains).
        #[arg(long)]
        products: Option<String>,
        /// Events after this id.
        #[arg(long)]
        after: Option<i64>,
        #[arg(long)]
        ip: Option<String>,
        #[arg(long)]
        family: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Produce the due hourly and daily batch files, firewall lists and RPZ
    /// zone now (the server does this by itself).
    Feed(JsonFlag),
}

#[derive(Debug, Subcommand)]
pub enum UrlsCommand {
    /// Import malicious URLs from JSON, NDJSON or CSV files (columns found by
    /// header name; URLhaus CSV and JSON dumps work as they are).
    ///
    /// Each URL is canonicalised (one record per URL), mapped onto the threat
    /// taxonomy and enriched with ASN, country and coordinates from the geo
    /// databases, if configured (--geoip-location, --geoip-asn). All files
    /// are one all-or-nothing batch unless --skip-invalid; a bad row is
    /// reported with its file and line. Importing the same file again
    /// changes nothing.
    ///
    /// Example: isx urls import --source urlhaus csv.txt
    Import {
        /// Files to import.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// json, ndjson or csv [default: from the file name, then the content].
        #[arg(long)]
        format: Option<String>,
        /// Source name for rows without one [default: the file name].
        #[arg(long)]
        source: Option<String>,
        /// Marking for rows without one: clear, green, amber, amber+strict, red.
        #[arg(long, default_value = "green")]
        tlp: String,
        /// Confidence (0-100) for rows without one.
        #[arg(long, default_value_t = 50)]
        confidence: u8,
        /// Threat type for rows without one (phishing, malware-distribution,
        /// command-and-control, scam, exploit-kit, cryptojacking, spam, other).
        #[arg(long, default_value = "other")]
        threat: String,
        /// Import the valid rows and report the invalid ones, instead of
        /// refusing the whole batch.
        #[arg(long)]
        skip_invalid: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Search URL records, newest first.
    ///
    /// Example: isx urls list --threat phishing --country DE --since 2026-11-20T00:00:00Z
    List {
        #[command(flatten)]
        filter: UrlFilterArgs,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Write every URL record a filter selects (--limit does not apply) as
    /// JSON, NDJSON, CSV or a STIX 2.1 bundle (to a file, or standard output).
    Export {
        #[command(flatten)]
        filter: UrlFilterArgs,
        /// json, ndjson, csv or stix.
        #[arg(long, default_value = "json")]
        format: String,
        /// Output file [default: standard output].
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Produce the due feed files now (the server does this every 3 hours by
    /// itself; slots already produced are not produced again).
    Feed(JsonFlag),
}

#[derive(Debug, Args, Default)]
pub struct UrlFilterArgs {
    /// Part of the URL (case-insensitive).
    #[arg(long)]
    pub q: Option<String>,
    #[arg(long)]
    pub host: Option<String>,
    /// Registrable domain, e.g. example.co.uk.
    #[arg(long)]
    pub domain: Option<String>,
    #[arg(long)]
    pub ip: Option<String>,
    /// AS number, e.g. 64500 or AS64500.
    #[arg(long)]
    pub asn: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[arg(long)]
    pub country: Option<String>,
    #[arg(long)]
    pub threat: Option<String>,
    /// Last seen at or after (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Last seen before (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many records.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Create a release package (a draft unless --status scheduled).
    ///
    /// Example: isx release create --title "2026-12 security release" --release-at 2026-12-08T17:00:00Z
    Create {
        #[arg(long)]
        title: String,
        /// Public release time T (RFC 3339). Tier advance-5d sees the package
        /// from T-5 days without exploitability data, advance-24h from T-24 h with it.
        #[arg(long)]
        release_at: String,
        #[arg(long, default_value = "")]
        notes: String,
        /// TLP marking: clear, green, amber, amber+strict or red.
        #[arg(long, default_value = "green")]
        marking: String,
        /// draft (only the operator sees it) or scheduled.
        #[arg(long, default_value = "draft")]
        status: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List releases with their state now.
    List(JsonFlag),
    /// Schedule a release (optionally moving its release time).
    Schedule {
        id: i64,
        /// New public release time (RFC 3339).
        #[arg(long)]
        release_at: Option<String>,
    },
    /// Withdraw a release: from now on only the operator sees it.
    Withdraw { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum AdvisoriesCommand {
    /// Import CSAF 2.0 documents (validated against the CSAF 2.0 schema and
    /// mandatory tests) and CVE JSON 5 records into a release, and/or the
    /// CISA KEV catalogue (which marks CVEs as known exploited), and/or
    /// FIRST's daily EPSS files (`epss_scores-YYYY-MM-DD.csv.gz`, as
    /// downloaded). Directories are searched for *.json; name EPSS files
    /// directly. CISA's SSVC decision points are read from the ADP
    /// container of CVE JSON 5 records. The advisories of a batch are
    /// stored all-or-nothing; re-importing the same documents changes
    /// nothing, and a changed document becomes a new revision. EPSS scores
    /// are kept per CVE and day for the CVEs isx has advisories for.
    ///
    /// Example: isx advisories import --release ID advisories/ known_exploited_vulnerabilities.json
    /// (ID as `isx release create` or `isx release list` shows it)
    ///
    /// Example: isx advisories import epss_scores-2026-12-01.csv.gz
    Import {
        /// The release the advisories belong to (required for CSAF documents).
        #[arg(long)]
        release: Option<i64>,
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Skip invalid documents (each is reported) instead of rejecting the batch.
        #[arg(long)]
        skip_invalid: bool,
        /// Revision summary for changed advisories.
        #[arg(long, default_value = "Imported")]
        summary: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List advisories (of one release, or all).
    List {
        #[arg(long)]
        release: Option<i64>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8443].
    #[arg(long, env = "ISX_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// PEM certificate chain to serve instead of the generated one.
    #[arg(long, env = "ISX_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "ISX_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP without TLS. Only behind a TLS-terminating proxy;
    /// logs a warning at start.
    #[arg(long, env = "ISX_INSECURE_HTTP")]
    pub insecure_http: bool,
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Register a member organisation.
    ///
    /// Example: isx member add --name "Example ISP" --kind critical-infrastructure
    ///   --cidr 192.0.2.0/24 --cidr 2001:db8::/32 --asn 64496 --domain example.net
    Add(MemberAdd),
    /// List members.
    List(JsonFlag),
    /// Show one member (by id or exact name).
    Show {
        /// Member id or exact name.
        member: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show or set the keys a member's own files are encrypted to: age
    /// X25519 recipients (`age1…`, from `age-keygen`). Every file meant
    /// for that member alone (its botnet batches) is then delivered
    /// encrypted to all of them (`application/age`); decrypt with
    /// `age -d -i key.txt`, then check the manifest's SHA-256 and
    /// signature. Without recipients: shows them.
    ///
    /// Example: isx member recipients "Example CERT" age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
    Recipients {
        /// Member id or exact name.
        member: String,
        /// The recipients to set (replacing the ones before).
        recipients: Vec<String>,
        /// Remove every recipient: the member's files are plain again.
        #[arg(long, conflicts_with = "recipients")]
        clear: bool,
    },
    /// Require (or stop requiring) a second factor at web sign-in for a
    /// member's users. A user without one sets up an authenticator app
    /// at its next sign-in, before it gets a session; the sessions of
    /// such users end now. API keys are not affected.
    ///
    /// Example: isx member second-factor "Example CERT" --require
    SecondFactor {
        /// Member id or exact name.
        member: String,
        /// Require a second factor.
        #[arg(
            long,
            conflicts_with = "optional",
            required_unless_present = "optional"
        )]
        require: bool,
        /// Leave it to each user.
        #[arg(long)]
        optional: bool,
    },
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of a table (for scripts).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MemberAdd {
    /// Organisation name (unique).
    #[arg(long)]
    pub name: String,
    /// operator, government, national-cert, critical-infrastructure,
    /// enterprise, security-company or researcher.
    #[arg(long)]
    pub kind: String,
    /// Country of the organisation (ISO 3166-1 alpha-2).
    #[arg(long)]
    pub country: Option<String>,
    /// Advance-notice tier: standard, advance-5d or advance-24h.
    #[arg(long, default_value = "standard")]
    pub tier: String,
    /// Clearance: none, restricted, confidential or secret.
    #[arg(long, default_value = "none")]
    pub clearance: String,
    /// A network of the constituency (repeatable), e.g. 192.0.2.0/24.
    #[arg(long = "cidr", value_name = "CIDR")]
    pub cidrs: Vec<String>,
    /// An AS number of the constituency (repeatable), e.g. 64496 or AS64496.
    #[arg(long = "asn", value_name = "ASN")]
    pub asns: Vec<String>,
    /// A DNS name or suffix of the constituency (repeatable).
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// The country a national CERT covers (its IPs and ccTLD).
    #[arg(long)]
    pub constituency_country: Option<String>,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key for a member and print it (the only time it is shown).
    Create {
        /// Member id or exact name.
        #[arg(long)]
        member: String,
        /// What the key is for, e.g. siem-import.
        #[arg(long)]
        name: String,
        /// When the key stops working (RFC 3339), e.g. 2027-01-01T00:00:00Z.
        #[arg(long)]
        expires: Option<String>,
        /// The authority the key carries: admin or staff (operator only),
        /// member-admin (manages its member's keys) or member (the default).
        #[arg(long, default_value = "member")]
        role: isx_domain::UserRole,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List keys (metadata only; secrets are never stored).
    List {
        /// Only the keys of this member (id or name).
        #[arg(long)]
        member: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Revoke a key; it stops working at once.
    Revoke {
        /// The key id (16 hex characters, the part after isx_).
        key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a web user. The password is read from ISX_PASSWORD or standard
    /// input; without either, a random one is generated and printed.
    Add {
        /// Login name.
        #[arg(long)]
        login: String,
        /// Member id or exact name the user acts for.
        #[arg(long)]
        member: String,
        /// admin (operator only) or member.
        #[arg(long, default_value = "member")]
        role: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List web users.
    List(JsonFlag),
    /// Disable a user: it can no longer sign in, its sessions end at once
    /// and the API keys it made are revoked (with the keys they minted).
    ///
    /// Example: isx user disable alice
    Disable {
        /// Login name.
        login: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Enable a disabled user again (revoked keys stay revoked).
    Enable {
        /// Login name.
        login: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// End every web session of a user (sign it out everywhere).
    ///
    /// Example: isx user sign-out alice
    SignOut {
        /// Login name.
        login: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Remove a user's second factor and recovery codes (it lost its
    /// authenticator and its codes, or hit the limit of wrong codes),
    /// ending its sessions and sign-ins in progress. If its member
    /// requires a factor, it sets up a new one at its next sign-in — with
    /// its password alone: if the password may be known to someone else,
    /// disable the user instead (`isx user disable`).
    ///
    /// Example: isx user reset-second-factor alice
    ResetSecondFactor {
        /// Login name.
        login: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Issue a client certificate for a member, signed by the instance's
    /// client CA (made in the data directory on first use): writes
    /// DIR/cert.pem and DIR/key.pem (0600). The certificate authenticates
    /// as a `member` of that member on REST, TAXII, feed and hashlookup
    /// routes, until it expires or is revoked.
    ///
    /// Example: isx cert issue --member "Example ISP" --out ./isp-cert --days 365
    ///   curl --cacert isx-data/tls/ca.pem --cert ./isp-cert/cert.pem --key ./isp-cert/key.pem https://localhost:8443/api/v1/me
    Issue {
        /// Member id or exact name.
        #[arg(long)]
        member: String,
        /// Directory to write cert.pem and key.pem into (created).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Days of validity (1 to 3650).
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    /// List client certificates (fingerprint, member, until, status).
    List {
        /// Only this member's (id or exact name).
        #[arg(long)]
        member: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Trust a CA of your own (its certificate, PEM) for client
    /// certificates: each certificate it issues authenticates once it is
    /// registered for a member (`isx cert register`). Every node counts it
    /// within 30 seconds (browsers are offered its certificates after a
    /// restart: the listener names the CAs it read at start).
    ///
    /// Example: isx cert trust agency-ca.pem
    Trust {
        /// The CA certificate (PEM).
        file: std::path::PathBuf,
    },
    /// Stop trusting one of your CAs (by fingerprint, as `isx cert cas`
    /// shows): its certificates are refused on every node within 30
    /// seconds. isx's own CA stays.
    Untrust { fingerprint: String },
    /// List the trusted CAs (isx's own and yours).
    Cas {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Register a certificate your own CA issued (PEM) for a member: it
    /// then authenticates as a `member` of that member, like one isx
    /// issued, until it expires or is revoked.
    ///
    /// Example: isx cert register --member "Example ISP" isp-gateway.pem
    Register {
        /// Member id or exact name.
        #[arg(long)]
        member: String,
        /// The certificate (PEM; its key stays with its holder).
        file: std::path::PathBuf,
    },
    /// Revoke a client certificate: refused at once, on every node.
    ///
    /// Example: isx cert revoke 3f2a…
    Revoke {
        /// The certificate's SHA-256 fingerprint (as `isx cert list` shows).
        fingerprint: String,
    },
}

// Parsed once per run: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Add an OpenID Connect provider (or replace the one of that name).
    /// Register isx at the provider as a confidential web client with the
    /// redirect URI <public URL>/login/sso/NAME/callback (printed below),
    /// the authorization code flow and PKCE (S256). Each sign-in's ID
    /// token is checked against the provider's published keys; the values
    /// of --claim map the person to a member and role with --map. Without
    /// --create-users, only users an administrator created sign in (the
    /// login claim names them; the first sign-in links the provider
    /// account to the user).
    ///
    /// Example (Keycloak realm "agency", a "groups" mapper on the client):
    ///   ISX_SSO_CLIENT_SECRET=... isx sso add agency
    ///     --issuer https://keycloak.agency.example/realms/agency
    ///     --client-id isx --display "Agency account"
    ///     --claim groups --map /cert-team="CERT Agency" --map /cert-admins="CERT Agency":member-admin
    Add {
        /// Short name, part of the sign-in address (letters, digits, '-').
        name: String,
        /// The issuer identifier, exactly as the provider's ID tokens
        /// name it (discovery is read from ISSUER/.well-known/openid-configuration).
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        /// The client secret (kept out of the shell history: prefer
        /// --client-secret-file or ISX_SSO_CLIENT_SECRET).
        #[arg(long, env = "ISX_SSO_CLIENT_SECRET", hide_env_values = true)]
        client_secret: Option<String>,
        /// A file holding the client secret.
        #[arg(long, conflicts_with = "client_secret")]
        client_secret_file: Option<std::path::PathBuf>,
        /// What the sign-in page's button says.
        #[arg(long)]
        display: Option<String>,
        /// The claim whose values map to members: a name, or a dotted path
        /// into an object (Keycloak's `realm_access.roles`).
        #[arg(long, default_value = "groups")]
        claim: String,
        /// The claim naming the isx login (Entra ID: `preferred_username`
        /// or `email`).
        #[arg(long, default_value = "preferred_username")]
        login_claim: String,
        /// VALUE=MEMBER[:ROLE]: people whose claim holds VALUE sign in as
        /// MEMBER (id or exact name) with ROLE (member, member-admin; admin
        /// or staff for the operator). Repeatable.
        #[arg(long = "map", value_name = "VALUE=MEMBER[:ROLE]", required = true)]
        map: Vec<String>,
        /// Scopes to ask for besides openid (default: profile email).
        #[arg(long = "scope")]
        scope: Vec<String>,
        /// Create a user at its first sign-in (off by default).
        #[arg(long)]
        create_users: bool,
        /// Extra CA certificate(s), PEM, for the provider's HTTPS.
        #[arg(long)]
        ca_file: Option<std::path::PathBuf>,
    },
    /// List the providers (never their secrets).
    List {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Remove a provider: its sign-ins stop; users it linked keep their
    /// accounts (and any password or second factor they have).
    Remove { name: String },
    /// Unbind a user's provider identity: its next sign-in through a
    /// provider binds again (another provider, or a new account after a
    /// login was recycled). A user is bound to one identity at a time.
    ///
    /// Example: isx sso unlink alice
    Unlink {
        /// Login name.
        login: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PartnershipCommand {
    /// Import MISP events (as MISP exports them, a MISP feed serves them,
    /// or its REST search answers) into a trust group as a member's
    /// contributions: indicators from attributes meant for detection
    /// (to_ids), sightings from MISP sightings, an incident from an event
    /// that names ATT&CK techniques or is tagged as an incident. MISP UUIDs
    /// become the STIX ids, tags are kept, TLP tags give the markings
    /// (unmarked: TLP:AMBER; TLP:RED refuses the import). The same checks,
    /// personal-data review and group rules as a contribution by hand; all
    /// or nothing; importing the same file again adds nothing.
    ///
    /// Example: isx partnership import --group "Energy sector exchange"
    ///   --as "Northgrid Energy" --pii redact-all misp-event.json
    Import {
        /// Trust group id or name.
        #[arg(long)]
        group: String,
        /// The member contributing (id or name); it must be able to write
        /// to the group.
        #[arg(long = "as", value_name = "MEMBER")]
        member: String,
        /// `redact-all` replaces every personal-data finding by a
        /// placeholder; without it, findings are listed and nothing is
        /// imported.
        #[arg(long)]
        pii: Option<String>,
        /// Keep these personal-data findings (exact text), knowingly.
        #[arg(long = "keep", value_name = "TEXT")]
        keep: Vec<String>,
        /// Publish without the member's name.
        #[arg(long)]
        anonymous: bool,
        /// The MISP JSON file.
        file: std::path::PathBuf,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a trust group: formal (with --agreement) or ad hoc.
    Add {
        /// Group name (unique).
        #[arg(long)]
        name: String,
        /// Owning member (id or name); joins as owner.
        #[arg(long)]
        owner: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Agreement reference; makes the group formal.
        #[arg(long)]
        agreement: Option<String>,
        /// Clearance a member needs (formal groups).
        #[arg(long, default_value = "none", requires = "agreement")]
        min_clearance: String,
        /// End date of an ad hoc group (RFC 3339); it closes read-only then.
        #[arg(long, conflicts_with = "agreement")]
        ends_at: Option<String>,
        /// Hide the member list from the group's members.
        #[arg(long)]
        hide_members: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Add a member to a group, or change its role.
    Join {
        /// Group id or name.
        group: String,
        /// Member id or name.
        #[arg(long)]
        member: String,
        /// owner, contributor or reader.
        #[arg(long, default_value = "reader")]
        role: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Remove a member from a group (the last owner stays).
    ///
    /// Example: isx group remove "Energy sector exchange" --member "Member B"
    Remove {
        /// Group id or name.
        group: String,
        /// Member id or name.
        #[arg(long)]
        member: String,
    },
    /// List trust groups with their members.
    List(JsonFlag),
}
