//! MISP event documents (what a member imports into a trust group): never
//! a panic; what reads holds its limits — lower-case UUIDs, at most the
//! events and attributes a document may hold, pointers into the document
//! — and every refusal says where.
#![no_main]
use isx_formats::misp_read::{read_events, MAX_ATTRIBUTES, MAX_EVENTS};
use isx_formats::FormatError;
use libfuzzer_sys::fuzz_target;

fn uuid_shaped(u: &str) -> bool {
    u.len() == 36
        && u.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit() && !c.is_ascii_uppercase()
            }
        })
}

fuzz_target!(|data: &[u8]| {
    match read_events(data) {
        Ok(events) => {
            assert!(events.len() <= MAX_EVENTS);
            let attributes: usize = events.iter().map(|e| e.attributes.len()).sum();
            assert!(attributes <= MAX_ATTRIBUTES);
            for e in &events {
                assert!(uuid_shaped(&e.uuid), "{}", e.uuid);
                assert!(e.pointer.is_empty() || e.pointer.starts_with('/'));
                assert!((1..=4).contains(&e.threat_level) && e.analysis <= 2);
                assert!(e.distribution <= 4);
                for a in &e.attributes {
                    assert!(uuid_shaped(&a.uuid), "{}", a.uuid);
                    assert!(a.pointer.starts_with(&e.pointer) && a.pointer.contains("/Attribute/"));
                    assert!(a.distribution <= 4);
                }
                for t in &e.techniques {
                    assert!(t.starts_with('T') && (t.len() == 5 || t.len() == 9), "{t}");
                }
            }
        }
        Err(FormatError::Value { pointer, message }) => {
            assert!(pointer.is_empty() || pointer.starts_with('/'));
            assert!(!message.is_empty());
        }
        Err(FormatError::Json(_)) => {}
        Err(other) => panic!("unexpected error kind: {other}"),
    }
});
