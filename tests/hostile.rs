//! Issue 15 through the real binary: hostile and careless input, round two. Signals a
//! scheduler sends, unbounded reads from a model folder, CSV quoting and line endings, rules
//! files, and an output that is the input. Every case ends in a run that is as safe as the
//! first Ctrl-C, or in exit 2 with one `error:` line naming the file (and line, and limit).

use std::path::Path;
use std::process::Child;

use crate::cli_train::{assert_success, generate_k8s, kubelstm, read_json, text, TINY};
use crate::reliability::{assert_error, check_interrupted, run_folders, spawn_train};

// ---------------------------------------------------------------------------------------
// Signals a scheduler sends

fn send(child: &Child, signal: libc::c_int) {
    // SAFETY: kill(2) with a live child's pid and a valid signal number has no memory effects.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill({signal}): {}", std::io::Error::last_os_error());
}

fn detect(model: &Path, data: &Path) -> std::process::Output {
    kubelstm(["detect", "--model", model.to_str().unwrap(), "--data", data.to_str().unwrap(), "-q"])
}

/// SIGTERM (`docker stop`, `kubectl delete`, `timeout`, a Job's deadline) and SIGHUP after the
/// first epoch: the same as the first Ctrl-C — the batch is finished, the best weights saved,
/// the run marked interrupted, exit 130 — and the folder scores.
#[test]
fn sigterm_and_sighup_finish_the_run_as_interrupted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let mut args = vec!["train", "--data-path", data.to_str().unwrap(), "--epochs", "50", "--patience", "50"];
    args.extend(TINY);
    for (name, signal) in [("sigterm", libc::SIGTERM), ("sighup", libc::SIGHUP)] {
        let mut run = spawn_train(tmp.path(), name, &args);
        assert!(run.wait_for_log("epoch 1/50"), "{name}: train exited before its first epoch ended");
        send(&run.child, signal);
        let out_dir = run.out_dir.clone();
        let (status, stderr) = run.finish();
        assert_eq!(status.code(), Some(130), "{name}: {status:?}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains("stopping after the current batch"), "{name}: {stderr}");
        let dir = &run_folders(&out_dir)[0];
        check_interrupted(dir, 1..50);
        let epochs = read_json(&dir.join("run_status.json"))["epochs_run"].as_u64().unwrap();
        assert!(epochs >= 1, "{name}: {epochs} epochs");
        assert_success(&detect(dir, &data));
    }
}

/// SIGTERM before the first epoch ended: an interrupted run with "epochs_run": 0, which
/// `inspect` shows with a warning and `detect` and `evaluate` refuse (the weights are the
/// initial random ones), instead of scoring with them without a word.
#[test]
fn sigterm_before_the_first_epoch_leaves_an_untrained_run_that_scoring_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    // The original's widths: an epoch takes most of a second, so the signal, sent as soon as
    // training starts, lands inside epoch 1.
    let args = vec!["train", "--data-path", data.to_str().unwrap(), "--epochs", "2", "--threads", "1"];
    let mut run = spawn_train(tmp.path(), "out", &args);
    assert!(run.wait_for_log(" train: "), "train exited before training started");
    send(&run.child, libc::SIGTERM);
    let out_dir = run.out_dir.clone();
    let (status, stderr) = run.finish();
    assert_eq!(status.code(), Some(130), "{stderr}");
    let dir = &run_folders(&out_dir)[0];
    check_interrupted(dir, 0..1);
    assert_eq!(read_json(&dir.join("run_status.json"))["epochs_run"], 0);
    let summary = std::fs::read_to_string(dir.join("summary_report.txt")).unwrap();
    assert!(summary.contains("Epochs run: 0"), "{summary}");

    let refused = ["interrupted before its first epoch ended", "0 epochs run", "untrained"];
    let error = assert_error(&detect(dir, &data), &refused);
    assert!(error.contains(dir.to_str().unwrap()), "{error}");
    let out = kubelstm([
        "evaluate",
        "--model",
        dir.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--output-dir",
        tmp.path().join("eval").to_str().unwrap(),
    ]);
    assert_error(&out, &refused);
    assert!(!tmp.path().join("eval").exists(), "evaluate created its output folder");
    let out = kubelstm(["inspect", dir.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_success(&out);
    assert!(stdout.contains("the weights are untrained"), "{stdout}");
}

/// A finished run records its epochs too, and loads as before.
#[test]
fn a_complete_run_records_its_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let out_dir = tmp.path().join("out");
    let mut args = vec!["train", "--data-path", data.to_str().unwrap(), "--epochs", "2"];
    args.extend(["--output-dir", out_dir.to_str().unwrap()]);
    args.extend(TINY);
    assert_success(&kubelstm(&args));
    let dir = &run_folders(&out_dir)[0];
    let status = read_json(&dir.join("run_status.json"));
    assert_eq!(status["status"], "complete");
    assert_eq!(status["epochs_run"], 2);
    assert_success(&detect(dir, &data));
}
