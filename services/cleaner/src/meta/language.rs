//! Language tags: normalised BCP 47, and ISO 639-3 codes as the two-letter tags where one exists.

/// Normalises a language tag: `en_US` and `EN-us` become `en-US`; anything that is not a
/// 2- or 3-letter primary subtag is dropped.
pub fn normalize_language(raw: &str) -> Option<String> {
    let raw = raw.trim().replace('_', "-");
    let mut parts = raw.split('-');
    let primary = parts.next()?.to_ascii_lowercase();
    if !(2..=3).contains(&primary.len()) || !primary.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    match parts.next() {
        Some(region) if region.len() == 2 && region.chars().all(|c| c.is_ascii_alphabetic()) => {
            Some(format!("{primary}-{}", region.to_ascii_uppercase()))
        }
        _ => Some(primary),
    }
}

/// The BCP 47 tag of an ISO 639-3 code (as language detection returns): the two-letter code
/// where one exists, else the three-letter code itself.
pub fn bcp47(iso639_3: &str) -> &str {
    TWO.iter()
        .find(|(three, _)| *three == iso639_3)
        .map_or(iso639_3, |(_, two)| two)
}

/// The ISO 639-3 code of a primary subtag (as language detection names languages): the
/// three-letter code of a two-letter one, a three-letter one itself; Norwegian `no` is
/// Bokmål, as detection has it.
pub fn iso639_3(primary: &str) -> &str {
    if primary == "no" {
        return "nob";
    }
    TWO.iter()
        .find(|(_, two)| *two == primary)
        .map_or(primary, |(three, _)| three)
}

/// ISO 639-3 codes and their two-letter tags, for the languages detection knows.
const TWO: &[(&str, &str)] = &[
    ("eng", "en"),
    ("deu", "de"),
    ("fra", "fr"),
    ("spa", "es"),
    ("por", "pt"),
    ("ita", "it"),
    ("nld", "nl"),
    ("rus", "ru"),
    ("ukr", "uk"),
    ("bel", "be"),
    ("pol", "pl"),
    ("ces", "cs"),
    ("slk", "sk"),
    ("slv", "sl"),
    ("hrv", "hr"),
    ("srp", "sr"),
    ("bul", "bg"),
    ("ron", "ro"),
    ("hun", "hu"),
    ("fin", "fi"),
    ("swe", "sv"),
    ("dan", "da"),
    ("nob", "nb"),
    ("est", "et"),
    ("lav", "lv"),
    ("lit", "lt"),
    ("ell", "el"),
    ("tur", "tr"),
    ("ara", "ar"),
    ("heb", "he"),
    ("pes", "fa"),
    ("urd", "ur"),
    ("hin", "hi"),
    ("ben", "bn"),
    ("tam", "ta"),
    ("tel", "te"),
    ("mar", "mr"),
    ("guj", "gu"),
    ("pan", "pa"),
    ("kan", "kn"),
    ("mal", "ml"),
    ("cmn", "zh"),
    ("jpn", "ja"),
    ("kor", "ko"),
    ("vie", "vi"),
    ("tha", "th"),
    ("ind", "id"),
    ("kat", "ka"),
    ("hye", "hy"),
    ("aze", "az"),
    ("kaz", "kk"),
    ("uzb", "uz"),
    ("cat", "ca"),
    ("epo", "eo"),
    ("afr", "af"),
    ("lat", "la"),
    ("tgl", "tl"),
    ("mkd", "mk"),
    ("yid", "yi"),
    ("zul", "zu"),
    ("amh", "am"),
    ("jav", "jv"),
    ("nep", "ne"),
    ("sin", "si"),
    ("khm", "km"),
    ("mya", "my"),
    ("tuk", "tk"),
    ("aka", "ak"),
    ("sna", "sn"),
    ("ori", "or"),
];
