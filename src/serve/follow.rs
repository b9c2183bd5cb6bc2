//! `serve --data FILE --follow`: a collector's growing CSV instead of Prometheus.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::health::Health;
use super::{Published, Scoring, Settings};
use crate::detect::follow::score_live;
use crate::detect::stream::StreamSettings;
use crate::source::LiveInput;
use crate::Result;

/// `--data FILE --follow`: the streaming scorer of `detect --follow`, publishing whenever the
/// file pauses (and every second while it waits). Ready while windows keep arriving.
pub(super) fn follow_file(
    live: LiveInput,
    scoring: Scoring,
    mut health: Health,
    published: &Mutex<Published>,
    settings: &Settings,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    let Scoring { model, output, .. } = scoring;
    let explain = output.options().top_features > 0;
    let mut last_windows = 0;
    let mut last_change = Instant::now();
    let publish = |out: &mut crate::detect::Output| {
        let windows = out.windows;
        if windows > last_windows {
            health.pulled(windows - last_windows, last_change.elapsed());
            last_windows = windows;
            last_change = Instant::now();
            if let Ok(mut p) = published.lock() {
                p.last_success = Some(last_change);
            }
        }
        let text = Arc::new(health.render(out));
        if let Ok(mut p) = published.lock() {
            p.metrics = text;
        }
        Ok(())
    };
    let stream_settings = StreamSettings { skip_bad_rows: true, explain, evict_after: Some(settings.evict_after) };
    score_live(live, &model, settings.threads, stream_settings, output, stop, publish)?;
    Ok(())
}
