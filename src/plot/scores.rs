//! Anomaly score over time for a split: the scores, the decision threshold and the true
//! anomalies as points.
//!
//! One series is drawn as a line, decimated to first/min/max/last per pixel column before
//! drawing ([`super::downsample`]). Many series (pods) interleaved in time are drawn as a dot
//! per window instead: a line through them would zig-zag from pod to pod and fill the chart.
//! Dots and anomaly markers on the same pixel are drawn once (which changes no pixel).

use std::collections::HashSet;

use plotters::prelude::*;

use super::canvas::{
    bold, dashed_legend, finite_range, font, note_in_middle, padded, render_png, titled, AXIS_PX, BLUE, GREY, GRID,
    INK, LEGEND_PX, ORANGE, RED, TICK_PX, TITLE_PX,
};
use super::downsample::min_max_per_column;
use super::SIZE;
use crate::{Error, Result};

/// How the scores are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoreMarks {
    /// A line: the scores are one series in time order.
    Line,
    /// A dot per score: several series interleaved in time order.
    Dots,
}

/// Scores over time as a [`SIZE`] PNG; x is the sample index (time order). `labels` are
/// the true classes (1 = anomaly, marked) or empty for unlabelled data; `threshold` draws
/// a horizontal line. Errors only when `labels` is neither empty nor as long as `scores`.
pub fn scores_png<S: Copy + Into<f64>>(
    scores: &[S],
    labels: &[u8],
    threshold: Option<f64>,
    marks: ScoreMarks,
    title: &str,
) -> Result<Vec<u8>> {
    if !labels.is_empty() && labels.len() != scores.len() {
        return Err(Error::data(format!(
            "scores chart: {} labels for {} scores (give one per score, or none)",
            labels.len(),
            scores.len()
        )));
    }
    let values: Vec<f64> = scores.iter().map(|&s| s.into()).collect(); // (n,)
    let threshold = threshold.filter(|t| t.is_finite());
    let n = values.len();
    let x_range = (0.0, (n.max(2) - 1) as f64);
    let (lo, hi) = padded(finite_range(values.iter().copied().chain(threshold)), (0.0, 1.0));
    // Headroom above the data for the legend, so it does not hide the highest scores.
    let y_range = (lo, hi + 0.25 * (hi - lo));

    render_png("scores", SIZE, |root| {
        let area = titled(root, title, bold(TITLE_PX), 60)?;
        let mut chart = ChartBuilder::on(&area)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
        let index_label = |v: &f64| format!("{v:.0}");
        chart
            .configure_mesh()
            .x_desc("sample index (time order)")
            .y_desc("anomaly score")
            .x_label_formatter(&index_label)
            .label_style(font(TICK_PX))
            .axis_desc_style(font(AXIS_PX))
            .bold_line_style(GRID)
            .light_line_style(WHITE)
            .draw()?;
        let (w, h) = chart.plotting_area().dim_in_pixel();

        let sx = w as f64 / (x_range.1 - x_range.0);
        let sy = h as f64 / (y_range.1 - y_range.0);
        let pixel = |i: usize, v: f64| ((i as f64 * sx).round() as i64, ((v - y_range.0) * sy).round() as i64);
        let any_finite = values.iter().any(|v| v.is_finite());
        match marks {
            ScoreMarks::Line => {
                let line = BLUE.stroke_width(1);
                let segments = min_max_per_column(&values, w as usize);
                chart
                    .draw_series(
                        segments
                            .iter()
                            .map(|s| PathElement::new(s.iter().map(|&(i, v)| (i as f64, v)).collect::<Vec<_>>(), line)),
                    )?
                    .label("anomaly score")
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 30, y)], BLUE.stroke_width(2)));
            }
            ScoreMarks::Dots => {
                let mut seen = HashSet::new();
                let dots: Vec<(f64, f64)> = (values.iter().enumerate())
                    .filter(|&(i, &v)| v.is_finite() && seen.insert(pixel(i, v)))
                    .map(|(i, &v)| (i as f64, v))
                    .collect();
                let dot = |(x, y): (f64, f64)| Circle::new((x, y), 1, BLUE.filled());
                chart
                    .draw_series(dots.into_iter().map(dot))?
                    .label("anomaly score (a dot per window)")
                    .legend(|(x, y)| EmptyElement::at((x + 15, y)) + Circle::new((0, 0), 3, BLUE.filled()));
            }
        }

        if let Some(t) = threshold {
            chart
                .draw_series(DashedLineSeries::new([(x_range.0, t), (x_range.1, t)], 10, 6, RED.stroke_width(2)))?
                .label(format!("threshold = {}", three_significant(t)))
                .legend(|(x, y)| dashed_legend((x, y), RED));
        }

        if !labels.is_empty() {
            // One marker per pixel: (column, row) of each anomaly.
            let mut seen = HashSet::new();
            let mut markers = Vec::new();
            let mut anomalies = 0usize;
            for (i, (&y, &v)) in labels.iter().zip(&values).enumerate() {
                if y != 1 {
                    continue;
                }
                anomalies += 1;
                if v.is_finite() && seen.insert(pixel(i, v)) {
                    markers.push((i as f64, v));
                }
            }
            let marker = |(x, y): (f64, f64)| {
                EmptyElement::at((x, y)) + Circle::new((0, 0), 4, ORANGE.filled()) + Circle::new((0, 0), 4, INK)
            };
            chart.draw_series(markers.into_iter().map(marker))?.label(format!("true anomaly ({anomalies})")).legend(
                |(x, y)| {
                    EmptyElement::at((x + 15, y))
                        + Circle::new((0, 0), 4, ORANGE.filled())
                        + Circle::new((0, 0), 4, INK)
                },
            );
        }

        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .margin(15)
            .legend_area_size(45)
            .label_font(font(LEGEND_PX))
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .draw()?;
        if !any_finite {
            note_in_middle(
                &chart.plotting_area().strip_coord_spec(),
                if n == 0 { "no data" } else { "no finite scores" },
            )?;
        }
        Ok(())
    })
}

/// `t` with three significant digits, so that a small threshold (an autoencoder's
/// reconstruction error, say 0.00104) does not print as 0.001.
fn three_significant(t: f64) -> String {
    if t == 0.0 || t.abs() >= 1.0 || !t.is_finite() {
        return format!("{t:.3}");
    }
    let decimals = (2 - t.abs().log10().floor() as i32).clamp(3, 12) as usize;
    format!("{t:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::three_significant;

    #[test]
    fn thresholds_keep_three_significant_digits() {
        assert_eq!(three_significant(0.001036), "0.00104");
        assert_eq!(three_significant(0.242955), "0.243");
        assert_eq!(three_significant(0.0), "0.000");
        assert_eq!(three_significant(12.5), "12.500");
        assert_eq!(three_significant(-0.0456), "-0.0456");
    }
}
