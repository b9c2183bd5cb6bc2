//! The time range of a pull: `--start`, `--end` (RFC 3339, epoch seconds, `now`, or relative
//! to now: `-7d`, `now-90m`), `--step`, and its split into chunks that stay under Prometheus's
//! limit of 11,000 points per series per query.
//!
//! Start and end are aligned down to a multiple of the step (in epoch seconds), so the same
//! range asked twice, or asked in other chunks, evaluates at the same instants and gives the
//! same rows.

use crate::data::time::{format_rfc3339, parse_timestamp};
use crate::{Error, Result};

/// Prometheus refuses a range query of more points per series than this.
pub const MAX_POINTS_PER_QUERY: u64 = 11_000;

/// Parses a duration: whole numbers with units `s`, `m`, `h`, `d`, `w`, optionally combined
/// (`1h30m`); a bare number is seconds. Returns seconds.
pub fn parse_duration(flag: &str, text: &str) -> Result<u64> {
    let bad = || {
        Error::config(format!(
            "{flag} '{text}' is not a duration: expected a number with a unit, e.g. 60s, 5m, 1h30m, 7d"
        ))
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(v) = t.parse::<u64>() {
        return Ok(v);
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in t.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(number.unwrap_or(0).checked_mul(10).and_then(|n| n.checked_add(d as u64)).ok_or_else(bad)?);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        let n = number.take().ok_or_else(bad)?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
    }
    if number.is_some() {
        return Err(bad()); // "1h30": a number without its unit
    }
    Ok(total)
}

/// Formats seconds as the largest exact unit (`60s` → `1m`), as PromQL range selectors take.
pub fn format_duration(secs: u64) -> String {
    for (unit, n) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs > 0 && secs.is_multiple_of(n) {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

/// Parses `--start`/`--end`: `now`, `-DURATION` or `now-DURATION`, RFC 3339, `YYYY-MM-DD
/// HH:MM:SS` (UTC) or epoch seconds. Returns epoch seconds.
pub fn parse_instant(flag: &str, text: &str, now: i64) -> Result<i64> {
    let t = text.trim();
    if t == "now" {
        return Ok(now);
    }
    let relative = t.strip_prefix("now-").or_else(|| t.strip_prefix('-'));
    if let Some(d) = relative {
        let secs = parse_duration(flag, d)?;
        return i64::try_from(secs)
            .ok()
            .and_then(|s| now.checked_sub(s))
            .ok_or_else(|| Error::config(format!("{flag} '{text}' reaches before the year 0000")));
    }
    parse_timestamp(t).ok_or_else(|| {
        Error::config(format!(
            "{flag} '{text}' is not a time: expected now, a duration back from now (-7d, now-90m), \
             RFC 3339 (2024-03-04T10:30:00Z) or epoch seconds"
        ))
    })
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// An aligned range `[start, end]` evaluated every `step` seconds (both ends included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub start: i64,
    pub end: i64,
    pub step: u64,
}

impl Range {
    /// Aligns `start` and `end` down to multiples of `step`; errors when the range is empty.
    pub fn new(start: i64, end: i64, step: u64) -> Result<Range> {
        if step == 0 {
            return Err(Error::config("--step must be at least 1s"));
        }
        let s = step as i64;
        let range = Range { start: start.div_euclid(s) * s, end: end.div_euclid(s) * s, step };
        if range.end < range.start {
            return Err(Error::config(format!(
                "the time range is empty: --start {} is after --end {}",
                format_rfc3339(start),
                format_rfc3339(end)
            )));
        }
        Ok(range)
    }

    /// Evaluation instants in the range.
    pub fn points(&self) -> u64 {
        ((self.end - self.start) as u64) / self.step + 1
    }

    /// The range moved `steps` steps earlier at its start (history a window needs).
    pub fn extend_back(&self, steps: u64) -> Range {
        let back = (steps as i64).saturating_mul(self.step as i64);
        Range { start: self.start.saturating_sub(back), ..*self }
    }

    /// Consecutive sub-ranges of at most `max_points` instants each (and never more than
    /// Prometheus accepts), covering the range exactly once.
    pub fn chunks(&self, max_points: u64) -> Vec<Range> {
        let per = max_points.clamp(1, MAX_POINTS_PER_QUERY) as i64;
        let s = self.step as i64;
        let mut out = Vec::new();
        let mut start = self.start;
        while start <= self.end {
            let end = (start + (per - 1) * s).min(self.end);
            out.push(Range { start, end, step: self.step });
            start = end + s;
        }
        out
    }

    pub fn describe(&self) -> String {
        format!("{} to {} every {}", format_rfc3339(self.start), format_rfc3339(self.end), format_duration(self.step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("--step", "60s").unwrap(), 60);
        assert_eq!(parse_duration("--step", "90").unwrap(), 90);
        assert_eq!(parse_duration("--step", "1h30m").unwrap(), 5400);
        assert_eq!(parse_duration("--step", "7d").unwrap(), 604_800);
        assert_eq!(parse_duration("--step", "2w").unwrap(), 1_209_600);
        for bad in ["", "m", "1h30", "5x", "-5m", "1.5h", "99999999999999999999s"] {
            assert!(parse_duration("--step", bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(60), "1m");
        assert_eq!(format_duration(120), "2m");
        assert_eq!(format_duration(90), "90s");
        assert_eq!(format_duration(86_400), "1d");
    }

    #[test]
    fn instants() {
        let now = 1_709_510_400;
        assert_eq!(parse_instant("--start", "now", now).unwrap(), now);
        assert_eq!(parse_instant("--start", "-7d", now).unwrap(), now - 604_800);
        assert_eq!(parse_instant("--start", "now-90m", now).unwrap(), now - 5400);
        assert_eq!(parse_instant("--start", "2024-03-04T00:00:00Z", now).unwrap(), 1_709_510_400);
        assert_eq!(parse_instant("--start", "1709510400", now).unwrap(), 1_709_510_400);
        assert!(parse_instant("--start", "yesterday", now).is_err());
        assert!(parse_instant("--start", "-7", now).is_ok()); // seven seconds back
    }

    #[test]
    fn chunks_cover_the_range_once() {
        let r = Range::new(1003, 1003 + 60 * 100, 60).unwrap();
        assert_eq!(r.start % 60, 0);
        for per in [1, 7, 50, 101, 500, 20_000] {
            let chunks = r.chunks(per);
            assert_eq!(chunks[0].start, r.start);
            assert_eq!(chunks.last().unwrap().end, r.end);
            for w in chunks.windows(2) {
                assert_eq!(w[1].start, w[0].end + 60);
            }
            assert_eq!(chunks.iter().map(Range::points).sum::<u64>(), r.points());
            assert!(chunks.iter().all(|c| c.points() <= per.min(MAX_POINTS_PER_QUERY)));
        }
        assert!(Range::new(200, 100, 60).is_err());
        assert_eq!(Range::new(100, 100, 60).unwrap().points(), 1);
    }
}
