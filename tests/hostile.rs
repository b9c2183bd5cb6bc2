//! Hostile and careless input through the real binary (the second round of bad input, after
//! tests/reliability.rs). Signals a scheduler sends, unbounded reads from a model folder, CSV
//! quoting and line endings, rules files, and an output that is the input. Every case ends in
//! a run that is as safe as the first Ctrl-C, or in exit 2 with one `error:` line naming the
//! file (and line, and limit).

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

// ---------------------------------------------------------------------------------------
// Reads without a bound

/// Runs `kubelstm` with `args`, failing the test (and killing the child) if it takes longer
/// than a minute: a FIFO read whole used to hang forever.
fn kubelstm_within(args: &[&str]) -> std::process::Output {
    use std::io::Read as _;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let mut child = Command::new(crate::cli_train::EXE)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kubelstm {args:?} still running after a minute");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    child.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    std::process::Output { status, stdout, stderr }
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a NUL-terminated path; no memory is shared.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

/// What a model folder's file is replaced with.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    /// A symlink to this device.
    Device(&'static str),
    /// A named pipe nobody writes to.
    Fifo,
    /// The real file with this many bytes of whitespace after it (still valid JSON; for the
    /// safetensors file, bytes past its tensors).
    Padded(usize),
}

/// Every file `detect` reads whole from a model folder, replaced by a device, a FIFO or an
/// oversized file: `detect` and `inspect` exit 2 within seconds with an error naming the file
/// and what is wrong (not a regular file; the size limit), instead of eating memory or hanging.
#[test]
fn model_folder_files_that_are_devices_fifos_or_too_large_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let good = crate::reliability::tiny_run_folder(tmp.path(), &[]);
    let data = tmp.path().join("metrics.csv");
    let data = data.to_str().unwrap();
    let files: [(&str, &str); 5] = [
        ("model.json", "16 MiB"),
        ("scaler.json", "16 MiB"),
        ("run_status.json", "64 KiB"),
        ("threshold.json", "1 MiB"),
        ("model.safetensors", "bytes"), // the limit is its tensors' size plus 1 MiB of header
    ];
    let mut n = 0;
    for (name, limit) in files {
        let padding = match name {
            "run_status.json" => (64 << 10) + 1,
            "threshold.json" => (1 << 20) + 1,
            "model.safetensors" => (1 << 20) + 1,
            _ => (16 << 20) + 1,
        };
        for hostile in
            [Hostile::Device("/dev/zero"), Hostile::Device("/dev/urandom"), Hostile::Fifo, Hostile::Padded(padding)]
        {
            n += 1;
            let dir = tmp.path().join(format!("case{n}"));
            copy_folder(&good, &dir);
            let path = dir.join(name);
            let expected = match hostile {
                Hostile::Device(device) => {
                    std::fs::remove_file(&path).unwrap();
                    std::os::unix::fs::symlink(device, &path).unwrap();
                    "it is a character device, not a regular file".to_string()
                }
                Hostile::Fifo => {
                    std::fs::remove_file(&path).unwrap();
                    mkfifo(&path);
                    "it is a FIFO (named pipe), not a regular file".to_string()
                }
                Hostile::Padded(extra) => {
                    let mut bytes = std::fs::read(&path).unwrap();
                    bytes.resize(bytes.len() + extra, b' ');
                    std::fs::write(&path, bytes).unwrap();
                    format!("larger than {}", if limit == "bytes" { "" } else { limit })
                }
            };
            let path_text = path.to_str().unwrap().to_string();
            let dir_text = dir.to_str().unwrap();
            for args in [
                vec!["detect", "--model", dir_text, "--data", data, "-q"],
                vec!["detect", "--model", dir_text, "--data", data, "--follow", "-q"],
                vec!["inspect", dir_text],
            ] {
                let out = kubelstm_within(&args);
                let error = assert_error(&out, &[&path_text, &expected]);
                if let Hostile::Padded(_) = hostile {
                    assert!(error.contains(&format!("the limit for {name}")), "{error}");
                }
                assert!(out.stdout.is_empty(), "{args:?} wrote to stdout:\n{}", text(&out.stdout));
            }
        }
    }
}

