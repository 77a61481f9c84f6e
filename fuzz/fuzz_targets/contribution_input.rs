//! A contribution as members post it: any JSON either is refused with an
//! error or checks; then deciding "redact" for every PII finding must
//! succeed and leave none of those findings, and the STIX objects of the
//! result are JSON that parses back.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(new) = serde_json::from_slice::<isx_partnership::NewContribution>(data) else {
        return;
    };
    let Ok(mut content) = new.checked() else {
        return;
    };
    let found: Vec<String> = isx_partnership::findings(&content)
        .into_iter()
        .map(|f| f.text)
        .collect();
    let choices = isx_partnership::PiiChoices {
        redact: found.clone(),
        keep: Vec::new(),
    };
    isx_partnership::check_pii_choices(&mut content, &choices).expect("every finding decided");
    for f in isx_partnership::findings(&content) {
        assert!(!found.contains(&f.text), "a redacted finding is gone: {}", f.text);
    }
    let c = isx_partnership::Contribution {
        id: isx_partnership::ContributionId(1),
        group: isx_domain::GroupId(1),
        author: isx_domain::MemberId(1),
        content,
        version: 1,
        created_at: isx_domain::Timestamp::from_secs(1_800_000_000),
        updated_at: isx_domain::Timestamp::from_secs(1_800_000_000),
        origin: None,
        stix_id: "incident--00000000-0000-4000-8000-000000000001".into(),
    };
    for o in isx_formats::partnership::stix_contribution(&c, &[], "identity--x", true) {
        let text = o.to_string();
        serde_json::from_str::<serde_json::Value>(&text).expect("STIX is JSON");
    }
});
