//! The `kubelstm` command line. (being written)
use std::process::ExitCode;

pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