/// `--rules` (and `--queries`, the same reader) must be a regular file of at most 1 MiB.
#[test]
fn rules_files_that_are_devices_fifos_or_too_large_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let fifo = tmp.path().join("rules.fifo");
    mkfifo(&fifo);
    let big = tmp.path().join("big.toml");
    std::fs::write(&big, vec![b'#'; (1 << 20) + 1]).unwrap();
    let cases: [(&Path, &str); 4] = [
        (Path::new("/dev/zero"), "it is a character device, not a regular file"),
        (Path::new("/dev/urandom"), "it is a character device, not a regular file"),
        (&fifo, "it is a FIFO (named pipe), not a regular file"),
        (&big, "it is larger than 1 MiB, the limit for big.toml"),
    ];
    for (rules, expected) in cases {
        let out_dir = tmp.path().join("out");
        let args = ["train", "--data-path", data.to_str().unwrap(), "--rules", rules.to_str().unwrap()];
        let out = kubelstm_within(&[&args[..], &["--output-dir", out_dir.to_str().unwrap()]].concat());
        assert_error(&out, &["could not read the rules file", rules.to_str().unwrap(), expected]);
        assert!(run_folders(&out_dir).is_empty());
    }
}

/// Sizes in model.json are checked once, at load time, for every command: a damaged
/// `"sequence_length": 1000000` is exit 2 for `detect --follow` too (it used to abort with
/// "memory allocation of 66560000000 bytes failed", exit 134), and `train` refuses the same
/// length as a flag.
#[test]
fn model_json_sizes_beyond_the_limits_are_refused_at_load() {
    let tmp = tempfile::tempdir().unwrap();
    let good = crate::reliability::tiny_run_folder(tmp.path(), &[]);
    let data = tmp.path().join("metrics.csv");
    let data = data.to_str().unwrap();
    for (n, length) in [1_000_000u64, 100_001, u64::from(u32::MAX) * 4].into_iter().enumerate() {
        let dir = tmp.path().join(format!("long{n}"));
        copy_folder(&good, &dir);
        let path = dir.join("model.json");
        let mut meta = read_json(&path);
        meta["sequence_length"] = length.into();
        std::fs::write(&path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
        let expected = format!("model.json: sequence length {length} is beyond the 100000 time steps");
        for args in [
            vec!["detect", "--model", dir.to_str().unwrap(), "--data", data, "--follow", "-q"],
            vec!["detect", "--model", dir.to_str().unwrap(), "--data", data, "-q"],
            vec!["inspect", dir.to_str().unwrap()],
            vec!["evaluate", "--model", dir.to_str().unwrap(), "--data", data],
        ] {
            let out = kubelstm_within(&args);
            assert_error(&out, &[dir.to_str().unwrap(), &expected]);
        }
    }
    let out = kubelstm_within(&[
        "train",
        "--data-path",
        data,
        "--sequence-length",
        "100001",
        "--output-dir",
        tmp.path().join("out2").to_str().unwrap(),
    ]);
    assert_error(&out, &["--sequence-length must be at most 100000, got 100001"]);
}

// ---------------------------------------------------------------------------------------
// CSV: quotes and line endings

/// A one-epoch model of the generated cluster, and the cluster's CSV.
fn k8s_model(tmp: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = generate_k8s(tmp);
    let out_dir = tmp.join("model");
    let mut args = vec!["train", "--data-path", data.to_str().unwrap(), "--epochs", "1"];
    args.extend(["--output-dir", out_dir.to_str().unwrap()]);
    args.extend(TINY);
    assert_success(&kubelstm(&args));
    (run_folders(&out_dir).remove(0), data)
}

/// `lines` with line `n` (1-based) replaced by `edit` of it.
fn edit_line(lines: &[&str], n: usize, edit: impl FnOnce(&str) -> String) -> String {
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    out[n - 1] = edit(lines[n - 1]);
    out.iter().map(|l| format!("{l}\n")).collect()
}

/// The field `i` of a line without quotes replaced by `value`.
fn set_field(line: &str, i: usize, value: &str) -> String {
    let mut fields: Vec<&str> = line.split(',').collect();
    fields[i] = value;
    fields.join(",")
}

fn detect_args<'a>(model: &'a Path, data: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["detect", "--model", model.to_str().unwrap(), "--data", data.to_str().unwrap(), "-q"];
    args.extend(extra);
    args
}

/// [`detect_args`] without `-q`: the skipped rows are reported on stderr.
fn detect_loud<'a>(model: &'a Path, data: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = detect_args(model, data, extra);
    args.retain(|a| *a != "-q");
    args
}

