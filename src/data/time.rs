//! Timestamps: parsing the forms pod-metrics exporters write, and formatting RFC 3339.
//!
//! Every timestamp becomes `i64` seconds since 1970-01-01T00:00:00Z. Accepted forms:
//! - RFC 3339: `2024-03-04T10:30:00Z`, `2024-03-04T10:30:00.250+02:00` (`t`/`z` in any case);
//! - the pandas/SQL form `2024-03-04 10:30:00` (optionally with fraction and offset);
//! - a zone-less `2024-03-04T10:30:00` (taken as UTC, like the space form);
//! - Go's `time.Time.String()`: `2022-08-22 03:51:19.607158889 +0000 UTC m=+0.113112869`, a
//!   numeric offset (honoured) after a space, then the zone's abbreviation (ignored: the offset
//!   says it all, and abbreviations are ambiguous) and Go's optional monotonic-clock reading;
//! - plain epoch seconds, `1709548200` or `1709548200.5`.
//!
//! Fractions of a second are floored: samples closer than a second apart share a timestamp.
//! The civil-date arithmetic is Howard Hinnant's `days_from_civil`, exact for every year
//! 0000..=9999, so no date crate is needed.

/// Days from 1970-01-01 to `y-m-d` in the proleptic Gregorian calendar.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146097 + doe - 719468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// `2024-03-04T10:30:00Z` for epoch seconds `secs`.
pub fn format_rfc3339(secs: i64) -> String {
    let mut s = String::with_capacity(20);
    push_rfc3339(&mut s, secs);
    s
}

/// Appends the RFC 3339 form of `secs` to `out` (no allocation beyond `out`'s growth).
pub fn push_rfc3339(out: &mut String, secs: i64) {
    use std::fmt::Write;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60);
}

/// What went wrong, for the error message; the caller adds file, line and column.
pub const EXPECTED_FORMS: &str = "expected RFC 3339 (2024-03-04T10:30:00Z), 'YYYY-MM-DD HH:MM:SS[.frac][ ±HHMM]', \
     Go's '2024-03-04 10:30:00.25 +0000 UTC [m=+0.1]' or epoch seconds, in the years 0000 to 9999";

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in epoch seconds: the range of the text forms,
/// and of epoch seconds too. Unbounded epoch seconds (any `i64`) overflowed the time-range
/// arithmetic of the splits (`t1 − t0` for rows at −9·10¹⁸ and 9·10¹⁸) and could not be shown
/// as dates in messages.
pub const EARLIEST: i64 = -62_167_219_200;
pub const LATEST: i64 = 253_402_300_799;

/// Parses one timestamp cell (already trimmed). `None` when it is none of the accepted forms
/// or names an impossible date or time.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() >= 19 && b[4] == b'-' {
        return parse_datetime(b);
    }
    parse_epoch(text)
}

