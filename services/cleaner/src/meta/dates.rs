//! Dates of a page: the formats pages write them in, and the date a URL carries.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::*;

/// Parses the date formats found in pages: RFC 3339 / ISO 8601 with or without offset,
/// seconds or `T`, RFC 2822, and a bare date (taken as midnight UTC). Times without an offset
/// are taken as UTC.
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    let naive = s
        .trim_end_matches('Z')
        .trim_end_matches(" UTC")
        .trim_end_matches(" GMT");
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(d.and_utc());
        }
    }
    let date_part = s.get(..10).unwrap_or(s);
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(date_part, fmt) {
            return d.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        }
    }
    None
}

/// A date in a URL path: `/2021/12/15/` or `/2021-12-15` (midnight UTC).
pub fn date_from_url(url: &str) -> Option<DateTime<Utc>> {
    let path = url::Url::parse(url).ok()?.path().to_string();
    let parts: Vec<&str> = path.split('/').collect();
    for w in parts.windows(3) {
        if let [y, m, d] = w
            && y.len() == 4
            && m.len() <= 2
            && d.len() <= 2
            && let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>())
            && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
        {
            return date.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        }
    }
    for part in parts {
        for start in 0..part.len().saturating_sub(9) {
            let Some(candidate) = part.get(start..start + 10) else {
                continue;
            };
            if let Ok(date) = NaiveDate::parse_from_str(candidate, "%Y-%m-%d")
                && date.year() >= 1995
            {
                return date.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
            }
        }
    }
    None
}

/// The first date a page shows in its text, from `text` (the page's text from its headline
/// on): `2005-5-7 21:23:57`, `2022/02/13 04:22`, `2023年3月21日 10:05`, `2023年3月21日`. A
/// date needs its day (a year and a month alone are an archive's, not an article's); a time
/// after it is taken. Shown dates carry no zone: they are taken in `offset` hours east of UTC
/// (the zone of the page's language's press, see [`press_offset_hours`]).
pub fn visible_date(text: &str, offset: i32) -> Option<DateTime<Utc>> {
    let zone = chrono::FixedOffset::east_opt(offset * 3600)?;
    let chars: Vec<char> = text.chars().collect();
    // Whichever the text shows first, a numeric date or one with a month's name.
    match (numeric_date(&chars, zone), named_date(&chars, zone)) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a.1 } else { b.1 }),
        (a, b) => a.or(b).map(|(_, d)| d),
    }
}

/// The first numeric date of `chars` (`2005-5-7`, `2022/02/13`, `2023年3月21日`) and a time
/// after it, with its position.
fn numeric_date(chars: &[char], zone: chrono::FixedOffset) -> Option<(usize, DateTime<Utc>)> {
    let number = |at: usize, max: usize| digits_at(chars, at, max);
    let mut i = 0;
    while i + 8 <= chars.len() {
        // Not inside a longer run of numbers (`010-2005-5-7` is a phone number).
        let joined =
            |k: usize| k > 0 && matches!(chars[k - 1], '-' | '/' | '.') && k > 1 && chars[k - 2].is_ascii_digit();
        let starts_number = chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) && !joined(i);
        if !starts_number {
            i += 1;
            continue;
        }
        let found = (|| {
            let (year, at) = number(i, 4)?;
            if !(1995..=2100).contains(&year) || at - i != 4 {
                return None;
            }
            let cjk = chars.get(at) == Some(&'年');
            let sep = *chars.get(at)?;
            if !(cjk || matches!(sep, '-' | '/' | '.')) {
                return None;
            }
            let (month, at) = number(at + 1, 2)?;
            if chars.get(at) != Some(&if cjk { '月' } else { sep }) {
                return None;
            }
            let (day, mut at) = number(at + 1, 2)?;
            if cjk {
                if chars.get(at) != Some(&'日') {
                    return None;
                }
                at += 1;
            } else if chars.get(at).is_some_and(char::is_ascii_digit) {
                return None;
            }
            let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
            at_time(chars, at, date, zone)
        })();
        if let Some(found) = found {
            return Some((i, found));
        }
        i += 1;
    }
    None
}