/// Runs `kubelstm detect --follow --data -` with `input` on standard input.
fn detect_stdin(model: &Path, input: &[u8], extra: &[&str]) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(crate::cli_train::EXE)
        .args(["detect", "--model", model.to_str().unwrap(), "--data", "-", "--follow", "-q"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // The child may stop reading at an error: a broken pipe here is expected.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// An unclosed quote on line 50 of a 3,000-row file used to swallow the next ~2,800 rows into
/// one field, and `detect` exited 0 having scored a fraction of the windows. Now every reader
/// (train, detect, detect --follow, evaluate) stops at line 50, naming the column where the
/// quote opened; under --skip-bad-rows that one row is skipped and counted, and the scores are
/// those of the file without it.
#[test]
fn an_unclosed_quote_is_an_error_at_its_line_not_the_rest_of_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, data) = k8s_model(tmp.path());
    let original = std::fs::read_to_string(&data).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    assert!(!lines[49].contains('"'), "line 50 of the fixture has quotes: pick another");
    let bad = tmp.path().join("unclosed.csv");
    std::fs::write(&bad, edit_line(&lines, 50, |l| set_field(l, 4, "\"oops"))).unwrap();
    let without = tmp.path().join("without.csv");
    let mut kept = lines.clone();
    kept.remove(49);
    std::fs::write(&without, kept.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();

    let needles = ["unclosed.csv, line 50, column 'Pod Status'", "a closing quote is missing", "--skip-bad-rows"];
    assert_error(&kubelstm(detect_args(&model, &bad, &[])), &needles);
    assert_error(&kubelstm(detect_args(&model, &bad, &["--follow"])), &needles);
    let stdin_needles = ["<stdin>, line 50, column 'Pod Status'", "a closing quote is missing"];
    assert_error(&detect_stdin(&model, &std::fs::read(&bad).unwrap(), &[]), &stdin_needles);
    let out_dir = tmp.path().join("out");
    let train = ["train", "--data-path", bad.to_str().unwrap(), "--output-dir", out_dir.to_str().unwrap()];
    assert_error(&kubelstm(train), &needles);
    assert!(run_folders(&out_dir).is_empty());
    let evaluate = ["evaluate", "--model", model.to_str().unwrap(), "--data", bad.to_str().unwrap()];
    assert_error(&kubelstm(evaluate), &needles);

    // Skipped and counted: the scores are those of the file without line 50.
    let skipped = kubelstm(detect_loud(&model, &bad, &["--skip-bad-rows"]));
    let stderr = assert_success(&skipped);
    assert!(stderr.contains("skipped 1 rows: unclosed quote"), "{stderr}");
    assert!(stderr.contains("line 50"), "{stderr}");
    let reference = kubelstm(detect_args(&model, &without, &[]));
    assert_success(&reference);
    assert!(skipped.stdout == reference.stdout, "the scores differ from those of the file without line 50");
    // A stream writes the same rows, in arrival order.
    let streamed = detect_stdin(&model, &std::fs::read(&bad).unwrap(), &["--skip-bad-rows"]);
    assert_success(&streamed);
    let sorted = |bytes: &[u8]| {
        let mut lines: Vec<String> = text(bytes).lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    let (streamed, reference) = (sorted(&streamed.stdout), sorted(&reference.stdout));
    assert_eq!(streamed.len(), reference.len());
    assert!(streamed == reference, "the stream's scores differ from those of the file without line 50");
}

/// Neighbours of the unclosed quote: a quoted field with a line break in it (the quote opened
/// on line 50 and closes on 51), an unclosed quote on the last line (no line ending after it),
/// a quote in the header, and a quoted field too long to be a cell, each named by its line.
#[test]
fn quoted_line_breaks_a_quote_in_the_last_line_or_header_and_huge_fields_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, data) = k8s_model(tmp.path());
    let original = std::fs::read_to_string(&data).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let n = lines.len();
    let huge = format!("\"{}\"", "x".repeat(64 << 10));
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        (
            "spanning",
            edit_line(&lines, 50, |l| set_field(l, 5, "\"Back\noff\"")),
            vec!["line 50, column 'Event Reason'".into(), "a closing quote is missing".into()],
        ),
        (
            "last-line",
            edit_line(&lines, n, |l| set_field(l, 20, "\"cut")).trim_end().to_string(),
            vec![format!("line {n}, column 'Event Message'"), "a closing quote is missing".into()],
        ),
        (
            "header",
            edit_line(&lines, 1, |l| l.replacen("Pod Status", "\"Pod Status", 1)),
            vec!["line 1:".into(), "a closing quote is missing".into()],
        ),
        (
            "huge-field",
            edit_line(&lines, 70, |l| set_field(l, 20, &huge)),
            vec!["line 70, column 'Event Message'".into(), "a field is longer than 64 KiB".into()],
        ),
    ];
    for (name, csv, needles) in cases {
        let path = tmp.path().join(format!("{name}.csv"));
        std::fs::write(&path, &csv).unwrap();
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        // Following a file, a last line without a line ending is still being written: it waits.
        let follow: &[&[&str]] = if name == "last-line" { &[&[]] } else { &[&[], &["--follow"]] };
        for extra in follow {
            let out = kubelstm_within(&detect_args(&model, &path, extra));
            let error = assert_error(&out, &needles);
            assert!(error.contains(&format!("{name}.csv")), "{error}");
        }
    }
}

