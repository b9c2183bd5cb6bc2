//! What a training run tells as it goes: [`Progress`] (the terminal and `training.log`) and
//! [`Checkpoint`] (the best weights so far on disk), two observers of the trainer.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::artifacts::names::LOG_FILE;
use crate::artifacts::{save_model, ModelMeta, RunFolder};
use crate::models::Model;
use crate::train::{EpochRecord, Observer};
use crate::{Error, Result};

/// `training.log` plus the terminal: a progress bar on a terminal, plain lines otherwise.
/// Ctrl-C reaches the trainer through it.
pub struct Progress {
    log: File,
    bar: Option<indicatif::ProgressBar>,
    interrupt: Arc<AtomicBool>,
    epochs: usize,
    batch_size: usize,
    loss_sum: f64,
    batches: usize,
    started: Instant,
}

impl Progress {
    /// Appends to `training.log` in `run`.
    pub fn open(run: &RunFolder, interrupt: Arc<AtomicBool>, epochs: usize, batch_size: usize) -> Result<Progress> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(run.file(LOG_FILE))
            .map_err(|e| Error::io("create", run.file(LOG_FILE), e))?;
        Ok(Progress {
            log,
            bar: None,
            interrupt,
            epochs,
            batch_size,
            loss_sum: 0.0,
            batches: 0,
            started: Instant::now(),
        })
    }

    /// To `training.log` only (what the terminal has already seen).
    pub fn line_to_log(&mut self, text: &str) {
        let _ = writeln!(self.log, "{text}");
    }

    /// To `training.log` and the terminal.
    pub fn line(&mut self, text: &str) {
        let _ = writeln!(self.log, "{text}");
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }
}

impl Observer for Progress {
    fn epoch_started(&mut self, epoch: usize, batches: usize) {
        self.loss_sum = 0.0;
        self.batches = 0;
        self.started = Instant::now();
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(batches as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(format!("{epoch}/{}", self.epochs));
            self.bar = Some(bar);
        }
    }

    fn batch_done(&mut self, _epoch: usize, batch: usize, loss: f64) {
        self.loss_sum += loss;
        self.batches += 1;
        if let Some(bar) = &self.bar {
            if batch.is_multiple_of(10) {
                let rate = (self.batches * self.batch_size) as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!("loss {:.4}, {rate:.0} samples/s", self.loss_sum / self.batches as f64));
            }
            bar.set_position(batch as u64);
        }
    }

    fn epoch_done(&mut self, r: &EpochRecord, best: bool, _params: &[f32]) -> Result<()> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let fmt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
        let best_note = if best { " (best so far: checkpoint saved)" } else { "" };
        let line = if r.validation.accuracy.is_none() {
            // No labels: the losses are what this epoch measured.
            format!(
                "epoch {}/{}: loss {:.6} | val_loss {:.6} | lr {:.1e} | {:.1}s, {:.0} samples/s{best_note}",
                r.epoch, self.epochs, r.train.loss, r.validation.loss, r.learning_rate, r.seconds, r.samples_per_second,
            )
        } else {
            format!(
            "epoch {}/{}: loss {:.4} acc {} auc {} | val_loss {:.4} val_acc {} val_auc {} val_precision {} val_recall {} | lr {:.1e} | {:.1}s, {:.0} samples/s{}",
            r.epoch,
            self.epochs,
            r.train.loss,
            fmt(r.train.accuracy),
            fmt(r.train.auc),
            r.validation.loss,
            fmt(r.validation.accuracy),
            fmt(r.validation.auc),
            fmt(r.validation.precision),
            fmt(r.validation.recall),
            r.learning_rate,
            r.seconds,
            r.samples_per_second,
            best_note
        )
        };
        self.line(&line);
        Ok(())
    }

    fn stop_requested(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }
}

/// Saves the model whenever an epoch is the best so far, so a killed or diverged run keeps
/// its best model.
pub struct Checkpoint<'a> {
    pub run: &'a RunFolder,
    pub model: &'a Model,
    pub meta: &'a ModelMeta,
}

impl Observer for Checkpoint<'_> {
    fn epoch_done(&mut self, _record: &EpochRecord, best: bool, params: &[f32]) -> Result<()> {
        if best {
            save_model(self.run.path(), self.model, params, self.meta)?;
        }
        Ok(())
    }
}
