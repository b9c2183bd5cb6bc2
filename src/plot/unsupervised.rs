//! Training history of a run without labels (reconstruction or forecast): what such a run
//! has, instead of the supervised chart's accuracy, ROC-AUC and precision panels (which it
//! can only fill with a flat 0.95 accuracy and a precision of 0).
//!
//! Top: train and validation loss per epoch (log axis when it spans more than a decade),
//! the best epoch marked; beside it the learning rate, if it changed. Bottom: a histogram of
//! the validation scores with the threshold line, its rule and the share of windows above.

use plotters::prelude::*;

use super::axes::ValueAxis;
use super::canvas::{
    bold, draw_legend, finite_range, note_in_middle, render_png, titled, Area, DrawError, BLUE, CAPTION_PX, GREEN,
    ORANGE, TITLE_PX,
};
use super::histogram::{draw_histogram, HistogramDrawn};
use super::history::{draw_best_epoch, draw_epoch_line, HistoryCurves};
use super::ticks::draw_axes;
use super::HISTORY_SIZE;
use crate::Result;

/// The validation split's scores and the threshold chosen on them.
#[derive(Clone, Copy, Debug)]
pub struct ValidationScores<'a> {
    /// `(N,)` one score per validation window.
    pub scores: &'a [f64],
    pub threshold: f64,
    /// How the threshold was chosen, in words ("POT risk 1e-4", "percentile 95").
    pub rule: &'a str,
}

/// Loss per epoch that spans more than this many decades gets a log axis.
const LOSS_LOG_DECADES: f64 = 1.0;

#[derive(Clone, Debug, Default)]
pub(crate) struct HistoryDrawn {
    pub loss_log: bool,
    pub learning_rate_panel: bool,
    pub histogram: HistogramDrawn,
}

/// The history of an unsupervised run as a [`HISTORY_SIZE`] PNG.
pub fn unsupervised_history_png(
    history: &HistoryCurves,
    validation: &ValidationScores<'_>,
    title: &str,
) -> Result<Vec<u8>> {
    render(history, validation, title).map(|(png, _)| png)
}

pub(crate) fn render(
    history: &HistoryCurves,
    validation: &ValidationScores<'_>,
    title: &str,
) -> Result<(Vec<u8>, HistoryDrawn)> {
    let mut drawn = HistoryDrawn::default();
    let lr = &history.learning_rate;
    let lr_changed = finite_range(lr.iter().copied()).is_some_and(|(lo, hi)| hi > lo * (1.0 + 1e-9));
    let png = render_png("training_history", HISTORY_SIZE, |root| {
        let area = titled(root, title, bold(TITLE_PX), 64)?;
        let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 / 2);
        let loss_caption = match (lr_changed, lr.first()) {
            (false, Some(&rate)) => format!("Loss (learning rate {} throughout)", super::axes::number(rate)),
            _ => "Loss".to_owned(),
        };
        let (loss, rate) = if lr_changed {
            let (l, r) = top.split_horizontally(top.dim_in_pixel().0 * 3 / 5);
            (l, Some(r))
        } else {
            (top, None)
        };
        let epochs = history.loss.train.len().max(history.loss.validation.len());
        let loss_lines =
            [(&history.loss.train[..], "train", BLUE), (&history.loss.validation[..], "validation", ORANGE)];
        drawn.loss_log = epoch_panel(root, &loss, &loss_caption, "loss", &loss_lines, epochs, history.best_epoch)?;
        if let Some(rate) = rate {
            epoch_panel(
                root,
                &rate,
                "Learning rate",
                "learning rate",
                &[(&lr[..], "learning rate", GREEN)],
                epochs,
                None,
            )?;
            drawn.learning_rate_panel = true;
        }
        let n = validation.scores.len();
        draw_histogram(
            root,
            &bottom,
            &format!("Validation scores ({n} windows) and the threshold"),
            validation.scores,
            validation.threshold,
            validation.rule,
            &mut drawn.histogram,
        )
    })?;
    Ok((png, drawn))
}

