//! `--format jsonl`: one JSON object per line per scored window,
//! `{"timestamp":…,<key columns>,"score":…,"threshold":…,"anomaly":…,"top_features":[{"feature":…,"share":…}]}`.
//! Without a time column `"timestamp"` is `"row"`, the row's index. Non-finite numbers are
//! `null` (JSON has none).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::destination::Destination;
use super::{OutputOptions, Scored, Target, WindowFormat};
use crate::data::time::push_rfc3339;
use crate::detect::model::key_parts;
use crate::Result;

/// `s` as a JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// `v` in its shortest round-trip form, or `null` when it is not finite.
pub(crate) fn push_json_number<F: Into<f64> + std::fmt::Display + Copy>(out: &mut String, v: F) {
    if v.into().is_finite() {
        let _ = write!(out, "{v}");
    } else {
        out.push_str("null");
    }
}

/// Appends `,"top_features":[{"feature":…,"share":…},…]`; `names` are the feature names as
/// JSON string literals (the window and `--events` records share this layout).
pub(crate) fn push_top_features<S: Into<f64> + std::fmt::Display + Copy>(
    line: &mut String,
    names: &[String],
    top: &[(usize, S)],
) {
    line.push_str(",\"top_features\":[");
    for (i, &(j, share)) in top.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str("{\"feature\":");
        line.push_str(&names[j]);
        line.push_str(",\"share\":");
        push_json_number(line, share);
        line.push('}');
    }
    line.push(']');
}

pub(crate) struct JsonlWindows {
    dest: Destination,
    threshold: f64,
    top_features: usize,
    has_time: bool,
    /// The key column names and feature names as JSON strings, quoted once.
    keys: Vec<String>,
    features: Vec<String>,
    line: String,
}

impl JsonlWindows {
    pub fn new(opts: &OutputOptions, target: &Target) -> Result<JsonlWindows> {
        Ok(JsonlWindows {
            dest: Destination::open(target)?,
            threshold: opts.threshold,
            top_features: opts.top_features,
            has_time: opts.has_time,
            keys: opts.key_names.iter().map(|k| json_string(k)).collect(),
            features: opts.feature_names.iter().map(|k| json_string(k)).collect(),
            line: String::with_capacity(256),
        })
    }
}

impl WindowFormat for JsonlWindows {
    fn write(&mut self, s: &Scored<'_>, anomaly: bool, top: &[(usize, f32)]) -> Result<()> {
        let line = &mut self.line;
        line.clear();
        if self.has_time {
            line.push_str("{\"timestamp\":\"");
            push_rfc3339(line, s.timestamp);
            line.push('"');
        } else {
            let _ = write!(line, "{{\"row\":{}", s.timestamp);
        }
        for (name, part) in self.keys.iter().zip(key_parts(s.key)) {
            line.push(',');
            line.push_str(name);
            line.push(':');
            // serde_json escapes into a String without an intermediate allocation.
            let _ = serde_json::to_writer(StringWriter(line), part);
        }
        line.push_str(",\"score\":");
        push_json_number(line, s.score);
        let _ = write!(line, ",\"threshold\":{},\"anomaly\":{anomaly}", self.threshold);
        if self.top_features > 0 {
            push_top_features(line, &self.features, top);
        }
        line.push_str("}\n");
        self.dest.write(&self.line)
    }

    fn idle(&mut self) -> Result<()> {
        self.dest.flush()
    }

    fn finish(self: Box<Self>) -> Result<Vec<u8>> {
        self.dest.finish()
    }
}

/// `io::Write` into a `String` (serde_json writes valid UTF-8).
struct StringWriter<'a>(&'a mut String);

impl Write for StringWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let s = std::str::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.0.push_str(s);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
