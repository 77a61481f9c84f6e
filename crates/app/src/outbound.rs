//! Requests isx makes itself (webhooks): never to the machine it runs on or
//! to its private networks unless the operator allows it.
//!
//! A member registers a webhook URL and isx POSTs to it, so the URL is an
//! attacker's choice: `https://127.0.0.1:…`, `https://169.254.169.254/…`
//! (cloud metadata), a name that resolves to either. The URL is checked
//! when it is registered and again before each delivery, and the resolver
//! the webhook client connects through (the server's, built on
//! [`allowed`]) drops every forbidden address, so a name re-pointed after
//! registration (DNS rebinding) reaches nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// May isx connect to `ip`? Link-local (cloud metadata), multicast,
/// broadcast and unspecified addresses never; loopback, private, shared
/// (100.64/10) and unique-local ones only with `allow_private`.
pub fn allowed(ip: IpAddr, allow_private: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => allowed_v4(v4, allow_private),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => allowed_v4(v4, allow_private),
            None => allowed_v6(v6, allow_private),
        },
    }
}

fn allowed_v4(ip: Ipv4Addr, allow_private: bool) -> bool {
    let o = ip.octets();
    if ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || o[0] == 0
        || o[0] >= 240
    {
        return false;
    }
    let private = ip.is_loopback()
        || ip.is_private()
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        // 192.0.0.0/24 (IETF protocol assignments) and 198.18.0.0/15
        // (benchmarking): internal by use.
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] & 0xfe) == 18);
    !private || allow_private
}

/// The IPv4 address an IPv6 one stands for, where a translator or tunnel
/// would deliver it there: IPv4-compatible `::a.b.c.d`, NAT64
/// `64:ff9b::/96`, 6to4 `2002::/16`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if s[..6].iter().all(|x| *x == 0) && !ip.is_unspecified() && !ip.is_loopback() {
        return Some(tail);
    }
    // SIIT "IPv4-translated" ::ffff:0:a.b.c.d.
    if s[..4].iter().all(|x| *x == 0) && s[4] == 0xffff && s[5] == 0 {
        return Some(tail);
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|x| *x == 0) {
        return Some(tail);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

fn allowed_v6(ip: Ipv6Addr, allow_private: bool) -> bool {
    let s = ip.segments();
    let link_local = (s[0] & 0xffc0) == 0xfe80;
    // Teredo (2001::/32) hides its IPv4 addresses and 100::/64 discards
    // what it gets; nobody's webhook needs either.
    let teredo = s[0] == 0x2001 && s[1] == 0;
    let discard = s[0] == 0x100 && s[1..4].iter().all(|x| *x == 0);
    if link_local || ip.is_multicast() || ip.is_unspecified() || teredo || discard {
        return false;
    }
    if let Some(v4) = embedded_v4(ip) {
        return allowed_v4(v4, allow_private);
    }
    let private = ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00
        // Site-local (deprecated) and local-use NAT64 (64:ff9b:1::/48).
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1);
    !private || allow_private
}

/// Checks a webhook URL: `https://`, at most 2,000 characters, a host, and
/// — when the host is an address — an address isx may reach.
pub fn check_url(url: &str, allow_private: bool) -> Result<url::Url, String> {
    if !url.starts_with("https://") || url.len() > 2000 {
        return Err("the webhook URL must be an https:// URL of at most 2,000 characters".into());
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(a)) => Some(IpAddr::V4(a)),
        Some(url::Host::Ipv6(a)) => Some(IpAddr::V6(a)),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") {
                Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
            } else {
                None
            }
        }
        None => return Err("the webhook URL has no host".into()),
    };
    if ip.is_some_and(|ip| !allowed(ip, allow_private)) {
        return Err(
            "the webhook URL points at a loopback, link-local, private or multicast address, which isx does not call".into(),
        );
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_destinations() {
        for (ip, strict, relaxed) in [
            ("127.0.0.1", false, true),
            ("10.1.2.3", false, true),
            ("172.16.0.1", false, true),
            ("192.168.1.1", false, true),
            ("100.64.0.1", false, true),
            ("169.254.169.254", false, false),
            ("224.0.0.1", false, false),
            ("0.0.0.0", false, false),
            ("255.255.255.255", false, false),
            ("::1", false, true),
            ("fd00::1", false, true),
            ("fe80::1", false, false),
            ("::ffff:127.0.0.1", false, true),
            ("::ffff:169.254.169.254", false, false),
            ("ff02::1", false, false),
            ("64:ff9b::a9fe:a9fe", false, false),
            ("64:ff9b::7f00:1", false, true),
            ("64:ff9b::808:808", true, true),
            ("64:ff9b:1::1", false, true),
            ("::169.254.169.254", false, false),
            ("::10.0.0.1", false, true),
            ("2002:a9fe:a9fe::", false, false),
            ("2002:7f00:1::", false, true),
            ("2002:808:808::1", true, true),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", false, false),
            ("fec0::1", false, true),
            ("::ffff:0:a9fe:a9fe", false, false),
            ("::ffff:0:7f00:1", false, true),
            ("100::1", false, false),
            ("198.18.0.1", false, true),
            ("198.19.255.1", false, true),
            ("192.0.0.1", false, true),
            ("8.8.8.8", true, true),
            ("2001:4860::8888", true, true),
        ] {
            let ip: IpAddr = ip.parse().expect("ip");
            assert_eq!(allowed(ip, false), strict, "{ip}");
            assert_eq!(allowed(ip, true), relaxed, "{ip} with private allowed");
        }
    }

    #[test]
    fn urls() {
        assert!(check_url("http://example.org/", false).is_err());
        assert!(check_url("https://127.0.0.1:9/x", false).is_err());
        assert!(check_url("https://[::1]/x", false).is_err());
        assert!(check_url("https://localhost/x", false).is_err());
        assert!(check_url("https://169.254.169.254/latest/meta-data", true).is_err());
        assert!(check_url("https://127.0.0.1:9/x", true).is_ok());
        assert!(check_url("https://hooks.example.org/isx", false).is_ok());
    }
}