/// One per-epoch panel; returns whether its value axis is logarithmic.
fn epoch_panel(
    root: &Area,
    panel: &Area,
    caption: &str,
    y_desc: &str,
    lines: &[(&[f64], &str, RGBColor)],
    epochs: usize,
    best_epoch: Option<usize>,
) -> std::result::Result<bool, DrawError> {
    let area = titled(panel, caption, bold(CAPTION_PX), 44)?;
    let values: Vec<f64> = lines.iter().flat_map(|l| l.0.iter().copied()).collect();
    let axis = ValueAxis::new(&values, LOSS_LOG_DECADES, None, 0.15);
    let x_range = if epochs <= 1 { (0.5, 1.5) } else { (1.0, epochs as f64) };
    let mut chart = ChartBuilder::on(&area)
        .margin_left(10)
        .margin_right(30)
        .margin_bottom(10)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(x_range.0..x_range.1, axis.range.0..axis.range.1)?;
    let epoch_ticks: Vec<(f64, String)> = ValueAxis { log: false, range: x_range }
        .ticks(10)
        .into_iter()
        .filter(|(v, _)| v.fract() == 0.0)
        .map(|(v, _)| (v, format!("{v:.0}")))
        .collect();
    let y_desc = if axis.log { format!("{y_desc} (log scale)") } else { y_desc.to_owned() };
    draw_axes(root, &mut chart, ("epoch", &epoch_ticks), (&y_desc, &axis.ticks(7)))?;
    draw_best_epoch(&mut chart, best_epoch, epochs, axis.range)?;
    for &(values, name, colour) in lines {
        draw_epoch_line(&mut chart, values, |v| axis.coord(v), (name, colour), epochs, 4)?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight, 12, 0.85)?;
    if finite_range(values.iter().copied()).is_none() {
        note_in_middle(&chart.plotting_area().strip_coord_spec(), "no data")?;
    }
    Ok(axis.log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::TrainValidation;

    const RED_PX: [u8; 3] = [214, 39, 40];
    const GREEN_PX: [u8; 3] = [44, 160, 44];

    fn curves(epochs: usize, lr: impl Fn(usize) -> f64) -> HistoryCurves {
        let decay = |scale: f64| (0..epochs).map(|e| scale * 0.5f64.powi(e as i32)).collect();
        HistoryCurves {
            loss: TrainValidation { train: decay(1.0), validation: decay(1.2) },
            learning_rate: (0..epochs).map(lr).collect(),
            best_epoch: Some(epochs),
            ..HistoryCurves::default()
        }
    }

    fn heavy(n: usize) -> Vec<f64> {
        (0..n).map(|i| if i % 500 == 0 { 50.0 } else { 0.002 + 0.01 * ((i * 37 % 101) as f64 / 101.0) }).collect()
    }

    fn decode(png: &[u8]) -> image::RgbImage {
        image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8()
    }

    #[test]
    fn loss_over_decades_is_logarithmic_and_a_short_drop_is_not() {
        let scores = heavy(2_000);
        let v = ValidationScores { scores: &scores, threshold: 0.05, rule: "POT risk 1e-4" };
        let (_, drawn) = render(&curves(12, |_| 1e-3), &v, "t").unwrap(); // 1.2 .. 3e-4: 3.6 decades
        assert!(drawn.loss_log);
        let (_, drawn) = render(&curves(3, |_| 1e-3), &v, "t").unwrap(); // 1.2 .. 0.25
        assert!(!drawn.loss_log);
    }

    #[test]
    fn the_learning_rate_panel_appears_only_when_the_rate_changed() {
        let scores = heavy(2_000);
        let v = ValidationScores { scores: &scores, threshold: 0.05, rule: "95th percentile" };
        let (png, drawn) = render(&curves(20, |e| if e < 8 { 1e-3 } else { 5e-4 }), &v, "t").unwrap();
        assert!(drawn.learning_rate_panel);
        assert!(decode(&png).pixels().filter(|p| p.0 == GREEN_PX).count() > 300, "the rate is drawn");
        let (png, drawn) = render(&curves(20, |_| 1e-3), &v, "t").unwrap();
        assert!(!drawn.learning_rate_panel);
        assert_eq!(decode(&png).pixels().filter(|p| p.0 == GREEN_PX).count(), 0);
    }

    #[test]
    fn the_threshold_line_stands_inside_the_histogram_of_heavy_tailed_scores() {
        let scores = heavy(2_000);
        let v = ValidationScores { scores: &scores, threshold: 0.05, rule: "POT risk 1e-4" };
        let (png, drawn) = render(&curves(5, |_| 1e-3), &v, "t").unwrap();
        let h = &drawn.histogram;
        assert!(h.log, "bins in log space for 4 decades of scores");
        let column = h.threshold_column.unwrap();
        let cols = &h.plot_columns;
        let at = (column - cols.start) as f64 / (cols.end - cols.start) as f64;
        // On linear bins 0.05 of 0..50 would sit at 0.1 % of the width, on the axis.
        assert!(at > 0.3 && at < 0.95, "threshold at {at:.3} of the width");
        let img = decode(&png);
        let red = (img.height() / 2..img.height()).filter(|&y| img.get_pixel(column as u32, y).0 == RED_PX).count();
        assert!(red > 100, "{red} red pixels in the threshold's column");
    }

    #[test]
    fn no_epochs_and_no_scores_still_draw() {
        let v = ValidationScores { scores: &[], threshold: f64::NAN, rule: "" };
        let (png, drawn) = render(&HistoryCurves::default(), &v, "t").unwrap();
        assert!(!png.is_empty() && drawn.histogram.threshold_column.is_none());
    }
}
