//! A histogram of scores with the threshold: what a run without labels can show about its
//! decision (how the validation scores spread, where the cut falls, how many lie above).
//! Bins are equal in log10(score) when the scores span decades ([`super::scores::LOG_DECADES`]),
//! so the bulk is not one bar beside an empty axis.

use plotters::prelude::*;

use super::axes::ValueAxis;
use super::canvas::{
    bold, dashed_legend, draw_legend, note_in_middle, titled, Area, DrawResult, BLUE, CAPTION_PX, RED,
};
use super::scores::{three_significant, LOG_DECADES};
use super::ticks::draw_axes;

const BINS: usize = 40;

/// Where the threshold line landed (absolute pixel column) and the plot's pixel columns.
#[derive(Clone, Debug, Default)]
pub(crate) struct HistogramDrawn {
    pub log: bool,
    pub plot_columns: std::ops::Range<i32>,
    pub threshold_column: Option<i32>,
}

/// Counts of `values` in `BINS` equal bins over the axis range (axis coordinates); values
/// off the axis (zeros on a log axis) count in the edge bins.
pub(crate) fn bin_counts(axis: &ValueAxis, values: &[f64]) -> Vec<u64> {
    let (lo, hi) = axis.range;
    let mut counts = vec![0u64; BINS];
    for c in values.iter().map(|&v| axis.coord(v)).filter(|c| c.is_finite()) {
        let b = (((c - lo) / (hi - lo)) * BINS as f64) as usize;
        counts[b.min(BINS - 1)] += 1;
    }
    counts
}

/// The share of finite `values` at or above `threshold` (the rule flags `score >= value`).
pub(crate) fn share_above(values: &[f64], threshold: f64) -> (usize, usize) {
    let finite = values.iter().filter(|v| v.is_finite());
    let n = finite.clone().count();
    (finite.filter(|&&v| v >= threshold).count(), n)
}

/// Draws the histogram panel titled `caption` into `panel`; tick labels go on `root`.
pub(crate) fn draw_histogram(
    root: &Area,
    panel: &Area,
    caption: &str,
    values: &[f64],
    threshold: f64,
    rule: &str,
    drawn: &mut HistogramDrawn,
) -> DrawResult {
    let area = titled(panel, caption, bold(CAPTION_PX), 44)?;
    let threshold = Some(threshold).filter(|t| t.is_finite());
    let axis = ValueAxis::new(values, LOG_DECADES, threshold, 0.0);
    let counts = bin_counts(&axis, values);
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.3; // headroom for the legend
    let mut chart = ChartBuilder::on(&area)
        .margin_left(10)
        .margin_right(30)
        .margin_bottom(10)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(axis.range.0..axis.range.1, 0.0..top)?;
    let counts_axis = ValueAxis { log: false, range: (0.0, top) };
    let y_ticks: Vec<(f64, String)> = counts_axis
        .ticks(6)
        .into_iter()
        .filter(|(v, _)| v.fract() == 0.0)
        .map(|(v, _)| (v, format!("{v:.0}")))
        .collect();
    let x_desc = if axis.log { "anomaly score (log scale)" } else { "anomaly score" };
    draw_axes(root, &mut chart, (x_desc, &axis.ticks(8)), ("windows", &y_ticks))?;
    drawn.log = axis.log;
    drawn.plot_columns = chart.plotting_area().get_pixel_range().0;

    let width = (axis.range.1 - axis.range.0) / BINS as f64;
    let bars = counts.iter().enumerate().filter(|(_, &c)| c > 0).map(|(b, &c)| {
        let x = axis.range.0 + b as f64 * width;
        Rectangle::new([(x, 0.0), (x + width, c as f64)], BLUE.filled())
    });
    chart
        .draw_series(bars)?
        .label(format!("validation windows per bin ({})", values.iter().filter(|v| v.is_finite()).count()))
        .legend(|(x, y)| Rectangle::new([(x, y - 7), (x + 30, y + 7)], BLUE.filled()));
    if let Some(t) = threshold {
        let c = axis.coord(t);
        let (above, n) = share_above(values, t);
        let share = if n > 0 { 100.0 * above as f64 / n as f64 } else { 0.0 };
        let rule = if rule.is_empty() { String::new() } else { format!(" ({rule})") };
        chart
            .draw_series(DashedLineSeries::new([(c, 0.0), (c, top)], 10, 6, RED.stroke_width(2)))?
            .label(format!("threshold = {}{rule}: {above} of {n} above ({share:.2} %)", three_significant(t)))
            .legend(|(x, y)| dashed_legend((x, y), RED));
        drawn.threshold_column = Some(chart.backend_coord(&(c, 0.0)).0);
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 12, 0.85)?;
    if !values.iter().any(|v| v.is_finite()) {
        note_in_middle(&chart.plotting_area().strip_coord_spec(), "no validation scores")?;
    }
    Ok(())
}
