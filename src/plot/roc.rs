//! ROC curve chart: the curve, the chance diagonal, the AUC in the legend.

use plotters::prelude::*;

use super::canvas::{
    bold, dashed_legend, finite_segments, fmt3, font, note_in_middle, render_png, thin, titled, AXIS_PX, BLUE, GREY,
    GRID, LEGEND_PX, TICK_PX, TITLE_PX,
};
use super::SIZE;
use crate::metrics::RocCurve;
use crate::Result;

/// The ROC curve as a [`SIZE`] PNG. A curve with a missing class (NaN rates) or no data
/// draws the axes, the diagonal and a note.
pub fn roc_curve_png(curve: &RocCurve, title: &str) -> Result<Vec<u8>> {
    render_png("roc_curve", SIZE, |root| {
        let area = titled(root, title, bold(TITLE_PX), 60)?;
        let range = (-0.01, 1.01);
        let mut chart = ChartBuilder::on(&area)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(range.0..range.1, range.0..range.1)?;
        chart
            .configure_mesh()
            .x_desc("false positive rate")
            .y_desc("true positive rate")
            .label_style(font(TICK_PX))
            .axis_desc_style(font(AXIS_PX))
            .bold_line_style(GRID)
            .light_line_style(WHITE)
            .draw()?;

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
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 30, y)], style));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .margin(20)
            .legend_area_size(45)
            .label_font(font(LEGEND_PX))
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .draw()?;
        if segments.is_empty() {
            let why = if curve.fpr.is_empty() || curve.len() <= 1 { "no data" } else { "undefined: only one class" };
            note_in_middle(&chart.plotting_area().strip_coord_spec(), why)?;
        }
        Ok(())
    })
}
