//! The frame every feed file shares, whatever its records: a JSON array,
//! NDJSON lines, CSV with a header row, or a STIX 2.1 bundle that opens
//! with the instance's identity and the TLP marking definitions. Product
//! writers (`urls::UrlFeedWriter`, `botnet::out::BatchWriter`) say how a
//! record looks in each format; the frame writes it, counts it and keeps
//! the strictest marking.

use std::io::{self, Write};

use isx_domain::Tlp;
use serde::Serialize;
use serde_json::Value;

use crate::stix;

pub struct FeedFrame<W: Write> {
    out: W,
    format: FeedFormat,
    count: u64,
    identity: String,
    strictest: Option<Tlp>,
}

impl<W: Write> FeedFrame<W> {
    /// Starts a file: `[`, the CSV header, or the bundle's opening objects.
    /// `instance` names the producing isx instance (the STIX identity);
    /// `bundle_key` makes the bundle id deterministic.
    pub fn new(
        mut out: W,
        format: FeedFormat,
        instance: &str,
        bundle_key: &str,
        csv_columns: &[&str],
    ) -> io::Result<Self> {
        let identity = stix::instance_identity(instance);
        let identity_id = identity
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match format {
            FeedFormat::Json => out.write_all(b"[")?,
            FeedFormat::Ndjson => {}
            FeedFormat::Csv => write_csv_row(&mut out, csv_columns.iter().copied())?,
            FeedFormat::Stix => {
                writeln!(
                    out,
                    "{{\"type\":\"bundle\",\"id\":\"{}\",\"objects\":[",
                    stix::object_id("bundle", bundle_key)
                )?;
                serde_json::to_writer(&mut out, &identity)?;
                for tlp in Tlp::ALL {
                    out.write_all(b",\n")?;
                    serde_json::to_writer(&mut out, &stix::tlp_marking(tlp))?;
                }
            }
        }
        Ok(FeedFrame {
            out,
            format,
            count: 0,
            identity: identity_id,
            strictest: None,
        })
    }

    pub fn format(&self) -> FeedFormat {
        self.format
    }

    /// The id of the instance's STIX identity (for `created_by_ref`).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// A record in the JSON or NDJSON file.
    pub fn json<T: Serialize>(&mut self, record: &T, marking: Tlp) -> io::Result<()> {
        if self.format == FeedFormat::Json {
            self.out
                .write_all(if self.count == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut self.out, record)?;
        } else {
            serde_json::to_writer(&mut self.out, record)?;
            self.out.write_all(b"\n")?;
        }
        self.counted(marking);
        Ok(())
    }

    /// A record in the CSV file.
    pub fn csv<'a>(
        &mut self,
        cells: impl Iterator<Item = &'a str>,
        marking: Tlp,
    ) -> io::Result<()> {
        write_csv_row(&mut self.out, cells)?;
        self.counted(marking);
        Ok(())
    }

    /// A record's objects in the STIX bundle.
    pub fn stix(&mut self, objects: &[Value], marking: Tlp) -> io::Result<()> {
        for o in objects {
            self.out.write_all(b",\n")?;
            serde_json::to_writer(&mut self.out, o)?;
        }
        self.counted(marking);
        Ok(())
    }

    fn counted(&mut self, marking: Tlp) {
        self.count += 1;
        self.strictest = Some(self.strictest.map_or(marking, |t| t.max(marking)));
    }

    /// Ends the file; returns the writer, the number of records and the
    /// most restrictive marking among them.
    pub fn finish(mut self) -> io::Result<(W, u64, Option<Tlp>)> {
        match self.format {
            FeedFormat::Json => {
                self.out
                    .write_all(if self.count == 0 { b"]\n" } else { b"\n]\n" })?
            }
            FeedFormat::Ndjson | FeedFormat::Csv => {}
            FeedFormat::Stix => self.out.write_all(b"\n]}\n")?,
        }
        self.out.flush()?;
        Ok((self.out, self.count, self.strictest))
    }
}

/// Output formats of feed files and exports, for every product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedFormat {
    Json,
    Ndjson,
    Csv,
    Stix,
}

impl FeedFormat {
    pub const ALL: [FeedFormat; 4] = [Self::Json, Self::Ndjson, Self::Csv, Self::Stix];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
            Self::Stix => "stix",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Csv => "csv",
            Self::Stix => "stix.json",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Ndjson => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Stix => "application/stix+json;version=2.1",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// One CSV row (RFC 4180: cells with `,`, `"` or line breaks quoted).
pub(crate) fn write_csv_row<'a>(
    out: &mut impl Write,
    cells: impl Iterator<Item = &'a str>,
) -> io::Result<()> {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if cell.contains([',', '"', '\n', '\r']) {
            write!(out, "\"{}\"", cell.replace('"', "\"\""))?;
        } else {
            out.write_all(cell.as_bytes())?;
        }
    }
    out.write_all(b"\r\n")
}
