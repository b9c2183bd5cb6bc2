use std::ops::Range;

use image::RgbImage;

use super::*;

const RED_PX: [u8; 3] = [214, 39, 40];
const BLUE_PX: [u8; 3] = [31, 119, 180];

/// Decodes `png`; with `KUBELSTM_PLOT_DIR` set, also keeps it there as `name` for a look.
fn decode(name: &str, png: &[u8]) -> RgbImage {
    if let Ok(dir) = std::env::var("KUBELSTM_PLOT_DIR") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
    }
    image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8()
}

/// Reconstruction-error-like scores: a bulk around 0.01, rare spikes up to 100 (5 decades).
fn heavy_tailed(n: usize) -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            if i % 997 == 500 {
                100.0 * (0.5 + u)
            } else {
                1e-3 + 0.02 * u * u
            }
        })
        .collect()
}

fn trace<'a>(times: &'a [i64], series: &'a [u32], scores: &'a [f64], threshold: Option<f64>) -> ScoreTrace<'a> {
    ScoreTrace {
        times,
        series,
        scores,
        labels: None,
        time: TimeKind::EpochSeconds,
        threshold,
        threshold_rule: "POT risk 1e-4",
        incidents: &[],
    }
}

#[test]
fn the_threshold_of_heavy_tailed_scores_stands_clear_of_the_floor() {
    let scores = heavy_tailed(5_000);
    let times: Vec<i64> = (0..5_000).map(|i| 1_700_000_000 + 60 * i).collect();
    let series = vec![0u32; 5_000];
    let threshold = 0.05;
    let mut sorted = scores.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    // A linear axis (the old chart) drew the threshold inside the bulk of the scores: less
    // than 0.1 % of the height from their median, so the line vanished in the trace.
    let (lo, hi) = crate::plot::canvas::padded(crate::plot::canvas::finite_range(scores.iter().copied()), (0.0, 1.0));
    assert!((threshold - median) / (hi - lo) < 0.001);

    let (png, drawn) = render(&trace(&times, &series, &scores, Some(threshold)), "heavy").unwrap();
    assert!(drawn.log, "5 decades of scores get a log axis");
    let row = drawn.threshold_row.unwrap();
    let (xs, ys) = drawn.plot.clone();
    assert!(ys.contains(&row), "row {row} in {ys:?}");
    let height = (ys.end - ys.start) as f64;
    let (a0, a1) = drawn.y_range;
    let median_row = ys.end as f64 - (median.log10() - a0) / (a1 - a0) * height;
    assert!(median_row - row as f64 > 0.1 * height, "threshold row {row}, median row {median_row:.0}, plot {ys:?}");
    // And it is drawn there: red dashes across the plot.
    let img = decode("unit_scores_heavy.png", &png);
    let red = (xs.start..xs.end).filter(|&x| img.get_pixel(x as u32, row as u32).0 == RED_PX).count();
    assert!(red as f64 > 0.3 * (xs.end - xs.start) as f64, "{red} red pixels on row {row}");
}

#[test]
fn a_threshold_far_above_the_scores_is_drawn_on_the_top_edge() {
    let scores: Vec<f64> = (0..300).map(|i| 0.2 + 0.7 * (i as f64 * 0.1).sin().abs()).collect();
    let times: Vec<i64> = (0..300).collect();
    let series = vec![3u32; 300];
    let mut t = trace(&times, &series, &scores, Some(1e4));
    t.time = TimeKind::RowIndex;
    let (png, drawn) = render(&t, "far").unwrap();
    assert!(!drawn.log, "0.2..0.9 stays linear");
    let row = drawn.threshold_row.unwrap();
    assert!(drawn.plot.1.contains(&row) && row - drawn.plot.1.start <= 2, "row {row}, plot {:?}", drawn.plot.1);
    let img = decode("unit_scores_far_threshold.png", &png);
    let red = drawn.plot.0.clone().filter(|&x| img.get_pixel(x as u32, row as u32).0 == RED_PX).count();
    assert!(red > 200, "{red}");
}