/// `/dev/zero` as the data (a file, or standard input of a stream) stops at the first field's
/// limit instead of filling memory.
#[test]
fn endless_lines_are_cut_at_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, _) = k8s_model(tmp.path());
    let needles = ["line 1", "a field is longer than 64 KiB"];
    let out = kubelstm_within(&detect_args(&model, Path::new("/dev/zero"), &[]));
    assert_error(&out, &needles);
    let out_dir = tmp.path().join("out");
    let out = kubelstm_within(&["train", "--data-path", "/dev/zero", "--output-dir", out_dir.to_str().unwrap()]);
    assert_error(&out, &needles);
    // A long line of short fields hits the line limit.
    let mut long = b"a".to_vec();
    while long.len() <= 16 << 20 {
        long.extend_from_slice(b",1234567");
    }
    long.push(b'\n');
    let out = detect_stdin(&model, &long, &[]);
    assert_error(&out, &["<stdin>, line 1", "the line is longer than 16 MiB"]);
}

/// CRLF (and lone CR) files: errors name the right line (they named the line before: the first
/// data row was reported as line 1, the header), in every reader.
#[test]
fn line_numbers_are_right_whatever_the_line_ending() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, data) = k8s_model(tmp.path());
    let original = std::fs::read_to_string(&data).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let with_bad = |n: usize| edit_line(&lines, n, |l| set_field(l, 6, "abc"));
    for (ending, name) in [("\n", "lf"), ("\r\n", "crlf"), ("\r", "cr")] {
        for n in [2usize, 3, 1234] {
            let path = tmp.path().join(format!("{name}-{n}.csv"));
            std::fs::write(&path, with_bad(n).replace('\n', ending)).unwrap();
            let file = path.file_name().unwrap().to_str().unwrap().to_string();
            let at = format!("{file}, line {n}, column 'CPU Usage (%)': 'abc' is not a number");
            assert_error(&kubelstm(detect_args(&model, &path, &[])), &[&at]);
            assert_error(&kubelstm(detect_args(&model, &path, &["--follow"])), &[&at]);
            let at_stdin = format!("<stdin>, line {n}, column 'CPU Usage (%)'");
            assert_error(&detect_stdin(&model, &std::fs::read(&path).unwrap(), &[]), &[&at_stdin]);
            if n == 1234 {
                let out_dir = tmp.path().join("out");
                let train = ["train", "--data-path", path.to_str().unwrap(), "--output-dir", out_dir.to_str().unwrap()];
                assert_error(&kubelstm(train), &[&at]);
                // Skipped, the report's first skipped row names the same line.
                let out = kubelstm(detect_loud(&model, &path, &["--skip-bad-rows"]));
                let stderr = assert_success(&out);
                assert!(stderr.contains(&format!("line {n}, column 'CPU Usage (%)'")), "{stderr}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rules files

/// `[cpu_spike]` with only `enabled = false` switches the rule off, as the shipped rules.toml
/// says (it was refused for a "missing field `above`"); a key left out keeps its default.
#[test]
fn a_rule_switched_off_needs_no_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let rules = tmp.path().join("rules.toml");
    std::fs::write(&rules, "[cpu_spike]\nenabled = false\n\n[restarts_high]\nabove = 3\n").unwrap();
    let out_dir = tmp.path().join("out");
    let mut args = vec!["train", "--data-path", data.to_str().unwrap(), "--rules", rules.to_str().unwrap()];
    args.extend(["--epochs", "1", "--output-dir", out_dir.to_str().unwrap()]);
    args.extend(TINY);
    assert_success(&kubelstm(&args));
    let meta = read_json(&run_folders(&out_dir)[0].join("model.json"));
    let saved = &meta["pipeline"]["spec"]["labels"]["rules"];
    assert_eq!(saved["cpu_spike"], serde_json::json!({"enabled": false, "above": 0.5}), "{saved}");
    assert_eq!(saved["restarts_high"], serde_json::json!({"enabled": true, "above": 3.0}), "{saved}");
    assert_eq!(saved["memory_high"], serde_json::json!({"enabled": true, "above": 95.0}), "{saved}");
}

/// A TOML error is one `error:` line naming the file, line and column (it was six lines, with
/// the source line and a caret).
#[test]
fn rules_file_errors_are_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate_k8s(tmp.path());
    let cases = [
        ("[cpu_spike]\nabove = \"high\"\n", "line 2, column 9: invalid type: string \"high\", expected f64"),
        ("[cpu_spike]\nabov = 1\n", "line 2, column 1: unknown field `abov`"),
        ("[cpu_spik]\nabove = 1\n", "line 1, column 2: unknown field `cpu_spik`"),
        ("[cpu_spike\nabove = 1\n", "line 1, column"),
    ];
    for (i, (toml, expected)) in cases.into_iter().enumerate() {
        let rules = tmp.path().join(format!("rules{i}.toml"));
        std::fs::write(&rules, toml).unwrap();
        let out_dir = tmp.path().join("out");
        let args = ["train", "--data-path", data.to_str().unwrap(), "--rules", rules.to_str().unwrap()];
        let out = kubelstm([&args[..], &["--output-dir", out_dir.to_str().unwrap()]].concat());
        let prefix = format!("{}: bad rules file: ", rules.display());
        assert_error(&out, &[&prefix, expected]);
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "more than one line:\n{stderr}");
    }
}

// ---------------------------------------------------------------------------------------
// An output that is the input

/// `detect --data s.csv -o s.csv` replaced the input with the scores (with --follow it first
/// truncated it); the same through a symlink or a hard link. Each is refused before anything
/// is written: exit 2, the input unchanged. Another file, or a new one, is written as before.
#[test]
fn an_output_that_is_the_input_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, data) = k8s_model(tmp.path());
    let original = std::fs::read(&data).unwrap();
    let symlink = tmp.path().join("link.csv");
    std::os::unix::fs::symlink(&data, &symlink).unwrap();
    let hard = tmp.path().join("hard.csv");
    std::fs::hard_link(&data, &hard).unwrap();
    let relative = tmp.path().join(".").join("cluster.csv");
    // (`dir/./x` and `dir/x` are the same path to Rust: no "other name".)
    for (output, other_name) in [(&data, false), (&relative, false), (&symlink, true), (&hard, true)] {
        for extra in [&[][..], &["--follow"][..]] {
            let mut args = detect_args(&model, &data, extra);
            args.extend(["-o", output.to_str().unwrap()]);
            let out = kubelstm_within(&args);
            let what = if other_name { "(the same file, under another name)" } else { "(the same file)" };
            assert_error(&out, &["is the input file --data", what, "write them elsewhere"]);
            assert!(std::fs::read(&data).unwrap() == original, "the input changed ({output:?}, {extra:?})");
        }
    }
    // The input read through the link, the output its target: the same file too.
    let mut args = detect_args(&model, &symlink, &[]);
    args.extend(["-o", data.to_str().unwrap()]);
    assert_error(&kubelstm(&args), &["is the input file"]);
    // A different file is fine.
    let scores = tmp.path().join("scores.csv");
    let mut args = detect_args(&model, &data, &[]);
    args.extend(["-o", scores.to_str().unwrap()]);
    assert_success(&kubelstm(&args));
    assert!(std::fs::metadata(&scores).unwrap().len() > 0);
    assert!(std::fs::read(&data).unwrap() == original);
}

