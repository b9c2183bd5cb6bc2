//! Training history, 2×2: loss, accuracy, ROC-AUC and precision per epoch, each with the
//! training and the validation line, and the best epoch marked.
//!
//! Takes plain per-epoch numbers ([`HistoryCurves`]), not the trainer's types, so the
//! chart does not depend on the training loop.

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::canvas::{
    bold, dashed_legend, draw_legend, finite_range, finite_segments, font, line_legend, note_in_middle, padded,
    render_png, titled, Area, Chart, DrawResult, AXIS_PX, BLUE, CAPTION_PX, GREY, GRID, ORANGE, TICK_PX, TITLE_PX,
};
use super::HISTORY_SIZE;
use crate::Result;

/// One metric per epoch (index 0 = epoch 1) on the training and the validation split.
/// NaN leaves a gap (e.g. AUC of a batch with one class); the two may differ in length.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainValidation {
    pub train: Vec<f64>,
    pub validation: Vec<f64>,
}

/// The four panels of the history chart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryCurves {
    pub loss: TrainValidation,
    pub accuracy: TrainValidation,
    pub auc: TrainValidation,
    pub precision: TrainValidation,
    /// The epoch (1-based) whose weights were kept, drawn as a vertical line.
    pub best_epoch: Option<usize>,
    /// The learning rate of each epoch (drawn by [`super::unsupervised_history_png`] when it changed).
    #[serde(default)]
    pub learning_rate: Vec<f64>,
}

/// The 2×2 history as a [`HISTORY_SIZE`] PNG. Empty series draw labelled empty panels.
pub fn training_history_png(history: &HistoryCurves, title: &str) -> Result<Vec<u8>> {
    render_png("training_history", HISTORY_SIZE, |root| {
        let area = titled(root, title, bold(TITLE_PX), 64)?;
        let panels = area.split_evenly((2, 2));
        let specs = [
            (&history.loss, "Loss", "loss", SeriesLabelPosition::UpperRight),
            (&history.accuracy, "Accuracy", "accuracy", SeriesLabelPosition::LowerRight),
            (&history.auc, "ROC-AUC", "ROC-AUC", SeriesLabelPosition::LowerRight),
            (&history.precision, "Precision", "precision", SeriesLabelPosition::LowerRight),
        ];
        for (panel, (series, caption, y_desc, legend_at)) in panels.iter().zip(specs) {
            draw_panel(panel, series, caption, y_desc, legend_at, history.best_epoch)?;
        }
        Ok(())
    })
}

fn draw_panel(
    panel: &Area,
    series: &TrainValidation,
    caption: &str,
    y_desc: &str,
    legend_at: SeriesLabelPosition,
    best_epoch: Option<usize>,
) -> DrawResult {
    let area = titled(panel, caption, bold(CAPTION_PX), 44)?;
    let epochs = series.train.len().max(series.validation.len());
    let x_range = if epochs <= 1 { (0.5, 1.5) } else { (1.0, epochs as f64) };
    let y_range = padded(finite_range(series.train.iter().chain(&series.validation).copied()), (0.0, 1.0));
    let mut chart = ChartBuilder::on(&area)
        .margin_left(10)
        .margin_right(30)
        .margin_bottom(10)
        .x_label_area_size(55)
        .y_label_area_size(85)
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
    // Epochs are whole numbers: label only the whole ticks.
    let epoch_label = |v: &f64| if (v - v.round()).abs() < 1e-6 { format!("{v:.0}") } else { String::new() };
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .x_label_formatter(&epoch_label)
        .label_style(font(TICK_PX))
        .axis_desc_style(font(AXIS_PX))
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .draw()?;

    draw_best_epoch(&mut chart, best_epoch, epochs, y_range)?;
    // Train dots a little larger, so equal values still show both.
    for (values, name, colour, dot) in
        [(&series.train, "train", BLUE, 5), (&series.validation, "validation", ORANGE, 4)]
    {
        draw_epoch_line(&mut chart, values, |v| v, (name, colour), epochs, dot)?;
    }
    draw_legend(&mut chart, legend_at, 12, 0.85)?;
    if finite_range(series.train.iter().chain(&series.validation).copied()).is_none() {
        note_in_middle(&chart.plotting_area().strip_coord_spec(), "no data")?;
    }
    Ok(())
}

/// A dashed vertical line at the best epoch, across `y_range`, when it is one of `epochs`.
pub(crate) fn draw_best_epoch<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    best_epoch: Option<usize>,
    epochs: usize,
    y_range: (f64, f64),
) -> DrawResult {
    if let Some(best) = best_epoch.filter(|&b| b >= 1 && b <= epochs) {
        let x = best as f64;
        chart
            .draw_series(DashedLineSeries::new([(x, y_range.0), (x, y_range.1)], 8, 6, GREY.stroke_width(2)))?
            .label(format!("best epoch ({best})"))
            .legend(|(x, y)| dashed_legend((x, y), GREY));
    }
    Ok(())
}

/// `values` of epochs 1, 2, … as a line (split where a value is not finite), its coordinates
/// `y(value)` (a log axis maps them). With few epochs each gets a dot of radius `dot`, so a
/// single epoch is a visible point and not an empty line.
pub(crate) fn draw_epoch_line<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    values: &[f64],
    y: impl Fn(f64) -> f64,
    (name, colour): (&str, RGBColor),
    epochs: usize,
    dot: u32,
) -> DrawResult {
    let points = values.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, y(v)));
    let segments = finite_segments(points);
    let style = colour.stroke_width(2);
    chart
        .draw_series(segments.iter().map(|s| PathElement::new(s.clone(), style)))?
        .label(name)
        .legend(line_legend(style));
    if epochs <= 40 {
        chart.draw_series(segments.iter().flatten().map(|&p| Circle::new(p, dot, colour.filled())))?;
    }
    Ok(())
}
