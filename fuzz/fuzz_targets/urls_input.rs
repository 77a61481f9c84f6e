//! URL source files of every input format: never a panic, and every row
//! either reads or names its line.
#![no_main]
use isx_formats::urls::{parse_urls, UrlInputFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [UrlInputFormat::Json, UrlInputFormat::Ndjson, UrlInputFormat::Csv] {
        if let Ok(rows) = parse_urls(data, format) {
            for (line, row) in rows {
                assert!(line >= 1);
                if let Err(e) = row {
                    assert_eq!(e.line, line);
                }
            }
        }
    }
});
