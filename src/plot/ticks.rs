//! Ticks chosen by the chart (round clock times, powers of ten) instead of plotters' own:
//! plotters' tick positions on an `f64` axis are round decimals, which on an axis of epoch
//! seconds or of log10(score) are not round times or round scores.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{font, Area, DrawResult, AXIS_PX, GRID, INK, TICK_PX};

pub(crate) type Chart<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Axes, descriptions and a frame without plotters' ticks, then a grid line, a tick mark
/// and a label at each of `x` and `y` (axis coordinates). Labels are drawn on `root`, in
/// absolute pixels, as they lie outside the plotting area.
pub(crate) fn draw_axes(
    root: &Area,
    chart: &mut Chart,
    (x_desc, x): (&str, &[(f64, String)]),
    (y_desc, y): (&str, &[(f64, String)]),
) -> DrawResult {
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(font(AXIS_PX))
        .draw()?;
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let grid = GRID.stroke_width(1);
    for (v, _) in x {
        chart.draw_series(std::iter::once(PathElement::new([(*v, yr.start), (*v, yr.end)], grid)))?;
    }
    for (v, _) in y {
        chart.draw_series(std::iter::once(PathElement::new([(xr.start, *v), (xr.end, *v)], grid)))?;
    }
    // ab_glyph draws about a quarter of the font size above the anchor; compensate.
    let lift = (TICK_PX * 0.25) as i32;
    for (v, label) in x {
        let (px, py) = chart.backend_coord(&(*v, yr.start));
        root.draw(&PathElement::new([(px, py), (px, py + 6)], INK))?;
        let style = font(TICK_PX).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(label.clone(), (px, py + 10 + lift), style))?;
    }
    for (v, label) in y {
        let (px, py) = chart.backend_coord(&(xr.start, *v));
        root.draw(&PathElement::new([(px - 6, py), (px, py)], INK))?;
        let style = font(TICK_PX).pos(Pos::new(HPos::Right, VPos::Center));
        root.draw(&Text::new(label.clone(), (px - 10, py + lift), style))?;
    }
    Ok(())
}