/// The number written at `at` in at most `max` digits (not part of a longer run of digits),
/// and the position after it.
fn digits_at(chars: &[char], at: usize, max: usize) -> Option<(u32, usize)> {
    let digits: String = chars
        .get(at..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .take(max + 1)
        .collect();
    if digits.is_empty() || digits.len() > max {
        return None;
    }
    Some((digits.parse().ok()?, at + digits.len()))
}

/// `date` at the time that follows it at `at` (`21:23`, `21:23:57`, `10h30`, within six
/// characters that are neither digits nor a line break: `, `, ` à `, ` um `), or at midnight,
/// in `zone`.
fn at_time(chars: &[char], at: usize, date: NaiveDate, zone: chrono::FixedOffset) -> Option<DateTime<Utc>> {
    let number = |at: usize| digits_at(chars, at, 2);
    let mut t = at;
    while t < chars.len() && t < at + 6 && !chars[t].is_ascii_digit() && chars[t] != '\n' {
        t += 1;
    }
    let time = (|| {
        let (h, a) = number(t)?;
        if !matches!(chars.get(a), Some(':' | '.' | 'h')) {
            return None;
        }
        let (m, after) = number(a + 1)?;
        if after - (a + 1) != 2 {
            return None;
        }
        let a = after;
        let s = if chars.get(a) == Some(&':') {
            number(a + 1).map_or(0, |(s, _)| s)
        } else {
            0
        };
        chrono::NaiveTime::from_hms_opt(h, m, s)
    })();
    let local = date.and_time(time.unwrap_or_default());
    local.and_local_timezone(zone).single().map(|d| d.with_timezone(&Utc))
}

/// The month of a lower-case word, in any language newswire reads dates in (CLDR's names, the
/// fetcher's: `analysis::calendar`; `oktober`, `июля`, `липня`, `juin`, `dec`).
pub(crate) fn month_of(word: &str) -> Option<u32> {
    static MONTHS: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    let months = MONTHS.get_or_init(|| {
        let mut map = HashMap::new();
        for name in analysis::calendar::MONTHS {
            map.entry(name.name).or_insert(name.number);
        }
        map
    });
    months.get(word).copied()
}

/// The first date with a month's name: `7. Oktober 2020`, `30 июля 2018 г. 12:00`,
/// `30 de julio de 2018`, `12 juin 2021 à 10h30`, `December 15, 2021, 10:30`; with its position.
fn named_date(chars: &[char], zone: chrono::FixedOffset) -> Option<(usize, DateTime<Utc>)> {
    // Words: (start, end, lower-case text), letters or digits.
    let mut words: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        let digit = chars[i].is_ascii_digit();
        while i < chars.len() && chars[i].is_alphanumeric() && chars[i].is_ascii_digit() == digit {
            i += 1;
        }
        words.push((start, i, chars[start..i].iter().collect::<String>().to_lowercase()));
    }
    let day = |w: &str| w.parse::<u32>().ok().filter(|d| w.len() <= 2 && (1..=31).contains(d));
    let year = |w: &str| w.len() == 4 && w.parse::<i32>().ok().filter(|y| (1995..=2100).contains(y)).is_some();
    let literal = |w: &str| analysis::calendar::LITERALS.iter().any(|(_, l)| *l == w);
    for k in 0..words.len() {
        let word = |j: usize| words.get(j).map(|w| w.2.as_str());
        // Day, month, year (`de` between them in Spanish and Portuguese).
        let dmy = (|| {
            let d = day(word(k)?)?;
            let mut j = k + 1;
            if literal(word(j)?) {
                j += 1;
            }
            let m = month_of(word(j)?)?;
            j += 1;
            if literal(word(j)?) {
                j += 1;
            }
            year(word(j)?).then_some((d, m, j))
        })();
        // Month, day, year (English).
        let mdy = || {
            let m = month_of(word(k)?)?;
            let d = day(word(k + 1)?)?;
            year(word(k + 2)?).then_some((d, m, k + 2))
        };
        let Some((d, m, y)) = dmy.or_else(mdy) else {
            continue;
        };
        let Some(date) = NaiveDate::from_ymd_opt(words[y].2.parse().ok()?, m, d) else {
            continue;
        };
        // Past the year and a literal after it («г.»).
        let mut end = words[y].1;
        if word(y + 1).is_some_and(literal) && words[y + 1].0 <= end + 1 {
            end = words[y + 1].1;
        }
        return at_time(chars, end, date, zone).map(|d| (words[k].0, d));
    }
    None
}

/// Hours east of UTC in which a page in `language` shows its dates: the zone most of that
/// language's press writes in (Moscow and Kyiv +3, China and Taiwan +8; UTC otherwise, as for
/// other dates without a zone).
pub fn press_offset_hours(language: Option<&str>) -> i32 {
    match language.map(|l| l.split(['-', '_']).next().unwrap_or_default()) {
        Some("zh") => 8,
        Some("ru" | "uk") => 3,
        _ => 0,
    }
}
