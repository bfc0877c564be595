//! The Russian nouns after which a demonym adjective names a nationality or a language rather
//! than the country: «российский магнат», «американские сенаторы», «на испанском языке». A
//! country named only that way is not one the article mentions (see the gazetteer's
//! `adjectives`).
//!
//! The words are every form of every animate common noun of OpenCorpora's dictionary, and the
//! forms of «язык», generated into `data/ru-nationality-heads.txt` by
//! `scripts/gazetteer/nationality_heads.py`. The file stores them by paradigm (a stem and the
//! set of endings its forms take): 13.6k stems and 205 endings sets instead of 150k forms, and
//! a lookup is exact, a word is a head only if the dictionary has it.

use std::collections::HashMap;
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/ru-nationality-heads.txt");

struct Heads {
    /// Stem → the numbers of its paradigms.
    stems: HashMap<&'static str, Vec<u16>>,
    /// Each paradigm's endings, sorted.
    paradigms: Vec<Vec<&'static str>>,
}

fn heads() -> &'static Heads {
    static HEADS: OnceLock<Heads> = OnceLock::new();
    HEADS.get_or_init(|| parse(DATA))
}

fn parse(data: &'static str) -> Heads {
    let empty = |s: &'static str| if s == "-" { "" } else { s };
    let mut heads = Heads {
        stems: HashMap::new(),
        paradigms: Vec::new(),
    };
    for line in data.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(endings) = line.strip_prefix("= ") {
            let mut endings: Vec<&str> = endings.split(' ').map(empty).collect();
            endings.sort_unstable();
            heads.paradigms.push(endings);
            continue;
        }
        let mut parts = line.split(' ');
        let stem = empty(parts.next().unwrap_or_default());
        // The file is generated and checked by a test; a malformed number is skipped.
        let numbers = parts.filter_map(|n| n.parse().ok()).collect();
        heads.stems.insert(stem, numbers);
    }
    heads
}

/// Whether `word` (folded: lower case, ё → е) is a form of a Russian person noun or of «язык».
pub fn is_head(word: &str) -> bool {
    let heads = heads();
    // Only Cyrillic words can be heads; skip the lookups for the rest.
    if !word.chars().next().is_some_and(|c| ('а'..='я').contains(&c)) {
        return false;
    }
    word.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(word.len()))
        .any(|i| {
            heads.stems.get(&word[..i]).is_some_and(|numbers| {
                numbers.iter().any(|&n| {
                    heads
                        .paradigms
                        .get(n as usize)
                        .is_some_and(|e| e.binary_search(&&word[i..]).is_ok())
                })
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_and_the_language_are_heads_and_things_are_not() {
        for word in [
            "магнат",
            "магната",
            "сенаторы",
            "президентом",
            "люди",
            "людей",
            "человека",
            "актер",
            "гимнастка",
            "языке",
            "языках",
        ] {
            assert!(is_head(word), "{word}");
        }
        for word in [
            "правительство",
            "власти",
            "рынок",
            "экипажей",
            "суд",
            "столицу",
            "магнатт",
            "",
            "president",
            "язычок",
        ] {
            assert!(!is_head(word), "{word}");
        }
    }

    #[test]
    fn the_file_parses_whole() {
        let heads = parse(DATA);
        assert!(heads.paradigms.len() > 100 && heads.stems.len() > 10_000);
        let lines = DATA
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('='))
            .count();
        assert_eq!(heads.stems.len(), lines, "every stem line is read, none twice");
        for numbers in heads.stems.values() {
            assert!(!numbers.is_empty() && numbers.iter().all(|&n| (n as usize) < heads.paradigms.len()));
        }
    }
}
