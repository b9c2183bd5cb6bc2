//! What every chart shares: the embedded font, rendering into an RGB buffer and encoding it
//! as PNG, the palette and text sizes, and the helpers that make any data drawable (finite
//! ranges, NaN-split polylines, thinning to one point per pixel).

use std::sync::OnceLock;

use plotters::backend::RGBPixel;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::ComposedElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

use crate::{Error, Result};

/// The family name the embedded DejaVu Sans is registered under.
const FONT: &str = "DejaVu Sans";

pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a, RGBPixel>, Shift>;
/// What drawing on the bitmap can fail with (in practice only a missing font).
pub(crate) type DrawError = DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;
pub(crate) type DrawResult = std::result::Result<(), DrawError>;
/// A chart with two linear f64 axes, drawn on the bitmap.
pub(crate) type Chart<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

// Palette: matplotlib's tab10, so the charts look like the original project's.
pub(crate) const BLUE: RGBColor = RGBColor(31, 119, 180);
pub(crate) const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(crate) const GREEN: RGBColor = RGBColor(44, 160, 44);
pub(crate) const RED: RGBColor = RGBColor(214, 39, 40);
pub(crate) const GREY: RGBColor = RGBColor(127, 127, 127);
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);
pub(crate) const INK: RGBColor = RGBColor(30, 30, 30);

/// Text sizes in pixels, chosen to read at 100 % zoom on a 1000-px-wide chart.
pub(crate) const TITLE_PX: f64 = 30.0;
pub(crate) const CAPTION_PX: f64 = 24.0;
pub(crate) const AXIS_PX: f64 = 21.0;
pub(crate) const TICK_PX: f64 = 17.0;
pub(crate) const LEGEND_PX: f64 = 18.0;

pub(crate) fn font(size: f64) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal).color(&INK)
}

pub(crate) fn bold(size: f64) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Bold).color(&INK)
}

/// Registers DejaVu Sans (regular and bold, compiled into the binary) with plotters once.
fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::data("plot: the embedded DejaVu Sans font could not be loaded"))
    }
}

/// Draws with `draw` on a white `(w, h)` canvas and returns the PNG bytes. `chart` names
/// the chart in error messages.
pub(crate) fn render_png(chart: &str, (w, h): (u32, u32), draw: impl FnOnce(&Area) -> DrawResult) -> Result<Vec<u8>> {
    register_fonts()?;
    let fail = |e: &dyn std::fmt::Display| Error::data(format!("plot {chart}: drawing failed: {e}"));
    let mut rgb = vec![255u8; w as usize * h as usize * 3]; // (h, w, 3)
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut rgb, (w, h)).map_err(|e| fail(&e))?;
        let area = backend.into_drawing_area();
        draw(&area).map_err(|e| fail(&e))?;
        area.present().map_err(|e| fail(&e))?;
    }
    encode_png(&rgb, w, h).map_err(|e| Error::data(format!("plot {chart}: PNG encoding failed: {e}")))
}

/// `rgb (h, w, 3)` as PNG: 8-bit RGB, fast deflate, adaptive filters — what `image`'s PNG
/// encoder chose, so the charts' bytes did not change when it was dropped for `png` alone.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::Adaptive);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(png)
}

/// The range of the finite values, or `None` if there are none.
pub(crate) fn finite_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| Some(acc.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v)))))
}

/// An axis range around `range` with 5 % padding; a single value gets a band around it,
/// no data gets `default`.
pub(crate) fn padded(range: Option<(f64, f64)>, default: (f64, f64)) -> (f64, f64) {
    match range {
        None => default,
        Some((lo, hi)) if hi - lo > 1e-12 * lo.abs().max(hi.abs()).max(1e-300) => {
            let pad = (hi - lo) * 0.05;
            (lo - pad, hi + pad)
        }
        Some((v, _)) => {
            let pad = (v.abs() * 0.1).max(0.05);
            (v - pad, v + pad)
        }
    }
}

