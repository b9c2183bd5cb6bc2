//! `detect --events`: scored windows merged into incidents ([`Incidents`]) and written one
//! record per incident, when it closes (with `--follow` as soon as it does; incidents still open
//! at the end of the input are written then).
//!
//! | format | layout |
//! |---|---|
//! | `csv` | `namespace,pod,start,end,duration_seconds,windows,anomalous_windows,peak_score,peak_at,mean_score,threshold,feature_1,share_1,…` |
//! | `jsonl` | `{"namespace":…,"pod":…,"start":…,"end":…,"duration_seconds":…,"windows":…,"anomalous_windows":…,"peak_score":…,"peak_at":…,"mean_score":…,"threshold":…,"top_features":[{"feature":…,"share":…}]}` |
//!
//! Times are written as `detect` writes a window's (RFC 3339 of the window's last row);
//! without a time column they are row indices and the fields are `start_row`, `end_row`,
//! `duration_rows`, `peak_row`. A feature's share is its part of the incident's summed score
//! (Σ score × share over the incident's windows, over the total).
//!
//! `-o FILE` is written atomically at the end, as detect's window output is; with `--follow`
//! it is appended to as incidents close.

use std::fmt::Write as _;

use super::incidents::{Incident, Incidents};
use super::model::key_parts;
use super::output::csv::{self, push_field, push_row};
use super::output::destination::Destination;
use super::output::jsonl::{self, json_string, push_json_number};
use super::output::{Format, OutputOptions, Scored, Target};
use super::sink::WindowSink;
use crate::data::time::push_rfc3339;
use crate::{Error, Result};

/// Incidents out of scored windows, in one format.
pub struct EventSink {
    incidents: Incidents,
    /// The window writer's options; `evict_after` (with `--follow`) closes a pod's incident
    /// once the newest window is that far past its last.
    opts: OutputOptions,
    /// Holds the CSV header back until the first incident or a successful end: a run that
    /// fails leaves no header-only output.
    dest: Destination,
    line: String,
    /// The feature names as JSON string literals, quoted once.
    json_features: Vec<String>,
    newest: i64,
    /// Incidents written.
    pub written: u64,
}

impl EventSink {
    pub fn new(opts: OutputOptions, target: &Target) -> Result<EventSink> {
        if opts.format == Format::Prometheus {
            return Err(Error::config(
                "--events writes one record per incident: use --format csv or jsonl (the prometheus format \
                 exposes each pod's latest score)",
            ));
        }
        // A folder or an unreadable place fails now, before any scoring.
        let dest = Destination::open(target)?;
        let json_features = opts.feature_names.iter().map(|n| json_string(n)).collect();
        let mut sink = EventSink {
            incidents: Incidents::new(opts.threshold, opts.merge_gap),
            opts,
            dest,
            line: String::with_capacity(256),
            json_features,
            newest: i64::MIN,
            written: 0,
        };
        if sink.opts.format == Format::Csv {
            let header = sink.header();
            sink.dest.hold_header(header);
        }
        Ok(sink)
    }

    fn header(&self) -> String {
        let mut names: Vec<String> = self.opts.key_names.clone();
        let time = if self.opts.has_time {
            ["start", "end", "duration_seconds"]
        } else {
            ["start_row", "end_row", "duration_rows"]
        };
        names.extend(time.map(String::from));
        names.extend(["windows", "anomalous_windows", "peak_score"].map(String::from));
        names.push(if self.opts.has_time { "peak_at" } else { "peak_row" }.into());
        names.extend(["mean_score", "threshold"].map(String::from));
        for i in 1..=self.opts.top_features {
            names.push(format!("feature_{i}"));
            names.push(format!("share_{i}"));
        }
        let mut line = String::new();
        push_row(&mut line, &names);
        line
    }

    fn push_time(&mut self, t: i64, quoted: bool) {
        if !self.opts.has_time {
            let _ = write!(self.line, "{t}");
        } else if quoted {
            self.line.push('"');
            push_rfc3339(&mut self.line, t);
            self.line.push('"');
        } else {
            push_rfc3339(&mut self.line, t);
        }
    }

    fn format(&mut self, i: &Incident) {
        let top = i.top_features(self.opts.top_features);
        self.line.clear();
        let json = self.opts.format == Format::Jsonl;
        let (start, end, duration, peak) = if self.opts.has_time {
            ("start", "end", "duration_seconds", "peak_at")
        } else {
            ("start_row", "end_row", "duration_rows", "peak_row")
        };
        if json {
            self.line.push('{');
            for (name, part) in self.opts.key_names.iter().zip(key_parts(&i.key)) {
                let _ = write!(self.line, "{}:{},", json_string(name), json_string(part));
            }
            let _ = write!(self.line, "\"{start}\":");
            self.push_time(i.start, true);
            let _ = write!(self.line, ",\"{end}\":");
            self.push_time(i.end, true);
            let _ = write!(
                self.line,
                ",\"{duration}\":{},\"windows\":{},\"anomalous_windows\":{},\"peak_score\":",
                i.duration(),
                i.windows,
                i.anomalous,
            );
            push_json_number(&mut self.line, i.peak_score);
            let _ = write!(self.line, ",\"{peak}\":");
            self.push_time(i.peak_at, true);
            self.line.push_str(",\"mean_score\":");
            push_json_number(&mut self.line, i.mean_score());
            self.line.push_str(",\"threshold\":");
            push_json_number(&mut self.line, self.opts.threshold);
            if self.opts.top_features > 0 {
                jsonl::push_top_features(&mut self.line, &self.json_features, &top);
            }
            self.line.push_str("}\n");
        } else {
            for (k, part) in key_parts(&i.key).enumerate() {
                if k > 0 {
                    self.line.push(',');
                }
                push_field(&mut self.line, part);
            }
            if !self.opts.key_names.is_empty() {
                self.line.push(',');
            }
            self.push_time(i.start, false);
            self.line.push(',');
            self.push_time(i.end, false);
            let _ = write!(self.line, ",{},{},{},{},", i.duration(), i.windows, i.anomalous, i.peak_score);
            self.push_time(i.peak_at, false);
            let _ = write!(self.line, ",{},{}", i.mean_score(), self.opts.threshold);
            csv::push_top_features(&mut self.line, &self.opts.feature_names, &top, self.opts.top_features);
            self.line.push('\n');
        }
    }