// ---------------------------------------------------------------------------------------
// Outputs replaced in place

#[test]
fn an_output_replaced_keeps_its_mode_and_a_symlink_stays_a_link() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let (model, data) = k8s_model(tmp.path());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for (name, run) in [
        ("scores.csv", vec!["detect", "--model", model.to_str().unwrap(), "--data", data.to_str().unwrap(), "-q"]),
        ("cluster.csv", vec!["generate", "--rows", "300", "--pods", "3", "-q"]),
    ] {
        let target = tmp.path().join(name);
        std::fs::write(&target, "old\n").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = tmp.path().join(format!("link-{name}"));
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut args = run.clone();
        args.extend(["-o", link.to_str().unwrap()]);
        assert_success(&kubelstm(&args));
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "{name}: the link was replaced");
        assert_ne!(std::fs::read_to_string(&target).unwrap(), "old\n", "{name}: the target was not written");
        assert_eq!(mode(&target), 0o640, "{name}: the mode changed");
    }
}

// ---------------------------------------------------------------------------------------
// Standard output on an error

/// `detect … > scores.csv` used to leave a header-only file when the input failed after the
/// header was written: it reads as "no anomalies". The header now waits for the first row, so
/// a run that fails before one leaves standard output empty, in every format, batch and
/// `--follow` (a file or a pipe), windows or incidents. A good input gets its header and rows;
/// a successful run with nothing to score still gets the header alone.
#[test]
fn a_failed_detect_leaves_standard_output_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, data) = k8s_model(tmp.path());
    let original = std::fs::read_to_string(&data).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    // Data row 5 is line 6.
    let bad = tmp.path().join("bad_row5.csv");
    std::fs::write(&bad, edit_line(&lines, 6, |l| set_field(l, 6, "lots"))).unwrap();
    let needles = ["line 6, column 'CPU Usage (%)'", "'lots' is not a number"];
    let formats: [&[&str]; 6] = [
        &[],
        &["--top-features", "0"],
        &["--format", "jsonl"],
        &["--format", "prometheus"],
        &["--events"],
        &["--events", "--format", "jsonl"],
    ];
    for extra in formats {
        let batch = kubelstm(detect_args(&model, &bad, extra));
        assert_error(&batch, &needles);
        assert!(batch.stdout.is_empty(), "{extra:?}: stdout is not empty: {:?}", text(&batch.stdout));
        let followed = kubelstm_within(&detect_args(&model, &bad, &[extra, &["--follow"]].concat()));
        assert_error(&followed, &needles);
        assert!(followed.stdout.is_empty(), "{extra:?} --follow: stdout: {:?}", text(&followed.stdout));
        let piped = detect_stdin(&model, &std::fs::read(&bad).unwrap(), extra);
        assert_error(&piped, &["<stdin>, line 6"]);
        assert!(piped.stdout.is_empty(), "{extra:?} from a pipe: stdout: {:?}", text(&piped.stdout));
    }
    // A good input: the header, then one row per window.
    let good = kubelstm(detect_args(&model, &data, &[]));
    assert_success(&good);
    let rows: Vec<String> = text(&good.stdout).lines().map(str::to_owned).collect();
    assert!(rows[0].starts_with("timestamp,namespace,pod,score,threshold,anomaly"), "{}", rows[0]);
    assert!(rows.len() > 1000 && rows[1..].iter().all(|r| !r.starts_with("timestamp")), "{} rows", rows.len());
    // Nothing to score (3 rows per pod, windows of 10), successfully: the header alone.
    let short: String = lines[..1 + 6 * 3].iter().map(|l| format!("{l}\n")).collect();
    for (extra, header) in [(&[][..], "timestamp,namespace,pod,score"), (&["--events"][..], "namespace,pod,start,end")]
    {
        let out = detect_stdin(&model, short.as_bytes(), extra);
        assert_success(&out);
        let stdout = text(&out.stdout);
        assert_eq!(stdout.lines().count(), 1, "{extra:?}: {stdout}");
        assert!(stdout.starts_with(header), "{extra:?}: {stdout}");
    }
}