/// Splits a polyline at non-finite points, so NaN leaves a gap instead of a wild segment.
pub(crate) fn finite_segments(points: impl IntoIterator<Item = (f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut segments = vec![Vec::new()];
    for (x, y) in points {
        if x.is_finite() && y.is_finite() {
            segments.last_mut().expect("never empty").push((x, y));
        } else if !segments.last().expect("never empty").is_empty() {
            segments.push(Vec::new());
        }
    }
    segments.retain(|s| !s.is_empty());
    segments
}

/// Drops points that land on the same pixel as the previous kept point, for a plot of
/// `(w, h)` pixels over `x` × `y`: a 10^6-point curve draws as a few thousand segments and
/// looks the same.
pub(crate) fn thin(points: &[(f64, f64)], x: (f64, f64), y: (f64, f64), (w, h): (u32, u32)) -> Vec<(f64, f64)> {
    let sx = w as f64 / (x.1 - x.0);
    let sy = h as f64 / (y.1 - y.0);
    let pixel = |(px, py): (f64, f64)| (((px - x.0) * sx).round() as i64, ((py - y.0) * sy).round() as i64);
    let mut kept: Vec<(f64, f64)> = Vec::new();
    let mut last = None;
    for (i, &p) in points.iter().enumerate() {
        let at = pixel(p);
        // Always keep the last point so the curve ends where the data does.
        if last != Some(at) || i + 1 == points.len() {
            kept.push(p);
            last = Some(at);
        }
    }
    kept
}

/// Draws `title` centred in a band of `band` pixels at the top of `area` and returns the
/// area below. (plotters' own `titled` puts ab_glyph text too high and clips it.)
pub(crate) fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    style: TextStyle,
    band: u32,
) -> std::result::Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = area.dim_in_pixel();
    // ab_glyph draws about a quarter of the font size above the anchor; compensate.
    let y = band as i32 / 2 + (style.font.get_size() * 0.25) as i32;
    area.draw(&Text::new(title.to_owned(), (w as i32 / 2, y), style.pos(Pos::new(HPos::Center, VPos::Center))))?;
    Ok(area.split_vertically(band).1)
}

/// "no data" (or another note) on a white box in the middle of a plotting area.
pub(crate) fn note_in_middle<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, h) = area.dim_in_pixel();
    let (cx, cy) = (w as i32 / 2, h as i32 / 2);
    let style = font(CAPTION_PX).color(&GREY);
    let (tw, th) = area.estimate_text_size(text, &style)?;
    let (hw, hh) = (tw as i32 / 2 + 16, th as i32 / 2 + 12);
    area.draw(&Rectangle::new([(cx - hw, cy - hh), (cx + hw, cy + hh)], WHITE.filled()))?;
    area.draw(&Rectangle::new([(cx - hw, cy - hh), (cx + hw, cy + hh)], GREY))?;
    let y = cy + (CAPTION_PX * 0.25) as i32;
    area.draw(&Text::new(text.to_owned(), (cx, y), style.pos(Pos::new(HPos::Center, VPos::Center))))
}

/// A dashed-line legend mark, matching a `DashedLineSeries` with 2-px stroke.
pub(crate) fn dashed_legend<DB: DrawingBackend>((x, y): (i32, i32), colour: RGBColor) -> DashedMark<DB> {
    EmptyElement::at((x, y))
        + PathElement::new([(0, 0), (11, 0)], colour.stroke_width(2))
        + PathElement::new([(19, 0), (30, 0)], colour.stroke_width(2))
}

type Px = (i32, i32);
pub(crate) type DashedMark<DB> = ComposedElement<Px, DB, PathElement<Px>, PathElement<Px>>;

/// A solid-line legend mark, matching a series of `PathElement`s in `style`.
pub(crate) fn line_legend(style: ShapeStyle) -> impl Fn(Px) -> PathElement<Px> {
    move |(x, y)| PathElement::new([(x, y), (x + 30, y)], style)
}

