//! Second factors for web sign-in: time-based one-time passwords (TOTP,
//! RFC 6238 over HOTP, RFC 4226, with HMAC-SHA-1, six digits, 30-second
//! steps — what every authenticator app reads from an `otpauth://` URI)
//! and one-time recovery codes.
//!
//! The pure part (codes, verification windows, URIs, recovery codes) is
//! here; the sign-in steps that store and check them are in
//! [`crate::admin`] and the server's web module.

use ring::rand::SecureRandom;

/// Seconds per TOTP step.
pub const STEP_SECS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps either side of now a code is accepted from (clocks drift; a code
/// typed in the last seconds of its step arrives in the next).
pub const WINDOW: i64 = 1;
/// Recovery codes per set.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of a TOTP secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;

/// A fresh random TOTP secret, base32 (RFC 4648, no padding), as
/// authenticator apps take it.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    // The system's generator; it does not fail on supported platforms.
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    base32(&bytes)
}

/// Whether `text` could be a secret [`new_secret`] made (base32 of
/// [`SECRET_BYTES`] bytes, at most 64 characters as typed).
pub fn is_secret(text: &str) -> bool {
    text.len() <= 64 && unbase32(text).is_some_and(|k| k.len() == SECRET_BYTES)
}

/// RFC 4648 base32 without padding.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let letter = |v: u32| char::from(ALPHABET.get(v as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for b in bytes {
        buffer = (buffer << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(letter((buffer >> bits) & 31));
        }
    }
    if bits > 0 {
        out.push(letter((buffer << (5 - bits)) & 31));
    }
    out
}

/// Decodes base32 (case and spaces ignored, padding allowed); `None` for
/// any other character.
pub fn unbase32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = match c.to_ascii_uppercase() {
            u @ 'A'..='Z' => u as u32 - 'A' as u32,
            d @ '2'..='7' => d as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The HOTP value of `key` at `counter` with `digits` digits (RFC 4226).
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let tag = ring::hmac::sign(&k, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let word = mac
        .get(offset..offset + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, |w| u32::from_be_bytes(w) & 0x7fff_ffff);
    word % 10u32.pow(digits.min(9))
}

/// The TOTP step of a Unix time.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code for `step`, zero-padded to [`DIGITS`].
pub fn code_at(key: &[u8], step: i64) -> String {
    let counter = u64::try_from(step).unwrap_or(0);
    format!(
        "{:0width$}",
        hotp(key, counter, DIGITS),
        width = DIGITS as usize
    )
}

/// The step `code` belongs to, if it is the code of a step within
/// [`WINDOW`] of `now_secs` and later than `last_step` (each step's code
/// is accepted once: a code seen, even by someone looking over a
/// shoulder, cannot sign in again). Compared in constant time.
pub fn verify(key: &[u8], code: &str, now_secs: i64, last_step: Option<i64>) -> Option<i64> {
    use subtle::ConstantTimeEq;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(now_secs);
    let mut found = None;
    for step in now - WINDOW..=now + WINDOW {
        let matches = bool::from(code_at(key, step).as_bytes().ct_eq(code.as_bytes()));
        if matches && last_step.is_none_or(|l| step > l) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI an authenticator app enrols from (as the QR code
/// shows it): issuer and account label, the secret, and the parameters
/// spelled out (SHA1, 6 digits, 30 s) although they are the defaults.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let label = format!("{}:{}", escape(issuer), escape(account));
    format!(
        "otpauth://totp/{label}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        escape(issuer)
    )
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A fresh set of recovery codes, as shown once to their owner: ten codes
/// of 60 random bits each, `xxxx-xxxx-xxxx` in lowercase base32.
pub fn new_recovery_codes() -> Vec<String> {
    let rng = ring::rand::SystemRandom::new();
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 8];
            let _ = rng.fill(&mut bytes);
            let text = base32(&bytes).to_ascii_lowercase();
            let text: String = text.chars().take(12).collect();
            format!("{}-{}-{}", &text[..4], &text[4..8], &text[8..12])
        })
        .collect()
}

/// A recovery code as typed (case, spaces and dashes aside), the form its
/// hash is taken of; `None` when it cannot be one.
pub fn normalise_recovery_code(typed: &str) -> Option<String> {
    let t: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (t.len() == 12
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)))
    .then_some(t)
}

