//! OpenPGP (RFC 4880 with the EdDSA of RFC 9580 §5.5.5, "legacy" v4 form)
//! as far as a CSAF trusted provider needs it: an Ed25519 public key
//! certificate with one user id, and detached, ASCII-armoured signatures
//! of documents (§7.1.19 and §7.1.20 of CSAF 2.0).
//!
//! Only emission: isx signs with its own key and never parses OpenPGP.
//! The private key stays with the caller: every function here takes a
//! `sign` function that returns the 64-byte Ed25519 signature of a
//! message, so this crate needs no private key and no randomness.
//! `gpg --verify` is the oracle (see the trusted-provider tests).

use base64::Engine;
use sha2::{Digest, Sha512};

/// Algorithm numbers (RFC 9580 §9.1, §9.5).
const EDDSA_LEGACY: u8 = 22;
const SHA512: u8 = 10;
/// The curve OID of Ed25519Legacy (1.3.6.1.4.1.11591.15.1).
const ED25519_OID: [u8; 9] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01];

/// Packet tags (RFC 9580 §5).
const TAG_SIGNATURE: u8 = 2;
const TAG_PUBLIC_KEY: u8 = 6;
const TAG_USER_ID: u8 = 13;

/// Signature types (RFC 9580 §5.2.1).
const SIG_BINARY: u8 = 0x00;
const SIG_POSITIVE_CERT: u8 = 0x13;

/// Signature subpacket types (RFC 9580 §5.2.3.7).
const SUB_CREATED: u8 = 2;
const SUB_ISSUER: u8 = 16;
const SUB_PREFERRED_HASH: u8 = 21;
const SUB_KEY_FLAGS: u8 = 27;
const SUB_ISSUER_FINGERPRINT: u8 = 33;

/// What signs: Ed25519 over the message it is given, 64 bytes.
pub type SignFn<'a> = &'a dyn Fn(&[u8]) -> [u8; 64];

/// An Ed25519 signing key's public half as OpenPGP names it: the key's
/// creation time is part of its fingerprint, so it is kept with the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The raw Ed25519 public key.
    pub ed25519: [u8; 32],
    /// Seconds since the Unix epoch.
    pub created: u32,
}

impl PublicKey {
    /// The body of the public-key packet.
    fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(51);
        b.push(4);
        b.extend_from_slice(&self.created.to_be_bytes());
        b.push(EDDSA_LEGACY);
        b.push(ED25519_OID.len() as u8);
        b.extend_from_slice(&ED25519_OID);
        // The point in native form: 0x40 then the 32 bytes, as an MPI.
        let mut point = Vec::with_capacity(33);
        point.push(0x40);
        point.extend_from_slice(&self.ed25519);
        b.extend_from_slice(&mpi(&point));
        b
    }

    /// The v4 fingerprint: SHA-1 over 0x99, the body length and the body
    /// (RFC 9580 §5.5.4.2), 20 bytes.
    pub fn fingerprint(&self) -> [u8; 20] {
        let body = self.body();
        let mut h = sha1_smol::Sha1::new();
        h.update(&[0x99]);
        h.update(&(body.len() as u16).to_be_bytes());
        h.update(&body);
        h.digest().bytes()
    }

    /// The fingerprint in upper-case hex, as `provider-metadata.json` and
    /// `gpg --with-colons` write it.
    pub fn fingerprint_hex(&self) -> String {
        hex_upper(&self.fingerprint())
    }

    /// The key id: the low 8 bytes of the fingerprint.
    pub fn key_id(&self) -> [u8; 8] {
        let f = self.fingerprint();
        let mut id = [0u8; 8];
        id.copy_from_slice(f.get(12..).unwrap_or(&[0; 8]));
        id
    }

    /// The transferable public key (public-key packet, user id, positive
    /// self-certification made with `sign` at the key's creation time),
    /// ASCII-armoured.
    pub fn armored_certificate(&self, user_id: &str, sign: SignFn<'_>) -> String {
        let body = self.body();
        let mut hashed = Vec::new();
        hashed.extend(subpacket(SUB_CREATED, &self.created.to_be_bytes()));
        hashed.extend(subpacket(SUB_KEY_FLAGS, &[0x03])); // certify and sign
        hashed.extend(subpacket(SUB_PREFERRED_HASH, &[SHA512, 8]));
        hashed.extend(subpacket(SUB_ISSUER_FINGERPRINT, &self.issuer_fpr()));
        let mut prefix = Vec::new();
        prefix.push(0x99);
        prefix.extend_from_slice(&(body.len() as u16).to_be_bytes());
        prefix.extend_from_slice(&body);
        prefix.push(0xB4);
        prefix.extend_from_slice(&(user_id.len() as u32).to_be_bytes());
        prefix.extend_from_slice(user_id.as_bytes());
        let sig = self.signature(SIG_POSITIVE_CERT, &prefix, &hashed, sign);
        let mut out = packet(TAG_PUBLIC_KEY, &body);
        out.extend(packet(TAG_USER_ID, user_id.as_bytes()));
        out.extend(packet(TAG_SIGNATURE, &sig));
        armor("PGP PUBLIC KEY BLOCK", &out)
    }

    /// A detached signature of `data` (a binary document) made at `at`
    /// (seconds since the epoch), ASCII-armoured: the `.asc` next to a
    /// CSAF document.
    pub fn armored_signature(&self, data: &[u8], at: u32, sign: SignFn<'_>) -> String {
        let mut hashed = Vec::new();
        hashed.extend(subpacket(SUB_CREATED, &at.to_be_bytes()));
        hashed.extend(subpacket(SUB_ISSUER_FINGERPRINT, &self.issuer_fpr()));
        let sig = self.signature(SIG_BINARY, data, &hashed, sign);
        armor("PGP SIGNATURE", &packet(TAG_SIGNATURE, &sig))
    }

    fn issuer_fpr(&self) -> Vec<u8> {
        let mut v = vec![4];
        v.extend_from_slice(&self.fingerprint());
        v
    }

    /// A v4 signature packet body over `prefix` (the signed data) with the
    /// hashed subpackets `hashed`; the issuer key id unhashed.
    fn signature(&self, kind: u8, prefix: &[u8], hashed: &[u8], sign: SignFn<'_>) -> Vec<u8> {
        let mut fields = vec![4, kind, EDDSA_LEGACY, SHA512];
        fields.extend_from_slice(&(hashed.len() as u16).to_be_bytes());
        fields.extend_from_slice(hashed);
        let mut h = Sha512::new();
        h.update(prefix);
        h.update(&fields);
        h.update([0x04, 0xFF]);
        h.update((fields.len() as u32).to_be_bytes());
        let digest = h.finalize();
        // EdDSA in OpenPGP signs the digest itself.
        let raw = sign(&digest);
        let unhashed = subpacket(SUB_ISSUER, &self.key_id());
        let mut out = fields;
        out.extend_from_slice(&(unhashed.len() as u16).to_be_bytes());
        out.extend_from_slice(&unhashed);
        out.extend_from_slice(digest.get(..2).unwrap_or(&[0, 0]));
        out.extend(mpi(raw.get(..32).unwrap_or(&[])));
        out.extend(mpi(raw.get(32..).unwrap_or(&[])));
        out
    }
}

