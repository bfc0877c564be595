//! Feed dates in the languages feeds are written in.
//!
//! feed-rs reads RFC 3339 and RFC 2822/1123 dates, leniently, with English month names. Russian,
//! Ukrainian, Chinese and other European feeds write their own: `Пн, 30 июл 2018 12:00:00 +0300`,
//! `30 липня 2018 12:00 +0300`, `2023年3月21日 10:00`, `Mo, 30 Jul 2018 12:00:00 +0200`,
//! `30 juillet 2018 12:00 +0200`. [`parse`] is the fetcher's timestamp parser: the standard forms
//! first (exactly as feed-rs reads them), then, one language at a time, the month and weekday
//! names of Russian and Ukrainian (every case form: see [`names`]), or of German, French,
//! Spanish, Italian, Portuguese, Polish, Dutch and Czech, mapped to English, and the Chinese
//! `年月日` form. The names are generated from CLDR ([`names`], `scripts/dates/generate.py`).
//! A date without a zone is taken in the zone its language's press writes in (Moscow and Kyiv
//! +03:00, central Europe +01:00, Lisbon +00:00, China +08:00): a wrong guess of an hour or a
//! few, where no guess would leave the item without a date.

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

/// The generated month and weekday names (`scripts/dates/generate.py`, from CLDR), shared
/// with the cleaner's datelines.
use analysis::calendar as names;

/// RFC 2822's month names, which the standard forms are read with.
const ENGLISH_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The languages tried for text with Cyrillic letters, and for text without.
const CYRILLIC_LANGUAGES: [&str; 2] = ["ru", "uk"];
const LATIN_LANGUAGES: [&str; 8] = ["de", "fr", "es", "it", "pt", "pl", "nl", "cs"];