/// For each column of the plot: the window it shows (fractional, 60 s windows from `t0`) and
/// whether all and whether any of `rows` in it have `colour`.
fn columns(img: &RgbImage, drawn: &Drawn, t0: i64, rows: Range<i32>, colour: [u8; 3]) -> Vec<(f64, bool, bool)> {
    let (xs, (x0, x1)) = (drawn.plot.0.clone(), drawn.x_range);
    xs.clone()
        .map(|px| {
            let t = x0 + (px - xs.start) as f64 / (xs.end - xs.start) as f64 * (x1 - x0);
            let is = |y: i32| img.get_pixel(px as u32, y as u32).0 == colour;
            ((t - t0 as f64) / 60.0, rows.clone().all(is), rows.clone().any(is))
        })
        .collect()
}

#[test]
fn shading_covers_exactly_the_labelled_windows() {
    let n = 1_000;
    let times: Vec<i64> = (0..n as i64).map(|i| 1_700_000_000 + 60 * i).collect();
    let series = vec![0u32; n];
    // Flat scores: the line is one row, so it cannot hide a column's shading.
    let scores = vec![0.1; n];
    let labels: Vec<u8> = (0..n).map(|i| u8::from((200..300).contains(&i) || (700..720).contains(&i))).collect();
    let mut t = trace(&times, &series, &scores, Some(0.5));
    t.labels = Some(&labels);
    let (png, drawn) = render(&t, "labels").unwrap();
    let img = decode("unit_scores_labels.png", &png);
    let ys = drawn.plot.1.clone();
    // Rows below the legend and above the score line.
    let rows = ys.start + (ys.end - ys.start) * 2 / 5..ys.start + (ys.end - ys.start) * 3 / 5;
    let mut shaded_columns = 0;
    for (w, _, shaded) in columns(&img, &drawn, times[0], rows, [SHADE.0, SHADE.1, SHADE.2]) {
        // Spans 199.5..299.5 and 699.5..719.5 windows; 3 windows (2.6 px) of slack for rounding.
        let inside = (202.5..296.5).contains(&w) || (702.5..716.5).contains(&w);
        let outside = !(196.5..302.5).contains(&w) && !(696.5..722.5).contains(&w);
        assert!(!inside || shaded, "window {w:.1} should be shaded");
        assert!(!outside || !shaded, "window {w:.1} should not be shaded");
        shaded_columns += usize::from(shaded);
    }
    assert!(shaded_columns > 80, "{shaded_columns}");
}

#[test]
fn incidents_are_marked_along_the_bottom_edge_exactly_where_they_are() {
    let n = 1_000;
    let times: Vec<i64> = (0..n as i64).map(|i| 1_700_000_000 + 60 * i).collect();
    let series = vec![0u32; n];
    let scores = vec![0.1; n];
    let incidents = [(times[200], times[300]), (times[700], times[720])];
    let mut t = trace(&times, &series, &scores, Some(0.5));
    t.incidents = &incidents;
    let (png, drawn) = render(&t, "incidents").unwrap();
    let img = decode("unit_scores_incidents.png", &png);
    let ys = drawn.plot.1.clone();
    let purple = [PURPLE.0, PURPLE.1, PURPLE.2];
    // The bar's rows (10 px above the bottom edge), clear of the legend and of a threshold
    // above the axis, both drawn at the top.
    let mut marked_columns = 0;
    for (w, marked, any) in columns(&img, &drawn, times[0], ys.end - 8..ys.end - 2, purple) {
        // Two windows (1.7 px) of slack for rounding at each end.
        let inside = (202.0..298.0).contains(&w) || (702.0..718.0).contains(&w);
        let outside = !(198.0..302.0).contains(&w) && !(698.0..722.0).contains(&w);
        assert!(!inside || marked, "window {w:.1} is inside an incident");
        assert!(!outside || !any, "window {w:.1} is outside every incident");
        marked_columns += usize::from(marked);
    }
    assert!(marked_columns > 80, "{marked_columns}");
    // Nothing is marked without incidents.
    let (png, drawn) = render(&trace(&times, &series, &scores, Some(0.5)), "no_incidents").unwrap();
    let img = decode("unit_scores_no_incidents.png", &png);
    let bottom = drawn.plot.1.end - 4;
    assert!(drawn.plot.0.clone().all(|x| img.get_pixel(x as u32, bottom as u32).0 != purple));
}

