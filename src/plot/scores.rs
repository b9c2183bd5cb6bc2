//! Anomaly score over time: the scores against the time of each window's label row, the
//! decision threshold, labelled anomalies shaded, incidents marked.
//!
//! - **Score axis**: logarithmic when the scores span more than [`LOG_DECADES`] decades (a
//!   reconstruction or forecast error is heavy-tailed: on a linear axis one spike flattens
//!   the rest onto the floor, and the threshold with it). Zeros sit on the axis floor.
//! - **Threshold**: always on the chart; one far outside the scores is drawn on the axis
//!   edge and the legend says so.
//! - **One series** is a line, decimated to first/min/max/last per pixel column
//!   ([`super::downsample`]). **Several pods** (50 interleaved in time): per pixel column
//!   (time bucket), the maximum over all pods' windows as the line, and the median as a grey
//!   line. A line per pod is unreadable and a dot per window is a cloud whose density hides
//!   the level; the maximum is what the threshold acts on (the bucket raises an alert iff its
//!   maximum crosses it), and the median shows what normal looks like beside it.
//! - **Labels** (1 = anomaly): each run of labelled windows of a pod is shaded across the
//!   full height, from half a sampling step before its first window to half a step after its
//!   last, so a single labelled window is visible too.
//! - **Incidents** (start, end spans, in the same time unit) are a bar along the top edge.

use std::ops::Range;

use plotters::prelude::*;

use super::axes::{time_ticks, TimeKind, ValueAxis};
use super::canvas::{
    bold, dashed_legend, draw_legend, line_legend, note_in_middle, render_png, titled, BLUE, GREY, RED, TITLE_PX,
};
use super::downsample::min_max_per_column;
use super::ticks::draw_axes;
use super::SIZE;
use crate::{Error, Result};

/// Scores spanning more than this many decades get a log axis.
pub const LOG_DECADES: f64 = 2.0;
/// Shading of labelled anomalies (a light orange) and the incident bar (tab10 purple).
pub(crate) const SHADE: RGBColor = RGBColor(255, 221, 178);
pub(crate) const PURPLE: RGBColor = RGBColor(148, 103, 189);

/// What the scores chart shows; every slice of windows is `(N,)`, in any order.
#[derive(Clone, Copy, Debug)]
pub struct ScoreTrace<'a> {
    /// The time of each window's label row: epoch seconds, or a row number (see `time`).
    pub times: &'a [i64],
    /// Which series (pod) each window belongs to; one value throughout = one series.
    pub series: &'a [u32],
    pub scores: &'a [f64],
    /// 1 = labelled anomaly; `None` for unlabelled data.
    pub labels: Option<&'a [u8]>,
    pub time: TimeKind,
    pub threshold: Option<f64>,
    /// How the threshold was chosen, for the legend ("POT risk 1e-4", "percentile 95").
    pub threshold_rule: &'a str,
    /// Detected incidents as (start, end) times, inclusive.
    pub incidents: &'a [(i64, i64)],
}

/// Points of a line in chart coordinates.
type Polyline = Vec<(f64, f64)>;

/// Where things landed, in absolute pixels (for the tests, which alone read it).
#[derive(Clone, Debug, Default)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Drawn {
    pub plot: (Range<i32>, Range<i32>),
    pub x_range: (f64, f64),
    /// The value axis' range, in axis coordinates (log10 when `log`).
    pub y_range: (f64, f64),
    pub log: bool,
    pub threshold_row: Option<i32>,
}

/// The scores chart as a [`SIZE`] PNG. Errors only when the slices differ in length.
pub fn scores_png(trace: &ScoreTrace<'_>, title: &str) -> Result<Vec<u8>> {
    render(trace, title).map(|(png, _)| png)
}

