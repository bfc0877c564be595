//! Feed dates in the languages feeds are written in.
//!
//! feed-rs reads RFC 3339 and RFC 2822/1123 dates, leniently, with English month names. Russian,
//! Ukrainian and Chinese feeds write their own: `Пн, 30 июл 2018 12:00:00 +0300`, `30 липня
//! 2018 12:00 +0300`, `2023年3月21日 10:00`. [`parse`] is the fetcher's timestamp parser: the
//! standard forms first (exactly as feed-rs reads them), then the month and weekday names of
//! Russian and Ukrainian (every case form an abbreviation starts) mapped to English, and the
//! Chinese `年月日` form. A date without a zone is taken in the zone its language's press
//! writes in (Moscow and Kyiv +03:00, China +08:00): a wrong guess of a few hours, where no
//! guess would leave the item without a date.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// The fetcher's timestamp parser for feed-rs.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    standard(text).or_else(|| localized(text))
}

/// What feed-rs itself reads: strict RFC 3339 and RFC 2822 directly (the usual case, and
/// fast), anything else through feed-rs's own lenient reading of a one-item document (9 of
/// the corpus feeds' 1,000+ dates take that path).
fn standard(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    if let Ok(at) = DateTime::parse_from_rfc2822(text) {
        return Some(at.with_timezone(&Utc));
    }
    // Whatever its letters, so that every date feed-rs reads is read as it reads it.
    feed_rs_lenient(text)
}

/// feed-rs's lenient timestamp reading (not public), through the parser it belongs to.
fn feed_rs_lenient(text: &str) -> Option<DateTime<Utc>> {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;");
    let doc = format!(
        "<rss version=\"2.0\"><channel><title>t</title><item><title>t</title><pubDate>{escaped}</pubDate></item></channel></rss>"
    );
    let feed = feed_rs::parser::parse(doc.as_bytes()).ok()?;
    feed.entries.first()?.published
}

/// Russian and Ukrainian month names: the start every case form of each shares
/// (`январь`, `января`, `янв`; `липень`, `липня`, `лип`), and its number.
const MONTH_STEMS: &[(&str, u32)] = &[
    // Russian
    ("янв", 1),
    ("фев", 2),
    ("мар", 3),
    ("апр", 4),
    ("мая", 5),
    ("май", 5),
    ("июн", 6),
    ("июл", 7),
    ("авг", 8),
    ("сен", 9),
    ("окт", 10),
    ("ноя", 11),
    ("дек", 12),
    // Ukrainian
    ("січ", 1),
    ("лют", 2),
    ("бер", 3),
    ("кві", 4),
    ("тра", 5),
    ("чер", 6),
    ("лип", 7),
    ("сер", 8),
    ("вер", 9),
    ("жов", 10),
    ("лис", 11),
    ("гру", 12),
];

const ENGLISH_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A date in a language other than English, or `None`.
fn localized(text: &str) -> Option<DateTime<Utc>> {
    if text.contains('年') {
        return chinese(text);
    }
    if !text.chars().any(|c| matches!(c, '\u{0400}'..='\u{04FF}')) {
        return None;
    }
    // Cyrillic: month names to English, weekday names dropped, then the standard forms.
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let bare = word.trim_matches(|c: char| c == ',' || c == '.').to_lowercase();
        if bare
            .chars()
            .all(|c| matches!(c, '\u{0400}'..='\u{04FF}' | '\'' | '’' | 'ʼ'))
        {
            match MONTH_STEMS.iter().find(|(stem, _)| bare.starts_with(stem)) {
                // A weekday (`Пн`, `понедельник`, `вівторок`) or another word says nothing.
                None => continue,
                Some(&(_, month)) => words.push(ENGLISH_MONTHS[month as usize - 1].to_string()),
            }
        } else {
            words.push(word.trim_end_matches(',').to_string());
        }
    }
    let english = words.join(" ");
    if let Ok(at) = DateTime::parse_from_rfc2822(&english) {
        return Some(at.with_timezone(&Utc));
    }
    // Without seconds, or without a zone (`30 июля 2018 12:00`, `30 июля 2018`).
    let moscow = FixedOffset::east_opt(3 * 3600)?;
    for (format, has_zone) in [
        ("%d %b %Y %H:%M %z", true),
        ("%d %b %Y %H:%M:%S", false),
        ("%d %b %Y %H:%M", false),
    ] {
        if has_zone {
            if let Ok(at) = DateTime::parse_from_str(&english, format) {
                return Some(at.with_timezone(&Utc));
            }
        } else if let Ok(at) = NaiveDateTime::parse_from_str(&english, format) {
            return moscow.from_local_datetime(&at).single().map(|d| d.with_timezone(&Utc));
        }
    }
    let day = NaiveDate::parse_from_str(&english, "%d %b %Y").ok()?;
    moscow
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map(|d| d.with_timezone(&Utc))
}