fn parse_epoch(text: &str) -> Option<i64> {
    if text.is_empty() {
        return None;
    }
    if let Ok(v) = text.parse::<i64>() {
        return (EARLIEST..=LATEST).contains(&v).then_some(v);
    }
    // Fractional epoch seconds; only plain decimal notation (no `inf`, no `nan`).
    if !text.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E')) {
        return None;
    }
    let v = text.parse::<f64>().ok()?.floor();
    (v >= EARLIEST as f64 && v <= LATEST as f64).then_some(v as i64)
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn parse_datetime(b: &[u8]) -> Option<i64> {
    // YYYY-MM-DD[T ]HH:MM:SS
    if b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let y = digits(&b[0..4])? as i64;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let s = digits(&b[17..19])?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &b[19..];
    if let Some((&b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    // Go writes a space before the offset, then the zone's name and maybe `m=±seconds`.
    if let Some((&b' ', after)) = rest.split_first() {
        rest = go_offset(after)?;
    }
    let offset = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2] | [sign @ (b'+' | b'-'), oh1, oh2, om1, om2] => {
            let oh = digits(&[*oh1, *oh2])? as i64;
            let om = digits(&[*om1, *om2])? as i64;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some(days * 86_400 + (h as i64) * 3600 + (mi as i64) * 60 + s as i64 - offset)
}

/// The numeric offset of Go's `±HHMM ZONE[ m=±S.F]` (after its leading space), with the zone
/// name and the monotonic reading checked and dropped; `None` when the tail is not that.
fn go_offset(b: &[u8]) -> Option<&[u8]> {
    let split = b.iter().position(|&c| c == b' ').unwrap_or(b.len());
    let (offset, mut tail) = b.split_at(split);
    if !matches!(offset.first(), Some(b'+' | b'-')) {
        return None;
    }
    if let Some((&b' ', zone_and_more)) = tail.split_first() {
        let n = zone_and_more.iter().position(|&c| c == b' ').unwrap_or(zone_and_more.len());
        let (zone, more) = zone_and_more.split_at(n);
        // An abbreviation (UTC, CEST), or Go's `+03` for a zone that has none.
        let named = (1..=6).contains(&zone.len()) && zone.iter().all(u8::is_ascii_alphabetic);
        let numeric = zone.len() >= 3
            && matches!(zone[0], b'+' | b'-')
            && zone.len() <= 5
            && zone[1..].iter().all(u8::is_ascii_digit);
        if !(named || numeric) {
            return None;
        }
        tail = more;
    }
    match tail {
        [] => {}
        [b' ', b'm', b'=', b'+' | b'-', reading @ ..] => {
            let (whole, frac) = match reading.iter().position(|&c| c == b'.') {
                Some(dot) => (&reading[..dot], Some(&reading[dot + 1..])),
                None => (reading, None),
            };
            let all_digits = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
            if !all_digits(whole) || frac.is_some_and(|f| !all_digits(f)) {
                return None;
            }
        }
        _ => return None,
    }
    Some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_agree() {
        let t = 1_709_548_200; // 2024-03-04T10:30:00Z
        for text in [
            "2024-03-04T10:30:00Z",
            "2024-03-04t10:30:00z",
            "2024-03-04 10:30:00",
            "2024-03-04T10:30:00",
            "2024-03-04T10:30:00.999Z",
            "2024-03-04T12:30:00+02:00",
            "2024-03-04T05:30:00-0500",
            "1709548200",
            "1709548200.75",
        ] {
            assert_eq!(parse_timestamp(text), Some(t), "{text}");
        }
        assert_eq!(format_rfc3339(t), "2024-03-04T10:30:00Z");
    }

    #[test]
    fn epoch_seconds_stay_within_the_years_0000_to_9999() {
        assert_eq!(days_from_civil(0, 1, 1) * 86_400, EARLIEST);
        assert_eq!(days_from_civil(10_000, 1, 1) * 86_400 - 1, LATEST);
        assert_eq!(parse_timestamp("0000-01-01T00:00:00Z"), Some(EARLIEST));
        assert_eq!(parse_timestamp("9999-12-31T23:59:59Z"), Some(LATEST));
        assert_eq!(parse_timestamp(&EARLIEST.to_string()), Some(EARLIEST));
        assert_eq!(parse_timestamp(&LATEST.to_string()), Some(LATEST));
        assert_eq!(parse_timestamp("253402300799.5"), Some(LATEST));
        for text in ["253402300800", "-62167219201", "9000000000000000000", "-9223372036854775808", "1e17"] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
    }

    #[test]
    fn rejects_impossible_and_garbage() {
        for text in [
            "",
            "yesterday",
            "2024-02-30 00:00:00",
            "2023-02-29 00:00:00",
            "2024-13-01 00:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 10:61:00",
            "2024-01-01T10:00:00+25:00",
            "2024-01-01T10:00:00.Z",
            "2024-01-01T10:00:00 UTC",
            "inf",
            "nan",
            "1e300",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
        assert_eq!(parse_timestamp("2024-02-29 00:00:00"), Some(days_from_civil(2024, 2, 29) * 86_400));
    }

    #[test]
    fn go_time_strings() {
        // Online Boutique's first row (nezha dataset): 2022-08-22T03:51:19Z.
        let t = days_from_civil(2022, 8, 22) * 86_400 + 3 * 3600 + 51 * 60 + 19;
        assert_eq!(parse_timestamp("2022-08-22 03:51:19.607158889 +0000 UTC m=+0.113112869"), Some(t));
        assert_eq!(parse_timestamp("2022-08-22 03:51:19.607158889 +0000 UTC"), Some(t));
        assert_eq!(parse_timestamp("2022-08-22 03:51:19 +0000 UTC"), Some(t));
        assert_eq!(parse_timestamp("2022-08-22 03:51:19 +0000"), Some(t));
        // The offset is honoured, whatever the zone is called.
        assert_eq!(parse_timestamp("2022-08-22 05:51:19.5 +0200 CEST m=+60.095282755"), Some(t));
        assert_eq!(parse_timestamp("2022-08-21 22:21:19 -0530 -0530"), Some(t));
        assert_eq!(parse_timestamp("2022-08-22 06:51:19 +0300 +03 m=-1.5"), Some(t));
        for text in [
            "2022-08-22 03:51:19.607158889 UTC",                      // a name but no offset
            "2022-08-22 03:51:19 +0000 UTC m=+",                      // an empty reading
            "2022-08-22 03:51:19 +0000 UTC m=+0.1x",                  // garbage in the reading
            "2022-08-22 03:51:19 +0000 UTC m=0.1",                    // no sign
            "2022-08-22 03:51:19 +0000 U7C",                          // not a zone name
            "2022-08-22 03:51:19 +0000 UTC extra",                    // trailing words
            "2022-08-22 03:51:19 +0000  UTC",                         // two spaces
            "2022-08-22 03:51:19 +2500 UTC",                          // impossible offset
            "2022-08-22 03:51:19 0000 UTC",                           // offset without a sign
            "2022-08-22 03:51:19 ",                                   // a dangling space
            "2022-08-32 03:51:19.607158889 +0000 UTC m=+0.113112869", // no such day
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
        assert!(EXPECTED_FORMS.contains("Go's"), "the error lists the Go form");
    }

    #[test]
    fn civil_round_trip() {
        for z in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
            assert!(d >= 1 && d <= days_in_month(y, m));
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}
