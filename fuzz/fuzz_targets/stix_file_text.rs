//! A clean-file page row written as STIX text is JSON that parses back,
//! whatever the row's strings hold.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rows) = serde_json::from_str::<Vec<isx_formats::cleanfiles::CleanRow<'_>>>(text) else {
        return;
    };
    let (mut out, mut scratch) = (String::new(), String::new());
    for r in &rows {
        out.clear();
        let id = isx_formats::cleanfiles::write_stix_file(&mut out, &mut scratch, r);
        let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(v["id"].as_str(), Some(id.as_str()));
    }
});
