//! The PII detector: e-mail addresses, IP addresses, phone numbers and
//! personal names in free text. It flags; the contributor decides (redact
//! or knowingly keep each finding) — see `governance::check_pii_choices`.
//!
//! Names are found by an honorific (`Mr`, `Dr`, …) or a common given name
//! followed by a capitalised word; the list is short and international, so
//! the detector misses names and the contributor's review remains the
//! safeguard. IP addresses are all flagged: only the contributor knows
//! whether one is an individual's or an attacker's server.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

/// What kind of personal data a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    Email,
    IpAddress,
    Phone,
    Name,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Email => "email",
            FindingKind::IpAddress => "ip-address",
            FindingKind::Phone => "phone",
            FindingKind::Name => "name",
        }
    }

    /// What a redacted finding is replaced with.
    pub fn placeholder(self) -> &'static str {
        match self {
            FindingKind::Email => "[redacted e-mail]",
            FindingKind::IpAddress => "[redacted IP address]",
            FindingKind::Phone => "[redacted phone]",
            FindingKind::Name => "[redacted name]",
        }
    }
}

/// A piece of text that looks like personal data.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub text: String,
    /// Byte offsets in the text it was found in.
    #[serde(skip)]
    pub start: usize,
    #[serde(skip)]
    pub end: usize,
}

const HONORIFICS: &[&str] = &["Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dame"];

/// Common given names (a short international list; see the module notes).
const GIVEN_NAMES: &[&str] = &[
    "Aaron",
    "Adam",
    "Ahmed",
    "Aisha",
    "Alan",
    "Alex",
    "Alexander",
    "Alice",
    "Amanda",
    "Amir",
    "Amy",
    "Ana",
    "Andrea",
    "Andrew",
    "Angela",
    "Anna",
    "Anne",
    "Anton",
    "Arjun",
    "Barbara",
    "Ben",
    "Benjamin",
    "Bob",
    "Brian",
    "Carlos",
    "Carol",
    "Caroline",
    "Charles",
    "Chris",
    "Christian",
    "Christine",
    "Claire",
    "Daniel",
    "David",
    "Diana",
    "Dmitri",
    "Elena",
    "Elif",
    "Elizabeth",
    "Emily",
    "Emma",
    "Eric",
    "Eva",
    "Fatima",
    "Felix",
    "Frank",
    "Gary",
    "George",
    "Hana",
    "Hannah",
    "Hans",
    "Harry",
    "Helen",
    "Henrik",
    "Ian",
    "Igor",
    "Isabel",
    "Ivan",
    "Jack",
    "James",
    "Jan",
    "Jane",
    "Jason",
    "Jean",
    "Jennifer",
    "Jessica",
    "Joan",
    "Johan",
    "John",
    "Jonas",
    "Jorge",
    "Jose",
    "Joseph",
    "Julia",
    "Karen",
    "Karl",
    "Kate",
    "Kevin",
    "Klaus",
    "Laura",
    "Lars",
    "Lea",
    "Leon",
    "Linda",
    "Lisa",
    "Lucas",
    "Luis",
    "Maria",
    "Marie",
    "Mark",
    "Martin",
    "Mary",
    "Matteo",
    "Michael",
    "Michelle",
    "Mohammed",
    "Nadia",
    "Nicole",
    "Nina",
    "Olga",
    "Oliver",
    "Omar",
    "Pablo",
    "Patrick",
    "Paul",
    "Peter",
    "Pierre",
    "Priya",
    "Rachel",
    "Rahul",
    "Richard",
    "Robert",
    "Sara",
    "Sarah",
    "Sebastian",
    "Sergei",
    "Sofia",
    "Sophie",
    "Stefan",
    "Stephen",
    "Steven",
    "Susan",
    "Thomas",
    "Tom",
    "Wei",
    "William",
    "Yuki",
    "Zoe",
];

fn email_local(c: char) -> bool {
    c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c)
}

fn domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

