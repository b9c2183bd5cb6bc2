//! Column names as messages show them: quoted, with every character a terminal would not show
//! escaped Rust-style (`\t`, `\n`, `\u{200b}`): control characters (an ANSI escape too),
//! white space other than a plain space (a non-breaking space, an ideographic space), and
//! invisible format characters (zero-width spaces and joiners, a byte-order mark, direction
//! marks, variation selectors). So a header name that differs from the wanted one only
//! invisibly shows the difference: `missing 'cpu' (the file has 'cpu\u{200b}'; …)`.
//!
//! Everything visible is left as it is (quotes, backslashes, accented letters, CJK), so an
//! ordinary name reads exactly as it is written in the file.

/// True for a character a terminal shows as nothing, or as a plain space, or not at all
/// faithfully: what [`escaped`] escapes.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(
            c,
            '\u{00ad}'                      // soft hyphen
            | '\u{034f}'                    // combining grapheme joiner
            | '\u{061c}'                    // Arabic letter mark
            | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers
            | '\u{17b4}' | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'       // Mongolian selectors, vowel separator
            | '\u{200b}'..='\u{200f}'       // zero-width space, non-joiner, joiner, LRM, RLM
            | '\u{202a}'..='\u{202e}'       // bidirectional embeddings and overrides
            | '\u{2060}'..='\u{2064}'       // word joiner, invisible operators
            | '\u{2066}'..='\u{206f}'       // bidirectional isolates, deprecated format chars
            | '\u{fe00}'..='\u{fe0f}'       // variation selectors
            | '\u{feff}'                    // byte-order mark, zero-width no-break space
            | '\u{fff9}'..='\u{fffb}'       // interlinear annotation
            | '\u{1d173}'..='\u{1d17a}'     // musical format characters
            | '\u{e0000}'..='\u{e007f}'     // tags
            | '\u{e0100}'..='\u{e01ef}' // variation selectors supplement
        )
}

/// `name` with its invisible characters escaped (see the module documentation).
pub fn escaped(name: &str) -> String {
    if !name.chars().any(is_invisible) {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if !is_invisible(c) {
            out.push(c);
            continue;
        }
        // `escape_debug` knows `\t`, `\n`, `\r`; it leaves some printable spaces (a
        // non-breaking one) as they are, and those get their code point.
        let debug: String = c.escape_debug().collect();
        if debug.starts_with('\\') {
            out.push_str(&debug);
        } else {
            out.extend(c.escape_unicode());
        }
    }
    out
}

/// `'name'`, escaped: how every message shows a column (or feature) name.
pub fn quoted(name: &str) -> String {
    format!("'{}'", escaped(name))
}

/// Names shown in a list before "… and N more": a header of thousands of columns makes a
/// readable message, not a screenful.
pub const LISTED: usize = 20;

/// `'a', 'b', 'c'`, each [`quoted`], at most [`LISTED`] of them then `and N more`.
pub fn quoted_list<S: AsRef<str>>(names: &[S]) -> String {
    let shown: Vec<String> = names.iter().take(LISTED).map(|n| quoted(n.as_ref())).collect();
    with_rest(shown.join(", "), names.len())
}

/// `items` joined with `, `, at most [`LISTED`] of them then `and N more`.
pub fn listed(items: &[String]) -> String {
    with_rest(items[..items.len().min(LISTED)].join(", "), items.len())
}

fn with_rest(mut s: String, total: usize) -> String {
    if total > LISTED {
        s += &format!(" and {} more", total - LISTED);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_escaped_and_visible_ones_kept() {
        assert_eq!(quoted("CPU Usage (%)"), "'CPU Usage (%)'");
        assert_eq!(quoted("cpu\u{200b}"), "'cpu\\u{200b}'");
        assert_eq!(quoted("\u{feff}cpu"), "'\\u{feff}cpu'");
        assert_eq!(quoted("a\tb\nc\rd"), "'a\\tb\\nc\\rd'");
        assert_eq!(quoted("\u{1b}[31mcpu"), "'\\u{1b}[31mcpu'");
        assert_eq!(quoted("CPU\u{a0}Usage"), "'CPU\\u{a0}Usage'");
        assert_eq!(quoted("db\\2 \"x\" é 名"), "'db\\2 \"x\" é 名'");
    }

    #[test]
    fn long_lists_are_cut() {
        let names: Vec<String> = (0..25).map(|i| format!("c{i}")).collect();
        let s = quoted_list(&names);
        assert!(s.starts_with("'c0', 'c1'") && s.ends_with("'c19' and 5 more"), "{s}");
        assert_eq!(quoted_list(&names[..2]), "'c0', 'c1'");
    }
}
