//! The embedded CSAF 2.0 schema, compiled once.

use std::sync::OnceLock;

use serde_json::Value;

use crate::FormatError;

const CSAF: &str = include_str!("../../schema/csaf_json_schema.json");
const CVSS_V2: &str = include_str!("../../schema/cvss-v2.0.json");
const CVSS_V30: &str = include_str!("../../schema/cvss-v3.0.json");
const CVSS_V31: &str = include_str!("../../schema/cvss-v3.1.json");

fn validator() -> Result<&'static jsonschema::Validator, FormatError> {
    static V: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    V.get_or_init(|| {
        let parse = |s: &str| serde_json::from_str::<Value>(s).map_err(|e| e.to_string());
        let registry = jsonschema::Registry::new()
            .add("https://www.first.org/cvss/cvss-v2.0.json", parse(CVSS_V2)?)
            .map_err(|e| e.to_string())?
            .add(
                "https://www.first.org/cvss/cvss-v3.0.json",
                parse(CVSS_V30)?,
            )
            .map_err(|e| e.to_string())?
            .add(
                "https://www.first.org/cvss/cvss-v3.1.json",
                parse(CVSS_V31)?,
            )
            .map_err(|e| e.to_string())?
            .prepare()
            .map_err(|e| e.to_string())?;
        jsonschema::options()
            .with_registry(&registry)
            .should_validate_formats(true)
            .build(&parse(CSAF)?)
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| FormatError::Schema {
        pointer: String::new(),
        message: format!("the embedded CSAF schema does not compile: {e}"),
    })
}

/// Validates `doc` against the CSAF 2.0 schema; the first problem is
/// reported with its JSON pointer.
pub fn validate(doc: &Value) -> Result<(), FormatError> {
    let v = validator()?;
    match v.iter_errors(doc).next() {
        None => Ok(()),
        Some(e) => {
            let pointer = e.instance_path().to_string();
            Err(FormatError::Schema {
                pointer: if pointer.is_empty() {
                    "/".into()
                } else {
                    pointer
                },
                message: e.to_string(),
            })
        }
    }
}

/// Validates a CVSS object (`key`: `cvss_v2` or `cvss_v3`) against FIRST's
/// schema of its version; the first problem is reported.
pub(crate) fn validate_cvss(key: &str, object: &Value) -> Result<(), String> {
    static V: OnceLock<Result<[jsonschema::Validator; 3], String>> = OnceLock::new();
    let validators = V
        .get_or_init(|| {
            let compile = |s: &str| -> Result<jsonschema::Validator, String> {
                let schema: Value = serde_json::from_str(s).map_err(|e| e.to_string())?;
                jsonschema::validator_for(&schema).map_err(|e| e.to_string())
            };
            Ok([compile(CVSS_V2)?, compile(CVSS_V30)?, compile(CVSS_V31)?])
        })
        .as_ref()?;
    let v = match (key, object.get("version").and_then(Value::as_str)) {
        ("cvss_v2", _) => &validators[0],
        (_, Some("3.0")) => &validators[1],
        (_, Some("3.1")) => &validators[2],
        (_, other) => return Err(format!("no CVSS v3 schema for version {other:?}")),
    };
    match v.iter_errors(object).next() {
        None => Ok(()),
        Some(e) => Err(format!("{} {e}", e.instance_path())),
    }
}
