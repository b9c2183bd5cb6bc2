//! Looking names up in a header: by exact name in constant time, near misses for the error
//! hints, and the duplicated names a load must refuse.

use std::collections::{HashMap, HashSet};

use crate::data::names::{is_invisible, listed, quoted};
use crate::{Error, Result};

/// Each name of a header and its first column: lookups by name in constant time, so a wide
/// header costs one pass, not one pass per name.
pub(crate) struct HeaderIndex<'a> {
    first: HashMap<&'a str, usize>,
}

impl<'a> HeaderIndex<'a> {
    pub(crate) fn new(header: &'a [String]) -> Self {
        let mut first = HashMap::with_capacity(header.len());
        for (i, h) in header.iter().enumerate() {
            first.entry(h.as_str()).or_insert(i);
        }
        HeaderIndex { first }
    }
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.first.get(name).copied()
    }
}

/// A name folded for near-miss hints: no white space or invisible characters, lower case.
fn squash(s: &str) -> String {
    s.chars().filter(|&c| !c.is_whitespace() && !is_invisible(c)).collect::<String>().to_lowercase()
}

/// Hints for missing names that differ only in case, spacing or invisible characters from a
/// header name: `'cpu' (the file has 'cpu\u{200b}'; names are exact)`. Built once per header.
pub(crate) struct NearMisses<'a> {
    squashed: HashMap<String, &'a str>,
}

impl<'a> NearMisses<'a> {
    pub(crate) fn new(header: &'a [String]) -> Self {
        let mut squashed = HashMap::with_capacity(header.len());
        for h in header {
            squashed.entry(squash(h)).or_insert(h.as_str());
        }
        NearMisses { squashed }
    }

    /// `name` quoted, with the header's near miss when there is one.
    pub(crate) fn describe(&self, name: &str) -> String {
        match self.squashed.get(&squash(name)) {
            Some(h) => format!("{} (the file has {}; names are exact)", quoted(name), quoted(h)),
            None => quoted(name),
        }
    }
}

/// Errors when a column the load will use appears more than once.
pub(super) fn check_duplicates(file: &str, header: &[String], used: &[usize]) -> Result<Vec<String>> {
    let used: HashSet<usize> = used.iter().copied().collect();
    let mut warnings = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(header.len());
    let mut dup_errors = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if let Some(&first) = seen.get(h.as_str()) {
            let text = format!("{} (columns {} and {})", quoted(h), first + 1, i + 1);
            if used.contains(&first) || used.contains(&i) {
                dup_errors.push(text);
            } else if !h.is_empty() {
                warnings.push(format!("column name {text} appears more than once; the column is not used"));
            }
        } else {
            seen.insert(h.as_str(), i);
        }
    }
    if dup_errors.is_empty() {
        Ok(warnings)
    } else {
        Err(Error::schema(
            file,
            format!(
                "duplicated column name {}: a column the load uses must appear once; rename or drop the copy",
                listed(&dup_errors)
            ),
        ))
    }
}

/// True when `text` reads as a number or a missing value (used to sniff numeric columns).
pub(crate) fn looks_numeric(text: &str) -> bool {
    let t = text.trim();
    crate::data::csv_ingest::is_missing_token(t) || t.parse::<f64>().is_ok()
}