/// The text on either side of the one-byte character at `at` (a
/// `match_indices` hit, so both sides are on character boundaries).
fn around(text: &str, at: usize) -> (&str, &str) {
    (
        text.get(..at).unwrap_or_default(),
        text.get(at + 1..).unwrap_or_default(),
    )
}

fn emails(text: &str, out: &mut Vec<Finding>) {
    for (at, _) in text.match_indices('@') {
        let (before, after) = around(text, at);
        let s = before.trim_end_matches(email_local).len();
        let domain = after
            .split(|c| !domain_char(c))
            .next()
            .unwrap_or_default()
            .trim_end_matches(['.', '-']);
        let tld_ok = domain.rsplit_once('.').is_some_and(|(h, tld)| {
            !h.is_empty() && tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic())
        });
        if s < at && tld_ok {
            push(out, FindingKind::Email, text, s, at + 1 + domain.len());
        }
    }
}

fn ips(text: &str, out: &mut Vec<Finding>) {
    let b = text.as_bytes();
    let token = |c: u8| c.is_ascii_hexdigit() || c == b'.' || c == b':';
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let after_word = i
            .checked_sub(1)
            .and_then(|p| b.get(p))
            .is_some_and(|&p| word(p));
        if !token(c) || after_word {
            i += 1;
            continue;
        }
        let s = i;
        i += b.iter().skip(s).take_while(|&&c| token(c)).count();
        if b.get(i).is_some_and(|&c| word(c)) {
            continue;
        }
        // Token bytes are ASCII, so `s..i` is on character boundaries.
        let mut t = text.get(s..i).unwrap_or_default();
        while let Some(shorter) = t
            .strip_suffix(['.', ':'])
            .filter(|shorter| shorter.parse::<Ipv6Addr>().is_err())
        {
            t = shorter;
        }
        let v4 = t.bytes().filter(|c| *c == b'.').count() == 3 && t.parse::<Ipv4Addr>().is_ok();
        let v6 = t.bytes().filter(|c| *c == b':').count() >= 2 && t.parse::<Ipv6Addr>().is_ok();
        if v4 || v6 {
            push(out, FindingKind::IpAddress, text, s, s + t.len());
        }
    }
}

fn phones(text: &str, out: &mut Vec<Finding>) {
    let phone_char = |c: char| c.is_ascii_digit() || " -().".contains(c);
    for (s, _) in text.match_indices('+') {
        let (before, after) = around(text, s);
        if before.ends_with(|c: char| c.is_ascii_alphanumeric()) {
            continue;
        }
        let run = after.split(|c| !phone_char(c)).next().unwrap_or_default();
        let digits = run.bytes().filter(u8::is_ascii_digit).count();
        // The number ends at its last digit.
        let number = run.trim_end_matches(|c: char| !c.is_ascii_digit());
        if (8..=15).contains(&digits) {
            push(out, FindingKind::Phone, text, s, s + 1 + number.len());
        }
    }
}

fn capitalised(w: &str) -> bool {
    let mut c = w.chars();
    c.next().is_some_and(|f| f.is_uppercase())
        && w.len() >= 2
        && c.all(|ch| ch.is_lowercase() || ch == '-' || ch == '\'')
}

