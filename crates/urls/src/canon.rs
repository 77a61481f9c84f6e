//! The canonical form of a URL, so that the same URL is one record.
//!
//! Starting from the WHATWG parse (`url` crate: scheme and host lower case,
//! IDNA to punycode, default ports dropped, dot segments resolved, invalid
//! characters percent-encoded, IPv4 in any notation written dotted), isx
//! also:
//! * re-fangs defanged input (`hxxp://`, `[.]`, `(.)`, `[:]`), common in
//!   threat-intelligence exchanges;
//! * assumes `http://` when the scheme is missing (`evil.example/x`);
//! * drops the fragment (never sent to a server) and an empty query (`?`);
//! * strips the trailing dot of a fully-qualified host name;
//! * writes percent-escapes in upper case and decodes those of unreserved
//!   characters (`%7E` → `~`, `%41` → `A`), the equivalences RFC 3986 §6.2.2
//!   allows. Reserved characters stay escaped: `%2F` is not `/`.
//!
//! The order of query parameters is kept: for malicious URLs it can
//! matter to the server that answers them.

use std::net::IpAddr;

use url::{Host, Url};

use crate::UrlError;

/// Longest URL accepted (bytes, before canonicalisation).
pub const MAX_URL_LEN: usize = 8192;

/// A URL in canonical form and the parts isx indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalUrl {
    pub url: String,
    /// The host in ASCII (punycode) form, or the IP address as written in
    /// the URL (IPv6 without brackets).
    pub host: String,
    /// The registrable domain (public suffix + one label) of a host name;
    /// `None` for IP hosts and for hosts that are a public suffix.
    pub domain: Option<String>,
    /// The address when the host is an IP literal.
    pub ip: Option<IpAddr>,
}

const SCHEMES: &[&str] = &["http", "https", "ftp"];

/// How many passes a URL may take to settle before it is refused.
const MAX_PASSES: usize = 4;

/// Canonicalises `raw`; see the module documentation for the rules.
///
/// The result is a fixed point: canonicalising it again gives it back.
/// One pass is not always enough, because decoding can make what re-fanging
/// undoes (`[%2E]` decodes to `[.]`, a host `a(%2E)b` to `a(.)b`), so a URL
/// holding a bracket is passed again until it settles; one that has not
/// settled after a few passes is refused. So is one whose canonical form
/// outgrows [`MAX_URL_LEN`] (percent-encoding lengthens it), since the
/// stored form must parse again.
pub fn canonicalize(raw: &str) -> Result<CanonicalUrl, UrlError> {
    let mut current = canonicalize_once(raw)?;
    for _ in 0..MAX_PASSES {
        if current.url.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong {
                len: current.url.len(),
            });
        }
        // Only a bracket lets a second pass change anything: re-fanging
        // needs one, and the other rules are idempotent.
        if !current.url.contains(['[', '(', '{']) {
            return Ok(current);
        }
        let again = canonicalize_once(&current.url)?;
        if again == current {
            return Ok(current);
        }
        current = again;
    }
    Err(UrlError::Unparsable {
        url: clip(raw.trim()),
        reason: format!("does not settle on a canonical form in {MAX_PASSES} passes"),
    })
}

fn canonicalize_once(raw: &str) -> Result<CanonicalUrl, UrlError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(UrlError::Empty);
    }
    if trimmed.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong { len: trimmed.len() });
    }
    let refanged = refang(trimmed);
    let text = if has_scheme(&refanged) {
        refanged
    } else {
        format!("http://{refanged}")
    };
    let mut url = Url::parse(&text).map_err(|e| UrlError::Unparsable {
        url: clip(trimmed),
        reason: e.to_string(),
    })?;
    if !SCHEMES.contains(&url.scheme()) {
        return Err(UrlError::UnsupportedScheme {
            scheme: url.scheme().to_owned(),
        });
    }
    url.set_fragment(None);
    if url.query() == Some("") {
        url.set_query(None);
    }
    let (host, ip) = match url.host() {
        Some(Host::Domain(d)) => (d.trim_end_matches('.').to_owned(), None),
        Some(Host::Ipv4(a)) => (a.to_string(), Some(IpAddr::V4(a))),
        Some(Host::Ipv6(a)) => (a.to_string(), Some(IpAddr::V6(a))),
        None => return Err(UrlError::NoHost { url: clip(trimmed) }),
    };
    if host.is_empty() {
        return Err(UrlError::NoHost { url: clip(trimmed) });
    }
    let (host, ip) = if ip.is_none() && url.host_str() != Some(host.as_str()) {
        url.set_host(Some(&host))
            .map_err(|e| UrlError::Unparsable {
                url: clip(trimmed),
                reason: e.to_string(),
            })?;
        // Without its trailing dots a name can read as an address
        // (`32..` is 0.0.0.32): the host is what the URL now holds.
        match url.host() {
            Some(Host::Ipv4(a)) => (a.to_string(), Some(IpAddr::V4(a))),
            Some(Host::Ipv6(a)) => (a.to_string(), Some(IpAddr::V6(a))),
            _ => (host, ip),
        }
    } else {
        (host, ip)
    };
    let path = normalize_escapes(url.path());
    if path != url.path() {
        url.set_path(&path);
    }
    if let Some(q) = url.query() {
        let q = normalize_escapes(q);
        if Some(q.as_str()) != url.query() {
            url.set_query(Some(&q));
        }
    }
    let domain = match ip {
        Some(_) => None,
        None => psl::domain_str(&host).map(str::to_owned),
    };
    Ok(CanonicalUrl {
        url: url.into(),
        host,
        domain,
        ip,
    })
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

