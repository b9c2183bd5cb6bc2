//! Axes chosen from the data: a value axis that turns logarithmic when the values span
//! decades (an anomaly score is a heavy-tailed error: on a linear axis one spike flattens
//! everything else onto the floor), and time ticks at round clock times.
//!
//! Pure arithmetic, no drawing: charts map values with [`ValueAxis::coord`] onto a linear
//! plotters axis (log10 of the value when [`ValueAxis::log`]) and draw the ticks from
//! [`ValueAxis::ticks`] / [`time_ticks`] themselves (see [`super::ticks`]).

use crate::data::time::civil_from_days;

/// What the x values of a time series are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeKind {
    /// Seconds since 1970-01-01 UTC.
    EpochSeconds,
    /// Row numbers: the data had no time column (`Dataset::time_column` is `None`).
    RowIndex,
}

impl TimeKind {
    /// How `dataset`'s timestamps count: row numbers when it had no time column.
    pub fn of(dataset: &crate::data::Dataset) -> TimeKind {
        if dataset.time_column.is_some() {
            TimeKind::EpochSeconds
        } else {
            TimeKind::RowIndex
        }
    }
}

/// A value axis: linear, or logarithmic (coordinates are `log10(value)`), over `range` in
/// axis coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ValueAxis {
    pub log: bool,
    /// `(lo, hi)` in axis coordinates, `lo < hi`.
    pub range: (f64, f64),
}

/// Whether values call for a log axis: none negative, and the positive ones span more than
/// `decades` decades from their 1st percentile to their maximum (the percentile, so one
/// near-zero outlier alone does not switch the axis). Zeros are allowed (drawn at the floor).
pub(crate) fn wants_log(values: &[f64], decades: f64) -> bool {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.iter().any(|&v| v < 0.0) {
        return false;
    }
    match positive_span(&finite) {
        Some((lo, hi)) => (hi / lo).log10() > decades,
        None => false,
    }
}

/// (1st percentile, maximum) of the positive finite values, `None` without any.
fn positive_span(values: &[f64]) -> Option<(f64, f64)> {
    let mut positive: Vec<f64> = values.iter().copied().filter(|&v| v > 0.0 && v.is_finite()).collect();
    if positive.is_empty() {
        return None;
    }
    positive.sort_by(f64::total_cmp);
    let lo = positive[(positive.len() - 1) / 100];
    Some((lo, positive[positive.len() - 1]))
}

impl ValueAxis {
    /// An axis for `values` (log when [`wants_log`] with `decades`), padded 5 % below and
    /// `headroom` (a share of the span) above. `extra` (a threshold) is taken into the range
    /// when it lies within one span (linear) or one decade (log) of the data; farther out
    /// it is clamped onto the axis edge, see [`ValueAxis::clamped`].
    pub fn new(values: &[f64], decades: f64, extra: Option<f64>, headroom: f64) -> ValueAxis {
        let extra = extra.filter(|v| v.is_finite());
        let log = wants_log(values, decades);
        let (lo, hi) = if log {
            let (lo, hi) = positive_span(values).expect("wants_log saw positive values");
            let (mut lo, mut hi) = (lo.log10(), hi.log10());
            if let Some(e) = extra.filter(|&e| e > 0.0).map(f64::log10) {
                if e >= lo - 1.0 && e <= hi + 1.0 {
                    (lo, hi) = (lo.min(e), hi.max(e));
                }
            }
            let pad = ((hi - lo) * 0.05).max(0.05);
            (lo - pad, hi + pad)
        } else {
            let data = super::canvas::finite_range(values.iter().copied());
            let with = match (data, extra) {
                (Some((lo, hi)), Some(e)) if e >= lo - (hi - lo).max(e.abs() * 0.5) && e <= hi + (hi - lo).max(e.abs() * 0.5) => {
                    Some((lo.min(e), hi.max(e)))
                }
                (None, Some(e)) => Some((e, e)),
                (d, _) => d,
            };
            super::canvas::padded(with, (0.0, 1.0))
        };
        ValueAxis { log, range: (lo, hi + headroom * (hi - lo)) }
    }

    /// The axis coordinate of `v`, clamped into the range (a zero on a log axis lands on the
    /// floor); NaN for a non-finite `v`.
    pub fn coord(&self, v: f64) -> f64 {
        if !v.is_finite() {
            return f64::NAN;
        }
        let c = if self.log { if v > 0.0 { v.log10() } else { f64::NEG_INFINITY } } else { v };
        c.clamp(self.range.0, self.range.1)
    }

