//! Keyword topics: each topic is a list of term groups that must all match (AND of ORs),
//! plus terms that must not. See `deploy/taxonomy.yaml` for the format and the defaults.
//!
//! Matching is case-insensitive on word boundaries: text and terms are cut into words at
//! every character that is not a letter or a digit, so "Russia's" contains the word
//! "russia" and "Xi" never matches inside "Xinjiang". A term may be a phrase ("xi jinping",
//! consecutive words) and may end in `*` for a prefix ("sanction*").

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use record::{TermMatch, TopicMatch};
use serde::Deserialize;

/// Weight of a mention by field: a headline mention says more than one in the body.
const FIELD_WEIGHTS: [(&str, f64); 3] = [("title", 3.0), ("summary", 2.0), ("text", 1.0)];

/// The taxonomy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    topics: Vec<TopicDef>,
}

/// One topic as written in the taxonomy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicDef {
    /// `slug`: the topic's stable id (`russia-china`): lower-case letters, digits, dashes.
    pub slug: String,
    /// `label`: the human name.
    pub label: String,
    /// `description`: what the topic should catch, for the reader of the file.
    #[serde(default)]
    pub description: String,
    /// `parent`: the slug of a broader topic, if any.
    #[serde(default)]
    pub parent: Option<String>,
    /// `all_of`: groups of terms; every group must be mentioned.
    pub all_of: Vec<Vec<String>>,
    /// `none_of`: terms that rule the topic out.
    #[serde(default)]
    pub none_of: Vec<String>,
    /// `min_mentions`: mentions each group needs (over all fields); default 1.
    #[serde(default = "one")]
    pub min_mentions: u32,
    /// `min_score`: the weighted mention count the article needs; default 1.
    #[serde(default = "one_f64")]
    pub min_score: f64,
}

fn one() -> u32 {
    1
}

fn one_f64() -> f64 {
    1.0
}

/// A taxonomy that cannot be used, naming the topic at fault.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("cannot read the taxonomy {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid taxonomy {path}: {source}")]
    Parse { path: String, source: serde_yaml::Error },
    #[error("invalid taxonomy: topic {index} ({slug:?}): {message}")]
    Topic {
        index: usize,
        slug: String,
        message: String,
    },
}

/// A compiled term: its words, the last one possibly a prefix.
#[derive(Debug, Clone)]
struct Term {
    text: String,
    words: Vec<String>,
    prefix_last: bool,
}

#[derive(Debug)]
struct Topic {
    def: TopicDef,
    /// For each group of `all_of`, the indices of its terms in `Taxonomy::terms`.
    groups: Vec<Vec<usize>>,
    none_of: Vec<usize>,
}

/// The compiled taxonomy.
#[derive(Debug)]
pub struct Taxonomy {
    topics: Vec<Topic>,
    terms: Vec<Term>,
    /// First word → terms starting with it, so matching is one hash lookup per word.
    by_first_word: HashMap<String, Vec<usize>>,
    /// Terms whose first word is a prefix (`sanction*`), checked against every word.
    prefix_first: Vec<usize>,
}

impl Taxonomy {
    /// Reads and compiles a taxonomy file.
    pub fn load(path: &Path) -> Result<Taxonomy, TaxonomyError> {
        let text = std::fs::read_to_string(path).map_err(|source| TaxonomyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|err| match err {
            TaxonomyError::Parse { source, .. } => TaxonomyError::Parse {
                path: path.display().to_string(),
                source,
            },
            other => other,
        })
    }

    /// Compiles a taxonomy from YAML text.
    pub fn parse(yaml: &str) -> Result<Taxonomy, TaxonomyError> {
        let file: TaxonomyFile = serde_yaml::from_str(yaml).map_err(|source| TaxonomyError::Parse {
            path: "<text>".into(),
            source,
        })?;
        Self::compile(file.topics)
    }