/// The UTC offset (hours) of a date without a zone: the zone the language's press writes
/// in, without summer time (Moscow and Kyiv +03:00, Lisbon +00:00, central Europe +01:00).
fn default_offset(lang: &str) -> i32 {
    match lang {
        "ru" | "uk" => 3,
        "pt" => 0,
        _ => 1,
    }
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

/// The month a word names in `lang`: a CLDR name, or for Russian and Ukrainian a case form
/// of one (a word starting with the month's stem, or a truncation of the stem: «июле», «фев»).
fn month_of(lang: &str, word: &str) -> Option<u32> {
    names::MONTHS
        .iter()
        .find(|n| n.lang == lang && n.name == word)
        .map(|n| n.number)
        .or_else(|| {
            names::MONTH_STEMS
                .iter()
                .find(|&&(l, stem, _)| {
                    l == lang
                        && (word.starts_with(stem)
                            || (word.chars().count() >= names::MIN_TRUNCATION && stem.starts_with(word)))
                })
                .map(|&(_, _, month)| month)
        })
}

fn is_weekday(lang: &str, word: &str) -> bool {
    names::WEEKDAYS.iter().any(|n| n.lang == lang && n.name == word)
}

/// An English month or weekday name (`Jul`, `July`, `Mon`): no evidence of another language.
fn is_english(word: &str) -> bool {
    names::MONTHS
        .iter()
        .chain(names::WEEKDAYS)
        .any(|n| n.lang == "en" && n.name == word)
}

/// A date in a language other than English, or `None`.
fn localized(text: &str) -> Option<DateTime<Utc>> {
    if text.contains('年') {
        return chinese(text);
    }
    let languages: &[&str] = if text.chars().any(is_cyrillic) {
        &CYRILLIC_LANGUAGES
    } else if text.chars().any(char::is_alphabetic) {
        &LATIN_LANGUAGES
    } else {
        return None;
    };
    languages.iter().find_map(|lang| in_language(text, lang))
}

/// The date read as written in `lang`: month names to English, weekday names and the words
/// of the language's date patterns (`de`, `г.`) dropped, then the standard forms. In
/// Cyrillic every other Cyrillic word is dropped too (`понедельник`, `года`). `None` unless
/// the text has a word of the language that is not English.
fn in_language(text: &str, lang: &str) -> Option<DateTime<Utc>> {
    let cyrillic = CYRILLIC_LANGUAGES.contains(&lang);
    let mut words: Vec<String> = Vec::new();
    let mut foreign = false;
    for word in text.split_whitespace() {
        let bare = word.trim_matches(|c: char| c == ',' || c == '.').to_lowercase();
        if !bare.is_empty() && bare.chars().all(|c| c.is_ascii_digit()) {
            // `30.` of `30. Juli 2018`, `30. července 2018`.
            words.push(bare);
            continue;
        }
        // Spanish and Italian `mar` is both Tuesday and March: after the day, the month.
        let after_day = words.last().is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()));
        let weekday = is_weekday(lang, &bare);
        if let Some(month) = month_of(lang, &bare).filter(|_| after_day || !weekday) {
            foreign |= !is_english(&bare);
            words.push(ENGLISH_MONTHS[month as usize - 1].to_string());
        } else if weekday {
            foreign |= !is_english(&bare);
        } else if names::LITERALS.contains(&(lang, bare.as_str())) {
            foreign = true;
        } else if cyrillic && !bare.is_empty() && bare.chars().all(|c| is_cyrillic(c) || matches!(c, '\'' | '’' | 'ʼ'))
        {
            // Another Cyrillic word (`понедельник`, `года`) says nothing of the date.
            foreign = true;
        } else {
            words.push(word.trim_end_matches(',').to_string());
        }
    }
    if !foreign {
        return None;
    }
    let english = words.join(" ");
    if let Ok(at) = DateTime::parse_from_rfc2822(&english) {
        return Some(at.with_timezone(&Utc));
    }
    // Without seconds, or without a zone (`30 июля 2018 12:00`, `30 июля 2018`).
    let offset = FixedOffset::east_opt(default_offset(lang) * 3600)?;
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
            return offset.from_local_datetime(&at).single().map(|d| d.with_timezone(&Utc));
        }
    }
    let day = NaiveDate::parse_from_str(&english, "%d %b %Y").ok()?;
    offset
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
    fn russian_and_ukrainian_case_forms_and_abbreviations() {
        // Prepositional and other cases CLDR does not list, by the generated stems.
        assert_eq!(parse("30 июле 2018 12:00 +0300"), utc("2018-07-30T09:00:00Z"));
        assert_eq!(parse("5 липні 2022 10:00 +0300"), utc("2022-07-05T07:00:00Z"));
        // CLDR's abbreviations, with and without their period, and three-letter truncations.
        assert_eq!(parse("Пн, 30 июл. 2018 12:00:00 +0300"), utc("2018-07-30T09:00:00Z"));
        assert_eq!(parse("Вт, 13 фев 2018 12:00:00 +0300"), utc("2018-02-13T09:00:00Z"));
        assert_eq!(parse("Вт, 13 февр. 2018 12:00:00 +0300"), utc("2018-02-13T09:00:00Z"));
        assert_eq!(parse("Пт, 10 ноя 2023 08:00:00 +0300"), utc("2023-11-10T05:00:00Z"));
        assert_eq!(parse("Пн, 3 сен 2018 12:00:00 +0300"), utc("2018-09-03T09:00:00Z"));
        assert_eq!(parse("Пт, 13 тра 2022 09:00:00 +0300"), utc("2022-05-13T06:00:00Z"));
        assert_eq!(parse("Чт, 1 гру 2022 09:00:00 +0200"), utc("2022-12-01T07:00:00Z"));
        assert_eq!(parse("Пн, 2 трав. 2022 09:00:00 +0300"), utc("2022-05-02T06:00:00Z"));
        // A Ukrainian Wednesday is not August (`середа`, `серпня`).
        assert_eq!(parse("середа, 17 серпня 2022 09:00 +0300"), utc("2022-08-17T06:00:00Z"));
        assert_eq!(parse("30 мая 2018 г. 12:00 +0300"), utc("2018-05-30T09:00:00Z"));
    }

    #[test]
    fn german_dates() {
        assert_eq!(parse("Mo, 30 Jul 2018 12:00:00 +0200"), utc("2018-07-30T10:00:00Z"));
        assert_eq!(parse("Di., 14. März 2023 08:15 +0100"), utc("2023-03-14T07:15:00Z"));
        assert_eq!(parse("30 Jul 2018 12:00"), None, "English words alone are not German");
    }

    #[test]
    fn french_dates() {
        assert_eq!(parse("30 juillet 2018 12:00 +0200"), utc("2018-07-30T10:00:00Z"));
        assert_eq!(parse("mer., 15 févr. 2023 18:30:00 +0100"), utc("2023-02-15T17:30:00Z"));
    }

    #[test]
    fn spanish_dates() {
        // feed-rs does not read it (`Mié` is no English weekday).
        assert_eq!(feed_rs_lenient("Mié, 16 Nov 2022 00:38:15 +0100"), None);
        assert_eq!(parse("Mié, 16 Nov 2022 00:38:15 +0100"), utc("2022-11-15T23:38:15Z"));
        assert_eq!(parse("mar, 14 mar 2023 10:00:00 +0100"), utc("2023-03-14T09:00:00Z"));
        assert_eq!(parse("14 de marzo de 2023 10:00 +0100"), utc("2023-03-14T09:00:00Z"));
    }

    #[test]
    fn italian_dates() {
        assert_eq!(parse("lun, 30 lug 2018 12:00:00 +0200"), utc("2018-07-30T10:00:00Z"));
        assert_eq!(parse("30 luglio 2018"), utc("2018-07-29T23:00:00Z"), "no zone: +01:00");
    }

    #[test]
    fn portuguese_dates() {
        assert_eq!(
            parse("seg., 30 de julho de 2018 12:00 -0300"),
            utc("2018-07-30T15:00:00Z")
        );
    }

    #[test]
    fn polish_dates() {
        assert_eq!(parse("pon., 30 lipca 2018 12:00 +0200"), utc("2018-07-30T10:00:00Z"));
    }

    #[test]
    fn dutch_dates() {
        assert_eq!(parse("ma, 30 juli 2018 12:00:00 +0200"), utc("2018-07-30T10:00:00Z"));
        assert_eq!(parse("14 mrt 2023 09:00 +0100"), utc("2023-03-14T08:00:00Z"));
    }

    #[test]
    fn czech_dates() {
        assert_eq!(parse("po 30. července 2018 12:00 +0200"), utc("2018-07-30T10:00:00Z"));
    }

    /// The generated table (`scripts/dates/generate.py --check` compares it with CLDR) has
    /// the genitive and nominative months of Russian and Ukrainian.
    #[test]
    fn the_generated_names_are_cldrs() {
        let month = |lang: &str, name: &str| {
            names::MONTHS
                .iter()
                .find(|n| n.lang == lang && n.name == name)
                .map(|n| n.number)
        };
        assert_eq!(month("ru", "января"), Some(1));
        assert_eq!(month("ru", "июль"), Some(7));
        assert_eq!(month("uk", "грудня"), Some(12));
        assert_eq!(month("uk", "лип"), Some(7));
        assert!(
            names::MONTHS
                .iter()
                .any(|n| n.lang == "ru" && n.name == "июл" && n.period)
        );
        assert_eq!(month("de", "märz"), Some(3));
        assert!(
            names::WEEKDAYS
                .iter()
                .any(|n| n.lang == "uk" && n.name == "нд" && n.number == 7)
        );
        for lang in names::LANGUAGES {
            for number in 1..=12 {
                assert!(
                    names::MONTHS.iter().any(|n| n.lang == *lang && n.number == number),
                    "{lang} {number}"
                );
            }
        }
        let sorted = |a: &names::Name, b: &names::Name| (a.lang, a.number, a.name) < (b.lang, b.number, b.name);
        assert!(names::MONTHS.windows(2).all(|w| sorted(&w[0], &w[1])));
        assert!(names::WEEKDAYS.windows(2).all(|w| sorted(&w[0], &w[1])));
        let file = include_str!("../../../../shared/analysis/src/calendar.rs");
        assert!(file.contains("GENERATED by `scripts/dates/generate.py` from CLDR"));
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