/// How a second factor was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// A TOTP code (its step is now used).
    Totp,
    /// A recovery code (now used up).
    RecoveryCode,
}

impl Proof {
    /// The audit log's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Proof::Totp => "totp",
            Proof::RecoveryCode => "recovery-code",
        }
    }
}

/// Whether `user` has a second factor, and whether its member requires one.
pub async fn status(
    store: &dyn isx_store::Store,
    user: &isx_domain::User,
) -> Result<(bool, bool, u64), crate::AppError> {
    let totp = store.totp(user.id).await?.is_some();
    let enrolled = totp || !store.passkeys(user.id).await?.is_empty();
    let required = store.second_factor_required(user.member).await?;
    let left = if totp {
        store.recovery_codes_left(user.id).await?
    } else {
        0
    };
    Ok((enrolled, required, left))
}

/// Wrong codes in a row after which a user's second step is locked until
/// an administrator resets its factor (NIST SP 800-63B §5.2.2 allows at
/// most 100): with the password, a hundred guesses win once in about
/// 3,300 — where rate limits alone, per node, would let guessing go on.
pub const MAX_FAILURES: i64 = 100;

/// What a typed code proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    Proven(Proof),
    Wrong,
    /// Too many wrong codes in a row: nothing is checked any more.
    Locked,
}

/// A recovery code's stored form: SHA-256 of the code bound to its user,
/// so one table of guesses does not serve every user at once.
fn recovery_hash(user: isx_domain::UserId, code: &str) -> String {
    crate::identity::hash_secret(&format!("isx-recovery:{}:{code}", user.0))
}

/// A fresh set of recovery codes for `user`: as shown once, and as stored.
fn recovery_set(user: isx_domain::UserId) -> (Vec<String>, Vec<String>) {
    let codes = new_recovery_codes();
    let hashes = codes
        .iter()
        .filter_map(|c| normalise_recovery_code(c))
        .map(|c| recovery_hash(user, &c))
        .collect();
    (codes, hashes)
}

/// Checks a code `user` typed: a TOTP code of its factor (each step once,
/// checked and recorded in one statement, so no two nodes accept one
/// code) or one of its unused recovery codes. Wrong codes in a row are
/// counted in the store (every node alike) up to [`MAX_FAILURES`].
pub async fn check(
    store: &dyn isx_store::Store,
    user: isx_domain::UserId,
    typed: &str,
    now: isx_domain::Timestamp,
) -> Result<Checked, crate::AppError> {
    let Some(factor) = store.totp(user).await? else {
        return Ok(Checked::Wrong);
    };
    if factor.failures >= MAX_FAILURES {
        return Ok(Checked::Locked);
    }
    let mut proof = None;
    if let Some(key) = unbase32(&factor.secret) {
        if let Some(step) = verify(&key, typed, now.as_secs(), Some(factor.last_step)) {
            if store.use_totp_step(user, step).await? {
                proof = Some(Proof::Totp);
            }
        }
    }
    if proof.is_none() {
        if let Some(code) = normalise_recovery_code(typed) {
            if store
                .use_recovery_code(user, &recovery_hash(user, &code), now)
                .await?
            {
                proof = Some(Proof::RecoveryCode);
            }
        }
    }
    match proof {
        Some(p) => {
            store.clear_factor_failures(user).await?;
            Ok(Checked::Proven(p))
        }
        None => {
            let n = store.note_factor_failure(user).await?;
            Ok(if n >= MAX_FAILURES {
                Checked::Locked
            } else {
                Checked::Wrong
            })
        }
    }
}

/// The outcome of an enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolled {
    /// Enrolled: the new recovery codes, to show once.
    Codes(Vec<String>),
    /// The code was not the secret's current one.
    WrongCode,
    /// The user has a factor already (and none was to be replaced).
    AlreadyEnrolled,
}

