//! Bylines as people: what a page or feed gives as its author, cut down to the names in it.
//!
//! Pages put more than names where the author goes: `By`, a date and time (`Sravasti Dasgupta
//! Wednesday 15 December 2021 15:19 GMT`), a role (`Political Editor`), a place (`in
//! Moscow`), the outlet (`for The Independent`, `| Reuters`), an e-mail address or a social
//! handle, several people at once (`A, B and C`), and the same person twice. [`names`] turns
//! one such string into the names it holds; [`merge`] joins the names of several strings,
//! one entry per person. What is left when every name is dropped (a byline that is only an
//! outlet, `Reuters`) is kept: the organisation is all the page says.

/// Words that introduce a byline (compared lower-case, before a name).
const LEADS: &[&str] = &[
    "by",
    "written by",
    "words by",
    "story by",
    "reporting by",
    "reported by",
    "text by",
    "text",
    "author",
    "authors",
    "von",
    "par",
    "por",
    "door",
    "автор",
    "авторы",
    "текст",
    "作者",
    "记者",
    "文",
];

/// Words that start what follows a name: a stamp or a relative day.
const STAMP_WORDS: &[&str] = &[
    "updated",
    "published",
    "posted",
    "modified",
    "last",
    "created",
    "today",
    "yesterday",
    "ago",
];

/// Weekday abbreviations the date rules do not list.
const WEEKDAY_ABBREVIATIONS: &[&str] = &["mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"];

/// Whether a lower-cased word starts a stamp (`Updated`, `3 hours ago`).
fn is_stamp(lower: &str) -> bool {
    STAMP_WORDS.contains(&lower)
}

/// Whether a lower-cased word names a month or a weekday. Such a word starts a date only
/// beside a number (`Wednesday 15 December`, `Dec 3`); alone it may be a name (`Theresa May`,
/// `June Smith`).
fn is_calendar_word(lower: &str) -> bool {
    crate::extract::MONTHS.contains(&lower)
        || crate::extract::WEEKDAYS.contains(&lower)
        || WEEKDAY_ABBREVIATIONS.contains(&lower)
}

/// Words of a role or job title; a part of a byline made only of these (and small words) is
/// not a name, and a name is cut where they start (`Jane Doe Senior Reporter`).
const ROLE_WORDS: &[&str] = &[
    "correspondent",
    "editor",
    "editors",
    "reporter",
    "reporters",
    "writer",
    "writers",
    "staff",
    "contributor",
    "contributors",
    "contributing",
    "columnist",
    "journalist",
    "journalists",
    "analyst",
    "producer",
    "photographer",
    "photographers",
    "senior",
    "chief",
    "deputy",
    "associate",
    "assistant",
    "executive",
    "managing",
    "political",
    "economics",
    "business",
    "science",
    "technology",
    "health",
    "sports",
    "foreign",
    "diplomatic",
    "defence",
    "defense",
    "security",
    "international",
    "national",
    "bureau",
    "desk",
    "team",
    "newsroom",
    "freelance",
    "special",
    "investigations",
    "investigative",
    "fellow",
    "presenter",
    "host",
    "anchor",
    "intern",
];

/// Words of the buttons and labels that sit in byline blocks (`Follow`, `Email`, `Bio`): one
/// alone is not a name.
const LABEL_WORDS: &[&str] = &[
    "follow",
    "following",
    "email",
    "e-mail",
    "contact",
    "twitter",
    "facebook",
    "linkedin",
    "instagram",
    "bio",
    "more",
    "view",
    "profile",
    "share",
    "comments",
    "comment",
    "subscribe",
    "close",
    "read",
];

/// Small words that may sit in a role phrase (`Editor of the Year`, `Head of News`).
const SMALL_WORDS: &[&str] = &["of", "the", "and", "for", "at", "on", "a", "an", "&"];

