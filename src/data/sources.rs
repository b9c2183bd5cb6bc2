//! Several CSV files as one dataset: real metrics often come as one file per pod or series in a
//! folder (Online Boutique's `metric/<pod>_metric.csv`).
//!
//! A data argument is a file, a directory (every `*.csv` in it, sorted by name) or a pattern
//! with `*` and `?` in its last component (`metric/*_metric.csv`, sorted by name); arguments
//! are taken in order, and a file named twice is an error. Every file must have the first
//! file's header (the error names the first file that differs and the column). The rows of
//! all files make one dataset, hashed as the files' bytes in order (one file hashes as
//! before).
//!
//! Series: with group columns (or the Kubernetes schema) a row's series is its group values,
//! whichever file it is in. Without them each file is its own series, named after the file:
//! its name without `.csv`, and without an ending all the names share after their last `_`,
//! `-` or `.` (`adservice-5f6585d649-fnmft_metric.csv` → `adservice-5f6585d649-fnmft` when
//! every file ends in `_metric`). One file stays one unnamed series, as always.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::csv_ingest::{read_file_into, Load};
use super::hashing::HashingReader;
use super::options::{LoadOptions, SchemaMode};
use super::Dataset;
use crate::artifacts::model_file::hex;
use crate::{Error, Result};

/// Files shown by name in a description; the rest are counted.
const NAMED_FILES: usize = 3;

/// The files of a data argument list, resolved and in order (at least one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataFiles {
    paths: Vec<PathBuf>,
}

impl DataFiles {
    /// Resolves files, directories and patterns; `flag` names the flag in errors.
    pub fn resolve(args: &[PathBuf], flag: &str) -> Result<DataFiles> {
        let mut paths = Vec::new();
        for arg in args {
            paths.extend(expand(arg, flag)?);
        }
        if paths.is_empty() {
            return Err(Error::config(format!("{flag} names no files")));
        }
        // The same file twice would count its rows twice (and, as a series, collide with itself).
        let mut seen: HashMap<PathBuf, &Path> = HashMap::new();
        for p in &paths {
            let id = p.canonicalize().unwrap_or_else(|_| p.clone());
            if let Some(earlier) = seen.insert(id, p) {
                return Err(Error::config(format!(
                    "{flag}: {} is given twice (also as {}); name each file once",
                    p.display(),
                    earlier.display()
                )));
            }
        }
        Ok(DataFiles { paths })
    }

