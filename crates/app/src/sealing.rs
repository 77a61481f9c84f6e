//! Files only their recipient can read: a member registers age X25519
//! recipients (`age1…`), and every file meant for that member alone (its
//! botnet batches) is delivered encrypted to all of them (the age format,
//! `application/age`). The manifest keeps the plaintext's SHA-256 and
//! signature: the member decrypts, then verifies. Shared files stay plain
//! and signed.

use std::io::Write;
use std::str::FromStr;

use isx_domain::{Clock, MemberId};
use isx_policy::{Action, Actor};
use isx_store::{FeedFile, Store};

use crate::{AppError, Result};

/// Recipients a member may register.
pub const MAX_RECIPIENTS: usize = 10;

/// The media type of an encrypted file.
pub const AGE_MEDIA_TYPE: &str = "application/age";

fn parse(text: &str) -> std::result::Result<age::x25519::Recipient, String> {
    age::x25519::Recipient::from_str(text.trim()).map_err(|e| e.to_string())
}

/// Checks and stores `member`'s recipients as `by` asks (its
/// administrators, or the operator's); an empty list makes its files
/// plain again.
pub async fn set_recipients(
    store: &dyn Store,
    clock: &dyn Clock,
    by: Option<&Actor>,
    member: MemberId,
    recipients: &[String],
) -> Result<Vec<String>> {
    crate::admin::authorize(
        by,
        &Action::ManageMemberSettings { member },
        &format!("member {member}"),
    )?;
    if recipients.len() > MAX_RECIPIENTS {
        return Err(AppError::invalid(format!(
            "at most {MAX_RECIPIENTS} recipients"
        )));
    }
    let mut clean = Vec::new();
    for (i, r) in recipients.iter().enumerate() {
        let lower = r.trim().to_ascii_lowercase();
        let r = lower.as_str();
        if r.len() > 200 {
            return Err(AppError::Validation {
                detail: "a recipient is an age X25519 public key (age1…)".into(),
                pointer: Some(format!("/recipients/{i}")),
            });
        }
        parse(r).map_err(|e| AppError::Validation {
            detail: format!(
                "{r:?} is not an age X25519 recipient (age1…, as `age-keygen` prints): {e}"
            ),
            pointer: Some(format!("/recipients/{i}")),
        })?;
        if !clean.iter().any(|c: &String| c == r) {
            clean.push(r.to_owned());
        }
    }
    store.set_recipients(member, &clean, clock.now()).await?;
    Ok(clean)
}

/// Encrypts `plaintext` to `recipients` (age, binary).
pub fn seal(recipients: &[String], plaintext: &[u8]) -> Result<Vec<u8>> {
    let parsed: Vec<age::x25519::Recipient> = recipients
        .iter()
        .map(|r| parse(r).map_err(|e| AppError::Internal(format!("stored recipient: {e}"))))
        .collect::<Result<_>>()?;
    let boxed: Vec<&dyn age::Recipient> = parsed.iter().map(|r| r as &dyn age::Recipient).collect();
    let encryptor = age::Encryptor::with_recipients(boxed.into_iter())
        .map_err(|e| AppError::Internal(format!("age: {e}")))?;
    let mut out = Vec::with_capacity(plaintext.len() + 512);
    let mut w = encryptor
        .wrap_output(&mut out)
        .map_err(|e| AppError::Internal(format!("age: {e}")))?;
    w.write_all(plaintext)
        .map_err(|e| AppError::Internal(format!("age: {e}")))?;
    w.finish()
        .map_err(|e| AppError::Internal(format!("age: {e}")))?;
    Ok(out)
}

/// The recipients `file` is delivered encrypted to: its member's, if it
/// is meant for one member alone and that member registered any.
pub async fn recipients_of(store: &dyn Store, file: &FeedFile) -> Result<Vec<String>> {
    match file.member {
        Some(m) => Ok(store.recipients(m).await?),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    #[test]
    fn sealed_files_open_with_each_recipient_only() {
        let (a, b, c) = (
            age::x25519::Identity::generate(),
            age::x25519::Identity::generate(),
            age::x25519::Identity::generate(),
        );
        let to = vec![a.to_public().to_string(), b.to_public().to_string()];
        let sealed = seal(&to, b"victim data").unwrap();
        assert!(sealed.starts_with(b"age-encryption.org/v1"));
        for id in [&a, &b] {
            let d = age::Decryptor::new(&sealed[..]).unwrap();
            let mut r = d
                .decrypt(std::iter::once(id as &dyn age::Identity))
                .unwrap();
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut r, &mut out).unwrap();
            assert_eq!(out, b"victim data");
        }
        let d = age::Decryptor::new(&sealed[..]).unwrap();
        assert!(d
            .decrypt(std::iter::once(&c as &dyn age::Identity))
            .is_err());
        assert!(c
            .to_string()
            .expose_secret()
            .starts_with("AGE-SECRET-KEY-1"));
    }
}
