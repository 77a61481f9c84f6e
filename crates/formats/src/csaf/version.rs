//! CSAF version numbers (§3.1.11): integer versioning (`1`, `2`, …) or
//! semantic versioning (`1.4.0-rc.1+build.7`), compared as their scheme
//! says (build metadata never counts).

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Version {
    Integer(u64),
    Semantic {
        major: u64,
        minor: u64,
        patch: u64,
        pre: Option<String>,
        build: Option<String>,
    },
}

fn number(s: &str) -> Option<u64> {
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

fn identifiers(s: &str, numeric_without_zero: bool) -> bool {
    !s.is_empty()
        && s.split('.').all(|id| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !(numeric_without_zero
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && id.len() > 1
                    && id.starts_with('0'))
        })
}

impl Version {
    pub(crate) fn parse(text: &str) -> Option<Version> {
        if let Some(n) = number(text) {
            return Some(Version::Integer(n));
        }
        let (rest, build) = match text.split_once('+') {
            Some((r, b)) => (r, Some(b)),
            None => (text, None),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (rest, None),
        };
        let mut parts = core.split('.');
        let (Some(a), Some(b), Some(c), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if pre.is_some_and(|p| !identifiers(p, true))
            || build.is_some_and(|b| !identifiers(b, false))
        {
            return None;
        }
        Some(Version::Semantic {
            major: number(a)?,
            minor: number(b)?,
            patch: number(c)?,
            pre: pre.map(str::to_owned),
            build: build.map(str::to_owned),
        })
    }

    pub(crate) fn is_semantic(&self) -> bool {
        matches!(self, Version::Semantic { .. })
    }

    /// The major version (an integer version is its own).
    pub(crate) fn major(&self) -> u64 {
        match self {
            Version::Integer(n) => *n,
            Version::Semantic { major, .. } => *major,
        }
    }

    pub(crate) fn pre_release(&self) -> Option<&str> {
        match self {
            Version::Semantic { pre, .. } => pre.as_deref(),
            Version::Integer(_) => None,
        }
    }

    /// `0` or `0.y.z`: not yet released.
    pub(crate) fn is_zero(&self) -> bool {
        self.major() == 0
    }

    /// The same version without build metadata (and, with `pre`, without
    /// its pre-release part).
    pub(crate) fn stripped(&self, pre: bool) -> Version {
        match self {
            Version::Integer(n) => Version::Integer(*n),
            Version::Semantic {
                major,
                minor,
                patch,
                pre: p,
                ..
            } => Version::Semantic {
                major: *major,
                minor: *minor,
                patch: *patch,
                pre: if pre { None } else { p.clone() },
                build: None,
            },
        }
    }

    /// Precedence as the scheme defines it (semantic versioning §11;
    /// build metadata ignored). Versions of different schemes compare by
    /// their major number.
    pub(crate) fn precedence(&self, other: &Version) -> Ordering {
        match (self, other) {
            (Version::Integer(a), Version::Integer(b)) => a.cmp(b),
            (
                Version::Semantic {
                    major: a1,
                    minor: a2,
                    patch: a3,
                    pre: ap,
                    ..
                },
                Version::Semantic {
                    major: b1,
                    minor: b2,
                    patch: b3,
                    pre: bp,
                    ..
                },
            ) => (a1, a2, a3)
                .cmp(&(b1, b2, b3))
                .then_with(|| match (ap, bp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                    (Some(a), Some(b)) => pre_cmp(a, b),
                }),
            _ => self.major().cmp(&other.major()),
        }
    }
}

fn pre_cmp(a: &str, b: &str) -> Ordering {
    let mut x = a.split('.');
    let mut y = b.split('.');
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => p.cmp(q),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemes_parse_and_order() {
        assert_eq!(Version::parse("3"), Some(Version::Integer(3)));
        assert_eq!(Version::parse("03"), None);
        assert!(Version::parse("1.2").is_none());
        assert!(Version::parse("1.0.0-01").is_none());
        let v = |s: &str| Version::parse(s).expect(s);
        assert_eq!(v("1.0.0-alpha").precedence(&v("1.0.0")), Ordering::Less);
        assert_eq!(
            v("1.0.0-alpha.1").precedence(&v("1.0.0-alpha.beta")),
            Ordering::Less
        );
        assert_eq!(v("1.0.0-2").precedence(&v("1.0.0-10")), Ordering::Less);
        assert_eq!(v("1.0.0+b1").precedence(&v("1.0.0+b2")), Ordering::Equal);
        assert_eq!(v("2").precedence(&v("10")), Ordering::Less);
        assert!(v("0.9.1").is_zero() && v("0").is_zero() && !v("1.0.0-rc.1").is_zero());
        assert_eq!(v("1.0.0-rc.1+x").stripped(true), v("1.0.0"));
    }
}
