//! [`LineGuard`]: what the CSV parser reads, one line at a time, with bounds.
//!
//! Every metrics CSV kubelstm reads goes through it on its way to the `csv` parser. It follows
//! the parser's quoting rules (a quote opens a field only at its start; `""` inside a quoted
//! field is a quote) and, line by line:
//!
//! - **A quoted field ends with its line.** An unclosed quote (`…,"oops,0,0`) used to swallow
//!   every following row into one field, and the load went on without a word. At the end of
//!   the line the guard closes the quote for the parser and records the line and field; the
//!   loader then reports that row — an error naming the line, or a counted skip under
//!   `--skip-bad-rows`. Metrics have no multi-line fields, so a quoted line break is the same
//!   mistake.
//! - **Line numbers count every line ending.** `\r\n` reaches the parser as `\n` and a lone
//!   `\r` as `\n` (both end a record for the parser too). The parser's own count skipped the
//!   `\n` of a `\r\n`, so every error in a CRLF file named the line before the right one.
//! - **Fields and lines have a length limit** ([`MAX_FIELD_BYTES`], [`MAX_LINE_BYTES`]): past
//!   it, reading stops with an error naming the line, so `/dev/zero` or a 2 GB line cannot
//!   fill memory (streams keep streaming; only one line is bounded).

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read};

/// The longest field (cell or column name) a metrics CSV may hold.
pub const MAX_FIELD_BYTES: usize = 64 << 10;
/// The longest line, header included (a million short column names fit).
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// A line whose quoted field was still open at its end: the guard closed it for the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnclosedQuote {
    /// 1-based line of the file (where the quote opened, and ended).
    pub line: u64,
    /// 0-based index of the field that opened the quote.
    pub field: usize,
}

/// Reading stopped: a field or a line is longer than its limit. Travels inside the
/// `io::Error` the parser reports; [`super::csv_ingest::map_csv_error`] turns it into an
/// input error naming the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooLong {
    pub line: u64,
    /// The field past its limit; `None` when the line as a whole is.
    pub field: Option<usize>,
    pub message: String,
}

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TooLong {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    StartField,
    InField,
    InQuoted,
    /// A quote inside a quoted field: it closes the field, or a second one follows (`""`).
    QuoteInQuoted,
}

/// See the [module docs](self).
pub struct LineGuard<R> {
    inner: R,
    input: Box<[u8]>,
    out: Vec<u8>,
    out_pos: usize,
    state: State,
    /// The line being read (1-based), its length so far, its field and that field's length.
    line: u64,
    line_len: usize,
    field: usize,
    field_len: usize,
    /// The last byte was a `\r` (already passed on as `\n`): a `\n` right after it is dropped.
    after_cr: bool,
    eof: bool,
    unclosed: VecDeque<UnclosedQuote>,
}

impl<R: Read> LineGuard<R> {
    pub fn new(inner: R) -> Self {
        LineGuard {
            inner,
            input: vec![0; 1 << 16].into_boxed_slice(),
            out: Vec::with_capacity((1 << 16) + 64),
            out_pos: 0,
            state: State::StartField,
            line: 1,
            line_len: 0,
            field: 0,
            field_len: 0,
            after_cr: false,
            eof: false,
            unclosed: VecDeque::new(),
        }
    }

    /// The unclosed quote on `line`, if that line had one. Lines are asked in increasing
    /// order; what was recorded for earlier lines is dropped.
    pub fn unclosed_quote(&mut self, line: u64) -> Option<UnclosedQuote> {
        while self.unclosed.front().is_some_and(|u| u.line < line) {
            self.unclosed.pop_front();
        }
        self.unclosed.front().filter(|u| u.line == line).copied()
    }

    fn end_line(&mut self) {
        if self.state == State::InQuoted {
            self.out.push(b'"');
            self.unclosed.push_back(UnclosedQuote { line: self.line, field: self.field });
        }
        self.state = State::StartField;
        self.line += 1;
        self.line_len = 0;
        self.field = 0;
        self.field_len = 0;
    }

    fn too_long(&self, field: Option<usize>) -> io::Error {
        let message = match field {
            Some(_) => format!(
                "a field is longer than {} KiB: not a metrics cell (is a quote unbalanced?)",
                MAX_FIELD_BYTES >> 10
            ),
            None => format!("the line is longer than {} MiB: not a line of metrics", MAX_LINE_BYTES >> 20),
        };
        io::Error::new(io::ErrorKind::InvalidData, TooLong { line: self.line, field, message })
    }

