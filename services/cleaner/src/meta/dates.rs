//! Dates of a page: the formats pages write them in, and the date a URL carries.

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
    let chars: Vec<char> = text.chars().collect();
    let number = |at: usize, max: usize| -> Option<(u32, usize)> {
        let digits: String = chars[at..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .take(max + 1)
            .collect();
        if digits.is_empty() || digits.len() > max {
            return None;
        }
        Some((digits.parse().ok()?, at + digits.len()))
    };
    let zone = chrono::FixedOffset::east_opt(offset * 3600)?;
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
            // A time after it: `21:23`, `21:23:57`, with a space or two (or none after 日).
            let mut t = at;
            while t < chars.len() && t < at + 3 && chars[t].is_whitespace() {
                t += 1;
            }
            let time = (|| {
                let (h, a) = number(t, 2)?;
                if chars.get(a) != Some(&':') {
                    return None;
                }
                let (m, a) = number(a + 1, 2)?;
                let s = if chars.get(a) == Some(&':') {
                    number(a + 1, 2).map_or(0, |(s, _)| s)
                } else {
                    0
                };
                chrono::NaiveTime::from_hms_opt(h, m, s)
            })();
            let local = date.and_time(time.unwrap_or_default());
            local.and_local_timezone(zone).single().map(|d| d.with_timezone(&Utc))
        })();
        if found.is_some() {
            return found;
        }
        i += 1;
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
