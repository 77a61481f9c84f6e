//! What an OpenID provider (or a forger between it and isx) sends: an ID
//! token, a JWK set, a discovery document, a token answer. Never a panic;
//! a JWS that reads re-joins to the text it came from; every refusal is a
//! value error with a pointer.
#![no_main]
use isx_formats::oidc::{parse_discovery, parse_jwks, parse_jws, parse_token_answer, MAX_BYTES};
use isx_formats::FormatError;
use libfuzzer_sys::fuzz_target;

fn refusal(r: Result<(), FormatError>) {
    match r {
        Ok(()) => {}
        Err(FormatError::Value { pointer, message }) => {
            assert!(pointer.is_empty() || pointer.starts_with('/'));
            assert!(!message.is_empty());
        }
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        refusal(parse_jws(text).map(|jws| {
            assert!(text.len() <= MAX_BYTES);
            assert!(text.starts_with(&jws.signing_input));
            assert_eq!(text.matches('.').count(), 2);
        }));
    }
    refusal(parse_jwks(data).map(|_| ()));
    refusal(parse_discovery(data).map(|_| ()));
    refusal(parse_token_answer(data).map(|_| ()));
});