    /// Passes `chunk` bytes of `input` through the state machine into `out`: runs of ordinary
    /// bytes at once, the four bytes that matter (`,` `"` `\r` `\n`) one by one.
    fn process(&mut self, chunk: usize) -> io::Result<()> {
        let mut i = 0;
        while i < chunk {
            let start = i;
            while i < chunk && !SPECIAL[self.input[i] as usize] {
                i += 1;
            }
            if i > start {
                let run = i - start;
                self.after_cr = false;
                self.line_len += run;
                if self.line_len > MAX_LINE_BYTES {
                    return Err(self.too_long(None));
                }
                if self.state != State::InQuoted {
                    self.state = State::InField;
                }
                self.field_len += run;
                if self.field_len > MAX_FIELD_BYTES {
                    return Err(self.too_long(Some(self.field)));
                }
                self.out.extend_from_slice(&self.input[start..i]);
            }
            if i == chunk {
                break;
            }
            let b = self.input[i];
            i += 1;
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            if b == b'\n' || b == b'\r' {
                self.end_line();
                self.out.push(b'\n');
                self.after_cr = b == b'\r';
                continue;
            }
            self.line_len += 1;
            if self.line_len > MAX_LINE_BYTES {
                return Err(self.too_long(None));
            }
            // `b` is `,` or `"`.
            let (next, new_field) = match (self.state, b) {
                (State::StartField | State::InField | State::QuoteInQuoted, b',') => (State::StartField, true),
                (State::InQuoted, b',') => (State::InQuoted, false),
                (State::StartField, _) => (State::InQuoted, false),
                (State::InField, _) => (State::InField, false),
                (State::InQuoted, _) => (State::QuoteInQuoted, false),
                (State::QuoteInQuoted, _) => (State::InQuoted, false),
            };
            self.state = next;
            if new_field {
                self.field += 1;
                self.field_len = 0;
            } else {
                self.field_len += 1;
                if self.field_len > MAX_FIELD_BYTES {
                    return Err(self.too_long(Some(self.field)));
                }
            }
            self.out.push(b);
        }
        Ok(())
    }
}

/// The bytes [`LineGuard::process`] looks at one by one.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b',' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t
};

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            if self.eof {
                return Ok(0);
            }
            let n = match self.inner.read(&mut self.input) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                // A last line without a line ending: its quote, if open, closes at the end.
                self.eof = true;
                if self.state == State::InQuoted {
                    self.end_line();
                }
            } else {
                self.process(n)?;
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(input: &[u8]) -> (io::Result<Vec<u8>>, Vec<UnclosedQuote>) {
        let mut g = LineGuard::new(input);
        let mut out = Vec::new();
        let r = g.read_to_end(&mut out).map(|_| out);
        (r, g.unclosed.iter().copied().collect())
    }

    #[test]
    fn well_formed_text_passes_unchanged() {
        let text = b"a,\"b,c\",\"d\"\"e\"\nf,g\"h,i\n\n\"\",x\n";
        let (out, unclosed) = through(text);
        assert_eq!(out.unwrap(), text);
        assert_eq!(unclosed, vec![]);
    }

    #[test]
    fn line_endings_become_newlines() {
        assert_eq!(through(b"a\r\nb\rc\n\r\nd").0.unwrap(), b"a\nb\nc\n\nd");
    }

    #[test]
    fn an_unclosed_quote_closes_at_the_end_of_its_line() {
        let (out, unclosed) = through(b"h1,h2,h3\n1,\"oops,0\n2,3,4\r\n5,\"x");
        assert_eq!(out.unwrap(), b"h1,h2,h3\n1,\"oops,0\"\n2,3,4\n5,\"x\"");
        assert_eq!(unclosed, vec![UnclosedQuote { line: 2, field: 1 }, UnclosedQuote { line: 4, field: 1 }]);
    }

    #[test]
    fn lines_are_asked_in_order() {
        let mut g = LineGuard::new(&b"\"a\n\"b\n\"c\n"[..]);
        std::io::copy(&mut g, &mut std::io::sink()).unwrap();
        assert_eq!(g.unclosed_quote(2), Some(UnclosedQuote { line: 2, field: 0 }));
        assert_eq!(g.unclosed_quote(4), None);
        assert_eq!(g.unclosed_quote(3), None);
    }

    #[test]
    fn long_fields_and_lines_stop_the_read() {
        let mut field = b"a,b\n1,\"".to_vec();
        field.resize(field.len() + MAX_FIELD_BYTES + 1, b'x');
        let err = through(&field).0.unwrap_err();
        let too_long = err.get_ref().and_then(|e| e.downcast_ref::<TooLong>()).unwrap();
        assert_eq!((too_long.line, too_long.field), (2, Some(1)));

        let mut line = b"a\n".to_vec();
        for _ in 0..=MAX_LINE_BYTES / 1000 {
            line.extend_from_slice(&[b'1'; 999]);
            line.push(b',');
        }
        let err = through(&line).0.unwrap_err();
        let too_long = err.get_ref().and_then(|e| e.downcast_ref::<TooLong>()).unwrap();
        assert_eq!((too_long.line, too_long.field), (2, None));
    }

    /// Well-formed CSV parses to the same records through the guard as without it.
    #[test]
    fn the_parser_sees_the_same_records() {
        let text = "\u{feff}a,b,c\r\n1,\"x, \"\"y\"\"\",\r\n\r\n\"\",  2 ,\"q\"z\n3,a\"b,\"\"\"\"\r4,5,6";
        let records = |r: &mut dyn Read| {
            let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(r);
            rdr.records().map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>()).collect::<Vec<_>>()
        };
        let plain = records(&mut text.as_bytes());
        assert_eq!(plain.len(), 5);
        assert_eq!(records(&mut LineGuard::new(text.as_bytes())), plain);
    }

    /// Byte at a time (a stream): the same output as all at once.
    #[test]
    fn chunking_does_not_matter() {
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((&b, rest)) = self.0.split_first() else { return Ok(0) };
                buf[0] = b;
                self.0 = rest;
                Ok(1)
            }
        }
        let text = b"a,\"b\r\nc\"\"d\",e\r\n\r\"f";
        let mut out = Vec::new();
        LineGuard::new(OneByte(text)).read_to_end(&mut out).unwrap();
        assert_eq!(out, through(text).0.unwrap());
    }
}
