//! Clean file lists of every input format: never a panic, every error
//! names a line within the input, and every record that reads is
//! normalised (re-normalising changes nothing) and has a SHA-256.
#![no_main]
use isx_formats::cleanfiles::{parse_clean_files, CleanListFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = String::from_utf8_lossy(data).lines().count();
    for format in [
        CleanListFormat::Csv,
        CleanListFormat::Ndjson,
        CleanListFormat::Hashes,
    ] {
        for row in parse_clean_files(data, format, "fuzz") {
            match row {
                Ok(f) => assert_eq!(f.clone().normalise().ok(), Some(f)),
                Err(e) => assert!(e.line >= 1 && e.line <= lines),
            }
        }
    }
});