// ---------------------------------------------------------------------------------------
// Wide headers and invisible differences in names

/// A header of `columns` numeric columns `c0 …` after a time column `t`, and `rows` rows.
fn wide_csv(path: &Path, columns: usize, rows: usize) {
    let mut s = String::from("t");
    for c in 0..columns {
        s += &format!(",c{c}");
    }
    s.push('\n');
    for r in 0..rows {
        s += &format!("{}", 1_700_000_000 + 60 * r);
        for c in 0..columns {
            s += &format!(",{}", (r * 7 + c) % 13);
        }
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

/// A header of 100,000 columns took 19.5 s to be rejected (the duplicate check and the name
/// lookups were quadratic in the column count). Past 10,000 columns a header is refused at
/// once, naming the file and the limit, by every reader; 10,000 is not refused for its width;
/// a valid 5,000-column file trains and scores.
#[test]
fn a_header_wider_than_the_limit_is_refused_and_a_wide_valid_file_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, _) = k8s_model(tmp.path());
    for (columns, refused) in [(100_000, true), (10_000, true), (9_999, false)] {
        // `t` + `columns` columns.
        let wide = tmp.path().join(format!("wide{columns}.csv"));
        wide_csv(&wide, columns, 1);
        let message = format!("wide{columns}.csv: the header has {} columns, more than the 10000", columns + 1);
        let out_dir = tmp.path().join("out");
        let w = wide.to_str().unwrap();
        let train = kubelstm_within(&[
            "train",
            "--data-path",
            w,
            "--feature-columns",
            "all",
            "--output-dir",
            out_dir.to_str().unwrap(),
        ]);
        let batch = kubelstm_within(&detect_args(&model, &wide, &[]));
        let follow = detect_stdin(&model, &std::fs::read(&wide).unwrap(), &[]);
        for out in [&train, &batch, &follow] {
            assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
            let err = text(&out.stderr);
            assert_eq!(err.contains("more than the 10000"), refused, "{columns} columns: {err}");
        }
        if refused {
            assert_error(&train, &[&message]);
            assert_error(&batch, &[&message]);
            assert_error(&follow, &[&message.replace(&format!("wide{columns}.csv"), "<stdin>")]);
        }
    }
    let wide = tmp.path().join("wide5000.csv");
    wide_csv(&wide, 5000, 40);
    let out_dir = tmp.path().join("wide_model");
    let w = wide.to_str().unwrap();
    let mut train = vec!["train", "--data-path", w, "--feature-columns", "all", "--time-column", "t"];
    train.extend(["--sequence-length", "5", "--epochs", "1", "--output-dir", out_dir.to_str().unwrap()]);
    train.extend(TINY);
    assert_success(&kubelstm_within(&train));
    let wide_model = run_folders(&out_dir).remove(0);
    let scored = kubelstm_within(&detect_args(&wide_model, &wide, &[]));
    assert_success(&scored);
    // One series of 40 rows, windows of 5: 36 windows after the header.
    assert_eq!(text(&scored.stdout).lines().count(), 1 + 36);
}

