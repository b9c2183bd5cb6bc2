//! `--format csv`: one row per scored window,
//! `timestamp,<key columns>,score,threshold,anomaly,feature_1,share_1,…`.

use std::fmt::Write as _;

use super::destination::Destination;
use super::{OutputOptions, Scored, Target, WindowFormat};
use crate::data::time::push_rfc3339;
use crate::detect::model::key_parts;
use crate::Result;

/// Appends `fields` to `line` as one CSV row, each quoted when it needs to be.
pub(crate) fn push_row(line: &mut String, fields: &[String]) {
    for (i, n) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_field(line, n);
    }
    line.push('\n');
}

/// Appends `field` to `line` as one CSV field, quoted when it holds a separator, a quote or a
/// line break, and when it starts or ends with a space (readers that trim would lose it).
pub(crate) fn push_field(line: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ') {
        line.push('"');
        for c in field.chars() {
            if c == '"' {
                line.push('"');
            }
            line.push(c);
        }
        line.push('"');
    } else {
        line.push_str(field);
    }
}

/// Appends `,feature_i,share_i` for each of the `k` top features, `,,` where `top` has fewer
/// (the window rows and `--events` rows share this layout).
pub(crate) fn push_top_features<S: std::fmt::Display>(
    line: &mut String,
    names: &[String],
    top: &[(usize, S)],
    k: usize,
) {
    for i in 0..k {
        match top.get(i) {
            Some((j, share)) => {
                line.push(',');
                push_field(line, &names[*j]);
                let _ = write!(line, ",{share}");
            }
            None => line.push_str(",,"),
        }
    }
}

pub(crate) struct CsvWindows {
    dest: Destination,
    threshold: f64,
    top_features: usize,
    feature_names: Vec<String>,
    has_time: bool,
    line: String,
}

impl CsvWindows {
    pub fn new(opts: &OutputOptions, target: &Target) -> Result<CsvWindows> {
        let mut dest = Destination::open(target)?;
        let mut names = vec![if opts.has_time { "timestamp" } else { "row" }.to_string()];
        names.extend(opts.key_names.iter().cloned());
        names.extend(["score", "threshold", "anomaly"].map(String::from));
        for i in 1..=opts.top_features {
            names.push(format!("feature_{i}"));
            names.push(format!("share_{i}"));
        }
        let mut header = String::new();
        push_row(&mut header, &names);
        dest.hold_header(header);
        Ok(CsvWindows {
            dest,
            threshold: opts.threshold,
            top_features: opts.top_features,
            feature_names: opts.feature_names.clone(),
            has_time: opts.has_time,
            line: String::with_capacity(256),
        })
    }
}

impl WindowFormat for CsvWindows {
    fn write(&mut self, s: &Scored<'_>, anomaly: bool, top: &[(usize, f32)]) -> Result<()> {
        self.line.clear();
        if self.has_time {
            push_rfc3339(&mut self.line, s.timestamp);
        } else {
            let _ = write!(self.line, "{}", s.timestamp);
        }
        for part in key_parts(s.key) {
            self.line.push(',');
            push_field(&mut self.line, part);
        }
        let _ = write!(self.line, ",{},{},{}", s.score, self.threshold, u8::from(anomaly));
        push_top_features(&mut self.line, &self.feature_names, top, self.top_features);
        self.line.push('\n');
        self.dest.write(&self.line)
    }

    fn idle(&mut self) -> Result<()> {
        self.dest.flush()
    }

    fn finish(self: Box<Self>) -> Result<Vec<u8>> {
        self.dest.finish()
    }
}
