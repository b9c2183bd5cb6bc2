//! kubelstm's integration tests: one binary, one module per area.

mod cli_train;
mod data;
mod deploy;
mod detect;
mod environment;
mod fixtures_pytorch;
mod gradients;
mod hostile;
mod incidents;
mod layers;
mod metrics;
mod openmetrics;
mod plot;
mod pot;
mod prometheus;
mod reliability;
mod sources;
mod support;
mod training;

/// The whole suite once more with the SIMD kernels switched off (`KUBELSTM_SIMD=off`): the
/// scalar reference path must pass every test too. Re-runs this test binary in a child
/// process (the choice of kernels is fixed once per process).
#[test]
fn whole_suite_with_simd_off() {
    if std::env::var_os("KUBELSTM_SIMD").is_some() {
        return; // already the child (or the user chose a path): nothing more to do
    }
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let output = std::process::Command::new(exe)
        .env("KUBELSTM_SIMD", "off")
        .args(["--skip", "whole_suite_with_simd_off", "--test-threads", "2"])
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "with KUBELSTM_SIMD=off:\n{}\n{}",
        stdout.lines().filter(|l| l.contains("FAILED") || l.contains("panicked")).collect::<Vec<_>>().join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("test result: ok"), "the child ran no tests:\n{stdout}");
}
