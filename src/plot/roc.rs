//! ROC curve chart: the curve, the chance diagonal, the AUC in the legend.

use plotters::prelude::*;

use super::canvas::{
    bold, dashed_legend, draw_legend, finite_segments, fmt3, line_legend, note_in_middle, render_png, thin, titled,
    unit_square_chart, BLUE, GREY, TITLE_PX, UNIT_RANGE,
};
use super::SIZE;
use crate::metrics::RocCurve;
use crate::Result;

/// The ROC curve as a [`SIZE`] PNG. A curve with a missing class (NaN rates) or no data
/// draws the axes, the diagonal and a note.
pub fn roc_curve_png(curve: &RocCurve, title: &str) -> Result<Vec<u8>> {
    render_png("roc_curve", SIZE, |root| {
        let area = titled(root, title, bold(TITLE_PX), 60)?;
        let range = UNIT_RANGE;
        let mut chart = unit_square_chart(&area, "false positive rate", "true positive rate")?;

        let points: Vec<(f64, f64)> = curve.fpr.iter().copied().zip(curve.tpr.iter().copied()).collect();
        let dim = chart.plotting_area().dim_in_pixel();
        let segments: Vec<Vec<(f64, f64)>> =
            finite_segments(points).iter().map(|s| thin(s, range, range, dim)).collect();

        chart
            .draw_series(DashedLineSeries::new([(0.0, 0.0), (1.0, 1.0)], 10, 6, GREY.stroke_width(2)))?
            .label("chance (AUC = 0.5)")
            .legend(|(x, y)| dashed_legend((x, y), GREY));
        let style = BLUE.stroke_width(2);
        chart
            .draw_series(segments.iter().map(|s| PathElement::new(s.clone(), style)))?
            .label(format!("ROC curve (AUC = {})", fmt3(curve.auc())))
            .legend(line_legend(style));
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight, 20, 0.9)?;
        if segments.is_empty() {
            let why = if curve.fpr.is_empty() || curve.len() <= 1 { "no data" } else { "undefined: only one class" };
            note_in_middle(&chart.plotting_area().strip_coord_spec(), why)?;
        }
        Ok(())
    })
}