/// A header name that differs from the wanted one only invisibly (a zero-width space, a
/// non-breaking space, a tab, a byte-order mark inside the name; an ANSI escape) used to give
/// "missing 'CPU Usage (%)' (the file has 'CPU Usage (%)')" or no hint at all. Every message
/// now shows such characters escaped, in missing-column hints, duplicate columns and the
/// column of a bad value, for train and detect alike.
#[test]
fn invisible_characters_in_header_names_are_shown_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, data) = k8s_model(tmp.path());
    let original = std::fs::read_to_string(&data).unwrap();
    let (header, rows) = original.split_once('\n').unwrap();
    for (name, shown) in [
        ("CPU Usage (%)\u{200b}", "CPU Usage (%)\\u{200b}"),
        ("CPU\u{a0}Usage (%)", "CPU\\u{a0}Usage (%)"),
        ("CPU\tUsage (%)", "CPU\\tUsage (%)"),
        ("CPU Usage\u{feff} (%)", "CPU Usage\\u{feff} (%)"),
    ] {
        let file = tmp.path().join("renamed.csv");
        std::fs::write(&file, format!("{}\n{rows}", header.replacen("CPU Usage (%)", name, 1))).unwrap();
        let hint = format!("missing 'CPU Usage (%)' (the file has '{shown}'; names are exact)");
        assert_error(&kubelstm(detect_args(&model, &file, &[])), &[&hint]);
        let out_dir = tmp.path().join("out");
        let train = ["train", "--data-path", file.to_str().unwrap(), "--output-dir", out_dir.to_str().unwrap()];
        let out = kubelstm(train);
        assert_error(&out, &["missing required column", &hint.replacen("missing ", "", 1)]);
        // No raw control character reaches the terminal.
        assert!(!text(&out.stderr).contains(['\u{1b}', '\t', '\u{200b}', '\u{feff}']), "{:?}", text(&out.stderr));
    }
    // A duplicated name and a bad value's column, in generic mode.
    let generic = tmp.path().join("generic.csv");
    let mut s = String::from("t,cpu\u{200b},cpu\u{200b}\n");
    for r in 0..30 {
        s += &format!("{},{},1\n", 1_700_000_000 + 60 * r, if r == 5 { "lots" } else { "1" });
    }
    std::fs::write(&generic, &s).unwrap();
    let out_dir = tmp.path().join("out");
    let g = generic.to_str().unwrap();
    let train = |features: &str| {
        let mut args = vec!["train", "--data-path", g, "--time-column", "t", "--feature-columns", features];
        args.extend(["--output-dir", out_dir.to_str().unwrap()]);
        kubelstm(args)
    };
    assert_error(&train("cpu\u{200b}"), &["duplicated column name 'cpu\\u{200b}' (columns 2 and 3)"]);
    std::fs::write(&generic, s.replacen(",cpu\u{200b}\n", ",mem\n", 1)).unwrap();
    assert_error(&train("cpu\u{200b}"), &["generic.csv, line 7, column 'cpu\\u{200b}': 'lots' is not a number"]);
    assert_error(&train("cpu"), &["'cpu' (the file has 'cpu\\u{200b}'; names are exact) (--feature-columns)"]);
    // An ANSI escape in a name is listed escaped, and never reaches the terminal raw.
    std::fs::write(&generic, s.replacen("cpu\u{200b},cpu\u{200b}", "\u{1b}[31mcpu,mem", 1)).unwrap();
    let out = train("cpu");
    assert_error(&out, &["the header has 't', '\\u{1b}[31mcpu', 'mem'"]);
    assert!(!text(&out.stderr).contains('\u{1b}'), "{:?}", text(&out.stderr));
}

// ---------------------------------------------------------------------------------------
// --follow through log rotation

