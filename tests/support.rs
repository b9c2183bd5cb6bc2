//! Helpers the integration-test modules share: running the binary and reading its errors.

use std::path::Path;
use std::process::{Command, Output, Stdio};

pub const EXE: &str = env!("CARGO_BIN_EXE_kubelstm");

/// Runs `kubelstm ARGS` with no standard input.
pub fn kubelstm(args: &[&str]) -> Output {
    Command::new(EXE).args(args).stdin(Stdio::null()).output().expect("the binary runs")
}

pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 2, `error: ` naming the problem (every `needles` substring), no panic.
pub fn assert_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
}