    /// `Some("above")` / `Some("below")` when `v` lies outside the axis and is drawn on its edge.
    pub fn clamped(&self, v: f64) -> Option<&'static str> {
        let c = if self.log { if v > 0.0 { v.log10() } else { f64::NEG_INFINITY } } else { v };
        if c > self.range.1 {
            Some("above")
        } else if c < self.range.0 {
            Some("below")
        } else {
            None
        }
    }

    /// How many of `values` lie below the axis floor (drawn on it): zeros on a log axis.
    pub fn below_floor(&self, values: &[f64]) -> usize {
        values.iter().filter(|&&v| v.is_finite() && self.clamped(v) == Some("below")).count()
    }

    /// At most about `max` ticks as (axis coordinate, label): round numbers on a linear axis,
    /// powers of ten on a log axis (with 2 and 5 between them when it spans few decades).
    pub fn ticks(&self, max: usize) -> Vec<(f64, String)> {
        let (lo, hi) = self.range;
        if !self.log {
            let step = nice_step(hi - lo, max);
            let decimals = (-step.log10().floor()).max(0.0) as usize;
            return multiples(lo, hi, step).map(|v| (v, format!("{:.*}", decimals, if v == 0.0 { 0.0 } else { v }))).collect();
        }
        let (first, last) = (lo.ceil() as i64, hi.floor() as i64);
        let decades = (last - first + 1).max(0) as usize;
        if decades < 3 {
            // Few decades: 1, 2, 5 × 10^k, so the axis still has several labels.
            let mut ticks = Vec::new();
            for k in (lo.floor() as i64)..=(hi.ceil() as i64) {
                for m in [1.0, 2.0, 5.0] {
                    let c = (m * 10f64.powi(k as i32)).log10();
                    if c >= lo && c <= hi {
                        ticks.push((c, number(m * 10f64.powi(k as i32))));
                    }
                }
            }
            return ticks;
        }
        let every = decades.div_ceil(max.max(1)).max(1) as i64;
        (first..=last).filter(|k| k.rem_euclid(every) == 0).map(|k| (k as f64, number(10f64.powi(k as i32)))).collect()
    }
}

/// A round number: plain for 1e-4..1e5 without trailing zeros (`0.001`, `20`), else `1e-6`.
pub(crate) fn number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e5).contains(&a) {
        let s = format!("{v:.0e}");
        return s;
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

/// The 1, 2, 5 × 10^k step that gives at most `max` ticks over `span`.
fn nice_step(span: f64, max: usize) -> f64 {
    let raw = span / max.max(1) as f64;
    let base = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * base).find(|&s| s >= raw).unwrap_or(10.0 * base)
}

/// Multiples of `step` in `[lo, hi]`.
fn multiples(lo: f64, hi: f64, step: f64) -> impl Iterator<Item = f64> {
    // A hair of slack, so 1.2 / 0.2 = 5.999… still includes 1.2.
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(move |k| k as f64 * step)
}

/// Tick steps for clock time, in seconds.
const TIME_STEPS: [i64; 22] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
    2_592_000, 31_536_000,
];