fn has_scheme(s: &str) -> bool {
    match s.find("://") {
        Some(i) if i > 0 => {
            let scheme = &s[..i];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        _ => false,
    }
}

/// Undoes the usual defanging of shared indicators.
fn refang(s: &str) -> String {
    let mut out = s.to_owned();
    let lower = out.to_ascii_lowercase();
    for (fanged, plain) in [
        ("hxxps://", "https://"),
        ("hxxp://", "http://"),
        ("fxp://", "ftp://"),
    ] {
        if lower.starts_with(fanged) {
            out = format!("{plain}{}", &out[fanged.len()..]);
            break;
        }
    }
    if out.contains(['[', '(', '{']) {
        for (fanged, plain) in [
            ("[.]", "."),
            ("(.)", "."),
            ("{.}", "."),
            ("[dot]", "."),
            ("[:]", ":"),
            ("[://]", "://"),
        ] {
            out = out.replace(fanged, plain);
        }
    }
    out
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Upper-cases percent-escapes and decodes those of unreserved characters.
fn normalize_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some((before, after)) = rest.split_once('%') {
        out.push_str(before);
        let escape = after
            .split_at_checked(2)
            .and_then(|(digits, tail)| Some((hex_byte(digits)?, digits, tail)));
        match escape {
            Some((byte, _, tail)) if is_unreserved(byte) && !completes_escape(&out, byte) => {
                out.push(char::from(byte));
                rest = tail;
            }
            Some((_, digits, tail)) => {
                out.push('%');
                out.push_str(&digits.to_ascii_uppercase());
                rest = tail;
            }
            // A stray percent sign stays as it was.
            None => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether writing `byte` after `out` would finish an escape a stray
/// percent sign began (`%` + `%33` decoded would read as `%3…`): such an
/// escape stays encoded, or the next pass would decode something new.
fn completes_escape(out: &str, byte: u8) -> bool {
    if !byte.is_ascii_hexdigit() {
        return false;
    }
    let tail = out.as_bytes();
    match tail {
        [.., b'%'] => true,
        [.., b'%', h] => h.is_ascii_hexdigit(),
        _ => false,
    }
}

/// The byte two hex digits spell (`None` for anything else).
fn hex_byte(digits: &str) -> Option<u8> {
    match *digits.as_bytes() {
        [h, l] => Some(hex_val(h)? * 16 + hex_val(l)?),
        _ => None,
    }
}

fn hex_val(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        canonicalize(s).unwrap_or_else(|e| panic!("{s}: {e}")).url
    }

    /// Found by the `canonicalize` fuzz target (fuzz/regressions/canonicalize).
    #[test]
    fn a_name_that_reads_as_an_address_without_its_dots_is_that_address() {
        let once = canonicalize("32..").unwrap();
        assert_eq!(once.url, "http://0.0.0.32/");
        assert_eq!(
            (once.host.as_str(), once.ip),
            ("0.0.0.32", "0.0.0.32".parse().ok())
        );
        assert_eq!(canonicalize(&once.url).unwrap(), once, "a fixed point");
    }

    #[test]
    fn equivalent_spellings_give_one_canonical_url() {
        let same = [
            "http://Evil.Example.COM/a/b",
            "HTTP://evil.example.com:80/a/b",
            "http://evil.example.com./a/./c/../b",
            "http://evil.example.com/a/%62",
            "evil.example.com/a/b",
            "hxxp://evil[.]example[.]com/a/b",
            "http://evil.example.com/a/b#fragment",
            "  http://evil.example.com/a/b  ",
        ];
        for s in same {
            assert_eq!(c(s), "http://evil.example.com/a/b", "{s}");
        }
        assert_eq!(
            c("https://evil.example.com:443/?"),
            "https://evil.example.com/"
        );
        assert_eq!(
            c("https://evil.example.com:8443/"),
            "https://evil.example.com:8443/"
        );
    }

    #[test]
    fn percent_escapes_are_normalised_without_changing_meaning() {
        assert_eq!(
            c("http://h.example/%7euser/%2f%3F"),
            "http://h.example/~user/%2F%3F"
        );
        assert_eq!(
            c("http://h.example/a?q=%7e%2b&x=%41"),
            "http://h.example/a?q=~%2B&x=A"
        );
        // Characters that are not allowed raw are escaped.
        assert_eq!(c("http://h.example/a b"), "http://h.example/a%20b");
        // The order of parameters stays.
        assert_eq!(c("http://h.example/?b=1&a=2"), "http://h.example/?b=1&a=2");
        // A stray percent sign stays as it was.
        assert_eq!(c("http://h.example/100%"), "http://h.example/100%");
    }

    #[test]
    fn international_hosts_become_punycode_and_keep_their_registrable_domain() {
        let u = canonicalize("http://Bücher.example.de/x").unwrap();
        assert_eq!(u.url, "http://xn--bcher-kva.example.de/x");
        assert_eq!(u.host, "xn--bcher-kva.example.de");
        assert_eq!(u.domain.as_deref(), Some("example.de"));
        let jp = canonicalize("http://例え.テスト.jp/").unwrap();
        assert!(jp.host.starts_with("xn--"), "{}", jp.host);
    }

    #[test]
    fn registrable_domain_follows_the_public_suffix_list() {
        let d = |s: &str| canonicalize(s).unwrap().domain;
        assert_eq!(d("http://a.b.evil.co.uk/").as_deref(), Some("evil.co.uk"));
        assert_eq!(d("http://login.evil.com/").as_deref(), Some("evil.com"));
        assert_eq!(
            d("https://someone.github.io/").as_deref(),
            Some("someone.github.io")
        );
        assert_eq!(d("http://co.uk/"), None);
    }

    #[test]
    fn ip_hosts_are_recognised_in_every_notation() {
        let u = canonicalize("http://3232235777/x").unwrap();
        assert_eq!(u.url, "http://192.168.1.1/x");
        assert_eq!(u.ip, Some("192.168.1.1".parse().unwrap()));
        assert_eq!(u.domain, None);
        let v6 = canonicalize("http://[2001:DB8::1]:8080/").unwrap();
        assert_eq!(v6.url, "http://[2001:db8::1]:8080/");
        assert_eq!(v6.host, "2001:db8::1");
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        assert!(matches!(canonicalize(""), Err(UrlError::Empty)));
        assert!(matches!(
            canonicalize("javascript://alert(1)"),
            Err(UrlError::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            canonicalize("http://"),
            Err(UrlError::Unparsable { .. })
        ));
        assert!(matches!(
            canonicalize(&format!("http://a.example/{}", "x".repeat(MAX_URL_LEN))),
            Err(UrlError::TooLong { .. })
        ));
    }

    #[test]
    fn decoding_that_makes_a_defanged_dot_still_gives_a_fixed_point() {
        // Found by the fuzzer: `[%2E]` decodes to `[.]`, which the next pass
        // would re-fang to `.`.
        for raw in [
            "0?\u{10}1%[?E\u{10}[%2E]]]]]].",
            "http://a.example/x[%2E]y",
            "http://a(%2E)b.example/",
            "http://a.example/[[.]]",
            // `%` then `%33` decoded to `3` would make a new escape `%3…`.
            "0?4%\u{0}\r%3%338.",
            "http://a.example/%%33%38",
        ] {
            let once = canonicalize(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(canonicalize(&once.url).unwrap(), once, "{raw}");
        }
        assert_eq!(c("http://a.example/x[%2E]y"), "http://a.example/x.y");
        // Nesting deeper than the passes allow is refused, not looped on.
        let deep = format!("http://a.example/{}.{}", "[".repeat(40), "]".repeat(40));
        assert!(matches!(
            canonicalize(&deep),
            Err(UrlError::Unparsable { .. })
        ));
    }

    #[test]
    fn a_canonical_form_longer_than_the_limit_is_refused() {
        // Each space becomes `%20`: under the limit raw, three times it after.
        let raw = format!("http://a.example/{}", " x".repeat(MAX_URL_LEN / 3));
        assert!(raw.len() <= MAX_URL_LEN);
        assert!(matches!(canonicalize(&raw), Err(UrlError::TooLong { .. })));
    }

    proptest::proptest! {
        /// Canonicalising is idempotent: a canonical URL is its own
        /// canonical form.
        #[test]
        fn canonical_form_is_a_fixed_point(
            host in "[a-zA-Z0-9]{1,10}(\\.[a-zA-Z0-9]{1,8}){1,3}",
            path in proptest::collection::vec("[a-zA-Z0-9%~._ -]{0,8}", 0..4),
            query in proptest::option::of("[a-zA-Z0-9=&%]{0,12}"),
        ) {
            let raw = format!(
                "http://{host}/{}{}",
                path.join("/"),
                query.map(|q| format!("?{q}")).unwrap_or_default()
            );
            if let Ok(once) = canonicalize(&raw) {
                let twice = canonicalize(&once.url).expect("canonical form parses");
                proptest::prop_assert_eq!(once, twice);
            }
        }
    }
}