/// The names in one author string (see the module documentation). `site` is the outlet's
/// own name, when known: a part equal to it is not a person.
pub fn names(raw: &str, site: Option<&str>) -> Vec<String> {
    let text = without_contacts(raw);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = surname_first(&text).unwrap_or(text);
    let mut out = Vec::new();
    // Separators that end a name: what follows is a date, the outlet or another person.
    for segment in text.split([',', ';', '|', '•', '·', '/', '\n']).flat_map(split_dashes) {
        let segment = strip_lead(segment.trim());
        // `Tech Industry by Steven Musil`: a section or label, then the byline proper.
        let segment = segment
            .to_lowercase()
            .rfind(" by ")
            .and_then(|at| segment.get(at + 4..))
            .unwrap_or(segment);
        for part in split_people(segment) {
            if let Some(name) = person(part, site) {
                out.push(name);
            }
        }
    }
    out
}

/// A catalogue's `Surname, Given names` (`Jong, Michiel de`, `Kooman, F.`) as `Given names
/// Surname`: one word before the only comma, one to three after it, none of them a role, a
/// stamp or a joining word. (Two people, `Jane Doe, John Roe`, have more than one word first.)
fn surname_first(text: &str) -> Option<String> {
    let (surname, given) = text.split_once(',')?;
    let (surname, given) = (surname.trim(), given.trim());
    let given_words: Vec<&str> = given.split_whitespace().collect();
    let plain = |w: &&str| {
        let lower = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        !ROLE_WORDS.contains(&lower.as_str())
            && !is_stamp(&lower)
            && !["and", "&", "und", "et", "и"].contains(&lower.as_str())
            && !w.chars().any(|c| c.is_ascii_digit())
    };
    (!given.contains(',')
        && surname.split_whitespace().count() == 1
        && (1..=3).contains(&given_words.len())
        && plain(&surname)
        && given_words.iter().all(plain))
    .then(|| format!("{given} {surname}"))
}

/// The names of several author strings, one entry per person, in order; when no string holds
/// a person, the first organisation-like entry (`Reuters`) is kept instead.
pub fn merge<'a>(raws: impl IntoIterator<Item = &'a str>, site: Option<&str>) -> Vec<String> {
    let raws: Vec<&str> = raws.into_iter().collect();
    let mut out: Vec<String> = Vec::new();
    for raw in &raws {
        for name in names(raw, site) {
            if !out.iter().any(|o| same_person(o, &name)) {
                out.push(name);
            }
        }
    }
    if out.is_empty() {
        // Only an outlet or an organisation (`Reuters`, `Contributors to Wikimedia projects`):
        // that is the author the page gives.
        if let Some(org) = raws.iter().find_map(|raw| organisation(raw)) {
            out.push(org);
        }
    }
    out
}

/// An author string that names no person, as an organisation: without contacts, a lead or
/// what follows a separator; at most eight words, no digits.
fn organisation(raw: &str) -> Option<String> {
    let text = without_contacts(raw);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = text
        .split([',', ';', '|', '•', '·', '\n'])
        .flat_map(split_dashes)
        .next()?;
    let name = strip_lead(first.trim()).trim();
    let words = name.split_whitespace().count();
    let only_roles = name.split_whitespace().all(|w| {
        let lower = w.to_lowercase();
        ROLE_WORDS.contains(&lower.as_str()) || SMALL_WORDS.contains(&lower.as_str())
    });
    ((1..=8).contains(&words)
        && !only_roles
        && name.chars().any(char::is_alphabetic)
        && !name.chars().any(|c| c.is_ascii_digit())
        && !is_stamp(&name.to_lowercase()))
    .then(|| name.to_string())
}

/// The same person written twice: equal ignoring case and accents, or one the other with a
/// middle initial or name more (`Jane Doe` and `Jane Q. Doe`).
fn same_person(a: &str, b: &str) -> bool {
    let fold = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .map(|w| w.trim_matches('.').to_lowercase())
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (a, b) = (fold(a), fold(b));
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    short.len() >= 2 && short.first() == long.first() && short.last() == long.last() && long.len() == short.len() + 1
}