fn names(text: &str, out: &mut Vec<Finding>) {
    // Words with their byte spans.
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices() {
        let part = ch.is_alphabetic() || ch == '-' || ch == '\'';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    // The spans come from `char_indices`, so they are on character boundaries.
    let word = |(s, e): (usize, usize)| text.get(s..e).unwrap_or_default();
    let gap = |(_, e): (usize, usize), (s, _): (usize, usize)| text.get(e..s).unwrap_or_default();
    let mut rest = words.as_slice();
    while let &[first, second, ..] = rest {
        let w = word(first);
        let between = gap(first, second);
        let honorific = HONORIFICS.contains(&w) && (between == " " || between == ". ");
        let given = GIVEN_NAMES.contains(&w) && between == " ";
        let mut taken = 1;
        if (honorific || given) && capitalised(word(second)) {
            // Up to two following capitalised words join the name (Anna Maria Schmidt).
            let mut end = second.1;
            taken = 2;
            for pair in rest.windows(2).skip(1).take(2) {
                let &[prev, next] = pair else { break };
                if gap(prev, next) != " " || !capitalised(word(next)) {
                    break;
                }
                end = next.1;
                taken += 1;
            }
            push(out, FindingKind::Name, text, first.0, end);
        }
        rest = rest.get(taken..).unwrap_or_default();
    }
}

/// `start..end` must be on character boundaries of `text`, as every
/// detector's spans are.
fn push(out: &mut Vec<Finding>, kind: FindingKind, text: &str, start: usize, end: usize) {
    out.push(Finding {
        kind,
        text: text.get(start..end).unwrap_or_default().to_owned(),
        start,
        end,
    });
}

/// The personal data found in `text`, in order, not overlapping (an e-mail
/// address wins over the name inside it).
pub fn find(text: &str) -> Vec<Finding> {
    let mut all = Vec::new();
    emails(text, &mut all);
    ips(text, &mut all);
    phones(text, &mut all);
    names(text, &mut all);
    all.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut out: Vec<Finding> = Vec::with_capacity(all.len());
    for f in all {
        if out.last().is_none_or(|l| f.start >= l.end) {
            out.push(f);
        }
    }
    out
}

/// `text` with every finding whose text is in `redact` replaced by its
/// placeholder.
pub fn redact(text: &str, redact: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in find(text) {
        if redact.iter().any(|r| r == &f.text) {
            out.push_str(text.get(at..f.start).unwrap_or_default());
            out.push_str(f.kind.placeholder());
            at = f.end;
        }
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(FindingKind, String)> {
        find(text).into_iter().map(|f| (f.kind, f.text)).collect()
    }

    #[test]
    fn finds_each_kind() {
        let t = "Reported by Dr. Jane Smith (jane.smith@utility.example, +31 20 555 0199) from 198.51.100.23; \
                 the C2 at 2001:db8::1 talked to Anna Maria Schmidt's laptop.";
        assert_eq!(
            kinds(t),
            vec![
                (FindingKind::Name, "Dr. Jane Smith".into()),
                (FindingKind::Email, "jane.smith@utility.example".into()),
                (FindingKind::Phone, "+31 20 555 0199".into()),
                (FindingKind::IpAddress, "198.51.100.23".into()),
                (FindingKind::IpAddress, "2001:db8::1".into()),
                (FindingKind::Name, "Anna Maria Schmidt's".into()),
            ]
        );
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for t in [
            "Version 1.2.3 of the agent, CVE-2026-1234, T1566.001, ratio 3:2, at 10:30:00.",
            "The Emotet loader dropped Cobalt Strike. Patch Tuesday is monthly.",
            "hash deadbeef:cafe and user@localhost",
            "Mark the host as clean.",
        ] {
            assert_eq!(kinds(t), vec![], "{t}");
        }
    }

    #[test]
    fn redacts_only_what_was_chosen() {
        let t = "Mail jane@corp.example or call +44 20 7946 0958; server 192.0.2.10.";
        let r = redact(t, &["jane@corp.example".into(), "192.0.2.10".into()]);
        assert_eq!(
            r,
            "Mail [redacted e-mail] or call +44 20 7946 0958; server [redacted IP address]."
        );
        assert!(find(&r).iter().all(|f| f.kind == FindingKind::Phone));
    }

    proptest::proptest! {
        #[test]
        fn findings_are_spans_in_order(text in "[ -~]{0,200}") {
            let found = find(&text);
            let mut last = 0;
            for f in &found {
                proptest::prop_assert!(f.start >= last && f.end > f.start);
                proptest::prop_assert_eq!(&text[f.start..f.end], f.text.as_str());
                last = f.end;
            }
            let all: Vec<String> = found.iter().map(|f| f.text.clone()).collect();
            let redacted = redact(&text, &all);
            proptest::prop_assert!(find(&redacted).iter().all(|f| !all.contains(&f.text)));
        }
    }
}