    /// Writes `line`, after the held-back header if this is the first record.
    fn emit(&mut self) -> Result<()> {
        let result = self.dest.write(&self.line);
        self.line.clear();
        result
    }

    fn write_incident(&mut self, i: &Incident) -> Result<()> {
        self.format(i);
        self.written += 1;
        self.emit()
    }

    /// Incidents open now (not yet written).
    pub fn open_count(&self) -> usize {
        self.incidents.open_count()
    }

    /// The end of the input: writes the incidents still open and completes the output.
    /// Returns the bytes of a [`Target::Memory`] output.
    pub fn finish(mut self) -> Result<Vec<u8>> {
        for i in self.incidents.finish() {
            self.write_incident(&i)?;
        }
        // No incident: the header alone says "none", which is now the truth.
        self.dest.finish()
    }
}

impl WindowSink for EventSink {
    fn write(&mut self, s: &Scored<'_>) -> Result<()> {
        self.newest = self.newest.max(s.timestamp);
        match self.incidents.push(s) {
            Some(i) => self.write_incident(&i),
            None => Ok(()),
        }
    }

    fn idle(&mut self) -> Result<()> {
        if let Some(after) = self.opts.evict_after {
            for i in self.incidents.close_silent(self.newest, after) {
                self.write_incident(&i)?;
            }
        }
        self.dest.flush()
    }

    fn counts(&self) -> (u64, u64) {
        (self.incidents.windows, self.incidents.anomalies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(format: Format, has_time: bool) -> EventSink {
        let opts = OutputOptions {
            format,
            threshold: 0.5,
            merge_gap: 0,
            top_features: 1,
            feature_names: vec!["cpu".into(), "mem, MB".into()],
            key_names: vec!["host".into()],
            has_time,
            horizon: crate::detect::model::Horizon::NextSample,
            evict_after: None,
        };
        EventSink::new(opts, &Target::Memory).unwrap()
    }

    fn run(mut s: EventSink) -> String {
        let key = "web,\"1\"";
        for (t, score, shares) in
            [(0, 0.9, [0.2, 0.8]), (1, 0.7, [0.5, 0.5]), (2, 0.1, [1.0, 0.0]), (3, 0.8, [1.0, 0.0])]
        {
            s.write(&Scored { key, timestamp: t, score, shares: &shares }).unwrap();
        }
        String::from_utf8(s.finish().unwrap()).unwrap()
    }

    #[test]
    fn csv_without_time_has_row_fields_and_quotes_keys_and_features() {
        let text = run(sink(Format::Csv, false));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "host,start_row,end_row,duration_rows,windows,anomalous_windows,peak_score,peak_row,mean_score,threshold,feature_1,share_1"
        );
        // Rows 0..=1 (closed by row 2 at --merge-gap 0), then row 3, open at the end.
        assert!(lines[1].starts_with("\"web,\"\"1\"\"\",0,1,1,2,2,0.9,0,"), "{}", lines[1]);
        assert!(lines[1].contains(",\"mem, MB\","), "{}", lines[1]);
        assert!(lines[2].starts_with("\"web,\"\"1\"\"\",3,3,0,1,1,0.8,3,"), "{}", lines[2]);
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn jsonl_with_time_parses() {
        let text = run(sink(Format::Jsonl, true));
        let v: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0]["host"], "web,\"1\"");
        assert_eq!(v[0]["start"], "1970-01-01T00:00:00Z");
        assert_eq!(v[0]["end"], "1970-01-01T00:00:01Z");
        assert_eq!(v[0]["duration_seconds"], 1);
        // cpu 0.9·0.2 + 0.7·0.5 = 0.53, mem 0.9·0.8 + 0.7·0.5 = 1.07 of 1.6.
        assert_eq!(v[0]["top_features"][0]["feature"], "mem, MB");
        let share = v[0]["top_features"][0]["share"].as_f64().unwrap();
        assert!((share - 1.07 / 1.6).abs() < 1e-6, "{share}");
    }

    #[test]
    fn prometheus_is_refused() {
        let opts = sink(Format::Csv, true).opts.clone();
        let e = EventSink::new(OutputOptions { format: Format::Prometheus, ..opts }, &Target::Memory).err().unwrap();
        assert!(e.to_string().contains("csv or jsonl"), "{e}");
    }
}
