//! Canonical URLs are a fixed point: canonicalising one again changes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(once) = isx_urls::canonicalize(text) {
            let twice = isx_urls::canonicalize(&once.url).expect("a canonical URL parses");
            assert_eq!(once, twice);
        }
    }
});
