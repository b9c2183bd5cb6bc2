//! `serve --data FILE --follow`: a collector's growing CSV instead of Prometheus.

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::health::Health;
use super::{Published, Scoring, Settings};
use crate::detect::follow::{spawn_reader, ChannelReader};
use crate::detect::stream::{run_stream, ScoreBatcher, StreamSettings, StreamSink};
use crate::Result;

/// `--data FILE --follow`: the streaming scorer of `detect --follow`, publishing after every
/// batch of rows (and every second while the file waits). Ready while windows keep arriving.
pub(super) fn follow_file(
    file: std::fs::File,
    path: &Path,
    scoring: Scoring,
    mut health: Health,
    published: &Mutex<Published>,
    settings: &Settings,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    let Scoring { model, output, .. } = scoring;
    let explain = output.options().top_features > 0;
    let per_worker = crate::detect::batch::DEFAULT_PER_WORKER;
    let batcher = ScoreBatcher::new(&model, settings.threads, per_worker * settings.threads, explain)?;
    let out = crate::detect::Smoothed::new(output, model.smooth_windows());
    let sink = RefCell::new(StreamSink { batcher, out });
    let rx = spawn_reader(Box::new(file), true, stop);
    let mut last_windows = 0;
    let mut last_change = Instant::now();
    let reader = ChannelReader::new(rx, || {
        let mut s = sink.borrow_mut();
        s.idle().map_err(|e| std::io::Error::other(e.to_string()))?;
        let windows = s.out.inner_mut().windows;
        if windows > last_windows {
            health.pulled(windows - last_windows, last_change.elapsed());
            last_windows = windows;
            last_change = Instant::now();
            if let Ok(mut p) = published.lock() {
                p.last_success = Some(last_change);
            }
        }
        let text = Arc::new(health.render(s.out.inner_mut()));
        if let Ok(mut p) = published.lock() {
            p.metrics = text;
        }
        Ok(())
    });
    let stream_settings = StreamSettings { skip_bad_rows: true, explain, evict_after: Some(settings.evict_after) };
    run_stream(reader, &path.display().to_string(), &model, stream_settings, &sink)?;
    Ok(())
}
