//! Rows of NDJSON or CSV read a line at a time into name → text maps,
//! for the importers that find their fields by name (botnet events, clean
//! file lists). Names are lower case; CSV header names have spaces and
//! dashes turned into underscores; nested JSON objects are flattened.

use std::collections::HashMap;

use serde_json::Value;

/// Reads one line at a time.
#[derive(Debug)]
pub struct FieldReader {
    csv: bool,
    columns: Option<Vec<String>>,
    line: usize,
}

impl FieldReader {
    /// `csv`: a header line first, then cells; otherwise JSON objects.
    pub fn new(csv: bool) -> Self {
        FieldReader {
            csv,
            columns: None,
            line: 0,
        }
    }

    /// The number of the line read last (1-based).
    pub fn line_number(&self) -> usize {
        self.line
    }

    /// The CSV header's column names, once it has been read.
    pub fn columns(&self) -> Option<&[String]> {
        self.columns.as_deref()
    }

    /// The next line's fields. `None` for blank lines, `#` comments in CSV
    /// and the CSV header; `Err` with a message for a line that cannot be
    /// read.
    pub fn line(&mut self, text: &str) -> Option<Result<HashMap<String, String>, String>> {
        self.line += 1;
        let t = text.trim_start_matches('\u{feff}').trim();
        if t.is_empty() || (t.starts_with('#') && self.csv) {
            return None;
        }
        if !self.csv {
            return Some(match serde_json::from_str::<Value>(t) {
                Ok(Value::Object(o)) => {
                    let mut f = HashMap::new();
                    flatten(&o, &mut f);
                    Ok(f)
                }
                Ok(_) => Err("expected a JSON object".to_owned()),
                Err(e) => Err(format!("not JSON: {e}")),
            });
        }
        let cells = split_csv_line(t);
        Some(match &self.columns {
            None => {
                self.columns = Some(
                    cells
                        .iter()
                        .map(|c| c.trim().to_ascii_lowercase().replace([' ', '-'], "_"))
                        .collect(),
                );
                return None;
            }
            Some(cols) if cols.len() != cells.len() => Err(format!(
                "{} cells, the header has {}",
                cells.len(),
                cols.len()
            )),
            Some(cols) => Ok(cols
                .iter()
                .zip(cells)
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| (k.clone(), v.trim().to_owned()))
                .collect()),
        })
    }
}

/// Object keys lower case; nested objects (CTIP's `SourceIpInfo`,
/// hashlookup's `ProductCode`) flattened into the same map.
pub(crate) fn flatten(o: &serde_json::Map<String, Value>, out: &mut HashMap<String, String>) {
    for (k, v) in o {
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
                .join(","),
            Value::Object(inner) => {
                flatten(inner, out);
                continue;
            }
        };
        if !text.is_empty() {
            out.insert(k.to_ascii_lowercase(), text);
        }
    }
}

/// Splits one CSV line (RFC 4180 quoting; no line breaks inside cells).
pub(crate) fn split_csv_line(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            (',', false) => cells.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    cells.push(cur);
    cells
}

/// The first of `names` present.
pub(crate) fn pick<'a>(f: &'a HashMap<String, String>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| f.get(*n)).map(String::as_str)
}