pub(crate) fn render(trace: &ScoreTrace<'_>, title: &str) -> Result<(Vec<u8>, Drawn)> {
    let n = trace.scores.len();
    let labels = trace.labels.unwrap_or(&[]);
    if trace.times.len() != n || trace.series.len() != n || (trace.labels.is_some() && labels.len() != n) {
        return Err(Error::data(format!(
            "scores chart: {} scores, {} times, {} series ids and {} labels (give one of each per window)",
            n,
            trace.times.len(),
            trace.series.len(),
            labels.len()
        )));
    }
    // Time order; equal times by series so the result does not depend on the input order.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (trace.times[i], trace.series[i], i));
    let one_series = trace.series.windows(2).all(|p| p[0] == p[1]);
    let threshold = trace.threshold.filter(|t| t.is_finite());
    let axis = ValueAxis::new(trace.scores, LOG_DECADES, threshold, 0.25);
    let x_range = time_range(trace);
    let (x_ticks, x_desc) = time_ticks(trace.time, x_range, 7);
    let y_ticks = axis.ticks(8);
    let y_desc = if axis.log { "anomaly score (log scale)" } else { "anomaly score" };
    let mut drawn = Drawn { x_range, y_range: axis.range, log: axis.log, ..Drawn::default() };

    let png = render_png("scores", SIZE, |root| {
        let area = titled(root, title, bold(TITLE_PX), 60)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(x_range.0..x_range.1, axis.range.0..axis.range.1)?;
        draw_axes(root, &mut chart, (&x_desc, &x_ticks), (y_desc, &y_ticks))?;
        drawn.plot = chart.plotting_area().get_pixel_range();
        let (w, h) = chart.plotting_area().dim_in_pixel();
        let (lo, hi) = axis.range;

        if !labels.is_empty() {
            let spans = labelled_spans(trace, labels);
            let windows = labels.iter().filter(|&&l| l == 1).count();
            let bands = spans.iter().map(|&(a, b)| Rectangle::new([(a, lo), (b, hi)], SHADE.filled()));
            chart
                .draw_series(bands)?
                .label(format!("labelled anomaly ({windows} windows)"))
                .legend(|(x, y)| Rectangle::new([(x, y - 7), (x + 30, y + 7)], SHADE.filled()));
        }

        let ys: Vec<f64> = order.iter().map(|&i| axis.coord(trace.scores[i])).collect(); // (n,) time order
        let xs: Vec<f64> = order.iter().map(|&i| trace.times[i] as f64).collect();
        let floor = if axis.log { axis.below_floor(trace.scores) } else { 0 };
        let floor_note = if floor > 0 { format!(", {floor} at 0 on the floor") } else { String::new() };
        if one_series {
            let segments = min_max_per_column(&ys, w as usize);
            let line = BLUE.stroke_width(1);
            chart
                .draw_series(
                    segments
                        .iter()
                        .map(|s| PathElement::new(s.iter().map(|&(i, v)| (xs[i], v)).collect::<Vec<_>>(), line)),
                )?
                .label(format!("anomaly score{floor_note}"))
                .legend(line_legend(BLUE.stroke_width(2)));
        } else {
            let pods = {
                let mut ids = trace.series.to_vec();
                ids.sort_unstable();
                ids.dedup();
                ids.len()
            };
            let (max, median) = per_column(&xs, &ys, x_range, w as usize);
            chart
                .draw_series(std::iter::once(PathElement::new(median, GREY.stroke_width(1))))?
                .label("median over the pods")
                .legend(line_legend(GREY.stroke_width(2)));
            chart
                .draw_series(std::iter::once(PathElement::new(max, BLUE.stroke_width(1))))?
                .label(format!("max over {pods} pods per time step{floor_note}"))
                .legend(line_legend(BLUE.stroke_width(2)));
        }

        if !trace.incidents.is_empty() {
            // A bar 10 px tall along the bottom edge: the legend and a threshold above the axis
            // sit at the top and would cover it there; the scores keep 5 % of padding above it.
            let bar = 10.0 * (hi - lo) / h.max(1) as f64;
            let spans = trace.incidents.iter().map(|&(a, b)| {
                let (a, b) = (a.min(b) as f64, a.max(b) as f64);
                Rectangle::new([(a.max(x_range.0), lo), (b.min(x_range.1), lo + bar)], PURPLE.filled())
            });
            chart
                .draw_series(spans)?
                .label(format!("incident ({})", trace.incidents.len()))
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 30, y + 5)], PURPLE.filled()));
        }

        if let Some(t) = threshold {
            let c = axis.coord(t);
            let rule =
                if trace.threshold_rule.is_empty() { String::new() } else { format!(", {}", trace.threshold_rule) };
            let off = axis.clamped(t).map_or(String::new(), |side| format!(" — {side} the axis, drawn at its edge"));
            chart
                .draw_series(DashedLineSeries::new([(x_range.0, c), (x_range.1, c)], 10, 6, RED.stroke_width(2)))?
                .label(format!("threshold = {}{rule}{off}", three_significant(t)))
                .legend(|(x, y)| dashed_legend((x, y), RED));
            drawn.threshold_row = Some(chart.backend_coord(&(x_range.0, c)).1);
        }

        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, 15, 0.85)?;
        if !trace.scores.iter().any(|v| v.is_finite()) {
            note_in_middle(
                &chart.plotting_area().strip_coord_spec(),
                if n == 0 { "no data" } else { "no finite scores" },
            )?;
        }
        Ok(())
    })?;
    Ok((png, drawn))
}

