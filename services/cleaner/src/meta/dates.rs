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