    fn compile(defs: Vec<TopicDef>) -> Result<Taxonomy, TaxonomyError> {
        let mut taxonomy = Taxonomy {
            topics: Vec::new(),
            terms: Vec::new(),
            by_first_word: HashMap::new(),
            prefix_first: Vec::new(),
        };
        let mut interned: HashMap<String, usize> = HashMap::new();
        let mut slugs = HashSet::new();
        for (index, def) in defs.into_iter().enumerate() {
            let fail = |message: String| TaxonomyError::Topic {
                index,
                slug: def.slug.clone(),
                message,
            };
            let slug_ok = !def.slug.is_empty()
                && def
                    .slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !slug_ok {
                return Err(fail("a slug is lower-case letters, digits and dashes".into()));
            }
            if !slugs.insert(def.slug.clone()) {
                return Err(fail("the slug is used twice".into()));
            }
            if def.all_of.is_empty() || def.all_of.iter().any(Vec::is_empty) {
                return Err(fail(
                    "all_of needs at least one group, and no group may be empty".into(),
                ));
            }
            let mut intern = |text: &str| -> Result<usize, TaxonomyError> {
                let term = compile_term(text).ok_or_else(|| fail(format!("the term {text:?} has no words")))?;
                Ok(*interned
                    .entry(term.words.join(" ") + if term.prefix_last { "*" } else { "" })
                    .or_insert_with(|| {
                        taxonomy.terms.push(term);
                        taxonomy.terms.len() - 1
                    }))
            };
            let groups = def
                .all_of
                .iter()
                .map(|group| group.iter().map(|t| intern(t)).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()?;
            let none_of = def.none_of.iter().map(|t| intern(t)).collect::<Result<Vec<_>, _>>()?;
            taxonomy.topics.push(Topic { def, groups, none_of });
        }
        let slugs: HashSet<&str> = taxonomy.topics.iter().map(|t| t.def.slug.as_str()).collect();
        for (index, topic) in taxonomy.topics.iter().enumerate() {
            if let Some(parent) = &topic.def.parent {
                if !slugs.contains(parent.as_str()) {
                    return Err(TaxonomyError::Topic {
                        index,
                        slug: topic.def.slug.clone(),
                        message: format!("the parent {parent:?} is not a topic"),
                    });
                }
            }
        }
        for (i, term) in taxonomy.terms.iter().enumerate() {
            if term.prefix_last && term.words.len() == 1 {
                taxonomy.prefix_first.push(i);
            } else {
                taxonomy.by_first_word.entry(term.words[0].clone()).or_default().push(i);
            }
        }
        Ok(taxonomy)
    }

    /// Number of topics.
    pub fn len(&self) -> usize {
        self.topics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// The topics that `fields` (name, text) match, best score first.
    pub fn matches(&self, fields: &[(&str, &str)]) -> Vec<TopicMatch> {
        // counts[term][field] = occurrences.
        let mut counts: HashMap<usize, BTreeMap<&str, u32>> = HashMap::new();
        for (field, text) in fields {
            let words = words(text);
            for (pos, word) in words.iter().enumerate() {
                let candidates = self
                    .by_first_word
                    .get(word)
                    .into_iter()
                    .flatten()
                    .chain(&self.prefix_first);
                for &t in candidates {
                    if self.terms[t].matches_at(&words, pos) {
                        *counts.entry(t).or_default().entry(field).or_default() += 1;
                    }
                }
            }
        }
        let weight = |field: &str| FIELD_WEIGHTS.iter().find(|(f, _)| *f == field).map_or(1.0, |(_, w)| *w);
        let mut out = Vec::new();
        for topic in &self.topics {
            if topic.none_of.iter().any(|t| counts.contains_key(t)) {
                continue;
            }
            let groups_ok = topic.groups.iter().all(|group| {
                let mentions: u32 = group
                    .iter()
                    .filter_map(|t| counts.get(t))
                    .flat_map(|f| f.values())
                    .sum();
                mentions >= topic.def.min_mentions
            });
            if !groups_ok {
                continue;
            }
            let mut matches = Vec::new();
            let mut score = 0.0;
            let mut terms: Vec<usize> = topic.groups.iter().flatten().copied().collect();
            terms.sort_unstable();
            terms.dedup();
            for t in terms {
                for (field, &count) in counts.get(&t).into_iter().flatten() {
                    score += weight(field) * f64::from(count);
                    matches.push(TermMatch {
                        term: self.terms[t].text.clone(),
                        field: field.to_string(),
                        count,
                    });
                }
            }
            if score >= topic.def.min_score {
                out.push(TopicMatch {
                    slug: topic.def.slug.clone(),
                    label: topic.def.label.clone(),
                    score,
                    matches,
                });
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.slug.cmp(&b.slug)));
        out
    }
}

impl Term {
    fn matches_at(&self, words: &[String], pos: usize) -> bool {
        let Some(window) = words.get(pos..pos + self.words.len()) else {
            return false;
        };
        let last = self.words.len() - 1;
        self.words.iter().zip(window).enumerate().all(|(i, (want, got))| {
            if i == last && self.prefix_last {
                got.starts_with(want.as_str())
            } else {
                got == want
            }
        })
    }
}

fn compile_term(text: &str) -> Option<Term> {
    let trimmed = text.trim();
    let prefix_last = trimmed.ends_with('*');
    let words = words(trimmed.trim_end_matches('*'));
    if words.is_empty() {
        return None;
    }
    Some(Term {
        text: trimmed.to_string(),
        words,
        prefix_last,
    })
}

/// Lower-cased words: maximal runs of letters and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAXONOMY: &str = r#"
topics:
  - slug: russia-china
    label: Russia–China relations
    all_of:
      - [russia, russian, moscow, kremlin, putin]
      - [china, chinese, beijing, xi jinping, xi]
    min_mentions: 2
  - slug: sanctions
    label: Sanctions
    all_of: [[sanction*, embargo]]
    none_of: [sanctioned goal]
"#;

    fn slugs(taxonomy: &Taxonomy, title: &str, text: &str) -> Vec<String> {
        taxonomy
            .matches(&[("title", title), ("text", text)])
            .into_iter()
            .map(|m| m.slug)
            .collect()
    }

    #[test]
    fn groups_phrases_prefixes_and_boundaries() {
        let t = Taxonomy::parse(TAXONOMY).unwrap();
        assert_eq!(
            slugs(&t, "Putin meets Xi Jinping", "Russia's ties with China."),
            vec!["russia-china"]
        );
        assert!(
            slugs(&t, "Putin speaks", "Moscow said nothing about China.").is_empty(),
            "China mentioned once"
        );
        assert!(
            slugs(&t, "Xinjiang report", "Russia and Russia, nothing else").is_empty(),
            "xi is not in xinjiang"
        );
        assert_eq!(slugs(&t, "", "New SANCTIONS announced"), vec!["sanctions"]);
        assert!(
            slugs(&t, "", "a sanctioned goal, then sanctions").is_empty(),
            "none_of rules it out"
        );
    }

    #[test]
    fn matches_say_why_with_weighted_scores() {
        let t = Taxonomy::parse(TAXONOMY).unwrap();
        let m = &t.matches(&[("title", "Putin and Xi"), ("text", "Russia and China. China.")])[0];
        assert_eq!(m.slug, "russia-china");
        // title: putin, xi (3 each); text: russia (1), china (2).
        assert_eq!(m.score, 3.0 + 3.0 + 1.0 + 2.0);
        assert!(
            m.matches
                .iter()
                .any(|x| x.term == "china" && x.field == "text" && x.count == 2)
        );
    }

    #[test]
    fn cyrillic_words_match() {
        let t = Taxonomy::parse("topics:\n  - slug: putin\n    label: P\n    all_of: [[путин*]]\n").unwrap();
        assert_eq!(slugs(&t, "Путина встретили", ""), vec!["putin"]);
    }

    #[test]
    fn bad_taxonomies_name_the_topic() {
        let err = Taxonomy::parse("topics:\n  - slug: Bad Slug\n    label: x\n    all_of: [[a]]\n").unwrap_err();
        assert!(err.to_string().contains("topic 0 (\"Bad Slug\")"), "{err}");
        let err = Taxonomy::parse("topics:\n  - slug: a\n    label: x\n    all_of: [[]]\n").unwrap_err();
        assert!(err.to_string().contains("\"a\""), "{err}");
        let err = Taxonomy::parse("topics:\n  - slug: a\n    label: x\n    all_of: [[' * ']]\n").unwrap_err();
        assert!(err.to_string().contains("no words"), "{err}");
        let err =
            Taxonomy::parse("topics:\n  - slug: a\n    label: x\n    all_of: [[b]]\n    parent: nope\n").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        assert!(Taxonomy::parse("topics:\n  - slug: a\n    lable: x\n    all_of: [[b]]\n").is_err());
    }

    #[test]
    fn the_shipped_taxonomy_compiles() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/taxonomy.yaml");
        let t = Taxonomy::load(&path).unwrap();
        let slugs: Vec<&str> = t.topics.iter().map(|t| t.def.slug.as_str()).collect();
        assert!(
            slugs.contains(&"russia-china") && slugs.contains(&"ukraine"),
            "{slugs:?}"
        );
    }
}