/// The text without e-mail addresses, links and social handles; `mail@x.com (Jane Doe)`, the
/// RSS form, becomes `Jane Doe`.
fn without_contacts(raw: &str) -> String {
    let raw = raw.trim();
    // RSS 2.0 `author`: an address, then the name in parentheses.
    if let Some((address, rest)) = raw.split_once('(')
        && address.trim().contains('@')
        && let Some(name) = rest.strip_suffix(')')
    {
        return name.to_string();
    }
    raw.split_whitespace()
        .filter(|w| {
            let w = w.trim_matches(|c: char| "()<>[],;".contains(c));
            !(w.contains('@') || w.contains("://") || w.starts_with("www.") || w.starts_with('#'))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits at a dash between spaces (`Jane Doe - Reuters`), which names never contain.
fn split_dashes(s: &str) -> impl Iterator<Item = &str> {
    s.split(" - ").flat_map(|p| p.split(" – ")).flat_map(|p| p.split(" — "))
}

/// The segment without a leading `By`, `Written by`, `Автор:`…
fn strip_lead(s: &str) -> &str {
    let mut s = s.trim_start_matches(|c: char| c.is_whitespace() || "-–—:".contains(c));
    loop {
        let lower = s.to_lowercase();
        let Some(lead) = LEADS.iter().find(|lead| {
            lower.starts_with(*lead)
                && lower[lead.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_whitespace() || c == ':' || c == '：')
        }) else {
            return s;
        };
        // `lower` may differ in length from `s` only for characters outside the leads'
        // alphabets, which cannot come before the end of a lead.
        let cut = s.char_indices().nth(lead.chars().count()).map_or(s.len(), |(i, _)| i);
        s = s[cut..].trim_start_matches(|c: char| c.is_whitespace() || c == ':' || c == '：');
    }
}

/// Splits `A and B`, `A & B`, `A und B`, `A и B`.
fn split_people(s: &str) -> Vec<&str> {
    let mut parts = vec![s];
    // Not " y " or " e ": they join the parts of one Spanish or Portuguese name.
    for sep in [" and ", " & ", " und ", " et ", " и ", " та ", " і ", "、", "，"] {
        parts = parts.iter().flat_map(|p| p.split(sep)).collect();
    }
    parts
}

/// A person's name from one part of a byline, or `None` when the part is not one.
fn person(part: &str, site: Option<&str>) -> Option<String> {
    let part = part
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != '\'');
    if part.is_empty() {
        return None;
    }
    if site.is_some_and(|site| part.eq_ignore_ascii_case(site.trim())) {
        return None;
    }
    let words: Vec<&str> = part.split_whitespace().collect();
    // Cut at what follows a name: a date or time, a stamp word, a role, `in <Place>`,
    // `for <Outlet>`.
    let mut end = words.len();
    for (i, w) in words.iter().enumerate() {
        let lower = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        let has_digit = |w: Option<&&str>| w.is_some_and(|w| w.chars().any(|c| c.is_ascii_digit()));
        let dated = is_calendar_word(&lower)
            && (has_digit(words.get(i + 1)) || has_digit(i.checked_sub(1).and_then(|j| words.get(j))));
        let stamp = is_stamp(&lower) || dated || w.chars().any(|c| c.is_ascii_digit());
        let role = ROLE_WORDS.contains(&lower.as_str());
        // A button or label (`Follow`, `Email`) is not a name; as a later word it may be one
        // (`Read`, `More` are surnames), so it only rejects a part it starts.
        if i == 0 && words.len() == 1 && LABEL_WORDS.contains(&lower.as_str()) {
            return None;
        }
        let place = (lower == "in" || lower == "for" || lower == "from" || lower == "at")
            && words
                .get(i + 1)
                .is_some_and(|n| n.chars().next().is_some_and(char::is_uppercase));
        if i > 0 && (stamp || role || place) {
            end = i;
            break;
        }
        if i == 0 && (stamp || role) {
            return None;
        }
    }
    let words = &words[..end];
    // A part of only role words (`Staff Writer`, `Chief Political Correspondent`) is none.
    if words.iter().all(|w| {
        let lower = w.to_lowercase();
        ROLE_WORDS.contains(&lower.as_str()) || SMALL_WORDS.contains(&lower.as_str())
    }) {
        return None;
    }
    if words.is_empty() || words.len() > 6 {
        return None;
    }
    let name = words.join(" ");
    if !name.chars().any(char::is_alphabetic) {
        return None;
    }
    Some(if is_shouted(&name) { title_case(&name) } else { name })
}

/// A name in capitals (`JANE DOE`), as some sites print bylines.
fn is_shouted(name: &str) -> bool {
    let letters: Vec<char> = name.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() > 3
        && letters.iter().all(|c| c.is_uppercase())
        && letters.iter().any(|c| c.is_lowercase() != c.is_uppercase())
}

fn title_case(name: &str) -> String {
    name.split(' ')
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(raw: &str, expected: &[&str]) {
        assert_eq!(names(raw, Some("The Daily Example")), expected, "{raw:?}");
    }

    #[test]
    fn dates_times_and_stamps_are_not_part_of_a_name() {
        check(
            "Sravasti Dasgupta Wednesday 15 December 2021 15:19 GMT",
            &["Sravasti Dasgupta"],
        );
        check("By Jane Doe | Updated March 3, 2024 10:00 AM", &["Jane Doe"]);
        check("Jane Doe, 12:45 ET", &["Jane Doe"]);
        check("Jane Doe 2024-03-03", &["Jane Doe"]);
        check("Published 3 hours ago", &[]);
        check("Theresa May", &["Theresa May"]);
        check("June Smith Dec 3", &["June Smith"]);
    }

    #[test]
    fn leads_roles_places_and_outlets_are_cut() {
        check("By JOHN SMITH", &["John Smith"]);
        check("Written by: Anna Kowalska", &["Anna Kowalska"]);
        check("Jane Doe, Political Editor", &["Jane Doe"]);
        check("Jane Doe Senior Reporter", &["Jane Doe"]);
        check("Andrew Roth in Moscow", &["Andrew Roth"]);
        check("Jane Doe for The Daily Example", &["Jane Doe"]);
        check("Jane Doe - The Daily Example", &["Jane Doe"]);
        check("Staff Writer", &[]);
        check("By Steven Mufson | Follow", &["Steven Mufson"]);
        check("Email", &[]);
        check("Tech Industry by Steven Musil", &["Steven Musil"]);
        check("Von Hans Müller", &["Hans Müller"]);
        check("Автор: Иван Петров", &["Иван Петров"]);
        check("The Daily Example", &[]);
    }

    #[test]
    fn contacts_are_dropped_and_people_split() {
        check("jdoe@example.com (Jane Doe)", &["Jane Doe"]);
        check("Jane Doe jane.doe@example.com @janedoe", &["Jane Doe"]);
        check("Jane Doe https://twitter.com/janedoe", &["Jane Doe"]);
        check(
            "By Jane Doe, John Roe and Ann Poe",
            &["Jane Doe", "John Roe", "Ann Poe"],
        );
        check("Jane Doe & John Roe", &["Jane Doe", "John Roe"]);
        check(
            "Max Mustermann und Erika Musterfrau",
            &["Max Mustermann", "Erika Musterfrau"],
        );
        check("Jong, Michiel de", &["Michiel de Jong"]);
        check("Kooman, F.", &["F. Kooman"]);
        check("Jane Doe, John Roe", &["Jane Doe", "John Roe"]);
        check("Doe, Political Editor", &["Doe"]);
    }

    #[test]
    fn each_person_once_and_an_outlet_when_that_is_all() {
        assert_eq!(
            merge(
                [
                    "Sravasti Dasgupta Wednesday 15 December 2021 15:19 GMT",
                    "Sravasti Dasgupta"
                ],
                None
            ),
            ["Sravasti Dasgupta"]
        );
        assert_eq!(merge(["Jane Doe", "JANE DOE", "Jane Q. Doe"], None), ["Jane Doe"]);
        assert_eq!(merge(["Jane Doe", "John Doe"], None), ["Jane Doe", "John Doe"]);
        assert_eq!(merge(["Reuters"], Some("Reuters")), ["Reuters"], "only the outlet");
        assert_eq!(merge(["Reuters", "Jane Doe"], Some("Reuters")), ["Jane Doe"]);
        assert!(
            merge(["Staff", "3 hours ago"], None).is_empty(),
            "a role is not an organisation"
        );
        assert_eq!(
            merge(["Contributors to Wikimedia projects"], None),
            ["Contributors to Wikimedia projects"]
        );
    }
}