/// The x range: the windows' times, widened around a single time.
fn time_range(trace: &ScoreTrace<'_>) -> (f64, f64) {
    let lo = trace.times.iter().min().copied();
    let hi = trace.times.iter().max().copied();
    match (lo, hi) {
        (Some(lo), Some(hi)) if hi > lo => (lo as f64, hi as f64),
        (Some(t), _) => {
            let pad = if trace.time == TimeKind::RowIndex { 0.5 } else { 30.0 };
            (t as f64 - pad, t as f64 + pad)
        }
        _ => (0.0, 1.0),
    }
}

/// Per pixel column of `columns` over `x_range`: the (x, max) and (x, median) of the finite
/// `ys` whose `xs` fall in it, x being the column's first time. `xs` in increasing order.
fn per_column(xs: &[f64], ys: &[f64], x_range: (f64, f64), columns: usize) -> (Polyline, Polyline) {
    let columns = columns.max(1);
    let scale = columns as f64 / (x_range.1 - x_range.0);
    let column = |x: f64| (((x - x_range.0) * scale) as usize).min(columns - 1);
    let (mut max, mut median) = (Vec::new(), Vec::new());
    let mut i = 0;
    let mut bucket: Vec<f64> = Vec::new();
    while i < xs.len() {
        let (c, x) = (column(xs[i]), xs[i]);
        bucket.clear();
        while i < xs.len() && column(xs[i]) == c {
            if ys[i].is_finite() {
                bucket.push(ys[i]);
            }
            i += 1;
        }
        if bucket.is_empty() {
            continue;
        }
        bucket.sort_by(f64::total_cmp);
        max.push((x, bucket[bucket.len() - 1]));
        median.push((x, bucket[bucket.len() / 2]));
    }
    (max, median)
}

/// The time spans to shade: per series, each run of consecutive labelled windows, widened
/// by half the series' median sampling step on each side; overlapping spans merged.
pub(crate) fn labelled_spans(trace: &ScoreTrace<'_>, labels: &[u8]) -> Vec<(f64, f64)> {
    let mut by_series: Vec<usize> = (0..labels.len()).collect();
    by_series.sort_by_key(|&i| (trace.series[i], trace.times[i], i));
    let mut spans = Vec::new();
    for group in by_series.chunk_by(|&a, &b| trace.series[a] == trace.series[b]) {
        let mut steps: Vec<i64> =
            group.windows(2).map(|p| trace.times[p[1]] - trace.times[p[0]]).filter(|&d| d > 0).collect();
        steps.sort_unstable();
        let half = steps.get(steps.len() / 2).map_or(0.5, |&s| s as f64 / 2.0);
        for run in group.chunk_by(|&a, &b| labels[a] == labels[b]) {
            if labels[run[0]] == 1 {
                spans.push((trace.times[run[0]] as f64 - half, trace.times[run[run.len() - 1]] as f64 + half));
            }
        }
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// `t` with three significant digits, so that a small threshold (an autoencoder's
/// reconstruction error, say 0.00104) does not print as 0.001.
pub(crate) fn three_significant(t: f64) -> String {
    if t == 0.0 || t.abs() >= 1.0 || !t.is_finite() {
        return format!("{t:.3}");
    }
    let decimals = (2 - t.abs().log10().floor() as i32).clamp(3, 12) as usize;
    format!("{t:.decimals$}")
}

#[cfg(test)]
#[path = "scores_tests.rs"]
mod tests;