/// A multiprecision integer: bit count (2 bytes) and the big-endian value
/// without leading zero bytes.
fn mpi(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let v = bytes.get(start..).unwrap_or(&[]);
    let bits = match v.first() {
        Some(first) => (v.len() as u16 - 1) * 8 + (8 - first.leading_zeros() as u16),
        None => 0,
    };
    let mut out = bits.to_be_bytes().to_vec();
    out.extend_from_slice(v);
    out
}

fn subpacket(kind: u8, data: &[u8]) -> Vec<u8> {
    // Every subpacket isx writes is shorter than 192 bytes: one length octet.
    let mut v = vec![(data.len() + 1) as u8, kind];
    v.extend_from_slice(data);
    v
}

/// A packet with a new-format header (RFC 9580 §4.2.1).
fn packet(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xC0 | tag];
    let n = body.len();
    if n < 192 {
        v.push(n as u8);
    } else if n < 8384 {
        let m = n - 192;
        v.push(((m >> 8) + 192) as u8);
        v.push((m & 0xFF) as u8);
    } else {
        v.push(0xFF);
        v.extend_from_slice(&(n as u32).to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

/// The CRC-24 of ASCII armour (RFC 9580 §6.1).
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00B7_04CE;
    for b in data {
        crc ^= u32::from(*b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

fn armor(label: &str, data: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let text = b64.encode(data);
    let mut out = format!("-----BEGIN {label}-----\n\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    let crc = crc24(data).to_be_bytes();
    out.push('=');
    out.push_str(&b64.encode(crc.get(1..).unwrap_or(&[])));
    out.push('\n');
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpis_count_bits_without_leading_zeros() {
        assert_eq!(mpi(&[0x01]), vec![0, 1, 1]);
        assert_eq!(mpi(&[0x00, 0x80, 0x00]), vec![0, 16, 0x80, 0]);
        assert_eq!(mpi(&[0x40; 33]).get(..2), Some(&[0x01, 0x07][..]));
        assert_eq!(mpi(&[0, 0]), vec![0, 0]);
    }

    #[test]
    fn crc24_matches_the_rfc_reference() {
        // The CRC of no data is the initial value; of "123456789" it is
        // 0x21CF02 (the CRC-24/OPENPGP check value).
        assert_eq!(crc24(b""), 0xB704CE);
        assert_eq!(crc24(b"123456789"), 0x21CF02);
    }

    #[test]
    fn packet_lengths_use_one_two_or_five_octets() {
        assert_eq!(packet(2, &[0; 10]).get(..2), Some(&[0xC2, 10][..]));
        assert_eq!(packet(2, &[0; 200]).get(..3), Some(&[0xC2, 192, 8][..]));
        assert_eq!(
            packet(2, &vec![0; 10_000]).get(..6),
            Some(&[0xC2, 0xFF, 0, 0, 0x27, 0x10][..])
        );
    }

    #[test]
    fn the_fingerprint_covers_key_and_creation_time() {
        let a = PublicKey {
            ed25519: [7; 32],
            created: 1_700_000_000,
        };
        let b = PublicKey {
            created: 1_700_000_001,
            ..a.clone()
        };
        assert_eq!(a.fingerprint_hex().len(), 40);
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.key_id(), a.fingerprint()[12..]);
    }
}
