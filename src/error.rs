//! The library's error type. Every message names what the user can act on: the file, the
//! row and column, the expected shape or value.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum Error {
    /// An operating-system error while doing `action` on `path`.
    Io { action: &'static str, path: PathBuf, source: io::Error },
    /// A problem at a place in an input file. `line` is the 1-based line of the file (the
    /// header is line 1); `column` the column name where one applies.
    Input { file: String, line: Option<u64>, column: Option<String>, message: String },
    /// The file's columns do not fit what was asked of it (missing or duplicated columns,
    /// no recognised schema, columns the model needs).
    Schema { file: String, message: String },
    /// A setting out of range or a combination of settings that cannot work.
    Config(String),
    /// The data as a whole cannot be used (too few rows, one class only, ...).
    Data(String),
    /// A saved model folder that is missing, damaged, or does not fit.
    Model { path: PathBuf, message: String },
    /// Training produced NaN or infinity.
    Diverged { epoch: usize, batch: usize, message: String },
    /// The user interrupted a long job (Ctrl-C).
    Interrupted(String),
    /// A Prometheus server could not be reached, refused a request or answered with something
    /// that cannot be used. `url` is the server's base URL.
    Prometheus { url: String, message: String },
}

impl Error {
    pub fn io(action: &'static str, path: impl AsRef<Path>, source: io::Error) -> Self {
        Error::Io { action, path: path.as_ref().to_path_buf(), source }
    }
    pub fn input(file: impl Into<String>, line: Option<u64>, column: Option<&str>, message: impl Into<String>) -> Self {
        Error::Input { file: file.into(), line, column: column.map(str::to_owned), message: message.into() }
    }
    pub fn schema(file: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Schema { file: file.into(), message: message.into() }
    }
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }
    pub fn data(message: impl Into<String>) -> Self {
        Error::Data(message.into())
    }
    pub fn prometheus(url: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Prometheus { url: url.into(), message: message.into() }
    }
    pub fn model(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Model { path: path.as_ref().to_path_buf(), message: message.into() }
    }
    /// True for a write to a closed pipe (`kubelstm detect | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { action, path, .. } => write!(f, "could not {action} {}", path.display()),
            Error::Input { file, line, column, message } => {
                write!(f, "{file}")?;
                if let Some(line) = line {
                    write!(f, ", line {line}")?;
                }
                if let Some(column) = column {
                    write!(f, ", column {}", crate::data::names::quoted(column))?;
                }
                write!(f, ": {message}")
            }
            Error::Schema { file, message } => write!(f, "{file}: {message}"),
            Error::Config(message) | Error::Data(message) => write!(f, "{message}"),
            Error::Model { path, message } => write!(f, "model {}: {message}", path.display()),
            Error::Diverged { epoch, batch, message } => {
                write!(f, "training diverged at epoch {epoch}, batch {batch}: {message}")
            }
            Error::Interrupted(message) => write!(f, "interrupted: {message}"),
            Error::Prometheus { url, message } => write!(f, "Prometheus at {url}: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A TOML parse error of `text` on one line: `line L, column C: message` (the `toml` crate's
/// own rendering spans six lines, with the source line and a caret).
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}