/// A running `detect --follow` whose stdout and stderr lines arrive on channels; killed when
/// dropped, so a failing test cannot leave it behind.
struct Following {
    child: Child,
    stdout: std::sync::mpsc::Receiver<String>,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Following {
    fn start(model: &Path, file: &Path) -> Following {
        use std::io::BufRead as _;
        use std::process::{Command, Stdio};
        let mut child = Command::new(crate::cli_train::EXE)
            .args(["detect", "--model", model.to_str().unwrap(), "--follow", "--data", file.to_str().unwrap()])
            .args(["--top-features", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = |r: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(r).lines() {
                    let _ = tx.send(line.unwrap());
                }
            });
            rx
        };
        let stdout = lines(Box::new(child.stdout.take().unwrap()));
        let stderr = lines(Box::new(child.stderr.take().unwrap()));
        Following { child, stdout, stderr }
    }

    /// The next `n` lines of stdout, each within 30 s.
    fn rows(&self, n: usize) -> Vec<String> {
        let wait = std::time::Duration::from_secs(30);
        (0..n).map(|i| self.stdout.recv_timeout(wait).unwrap_or_else(|_| panic!("row {i} of {n}: none"))).collect()
    }

    /// Waits (30 s at most) for a stderr line containing `needle`.
    fn note(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => assert!(!line.starts_with("error"), "{line}"),
                Err(_) => panic!("no note {needle:?} on stderr"),
            }
        }
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--follow` on a file truncated in place (logrotate's copytruncate) kept reading at the old
/// offset, mid-line. Now, as with `tail -F`: a truncated file is read again from the top (a
/// header line there, as a restarted CSV writer writes, is dropped; rows without a header are
/// read as rows), a file replaced by rename is followed to the new file, each with a note on
/// stderr, and the pods' windows carry on across them.
#[test]
fn follow_reads_a_truncated_file_from_the_top_and_follows_a_renamed_one() {
    use std::io::Write as _;
    let tmp = tempfile::tempdir().unwrap();
    let (model, data) = k8s_model(tmp.path());
    let text_all = std::fs::read_to_string(&data).unwrap();
    let lines: Vec<&str> = text_all.lines().collect();
    let header = lines[0];
    // Rows come 6 pods to a timestamp; `step(k)` is the k-th timestamp's 6 rows.
    let step = |k: usize| lines[1 + 6 * k..1 + 6 * (k + 1)].iter().map(|l| format!("{l}\n")).collect::<String>();
    let stamp = |k: usize| lines[1 + 6 * k].split(',').next().unwrap().to_owned();
    let file = tmp.path().join("live.csv");
    let first: String = (0..11).map(step).collect();
    std::fs::write(&file, format!("{header}\n{first}")).unwrap();
    let run = Following::start(&model, &file);
    // Windows of 10: steps 9 and 10 complete 6 windows each.
    let rows = run.rows(1 + 12);
    assert!(rows[0].starts_with("timestamp,"), "{}", rows[0]);
    let stamps = |rows: &[String]| rows.iter().map(|r| r.split(',').next().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(stamps(&rows[7..]), vec![stamp(10); 6]);

    // copytruncate, and a writer that starts afresh: a header, then the next step.
    std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(0).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap()
        .write_all(format!("{header}\n{}", step(11)).as_bytes())
        .unwrap();
    run.note("live.csv was truncated; reading from the start");
    assert_eq!(stamps(&run.rows(6)), vec![stamp(11); 6], "the header was read as a row, or rows were lost");

    // copytruncate, and a writer that just carries on: rows without a header.
    std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(0).unwrap();
    std::fs::OpenOptions::new().append(true).open(&file).unwrap().write_all(step(12).as_bytes()).unwrap();
    run.note("live.csv was truncated; reading from the start");
    assert_eq!(stamps(&run.rows(6)), vec![stamp(12); 6]);

    // Rotation by rename: a new file at the path, with its header.
    std::fs::rename(&file, tmp.path().join("live.csv.1")).unwrap();
    std::fs::write(&file, format!("{header}\n{}", step(13))).unwrap();
    run.note("live.csv was replaced by a new file");
    assert_eq!(stamps(&run.rows(6)), vec![stamp(13); 6]);
    // And appends to the new file are read.
    std::fs::OpenOptions::new().append(true).open(&file).unwrap().write_all(step(14).as_bytes()).unwrap();
    assert_eq!(stamps(&run.rows(6)), vec![stamp(14); 6]);

    // Ctrl-C ends it cleanly: exit 130, no header again, nothing else written.
    send(&run.child, libc::SIGINT);
    let mut run = run;
    let status = run.child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let rest: Vec<String> = run.stdout.iter().collect();
    assert!(rest.is_empty(), "{rest:?}");
}