/// Ticks (x, label) for `[t0, t1]` and the axis description. Epoch seconds: round clock
/// times (`10:30`, the month and day where the date changes, `2024-03-04` for steps of a day
/// or more), UTC. Row numbers: round numbers.
pub(crate) fn time_ticks(kind: TimeKind, (t0, t1): (f64, f64), max: usize) -> (Vec<(f64, String)>, String) {
    if kind == TimeKind::RowIndex || !(t0.is_finite() && t1.is_finite()) {
        let step = nice_step(t1 - t0, max).max(1.0);
        let ticks = multiples(t0, t1, step).map(|v| (v, format!("{v:.0}"))).collect();
        return (ticks, "row number (the data has no time column)".to_owned());
    }
    let raw = (t1 - t0) / max.max(1) as f64;
    let step = TIME_STEPS.into_iter().find(|&s| s as f64 >= raw).unwrap_or_else(|| (raw / 31_536_000.0).ceil() as i64 * 31_536_000);
    let mut ticks = Vec::new();
    let mut last_day = None;
    let mut t = (t0 / step as f64).ceil() as i64 * step;
    while (t as f64) <= t1 {
        let (day, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(day);
        let clock = if step < 60 {
            format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
        } else {
            format!("{:02}:{:02}", secs / 3600, secs / 60 % 60)
        };
        let label = if step >= 86_400 {
            format!("{y:04}-{m:02}-{d:02}")
        } else if last_day != Some(day) {
            format!("{m:02}-{d:02} {clock}")
        } else {
            clock
        };
        last_day = Some(day);
        ticks.push((t as f64, label));
        t += step;
    }
    let start = t0.floor() as i64;
    let (y, m, d) = civil_from_days(start.div_euclid(86_400));
    let s = start.rem_euclid(86_400);
    let desc = format!("time (UTC), from {y:04}-{m:02}-{d:02} {:02}:{:02}", s / 3600, s / 60 % 60);
    (ticks, desc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axis_for_decades_linear_for_a_narrow_range() {
        let heavy: Vec<f64> = (0..500).map(|i| 10f64.powf(-3.0 + 5.0 * i as f64 / 499.0)).collect();
        assert!(wants_log(&heavy, 2.0));
        let narrow: Vec<f64> = (0..500).map(|i| 0.2 + 0.7 * i as f64 / 499.0).collect();
        assert!(!wants_log(&narrow, 2.0));
        // A negative score rules a log axis out; zeros do not.
        let mut with_zero = heavy.clone();
        with_zero.push(0.0);
        assert!(wants_log(&with_zero, 2.0));
        with_zero.push(-1e-9);
        assert!(!wants_log(&with_zero, 2.0));
        // One tiny outlier among a narrow bulk is not a span of decades.
        let mut outlier = narrow.clone();
        outlier.push(1e-9);
        assert!(!wants_log(&outlier, 2.0));
        assert!(!wants_log(&[], 2.0) && !wants_log(&[0.0, 0.0], 2.0));
    }

    #[test]
    fn a_far_threshold_is_clamped_onto_the_axis() {
        let scores: Vec<f64> = (1..=100).map(|i| i as f64 / 100.0).collect();
        let axis = ValueAxis::new(&scores, 2.0, Some(50.0), 0.0);
        assert!(!axis.log && axis.range.1 < 2.0, "{axis:?}");
        assert_eq!(axis.clamped(50.0), Some("above"));
        assert_eq!(axis.coord(50.0), axis.range.1);
        // Near the data, the threshold widens the range instead.
        let axis = ValueAxis::new(&scores, 2.0, Some(1.5), 0.0);
        assert!(axis.range.1 >= 1.5 && axis.clamped(1.5).is_none());
        // Zero on a log axis lands on the floor and is counted.
        let heavy = [0.0, 1e-3, 1e-2, 1.0, 100.0];
        let axis = ValueAxis::new(&heavy, 2.0, Some(0.05), 0.25);
        assert!(axis.log);
        assert_eq!(axis.coord(0.0), axis.range.0);
        assert_eq!(axis.below_floor(&heavy), 1);
        assert!((axis.coord(0.05) - 0.05f64.log10()).abs() < 1e-12);
    }

    #[test]
    fn log_ticks_are_powers_of_ten_in_range() {
        let axis = ValueAxis { log: true, range: (-3.2, 2.3) };
        let labels: Vec<String> = axis.ticks(8).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0.001", "0.01", "0.1", "1", "10", "100"]);
        let wide = ValueAxis { log: true, range: (-12.5, 3.0) };
        let ticks = wide.ticks(6);
        assert!(ticks.len() <= 6 && ticks.len() >= 3, "{ticks:?}");
        assert!(ticks.iter().all(|t| t.0.fract() == 0.0 && t.0 >= -12.5 && t.0 <= 3.0));
        assert_eq!(ticks.last().unwrap().1, "1000");
        let few = ValueAxis { log: true, range: (-2.1, -0.9) };
        let labels: Vec<String> = few.ticks(8).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0.01", "0.02", "0.05", "0.1"]);
        let linear = ValueAxis { log: false, range: (-0.03, 1.2) };
        let labels: Vec<String> = linear.ticks(8).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "1.2"]);
    }

    #[test]
    fn time_ticks_are_round_clock_times() {
        // 2024-03-04T10:07:00Z to 18:55 the same day: two-hourly ticks, the first with the date.
        let t0 = 1_709_546_820.0;
        let (ticks, desc) = time_ticks(TimeKind::EpochSeconds, (t0, t0 + 8.8 * 3600.0), 8);
        assert_eq!(desc, "time (UTC), from 2024-03-04 10:07");
        assert!(ticks.len() >= 4 && ticks.len() <= 9, "{ticks:?}");
        assert!(ticks.iter().all(|t| (t.0 as i64) % 7200 == 0), "{ticks:?}");
        assert_eq!(ticks[0].1, "03-04 12:00");
        assert_eq!(ticks[1].1, "14:00");
        // Across midnight the new date is shown again.
        let (ticks, _) = time_ticks(TimeKind::EpochSeconds, (t0, t0 + 30.0 * 3600.0), 6);
        assert!(ticks.iter().any(|t| t.1.starts_with("03-05 ")), "{ticks:?}");
        // Weeks: dates.
        let (ticks, _) = time_ticks(TimeKind::EpochSeconds, (t0, t0 + 20.0 * 86400.0), 8);
        assert!(ticks.iter().all(|t| t.1.len() == 10 && t.1.starts_with("2024-03-")), "{ticks:?}");
        // No time column: row numbers.
        let (ticks, desc) = time_ticks(TimeKind::RowIndex, (0.0, 2_345.0), 8);
        assert!(desc.starts_with("row number"));
        assert_eq!(ticks.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(), ["0", "500", "1000", "1500", "2000"]);
    }

    #[test]
    fn numbers_read_plainly() {
        assert_eq!(number(0.001), "0.001");
        assert_eq!(number(100.0), "100");
        assert_eq!(number(1e-6), "1e-6");
        assert_eq!(number(2e7), "2e7");
        assert_eq!(number(0.0), "0");
    }
}