    /// One file, as the single-file commands take it.
    pub fn single(path: PathBuf) -> DataFiles {
        DataFiles { paths: vec![path] }
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The path of one file; `3 files in DIR (a.csv, b.csv, c.csv)` or `12 files (x/a.csv, …,
    /// and 9 more)` for several.
    pub fn describe(&self) -> String {
        if let [one] = self.paths.as_slice() {
            return one.display().to_string();
        }
        let parent = self.paths[0].parent();
        let same_dir = self.paths.iter().all(|p| p.parent() == parent);
        let name = |p: &PathBuf| match (same_dir, p.file_name()) {
            (true, Some(n)) => n.to_string_lossy().into_owned(),
            _ => p.display().to_string(),
        };
        let names: Vec<String> = self.paths.iter().map(name).collect();
        let place = match parent.filter(|p| same_dir && !p.as_os_str().is_empty()) {
            Some(dir) => format!(" in {}", dir.display()),
            None => String::new(),
        };
        format!("{} files{place} ({})", self.paths.len(), first_few(&names, NAMED_FILES))
    }

    /// The series name of each file, in order (see the module's documentation); an error when
    /// two files would make one series.
    pub fn series_names(&self) -> Result<Vec<String>> {
        let stems: Vec<String> = self
            .paths
            .iter()
            .map(|p| {
                let name = p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
                match name.len().checked_sub(4) {
                    Some(cut) if name[cut..].eq_ignore_ascii_case(".csv") && cut > 0 => name[..cut].to_owned(),
                    _ => name,
                }
            })
            .collect();
        let names = strip_common_ending(stems);
        let mut seen: HashMap<&str, &Path> = HashMap::new();
        for (name, path) in names.iter().zip(&self.paths) {
            if let Some(earlier) = seen.insert(name, path) {
                return Err(Error::config(format!(
                    "{} and {} would both be series '{name}' (each file is a series named after it): rename one, \
                     or name the series with --group-columns",
                    earlier.display(),
                    path.display()
                )));
            }
        }
        Ok(names)
    }
}

/// `a, b, c, and 9 more`: the first `n` of `names`, and how many others.
pub fn first_few<S: AsRef<str>>(names: &[S], n: usize) -> String {
    let mut shown: Vec<&str> = names.iter().take(n).map(AsRef::as_ref).collect();
    let more = names.len().saturating_sub(n);
    let tail = format!("and {more} more");
    if more > 0 {
        shown.push(&tail);
    }
    shown.join(", ")
}

/// Drops the ending every name shares after its last `_`, `-` or `.`, when every name keeps
/// something before it (`a_metric`, `b_metric` → `a`, `b`).
fn strip_common_ending(names: Vec<String>) -> Vec<String> {
    let ending = |n: &str| n.rfind(['_', '-', '.']).filter(|&i| i > 0).map(|i| n[i..].to_owned());
    let Some(common) = names.first().and_then(|n| ending(n)) else { return names };
    if names.len() < 2 || !names.iter().all(|n| ending(n).as_deref() == Some(common.as_str())) {
        return names;
    }
    names.into_iter().map(|n| n[..n.len() - common.len()].to_owned()).collect()
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// One argument's files: itself, a directory's `*.csv`, or a pattern's matches.
fn expand(arg: &Path, flag: &str) -> Result<Vec<PathBuf>> {
    if arg.is_dir() {
        let files = matching(arg, "*.csv")?;
        if files.is_empty() {
            return Err(Error::config(format!("{flag} {}: the directory holds no .csv files", arg.display())));
        }
        return Ok(files);
    }
    let last = arg.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // A file whose name has a `*` or `?` is that file; otherwise the name is a pattern.
    if !has_wildcard(&last) || arg.exists() {
        return Ok(vec![arg.to_path_buf()]);
    }
    let dir = match arg.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if has_wildcard(&dir.to_string_lossy()) {
        return Err(Error::config(format!(
            "{flag} {}: only the file name may hold * or ? (the directory must be named)",
            arg.display()
        )));
    }
    let files = matching(dir, &last)?;
    if files.is_empty() {
        return Err(Error::config(format!("{flag} {}: the pattern matches no files", arg.display())));
    }
    // `dir/x` rather than `./x` when the pattern had no directory.
    Ok(if arg.parent().is_some_and(|p| p.as_os_str().is_empty()) {
        files.into_iter().map(|p| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p)).collect()
    } else {
        files
    })
}

/// The regular files of `dir` whose names match `pattern` (`.csv` in any case for `*.csv`),
/// sorted by name; hidden files only when the pattern starts with a dot, as in a shell.
fn matching(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && !pattern.starts_with('.') {
            continue;
        }
        let matched = if pattern == "*.csv" {
            name.len() > 4
                && name.is_char_boundary(name.len() - 4)
                && name[name.len() - 4..].eq_ignore_ascii_case(".csv")
        } else {
            wildcard_match(pattern, &name)
        };
        // `is_file` follows symlinks: a link to a file counts, a directory named x.csv does not.
        if matched && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// `*` matches any run of characters (none too), `?` one character; everything else itself.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j) = (0, 0);
    // The last `*` seen and the name position it was tried at: backtrack there on a mismatch.
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// Errors unless `header` (of `source`) is `first_header` (of `first_source`): names the first
/// column that differs.
pub fn check_same_header(first_source: &str, first_header: &[String], source: &str, header: &[String]) -> Result<()> {
    let advice = "every file of one dataset needs the same header (select the files with a pattern such as \
                  DIR/*_metric.csv)";
    if let Some(k) = (0..first_header.len().min(header.len())).find(|&k| first_header[k] != header[k]) {
        return Err(Error::input(
            source,
            Some(1),
            Some(&header[k]),
            format!("column {} is '{}' where {first_source} has '{}'; {advice}", k + 1, header[k], first_header[k]),
        ));
    }
    match header.len().cmp(&first_header.len()) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(Error::input(
            source,
            Some(1),
            Some(&header[first_header.len()]),
            format!(
                "{} columns where {first_source} has {}: column '{}' is extra; {advice}",
                header.len(),
                first_header.len(),
                header[first_header.len()]
            ),
        )),
        std::cmp::Ordering::Less => Err(Error::input(
            source,
            Some(1),
            Some(&first_header[header.len()]),
            format!(
                "{} columns where {first_source} has {}: column '{}' is missing; {advice}",
                header.len(),
                first_header.len(),
                first_header[header.len()]
            ),
        )),
    }
}

/// True when the files of a load name its series: several files, generic data without group
/// columns. (Kubernetes rows name their pods; group columns name theirs.)
pub fn files_name_series(options: &LoadOptions, files: usize) -> bool {
    files > 1 && matches!(&options.schema, SchemaMode::Generic(g) if g.group_columns.is_empty())
}

/// Loads `files` as one dataset; returns it with the SHA-256 of their bytes in order.
pub fn load_files(files: &DataFiles, options: &LoadOptions) -> Result<(Dataset, String)> {
    let series = if files_name_series(options, files.len()) { Some(files.series_names()?) } else { None };
    let mut load = Load::new(options);
    let mut hasher = Sha256::new();
    for (k, path) in files.paths().iter().enumerate() {
        let file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
        let mut reader = HashingReader::resume(BufReader::with_capacity(1 << 20, file), hasher);
        let name = series.as_ref().map(|s| s[k].as_str());
        read_file_into(&mut load, &mut reader, &path.display().to_string(), name)?;
        // The CSV reader may stop before EOF (it never does on success, but be exact).
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| Error::io("read", path, e))?;
        hasher = reader.into_hasher();
    }
    let dataset = load.finish(&files.describe())?;
    Ok((dataset, hex(&hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        for (p, n) in [
            ("*_metric.csv", "adservice-5f6585d649-fnmft_metric.csv"),
            ("*", "x"),
            ("*", ""),
            ("a?c", "abc"),
            ("*.csv", ".csv"),
            ("a*b*c", "aXXbYYbc"),
            ("**x", "x"),
            ("é?", "éü"),
        ] {
            assert!(wildcard_match(p, n), "{p} {n}");
        }
        for (p, n) in [("*_metric.csv", "dependency.csv"), ("a?c", "ac"), ("a*b", "ab_"), ("x", "xx"), ("?", "")] {
            assert!(!wildcard_match(p, n), "{p} {n}");
        }
    }

    #[test]
    fn series_names_drop_the_shared_ending() {
        let files = |names: &[&str]| DataFiles { paths: names.iter().map(PathBuf::from).collect() };
        let names = files(&["d/adservice-5f6585d649-fnmft_metric.csv", "d/cartservice-579f59597d-wc2lz_metric.csv"])
            .series_names()
            .unwrap();
        assert_eq!(names, ["adservice-5f6585d649-fnmft", "cartservice-579f59597d-wc2lz"]);
        // Only a whole last token: `x_a_metric` and `y_a_metric` keep their `_a`.
        assert_eq!(files(&["x_a_metric.csv", "y_a_metric.csv"]).series_names().unwrap(), ["x_a", "y_a"]);
        // Different endings, or a name that is only the ending: nothing dropped.
        assert_eq!(files(&["a_cpu.csv", "b_mem.csv"]).series_names().unwrap(), ["a_cpu", "b_mem"]);
        assert_eq!(files(&["_metric.csv", "b_metric.csv"]).series_names().unwrap(), ["_metric", "b_metric"]);
        let err = files(&["x/a.csv", "y/a.csv"]).series_names().unwrap_err().to_string();
        assert!(err.contains("x/a.csv") && err.contains("y/a.csv") && err.contains("series 'a'"), "{err}");
    }

    #[test]
    fn headers_must_agree() {
        let h = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
        assert!(check_same_header("a.csv", &h("t,x,y"), "b.csv", &h("t,x,y")).is_ok());
        let err = check_same_header("a.csv", &h("t,x,y"), "b.csv", &h("t,z,y")).unwrap_err().to_string();
        assert!(err.contains("b.csv") && err.contains("'z'") && err.contains("a.csv has 'x'"), "{err}");
        let err = check_same_header("a.csv", &h("t,x,y"), "b.csv", &h("t,x")).unwrap_err().to_string();
        assert!(err.contains("'y' is missing"), "{err}");
        let err = check_same_header("a.csv", &h("t,x"), "b.csv", &h("t,x,w")).unwrap_err().to_string();
        assert!(err.contains("'w' is extra"), "{err}");
    }

    #[test]
    fn descriptions_name_the_first_few_files() {
        let files = |names: &[&str]| DataFiles { paths: names.iter().map(PathBuf::from).collect() };
        assert_eq!(files(&["d/a.csv"]).describe(), "d/a.csv");
        assert_eq!(files(&["d/a.csv", "d/b.csv"]).describe(), "2 files in d (a.csv, b.csv)");
        assert_eq!(
            files(&["d/a.csv", "e/b.csv", "d/c.csv", "d/e.csv"]).describe(),
            "4 files (d/a.csv, e/b.csv, d/c.csv, and 1 more)"
        );
    }
}
