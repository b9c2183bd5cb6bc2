//! Precision-recall chart: the curve as steps (the shape average precision integrates, as
//! scikit-learn's `PrecisionRecallDisplay` draws it), the no-skill line at the anomaly
//! prevalence, and AP and the trapezoid PR-AUC in the legend.

use plotters::prelude::*;

use super::canvas::{
    bold, dashed_legend, draw_legend, finite_segments, fmt3, line_legend, note_in_middle, render_png, thin, titled,
    unit_square_chart, GREEN, GREY, TITLE_PX, UNIT_RANGE,
};
use super::SIZE;
use crate::metrics::PrecisionRecallCurve;
use crate::Result;

/// The precision-recall curve as a [`SIZE`] PNG. No anomalies or no data draws the axes
/// and a note.
pub fn precision_recall_png(curve: &PrecisionRecallCurve, title: &str) -> Result<Vec<u8>> {
    render_png("precision_recall_curve", SIZE, |root| {
        let area = titled(root, title, bold(TITLE_PX), 60)?;
        let range = UNIT_RANGE;
        let mut chart = unit_square_chart(&area, "recall", "precision")?;

        let drawable = curve.positives > 0 && !curve.thresholds.is_empty();
        // steps-post in stored order: (r_j, p_j) → (r_{j+1}, p_j) → (r_{j+1}, p_{j+1}).
        let mut steps = Vec::with_capacity(2 * curve.recall.len());
        if drawable {
            for (j, (&r, &p)) in curve.recall.iter().zip(&curve.precision).enumerate() {
                if j > 0 {
                    steps.push((r, curve.precision[j - 1]));
                }
                steps.push((r, p));
            }
        }
        let dim = chart.plotting_area().dim_in_pixel();
        let segments: Vec<Vec<(f64, f64)>> =
            finite_segments(steps).iter().map(|s| thin(s, range, range, dim)).collect();

        // Precision when everything is flagged = the anomaly share of the data.
        let prevalence = drawable.then(|| curve.precision[0]);
        chart
            .draw_series(DashedLineSeries::new(
                prevalence.map(|p| [(0.0, p), (1.0, p)]).into_iter().flatten(),
                10,
                6,
                GREY.stroke_width(2),
            ))?
            .label(format!("no skill (anomaly share = {})", fmt3(prevalence)))
            .legend(|(x, y)| dashed_legend((x, y), GREY));
        let style = GREEN.stroke_width(2);
        chart
            .draw_series(segments.iter().map(|s| PathElement::new(s.clone(), style)))?
            .label(format!(
                "precision-recall (AP = {}, trapezoid AUC = {})",
                fmt3(curve.average_precision()),
                fmt3(curve.auc_trapezoid())
            ))
            .legend(line_legend(style));
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft, 20, 0.9)?;
        if segments.is_empty() {
            let why = if curve.thresholds.is_empty() { "no data" } else { "undefined: no anomalies in the labels" };
            note_in_middle(&chart.plotting_area().strip_coord_spec(), why)?;
        }
        Ok(())
    })
}
