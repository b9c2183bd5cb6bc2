//! The engine's environment settings (`KUBELSTM_SIMD`, `KUBELSTM_MICRO_BATCH`) through the real
//! binary: a value kubelstm does not accept stops the command before any work with exit 2 and a
//! message naming the variable, the value and what it accepts; accepted values still run.

use std::process::{Command, Output, Stdio};

use crate::cli_train::{assert_success, generate_k8s, run_folder_of, EXE, TINY};
use crate::support::assert_error;

/// `kubelstm ARGS` with `vars` set (and the other engine setting left as the parent has it).
fn kubelstm_with(vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(EXE);
    command.args(args).stdin(Stdio::null());
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().expect("the binary runs")
}

/// A command that would write a file if it ran: the check must stop it before that.
fn generate_into(dir: &std::path::Path, vars: &[(&str, &str)]) -> (Output, std::path::PathBuf) {
    let csv = dir.join("cluster.csv");
    let out = kubelstm_with(vars, &["generate", "--pods", "2", "--rows", "50", "-q", "-o", csv.to_str().unwrap()]);
    (out, csv)
}

#[test]
fn malformed_micro_batch_is_an_error_naming_the_variable_and_range() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["abc", "0", "-3", "2.5", "65537"] {
        let (out, csv) = generate_into(tmp.path(), &[("KUBELSTM_MICRO_BATCH", bad)]);
        assert_error(&out, &["KUBELSTM_MICRO_BATCH", &format!("{bad:?}"), "from 1 to 65536"]);
        assert!(!csv.exists(), "the command ran despite KUBELSTM_MICRO_BATCH={bad:?}");
    }
}

#[test]
fn misspelt_simd_is_an_error_naming_the_accepted_values() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["avx3", "sse4", "of"] {
        let (out, csv) = generate_into(tmp.path(), &[("KUBELSTM_SIMD", bad)]);
        assert_error(&out, &["KUBELSTM_SIMD", &format!("{bad:?}"), "off, scalar, wide, avx2, avx512, auto"]);
        assert!(!csv.exists(), "the command ran despite KUBELSTM_SIMD={bad:?}");
    }
}

#[test]
fn accepted_values_run() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, value) in [("KUBELSTM_SIMD", "OFF"), ("KUBELSTM_SIMD", "auto"), ("KUBELSTM_MICRO_BATCH", " 64 ")] {
        let (out, csv) = generate_into(tmp.path(), &[(name, value)]);
        assert_success(&out);
        assert!(csv.exists(), "{name}={value:?} wrote nothing");
        std::fs::remove_file(&csv).unwrap();
    }
    // Training is where the micro-batch is used: a small one (several passes per shard) trains.
    let data = generate_k8s(tmp.path());
    let out_dir = tmp.path().join("out");
    let mut args = vec!["train", "--data-path", data.to_str().unwrap(), "--output-dir", out_dir.to_str().unwrap()];
    args.extend(["--epochs", "1"]);
    args.extend(TINY);
    let out = kubelstm_with(&[("KUBELSTM_MICRO_BATCH", "5"), ("KUBELSTM_SIMD", "wide")], &args);
    assert_success(&out);
    assert!(run_folder_of(&out).join("model.safetensors").exists());
}

/// `bench --json` says which CPU and which instruction set the figures came from, and a
/// forced `KUBELSTM_SIMD` shows in it: a figure without its CPU cannot be compared.
#[test]
fn bench_reports_the_cpu_and_the_forced_instruction_set() {
    let out =
        kubelstm_with(&[("KUBELSTM_SIMD", "wide")], &["bench", "--arch", "standard", "--seconds", "0.05", "--json"]);
    assert_success(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["simd"], "wide");
    assert_eq!(report["cpu"].as_str().unwrap(), kubelstm_kernels::cpu_name());
    assert!(report["archs"]["standard"]["infer_b1024"]["median"].as_f64().unwrap() > 0.0);
}
