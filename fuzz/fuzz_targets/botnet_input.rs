//! Botnet event lines of both input formats: never a panic, every error
//! names a line within the input, and every event that reads is valid.
#![no_main]
use isx_domain::{BotnetProduct, Timestamp, Tlp};
use isx_formats::botnet::{parse_events, BotnetDefaults, BotnetInputFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lines = String::from_utf8_lossy(data).lines().count();
    for format in [BotnetInputFormat::Ndjson, BotnetInputFormat::Csv] {
        let defaults = BotnetDefaults {
            product: Some(BotnetProduct::Infected),
            source: "fuzz".into(),
            marking: Tlp::Amber,
            received_at: Timestamp::from_secs(1_795_000_000),
        };
        for row in parse_events(data, format, defaults) {
            match row {
                Ok(e) => {
                    assert!(e.first_seen <= e.last_seen);
                    assert!(e.count >= 1);
                    assert!(e.clone().validate().is_ok());
                }
                Err(e) => assert!(e.line >= 1 && e.line <= lines),
            }
        }
    }
});