/// Enrols `secret` as `user`'s TOTP factor when `typed` is its current
/// code (proving the authenticator holds it) — replacing an existing
/// factor only if `replace` (the caller checked the current one).
pub async fn enrol(
    store: &dyn isx_store::Store,
    user: isx_domain::UserId,
    secret: &str,
    typed: &str,
    replace: bool,
    now: isx_domain::Timestamp,
) -> Result<Enrolled, crate::AppError> {
    let key = match unbase32(secret) {
        Some(k) if is_secret(secret) => k,
        _ => {
            return Err(crate::AppError::BadRequest(
                "not a TOTP secret of isx".into(),
            ))
        }
    };
    let Some(step) = verify(&key, typed, now.as_secs(), None) else {
        return Ok(Enrolled::WrongCode);
    };
    let (codes, hashes) = recovery_set(user);
    // Stored in its one spelling, whatever spacing or case it came in.
    if store
        .put_totp(user, &base32(&key), step, &hashes, replace, now)
        .await?
    {
        Ok(Enrolled::Codes(codes))
    } else {
        Ok(Enrolled::AlreadyEnrolled)
    }
}

/// A new set of recovery codes for `user` (the old ones end), to show once.
pub async fn renew_recovery_codes(
    store: &dyn isx_store::Store,
    user: isx_domain::UserId,
    now: isx_domain::Timestamp,
) -> Result<Vec<String>, crate::AppError> {
    let (codes, hashes) = recovery_set(user);
    store.replace_recovery_codes(user, &hashes, now).await?;
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B, the SHA-1 rows: the 20-byte ASCII key
    /// "12345678901234567890", 8 digits.
    #[test]
    fn rfc_6238_test_vectors() {
        let key = b"12345678901234567890";
        for (t, want) in [
            (59u64, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(hotp(key, t / 30, 8), want, "T = {t}");
        }
    }

    /// RFC 4226, appendix D: HOTP of the same key, counters 0 … 9.
    #[test]
    fn rfc_4226_test_vectors() {
        let want = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, w) in want.iter().enumerate() {
            assert_eq!(hotp(b"12345678901234567890", counter as u64, 6), *w);
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(unbase32("mzxw 6ytb oi======"), Some(b"foobar".to_vec()));
        assert_eq!(unbase32("MZ1"), None);
        let s = new_secret();
        assert_eq!(s.len(), 32);
        assert_eq!(unbase32(&s).map(|b| b.len()), Some(SECRET_BYTES));
        assert_ne!(s, new_secret());
    }

    #[test]
    fn a_code_is_accepted_once_within_its_window_only() {
        let key = b"12345678901234567890";
        let now = 1_800_000_015;
        let code = code_at(key, step_of(now));
        assert_eq!(verify(key, &code, now, None), Some(step_of(now)));
        // Replayed: refused once its step (or a later one) was used.
        assert_eq!(verify(key, &code, now, Some(step_of(now))), None);
        // The previous step's code still counts (drift), the one before not.
        let previous = code_at(key, step_of(now) - 1);
        assert_eq!(verify(key, &previous, now, None), Some(step_of(now) - 1));
        let old = code_at(key, step_of(now) - 2);
        assert_eq!(verify(key, &old, now, None), None);
        // Not digits, or not six of them.
        for bad in ["", "12345", "1234567", "abcdef", &code[..5]] {
            assert_eq!(verify(key, bad, now, None), None, "{bad:?}");
        }
        assert_eq!(
            verify(key, &format!(" {} {} ", &code[..3], &code[3..]), now, None),
            Some(step_of(now))
        );
    }

    #[test]
    fn the_uri_names_issuer_account_and_parameters() {
        let uri = otpauth_uri("Example CERT", "alice@x", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            uri,
            "otpauth://totp/Example%20CERT:alice%40x?secret=JBSWY3DPEHPK3PXP&issuer=Example%20CERT&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn recovery_codes_are_distinct_and_read_back_as_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let c = &codes[0];
        assert_eq!(c.len(), 14);
        let typed = format!(" {} ", c.to_uppercase().replace('-', " "));
        assert_eq!(normalise_recovery_code(&typed), normalise_recovery_code(c));
        assert!(normalise_recovery_code(c).is_some());
        assert_eq!(normalise_recovery_code("123456"), None);
    }
}