/// `2023年3月21日`, `2023年03月21日 10:05`, `2023年3月21日 10:05:09 +0800`; China's time
/// (+08:00) when no zone is given.
fn chinese(text: &str) -> Option<DateTime<Utc>> {
    let number = |s: &str| s.trim().parse::<u32>().ok();
    let (year, rest) = text.split_once('年')?;
    let (month, rest) = rest.split_once('月')?;
    let (day, rest) = rest.split_once('日')?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(number(year)?).ok()?, number(month)?, number(day)?)?;
    let mut parts = rest.split_whitespace();
    let time = match parts.next() {
        None => NaiveTime::MIN,
        Some(clock) => NaiveTime::parse_from_str(clock, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(clock, "%H:%M"))
            .ok()?,
    };
    let zone = match parts.next() {
        None => FixedOffset::east_opt(8 * 3600)?,
        Some(zone) => DateTime::parse_from_str(&format!("2000-01-01 00:00 {zone}"), "%Y-%m-%d %H:%M %z")
            .ok()?
            .timezone(),
    };
    zone.from_local_datetime(&date.and_time(time))
        .single()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn russian_and_ukrainian_dates() {
        assert_eq!(parse("Пн, 30 июл 2018 12:00:00 +0300"), utc("2018-07-30T09:00:00Z"));
        assert_eq!(
            parse("понедельник, 30 июля 2018 12:00:00 +0300"),
            utc("2018-07-30T09:00:00Z")
        );
        assert_eq!(parse("Ср, 15 дек 2021 15:19:00 GMT"), utc("2021-12-15T15:19:00Z"));
        assert_eq!(parse("1 мая 2022 08:30 +0300"), utc("2022-05-01T05:30:00Z"));
        assert_eq!(parse("Вт, 24 лют 2022 05:00:00 +0200"), utc("2022-02-24T03:00:00Z"));
        assert_eq!(
            parse("24 лютого 2022 05:00"),
            utc("2022-02-24T02:00:00Z"),
            "no zone: +03:00"
        );
        assert_eq!(parse("12 листопада 2022"), utc("2022-11-11T21:00:00Z"));
        assert_eq!(parse("Пн, 30 xyz 2018 12:00:00 +0300"), None);
    }

    #[test]
    fn chinese_dates() {
        assert_eq!(parse("2023年3月21日"), utc("2023-03-20T16:00:00Z"));
        assert_eq!(parse("2023年03月21日 10:05"), utc("2023-03-21T02:05:00Z"));
        assert_eq!(parse("2023年3月21日 10:05:09 +0000"), utc("2023-03-21T10:05:09Z"));
        assert_eq!(parse("2023年13月21日"), None);
    }

    #[test]
    fn standard_dates_read_as_feed_rs_reads_them() {
        // Strict forms, the fast path.
        assert_eq!(parse("2022-11-15T20:15:04+01:00"), utc("2022-11-15T19:15:04Z"));
        assert_eq!(parse("Tue, 15 Nov 2022 20:15:04 GMT"), utc("2022-11-15T20:15:04Z"));
        // feed-rs's lenient forms, through feed-rs.
        for text in [
            "Tue, 15 Nov 2022 20:15:04 Z",
            "2022-11-15",
            "15 Nov 2022 20:15:04 +0000",
            "Mié, 16 Nov 2022 00:38:15 +0100",
            "not a date",
        ] {
            assert_eq!(parse(text), feed_rs_lenient(text), "{text}");
        }
        assert!(parse("Tue, 15 Nov 2022 20:15:04 Z").is_some());
    }

    /// Every date of every corpus feed reads as feed-rs alone reads it (where it reads one).
    #[test]
    fn the_corpus_feeds_dates_are_unchanged() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/feeds");
        let mut files = vec![root];
        let (mut compared, mut read) = (0, 0);
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().flatten().map(|e| e.path()));
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else { continue };
            let with = feed_rs::parser::Builder::new()
                .timestamp_parser(parse)
                .build()
                .parse(&bytes[..]);
            let Ok(alone) = feed_rs::parser::parse(&bytes[..]) else {
                continue;
            };
            let with = with.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for (a, b) in alone.entries.iter().zip(&with.entries) {
                for (x, y) in [(a.published, b.published), (a.updated, b.updated)] {
                    if x.is_some() {
                        assert_eq!(x, y, "{}", path.display());
                        read += 1;
                    }
                    compared += 1;
                }
            }
        }
        assert!(read > 1000 && compared > read, "{read} dates of {compared} compared");
    }
}
