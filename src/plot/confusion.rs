//! Confusion-matrix heat map: rows are the true class, columns the predicted class
//! (scikit-learn's layout, normal first), each cell shaded by its count and labelled with
//! the count and its share of the true class; a colour bar is the legend.
//!
//! Laid out by hand in pixels (a 2×2 grid has no use for a numeric axis).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{bold, font, render_png, titled, AXIS_PX, GREY, INK, LEGEND_PX, TICK_PX, TITLE_PX};
use super::SIZE;
use crate::metrics::ConfusionMatrix;
use crate::Result;

const CLASSES: [&str; 2] = ["normal (0)", "anomaly (1)"];

/// matplotlib's "Blues" in three stops, `t` in [0, 1].
fn blues(t: f64) -> RGBColor {
    let stops = [(247.0, 251.0, 255.0), (107.0, 174.0, 214.0), (8.0, 48.0, 107.0)];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let (a, b, u) = if t < 0.5 { (stops[0], stops[1], t * 2.0) } else { (stops[1], stops[2], t * 2.0 - 1.0) };
    let mix = |x: f64, y: f64| (x + (y - x) * u).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Text is drawn about a quarter of its size above its anchor (ab_glyph); this centres it.
fn centred<'a>(text: &str, (x, y): (i32, i32), style: TextStyle<'a>) -> Text<'a, (i32, i32), String> {
    let size = style.font.get_size();
    Text::new(text.to_owned(), (x, y + (size * 0.25) as i32), style.pos(Pos::new(HPos::Center, VPos::Center)))
}

/// The confusion matrix as a [`SIZE`] PNG. An all-zero matrix draws pale cells with 0s.
pub fn confusion_matrix_png(cm: &ConfusionMatrix, title: &str) -> Result<Vec<u8>> {
    render_png("confusion_matrix", SIZE, |root| {
        let area = titled(root, title, bold(TITLE_PX), 60)?;
        let counts = cm.as_array();
        let max = counts.iter().flatten().copied().max().unwrap_or(0);
        let (x0, y0, side) = (250, 30, 480); // matrix box, in `area` pixels
        let cell = side / 2;

        for (row, cells) in counts.iter().enumerate() {
            let row_total: u64 = cells.iter().sum();
            for (col, &count) in cells.iter().enumerate() {
                let t = if max == 0 { 0.0 } else { count as f64 / max as f64 };
                let (cx0, cy0) = (x0 + col as i32 * cell, y0 + row as i32 * cell);
                area.draw(&Rectangle::new([(cx0, cy0), (cx0 + cell, cy0 + cell)], blues(t).filled()))?;
                area.draw(&Rectangle::new([(cx0, cy0), (cx0 + cell, cy0 + cell)], WHITE.stroke_width(2)))?;
                let ink = if t > 0.45 { WHITE } else { INK };
                let centre = (cx0 + cell / 2, cy0 + cell / 2);
                area.draw(&centred(&count.to_string(), (centre.0, centre.1 - 14), bold(40.0).color(&ink)))?;
                let share = if row_total == 0 { 0.0 } else { 100.0 * count as f64 / row_total as f64 };
                let note = format!("{share:.1} % of true {}", ["normal", "anomaly"][row]);
                area.draw(&centred(&note, (centre.0, centre.1 + 32), font(TICK_PX).color(&ink)))?;
            }
        }
        area.draw(&Rectangle::new([(x0, y0), (x0 + side, y0 + side)], GREY))?;

        // Axes: class names as ticks, then what the axis is.
        let right = Pos::new(HPos::Right, VPos::Center);
        for (k, name) in CLASSES.iter().enumerate() {
            let mid = k as i32 * cell + cell / 2;
            area.draw(&centred(name, (x0 + mid, y0 + side + 24), font(AXIS_PX)))?;
            let at = (x0 - 14, y0 + mid + (AXIS_PX * 0.25) as i32);
            area.draw(&Text::new(name.to_string(), at, font(AXIS_PX).pos(right)))?;
        }
        area.draw(&centred("predicted class", (x0 + side / 2, y0 + side + 66), font(AXIS_PX)))?;
        let rotated = font(AXIS_PX).transform(FontTransform::Rotate270);
        area.draw(&centred("true class", (70, y0 + side / 2), rotated))?;

        // Colour bar as the legend: count → colour, ticks at 0, half and max.
        let (bx0, bw) = (x0 + side + 70, 28);
        let top = max.max(1);
        for py in 0..side {
            let t = 1.0 - py as f64 / (side - 1) as f64;
            area.draw(&Rectangle::new([(bx0, y0 + py), (bx0 + bw, y0 + py + 1)], blues(t).filled()))?;
        }
        area.draw(&Rectangle::new([(bx0, y0), (bx0 + bw, y0 + side)], GREY))?;
        area.draw(&centred("count", (bx0 + bw / 2, y0 - 18), font(LEGEND_PX)))?;
        let mut ticks = vec![0, top / 2, top];
        ticks.dedup();
        for v in ticks {
            let y = y0 + side - 1 - ((side - 1) as f64 * v as f64 / top as f64).round() as i32;
            area.draw(&PathElement::new([(bx0 + bw, y), (bx0 + bw + 6, y)], GREY))?;
            let at = (bx0 + bw + 10, y + (TICK_PX * 0.25) as i32);
            area.draw(&Text::new(v.to_string(), at, font(TICK_PX).pos(Pos::new(HPos::Left, VPos::Center))))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_map_ends() {
        assert_eq!(blues(0.0), RGBColor(247, 251, 255));
        assert_eq!(blues(1.0), RGBColor(8, 48, 107));
        assert_eq!(blues(f64::NAN), blues(0.0));
    }
}