/// The legend box of every chart: the legend font on white at `opacity`, a grey border,
/// `margin` px from the plot's edge at `position`.
pub(crate) fn draw_legend<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, BitMapBackend<'b>, CT>,
    position: SeriesLabelPosition,
    margin: u32,
    opacity: f64,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(position)
        .margin(margin)
        .legend_area_size(45)
        .label_font(font(LEGEND_PX))
        .background_style(WHITE.mix(opacity))
        .border_style(GREY)
        .draw()
}

/// The range of both axes of a unit-square chart: [0, 1] and a hair more, so the curve's
/// ends are not drawn on the frame.
pub(crate) const UNIT_RANGE: (f64, f64) = (-0.01, 1.01);

/// Axes over [`UNIT_RANGE`]² with a light grid, for the ROC and precision-recall charts.
pub(crate) fn unit_square_chart<'a, 'b>(
    area: &'a Area<'b>,
    x_desc: &str,
    y_desc: &str,
) -> std::result::Result<Chart<'a, 'b>, DrawError> {
    let (lo, hi) = UNIT_RANGE;
    let mut chart = ChartBuilder::on(area)
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(80)
        .build_cartesian_2d(lo..hi, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(font(TICK_PX))
        .axis_desc_style(font(AXIS_PX))
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .draw()?;
    Ok(chart)
}

/// A short number for legends: 3 decimals, or "n/a" for an undefined value.
pub(crate) fn fmt3(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.3}"),
        _ => "n/a".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_bytes_are_those_of_the_image_crates_encoder() {
        use image::ImageEncoder;
        let (w, h) = (37u32, 23u32);
        let rgb: Vec<u8> = (0..w * h * 3).map(|i| ((i * 7919) % 251) as u8).collect();
        let mut theirs = Vec::new();
        image::codecs::png::PngEncoder::new(&mut theirs)
            .write_image(&rgb, w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        assert_eq!(encode_png(&rgb, w, h).unwrap(), theirs);
        let drawn = render_png("test", (120, 80), |area| area.fill(&RGBColor(255, 0, 0))).unwrap();
        let decoded = image::load_from_memory(&drawn).unwrap().to_rgb8();
        assert_eq!(decoded.dimensions(), (120, 80));
        assert_eq!(decoded.get_pixel(60, 40).0, [255, 0, 0]);
    }

    #[test]
    fn ranges_of_degenerate_data() {
        assert_eq!(finite_range([f64::NAN, 2.0, f64::INFINITY, 1.0]), Some((1.0, 2.0)));
        assert_eq!(finite_range([f64::NAN]), None);
        assert_eq!(padded(None, (0.0, 1.0)), (0.0, 1.0));
        let (lo, hi) = padded(Some((3.0, 3.0)), (0.0, 1.0));
        assert!(lo < 3.0 && hi > 3.0);
        let (lo, hi) = padded(Some((0.0, 0.0)), (0.0, 1.0));
        assert!(lo < 0.0 && hi > 0.0);
    }

    #[test]
    fn segments_break_at_nan() {
        let s = finite_segments([(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0), (3.0, 4.0), (4.0, f64::INFINITY)]);
        assert_eq!(s, vec![vec![(0.0, 1.0)], vec![(2.0, 3.0), (3.0, 4.0)]]);
        assert!(finite_segments([(0.0, f64::NAN)]).is_empty());
    }

    #[test]
    fn thinning_keeps_one_point_per_pixel_and_the_ends() {
        let points: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64 / 10_000.0, 0.5)).collect();
        let kept = thin(&points, (0.0, 1.0), (0.0, 1.0), (100, 100));
        assert!(kept.len() <= 102, "{}", kept.len());
        assert_eq!((kept[0], *kept.last().unwrap()), (points[0], *points.last().unwrap()));
    }
}