#[test]
fn labelled_runs_are_per_pod_and_widened_by_half_a_step() {
    // Two pods interleaved, sampled every 60 s and every 120 s, one labelled window each.
    let times = [0, 0, 60, 120, 120, 240];
    let series = [0, 1, 0, 0, 1, 1];
    let labels = [0, 0, 1, 0, 0, 1];
    let scores = [0.1; 6];
    let t = trace(&times, &series, &scores, None);
    assert_eq!(labelled_spans(&t, &labels), vec![(30.0, 90.0), (180.0, 300.0)]);
    // Adjacent runs of two pods touch and merge into one span.
    let labels = [0, 0, 1, 1, 0, 0];
    assert_eq!(labelled_spans(&t, &labels), vec![(30.0, 150.0)]);
}

#[test]
fn many_pods_draw_the_maximum_and_the_median_not_a_zigzag() {
    let (pods, steps) = (50u32, 400i64);
    let mut times = Vec::new();
    let mut series = Vec::new();
    let mut scores = Vec::new();
    for s in 0..steps {
        for p in 0..pods {
            times.push(1_700_000_000 + 60 * s);
            series.push(p);
            scores.push(if p == 7 { 0.95 } else { 0.05 });
        }
    }
    let (png, drawn) = render(&trace(&times, &series, &scores, None), "50 pods").unwrap();
    let img = decode("unit_scores_pods.png", &png);
    let (xs, ys) = drawn.plot.clone();
    let blue_rows: Vec<i32> = ys
        .clone()
        .filter(|&y| {
            (xs.start + (xs.end - xs.start) / 2..xs.end).any(|x| img.get_pixel(x as u32, y as u32).0 == BLUE_PX)
        })
        .collect();
    // The maximum: one straight blue line at 0.95, nothing between the two levels.
    assert!(!blue_rows.is_empty());
    assert!(blue_rows.iter().max().unwrap() - blue_rows.iter().min().unwrap() <= 2, "{blue_rows:?}");
    let (top, bottom) = (ys.start as f64, ys.end as f64);
    let level = (bottom - blue_rows[0] as f64) / (bottom - top);
    assert!(level > 0.6, "the maximum (0.95) is drawn high: {level}");
}

#[test]
fn tick_labels_are_clock_times_or_row_numbers() {
    let times: Vec<i64> = (0..600).map(|i| 1_709_546_820 + 60 * i).collect(); // 2024-03-04 10:07, 10 h
    let series = vec![0u32; 600];
    let scores = vec![0.5; 600];
    let (ticks, desc) = time_ticks(TimeKind::EpochSeconds, time_range(&trace(&times, &series, &scores, None)), 7);
    assert!(desc.contains("2024-03-04"));
    assert!(ticks.iter().all(|(_, l)| l.len() >= 5 && l[l.len() - 5..].chars().nth(2) == Some(':')), "{ticks:?}");
    let mut rows = trace(&times, &series, &scores, None);
    rows.time = TimeKind::RowIndex;
    let (ticks, _) = time_ticks(rows.time, time_range(&rows), 7);
    assert!(ticks.iter().all(|(_, l)| l.parse::<i64>().is_ok()), "{ticks:?}");
}

#[test]
fn mismatched_lengths_are_an_error() {
    let t = trace(&[0, 1], &[0], &[0.1, 0.2], None);
    assert!(render(&t, "bad").is_err());
}

#[test]
fn thresholds_keep_three_significant_digits() {
    assert_eq!(three_significant(0.001036), "0.00104");
    assert_eq!(three_significant(0.242955), "0.243");
    assert_eq!(three_significant(0.0), "0.000");
    assert_eq!(three_significant(12.5), "12.500");
    assert_eq!(three_significant(-0.0456), "-0.0456");
}
