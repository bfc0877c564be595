//! The taxonomy: topics as Boolean queries, compiled together with the gazetteers into one
//! Aho-Corasick automaton over every term of every query and every entity alias.
//!
//! Tagging an article is: cut each field into words (see [`crate::text`]), run the automaton
//! once over each field's normalised form, then evaluate only the topics whose terms
//! occurred (every query needs at least one of its terms, which [`Taxonomy::compile`]
//! checks), so the cost per article grows with the matches, not with the number of topics.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasick, MatchKind};
use record::{Entity, EntityKind, Mention, Span, TermMatch, TopicMatch};
use serde::Deserialize;

use crate::gazetteer::{Gazetteer, GazetteerError};
use crate::query::{self, EntityRef, Expr, Field};
use crate::text::{self, Tokens};

/// How much a match weighs, by where it is: a headline mention says more than one in the
/// tail of the body.
pub const WEIGHT_TITLE: f64 = 3.0;
pub const WEIGHT_SUMMARY: f64 = 2.0;
/// The first [`LEAD_WORDS`] words of the text.
pub const WEIGHT_LEAD: f64 = 2.0;
pub const WEIGHT_BODY: f64 = 1.0;
/// How many words of the text count as its lead.
pub const LEAD_WORDS: u32 = 60;

/// The taxonomy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    /// Gazetteer files, relative to the taxonomy file.
    #[serde(default)]
    gazetteers: Vec<PathBuf>,
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
    /// `query`: the Boolean query (see `docs/query-language.md`).
    pub query: String,
    /// `min_score`: the weighted match score the article needs besides matching the query;
    /// default 1 (any match).
    #[serde(default = "one")]
    pub min_score: f64,
}

fn one() -> f64 {
    1.0
}

/// A taxonomy that cannot be used, naming the topic (and the position in its query) at fault.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("cannot read the taxonomy {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("invalid taxonomy {path}: {cause}")]
    Parse { path: String, cause: serde_yaml::Error },
    #[error(transparent)]
    Gazetteer(#[from] GazetteerError),
    #[error("invalid taxonomy: topic {index} ({slug:?}): {message}")]
    Topic {
        index: usize,
        slug: String,
        message: String,
    },
    #[error("invalid taxonomy: topic {slug:?}: query error at column {column}: {message}")]
    Query {
        slug: String,
        column: usize,
        message: String,
    },
    #[error("cannot build the matcher: {0}")]
    Automaton(String),
}

/// A pattern in the automaton: a word, a phrase or a prefix, in normalised form.
#[derive(Debug)]
struct Atom {
    /// Words in the pattern (a match covers this many tokens).
    words: u32,
    /// For case-sensitive aliases, the words as they must be written.
    cased: Option<Vec<String>>,
}

/// A term of one query: an atom, the field it is scoped to, and how to show it.
#[derive(Debug)]
struct Leaf {
    atom: u32,
    field: Option<Field>,
    display: String,
    /// `EXCEPT`: atoms (with their field scope) whose occurrences cancel any occurrence of
    /// this leaf they overlap in the same field.
    except: Vec<(u32, Option<Field>)>,
}

#[derive(Debug)]
enum Node {
    Leaf(u32),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// `focus:RU`: true when the country is a focus country of the article; `leaves` are the
    /// names that count towards focus (the country's and its people's), which score.
    Focus {
        code: String,
        leaves: Vec<u32>,
    },
    Near {
        left: Vec<u32>,
        right: Vec<u32>,
        distance: u32,
    },
}

#[derive(Debug)]
struct Topic {
    def: TopicDef,
    leaves: Vec<Leaf>,
    root: Node,
    /// Leaves not under a NOT: the ones that score and are shown as highlights.
    positive: Vec<u32>,
}

/// One occurrence of an atom.
#[derive(Debug, Clone, Copy)]
struct Hit {
    field: Field,
    /// First word, and number of words.
    tok: u32,
    len: u32,
    /// Character offsets in the field.
    start: u32,
    end: u32,
}

impl Hit {
    fn weight(&self) -> f64 {
        match self.field {
            Field::Title => WEIGHT_TITLE,
            Field::Summary => WEIGHT_SUMMARY,
            Field::Text if self.tok < LEAD_WORDS => WEIGHT_LEAD,
            Field::Text => WEIGHT_BODY,
        }
    }
}

/// The atoms found in one article.
#[derive(Debug, Default)]
struct Hits {
    by_atom: HashMap<u32, Vec<Hit>>,
    /// The article's focus countries (computed only when some topic asks about them).
    focus: Vec<String>,
}

impl Hits {
    fn of(&self, leaf: &Leaf) -> impl Iterator<Item = &Hit> {
        self.by_atom
            .get(&leaf.atom)
            .into_iter()
            .flatten()
            .filter(move |h| leaf.field.is_none_or(|f| f == h.field))
            .filter(move |h| !self.excluded(h, &leaf.except))
    }

    /// Whether an occurrence overlaps an occurrence of one of the `EXCEPT` atoms.
    fn excluded(&self, hit: &Hit, except: &[(u32, Option<Field>)]) -> bool {
        except.iter().any(|(atom, field)| {
            field.is_none_or(|f| f == hit.field)
                && self
                    .by_atom
                    .get(atom)
                    .into_iter()
                    .flatten()
                    .any(|x| x.field == hit.field && x.tok < hit.tok + hit.len && hit.tok < x.tok + x.len)
        })
    }
}

/// Everything the tagger finds in one article.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags {
    /// Matching topics, best score first.
    pub topics: Vec<TopicMatch>,
    /// Entities, most mentioned first.
    pub entities: Vec<Entity>,
    /// The countries the article is about, most prominent first.
    pub focus_countries: Vec<String>,
}

/// The compiled taxonomy.
#[derive(Debug)]
pub struct Taxonomy {
    topics: Vec<Topic>,
    atoms: Vec<Atom>,
    automaton: AhoCorasick,
    /// For each atom, the topics whose query mentions it: the only candidates to evaluate.
    atom_topics: Vec<Vec<u32>>,
    /// For each atom, the entities it is an alias of.
    atom_entities: Vec<Vec<u32>>,
    gazetteer: Gazetteer,
    /// The files this taxonomy was read from (the taxonomy, then its gazetteers).
    files: Vec<PathBuf>,
    /// Whether some query uses `focus:`, so that scanning must find the focus countries.
    uses_focus: bool,
}

/// Builds the atoms and the automaton.
#[derive(Default)]
struct Builder {
    atoms: Vec<Atom>,
    patterns: Vec<String>,
    interned: HashMap<(String, Option<Vec<String>>), u32>,
}

impl Builder {
    fn atom(&mut self, words: &[String], prefix: bool, cased: Option<Vec<String>>) -> u32 {
        let mut pattern = format!(" {}", words.join(" "));
        if !prefix {
            pattern.push(' ');
        }
        let key = (pattern, cased);
        if let Some(&id) = self.interned.get(&key) {
            return id;
        }
        let id = self.atoms.len() as u32;
        self.patterns.push(key.0.clone());
        self.atoms.push(Atom {
            words: words.len() as u32,
            cased: key.1.clone(),
        });
        self.interned.insert(key, id);
        id
    }
}

/// The shipped taxonomy, as built into the binary: its name and text.
const EMBEDDED_TAXONOMY: (&str, &str) = ("deploy/taxonomy.yaml", include_str!("../../../deploy/taxonomy.yaml"));

/// The shipped gazetteers, by the names the shipped taxonomy gives them.
const EMBEDDED_GAZETTEERS: &[(&str, &str)] = &[
    (
        "gazetteer/countries.yaml",
        include_str!("../../../deploy/gazetteer/countries.yaml"),
    ),
    (
        "gazetteer/people.yaml",
        include_str!("../../../deploy/gazetteer/people.yaml"),
    ),
    (
        "gazetteer/organisations.yaml",
        include_str!("../../../deploy/gazetteer/organisations.yaml"),
    ),
];

impl Taxonomy {
    /// Reads and compiles a taxonomy file and the gazetteers it names.
    pub fn load(path: &Path) -> Result<Taxonomy, TaxonomyError> {
        let text = std::fs::read_to_string(path).map_err(|cause| TaxonomyError::Read {
            path: path.display().to_string(),
            cause,
        })?;
        let file: TaxonomyFile = serde_yaml::from_str(&text).map_err(|cause| TaxonomyError::Parse {
            path: path.display().to_string(),
            cause,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let gazetteer_files: Vec<PathBuf> = file.gazetteers.iter().map(|g| base.join(g)).collect();
        let gazetteer = Gazetteer::load(&gazetteer_files)?;
        let mut taxonomy = Self::compile(file.topics, gazetteer)?;
        taxonomy.files = std::iter::once(path.to_path_buf()).chain(gazetteer_files).collect();
        Ok(taxonomy)
    }

    /// The shipped taxonomy and gazetteers (`deploy/taxonomy.yaml` and the files it names),
    /// built into the binary: what the tagger uses when no taxonomy file is given, so that
    /// it runs from any directory and in the container image without a mounted file.
    pub fn embedded() -> Result<Taxonomy, TaxonomyError> {
        Self::from_files(EMBEDDED_TAXONOMY.0, EMBEDDED_TAXONOMY.1, EMBEDDED_GAZETTEERS)
    }

    /// Compiles taxonomy text whose `gazetteers:` names are resolved among `files` (name,
    /// text), as if they were files beside it. `origin` names the taxonomy in errors.
    pub fn from_files(origin: &str, yaml: &str, files: &[(&str, &str)]) -> Result<Taxonomy, TaxonomyError> {
        let file: TaxonomyFile = serde_yaml::from_str(yaml).map_err(|cause| TaxonomyError::Parse {
            path: origin.to_string(),
            cause,
        })?;
        let mut gazetteer = Gazetteer::default();
        for name in &file.gazetteers {
            let name = name.to_string_lossy();
            let text = files
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(_, text)| *text)
                .ok_or_else(|| TaxonomyError::Read {
                    path: name.to_string(),
                    cause: std::io::Error::new(std::io::ErrorKind::NotFound, "not among the built-in files"),
                })?;
            gazetteer.add(&name, text)?;
        }
        Self::compile(file.topics, gazetteer)
    }

    /// Compiles a taxonomy from YAML text, with the given gazetteer (a `gazetteers:` key in
    /// the text is ignored: there is no file to resolve it against).
    pub fn parse(yaml: &str, gazetteer: Gazetteer) -> Result<Taxonomy, TaxonomyError> {
        let file: TaxonomyFile = serde_yaml::from_str(yaml).map_err(|cause| TaxonomyError::Parse {
            path: "<text>".into(),
            cause,
        })?;
        Self::compile(file.topics, gazetteer)
    }

    /// Compiles topics against a gazetteer.
    pub fn compile(defs: Vec<TopicDef>, gazetteer: Gazetteer) -> Result<Taxonomy, TaxonomyError> {
        let mut builder = Builder::default();
        // Entity aliases first, so that entity extraction shares the automaton.
        let mut atom_entities: Vec<Vec<u32>> = Vec::new();
        let mut entity_atoms: Vec<Vec<(u32, String)>> = Vec::new();
        for (e, entity) in gazetteer.entities.iter().enumerate() {
            let mut atoms = Vec::new();
            for (name, cased) in entity.names() {
                let words = text::words(name);
                let id = builder.atom(&words, false, cased.then(|| text::cased_words(name)));
                if atom_entities.len() <= id as usize {
                    atom_entities.resize(id as usize + 1, Vec::new());
                }
                if !atom_entities[id as usize].contains(&(e as u32)) {
                    atom_entities[id as usize].push(e as u32);
                }
                atoms.push((id, name.to_string()));
            }
            entity_atoms.push(atoms);
        }

        let mut topics = Vec::new();
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
            if !def.min_score.is_finite() || def.min_score < 0.0 {
                return Err(fail("min_score is a number of at least 0".into()));
            }
            let query_error = |column: usize, message: String| TaxonomyError::Query {
                slug: def.slug.clone(),
                column,
                message,
            };
            let expr = query::parse(&def.query).map_err(|e| query_error(e.column, e.message))?;
            let mut leaves = Vec::new();
            let root = lower(&expr, &mut builder, &gazetteer, &entity_atoms, &mut leaves)
                .map_err(|(column, message)| query_error(column, message))?;
            let mut positive = Vec::new();
            positive_leaves(&root, false, &mut positive);
            positive.sort_unstable();
            positive.dedup();
            let unanchored_error =
                fail("the query would match an article that contains none of its terms (a NOT on its own?)".into());
            let topic = Topic {
                def,
                leaves,
                root,
                positive,
            };
            if topic.positive.is_empty() || topic.eval(&topic.root, &Hits::default()) {
                return Err(unanchored_error);
            }
            topics.push(topic);
        }
        for (index, topic) in topics.iter().enumerate() {
            if let Some(parent) = &topic.def.parent {
                if !slugs.contains(parent.as_str()) {
                    return Err(TaxonomyError::Topic {
                        index,
                        slug: topic.def.slug.clone(),
                        message: format!("the parent {parent:?} is not a topic"),
                    });
                }
            }
            // Parents form a tree: following them from any topic ends.
            let mut seen = vec![topic.def.slug.as_str()];
            let mut next = topic.def.parent.as_deref();
            while let Some(parent) = next {
                if seen.contains(&parent) {
                    return Err(TaxonomyError::Topic {
                        index,
                        slug: topic.def.slug.clone(),
                        message: format!("its parents loop back: {} -> {parent}", seen.join(" -> ")),
                    });
                }
                seen.push(parent);
                next = topics
                    .iter()
                    .find(|t| t.def.slug == parent)
                    .and_then(|t| t.def.parent.as_deref());
            }
        }

        // Index each topic under the atoms of which a match needs at least one (for an AND,
        // only its most selective operand's), as Lucene Monitor's presearcher does: an article
        // then wakes up far fewer topics than it has words in common with them.
        let mut atom_topics = vec![Vec::new(); builder.atoms.len()];
        for (t, topic) in topics.iter().enumerate() {
            // Without anchors (`NOT NOT a`), every atom of the query: it cannot match an article
            // that has none of them, since it does not match an empty one.
            let mut anchors = match topic.anchors(&topic.root, &builder) {
                Some((_, anchors)) => anchors,
                None => topic.leaves.iter().map(|l| l.atom).collect(),
            };
            anchors.sort_unstable();
            anchors.dedup();
            for atom in anchors {
                atom_topics[atom as usize].push(t as u32);
            }
        }
        atom_entities.resize(builder.atoms.len(), Vec::new());
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&builder.patterns)
            .map_err(|e| TaxonomyError::Automaton(e.to_string()))?;
        let uses_focus = topics.iter().any(|t| t.root.uses_focus());
        Ok(Taxonomy {
            uses_focus,
            topics,
            atoms: builder.atoms,
            automaton,
            atom_topics,
            atom_entities,
            gazetteer,
            files: Vec::new(),
        })
    }

    /// Number of topics.
    pub fn len(&self) -> usize {
        self.topics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// The topics' definitions, in file order.
    pub fn topics(&self) -> impl Iterator<Item = &TopicDef> {
        self.topics.iter().map(|t| &t.def)
    }

    /// The files the taxonomy was loaded from: the taxonomy file, then its gazetteers.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The gazetteer the taxonomy was compiled with.
    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gazetteer
    }

    /// Finds every atom in the fields.
    fn scan(&self, fields: &[(Field, &str)]) -> Hits {
        let mut hits = Hits::default();
        for &(field, text) in fields {
            if text.is_empty() {
                continue;
            }
            let tokens = text::tokenize(text);
            for m in self.automaton.find_overlapping_iter(&tokens.norm) {
                let atom_id = m.pattern().as_u32();
                let atom = &self.atoms[atom_id as usize];
                let Some(first) = tokens.at_norm(m.start() + 1) else {
                    continue;
                };
                let last = first + atom.words as usize - 1;
                if last >= tokens.tokens.len() {
                    continue;
                }
                if let Some(cased) = &atom.cased {
                    if !cased_at(&tokens, text, first, cased) {
                        continue;
                    }
                }
                hits.by_atom.entry(atom_id).or_default().push(Hit {
                    field,
                    tok: first as u32,
                    len: atom.words,
                    start: tokens.tokens[first].start,
                    end: tokens.tokens[last].end,
                });
            }
        }
        if self.uses_focus {
            hits.focus = focus(self.country_weights(&self.entity_hits(&hits)));
        }
        hits
    }

    /// The topics, entities and focus countries of an article's fields.
    pub fn tag(&self, fields: &[(Field, &str)]) -> Tags {
        let hits = self.scan(fields);
        let (entities, focus_countries) = self.entities(&hits);
        Tags {
            topics: self.topics_of(&hits),
            entities,
            focus_countries,
        }
    }

    /// The topics the fields match, best score first.
    pub fn matches(&self, fields: &[(Field, &str)]) -> Vec<TopicMatch> {
        self.topics_of(&self.scan(fields))
    }

    fn candidates(&self, hits: &Hits) -> Vec<u32> {
        let mut candidates: Vec<u32> = hits
            .by_atom
            .keys()
            .flat_map(|&a| self.atom_topics[a as usize].iter().copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    fn topics_of(&self, hits: &Hits) -> Vec<TopicMatch> {
        let mut out = Vec::new();
        for t in self.candidates(hits) {
            let topic = &self.topics[t as usize];
            if !topic.eval(&topic.root, hits) {
                continue;
            }
            let (score, matches) = topic.evidence(hits);
            if score >= topic.def.min_score {
                out.push(TopicMatch {
                    slug: topic.def.slug.clone(),
                    label: topic.def.label.clone(),
                    score,
                    matches,
                });
            }
        }
        // A child topic also counts for its parent (and so on up): a broader topic catches
        // what its narrower ones catch. A parent that matched on its own keeps its own evidence.
        let mut inherited = Vec::new();
        for child in &out {
            let mut slug = child.slug.as_str();
            while let Some(parent) = self.topic(slug).and_then(|t| t.def.parent.as_deref()) {
                let Some(def) = self.topic(parent).map(|t| &t.def) else {
                    break;
                };
                if !out.iter().any(|m| m.slug == parent) && !inherited.iter().any(|m: &TopicMatch| m.slug == parent) {
                    inherited.push(TopicMatch {
                        slug: def.slug.clone(),
                        label: def.label.clone(),
                        score: child.score,
                        matches: child.matches.clone(),
                    });
                }
                slug = parent;
            }
        }
        out.extend(inherited);
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.slug.cmp(&b.slug)));
        out
    }

    fn topic(&self, slug: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.def.slug == slug)
    }

    /// Each entity's mentions: the longest alias wins where aliases overlap.
    fn entity_hits(&self, hits: &Hits) -> BTreeMap<u32, Vec<Hit>> {
        let mut mentions: Vec<(Hit, u32)> = Vec::new();
        for (&atom, list) in &hits.by_atom {
            if self.atom_entities[atom as usize].is_empty() {
                continue;
            }
            mentions.extend(list.iter().map(|h| (*h, atom)));
        }
        mentions.sort_by_key(|(h, _)| (h.field, h.tok, std::cmp::Reverse(h.len)));
        let mut by_entity: BTreeMap<u32, Vec<Hit>> = BTreeMap::new();
        let mut taken_until: Option<(Field, u32)> = None;
        for (hit, atom) in mentions {
            if taken_until.is_some_and(|(f, end)| f == hit.field && hit.tok < end) {
                continue;
            }
            taken_until = Some((hit.field, hit.tok + hit.len));
            for &e in &self.atom_entities[atom as usize] {
                by_entity.entry(e).or_default().push(hit);
            }
        }
        by_entity
    }

    /// The weighted mentions of each country: the country itself and its people (not its
    /// organisations).
    fn country_weights(&self, by_entity: &BTreeMap<u32, Vec<Hit>>) -> HashMap<&str, f64> {
        let mut country_weight: HashMap<&str, f64> = HashMap::new();
        for (&e, hits) in by_entity {
            let entity = &self.gazetteer.entities[e as usize];
            if entity.kind != EntityKind::Organisation {
                if let Some(code) = entity.country() {
                    *country_weight.entry(code).or_default() += hits.iter().map(Hit::weight).sum::<f64>();
                }
            }
        }
        country_weight
    }

    /// Entity mentions (longest alias wins where aliases overlap) and focus countries.
    fn entities(&self, hits: &Hits) -> (Vec<Entity>, Vec<String>) {
        let by_entity = self.entity_hits(hits);
        let focus_countries = focus(self.country_weights(&by_entity));
        let mut entities: Vec<Entity> = by_entity
            .into_iter()
            .map(|(e, hits)| {
                let entity = &self.gazetteer.entities[e as usize];
                Entity {
                    id: entity.def.id.clone(),
                    name: entity.def.name.clone(),
                    kind: entity.kind,
                    count: hits.len() as u32,
                    country: entity.country().map(str::to_string),
                    mentions: hits
                        .iter()
                        .map(|h| Mention {
                            field: h.field.as_str().to_string(),
                            start: h.start,
                            end: h.end,
                        })
                        .collect(),
                }
            })
            .collect();
        entities.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        (entities, focus_countries)
    }

    /// How each candidate topic's query evaluates on the fields, node by node, for `--explain`.
    pub fn explain(&self, fields: &[(Field, &str)]) -> String {
        let hits = self.scan(fields);
        let candidates = self.candidates(&hits);
        let mut out = String::new();
        for (t, topic) in self.topics.iter().enumerate() {
            let matched = topic.eval(&topic.root, &hits);
            let (score, _) = topic.evidence(&hits);
            let verdict = match (matched, score >= topic.def.min_score) {
                (true, true) => "MATCH",
                (true, false) => "below min_score",
                (false, _) => "no match",
            };
            let _ = writeln!(
                out,
                "{}: {verdict} (score {score:.1}, min_score {:.1})",
                topic.def.slug, topic.def.min_score
            );
            // Topics none of whose terms occur were never evaluated: no tree to show.
            if candidates.binary_search(&(t as u32)).is_ok() {
                topic.explain(&topic.root, &hits, 1, &mut out);
            }
        }
        out
    }
}

/// The countries an article is about: those whose weighted mentions (the country, its
/// capital and demonyms, and its people; title 3, summary and lead 2, body 1) reach at least
/// 3 (a headline mention, or two mentions) and at least 40% of the top country's weight; four
/// at most.
fn focus(weights: HashMap<&str, f64>) -> Vec<String> {
    let top = weights.values().copied().fold(0.0, f64::max);
    let mut focus: Vec<(&str, f64)> = weights
        .into_iter()
        .filter(|(_, w)| *w >= 3.0 && *w >= 0.4 * top)
        .collect();
    focus.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    focus.into_iter().take(4).map(|(c, _)| c.to_string()).collect()
}

fn cased_at(tokens: &Tokens, text: &str, first: usize, cased: &[String]) -> bool {
    cased.iter().enumerate().all(|(i, want)| {
        tokens
            .tokens
            .get(first + i)
            .is_some_and(|t| &text[t.bytes.0..t.bytes.1] == want)
    })
}

type LowerError = (usize, String);

fn lower(
    expr: &Expr,
    builder: &mut Builder,
    gazetteer: &Gazetteer,
    entity_atoms: &[Vec<(u32, String)>],
    leaves: &mut Vec<Leaf>,
) -> Result<Node, LowerError> {
    let leaf = |atom: u32, field: Option<Field>, display: String, leaves: &mut Vec<Leaf>| {
        let display = match field {
            Some(f) => format!("{}:{display}", f.as_str()),
            None => display,
        };
        leaves.push(Leaf {
            atom,
            field,
            display,
            except: Vec::new(),
        });
        (leaves.len() - 1) as u32
    };
    Ok(match expr {
        Expr::Term {
            text,
            words,
            prefix,
            field,
        } => {
            let atom = builder.atom(words, *prefix, None);
            Node::Leaf(leaf(atom, *field, text.clone(), leaves))
        }
        Expr::Entity {
            kind,
            key,
            field,
            position,
        } => {
            let want = match kind {
                EntityRef::Country | EntityRef::Actors => Some(EntityKind::Country),
                EntityRef::Person => Some(EntityKind::Person),
                EntityRef::Organisation => Some(EntityKind::Organisation),
                EntityRef::Any => None,
            };
            let found = gazetteer.resolve(want, key);
            let entity = match found.as_slice() {
                [one] => *one,
                [] => {
                    return Err((
                        position + 1,
                        format!("{}:{key:?} is not in the gazetteer", kind.as_str()),
                    ));
                }
                many => {
                    let ids: Vec<&str> = many.iter().map(|&e| gazetteer.entities[e].def.id.as_str()).collect();
                    return Err((
                        position + 1,
                        format!(
                            "{}:{key:?} is ambiguous ({}); use its id, e.g. entity:{}",
                            kind.as_str(),
                            ids.join(", "),
                            ids[0]
                        ),
                    ));
                }
            };
            let mut members = vec![entity];
            if *kind == EntityRef::Actors {
                let code = gazetteer.entities[entity].country();
                members.extend(
                    (0..gazetteer.entities.len()).filter(|&e| e != entity && gazetteer.entities[e].country() == code),
                );
            }
            let items = members
                .iter()
                .flat_map(|&e| &entity_atoms[e])
                .map(|(atom, name)| Node::Leaf(leaf(*atom, *field, format!("{}:{key}={name}", kind.as_str()), leaves)))
                .collect();
            Node::Or(items)
        }
        Expr::Focus { key, position } => {
            let found = gazetteer.resolve(Some(EntityKind::Country), key);
            let [country] = found.as_slice() else {
                return Err((position + 1, format!("focus:{key:?} is not a country of the gazetteer")));
            };
            let code = gazetteer.entities[*country].country().unwrap_or_default().to_string();
            // The names that count towards focus: the country's and its people's.
            let members = (0..gazetteer.entities.len()).filter(|&e| {
                let entity = &gazetteer.entities[e];
                entity.kind != EntityKind::Organisation && entity.country() == Some(code.as_str())
            });
            let leaves = members
                .flat_map(|e| &entity_atoms[e])
                .map(|(atom, name)| leaf(*atom, None, format!("focus:{key}={name}"), leaves))
                .collect();
            Node::Focus { code, leaves }
        }
        Expr::And(items) => Node::And(
            items
                .iter()
                .map(|e| lower(e, builder, gazetteer, entity_atoms, leaves))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(items) => Node::Or(
            items
                .iter()
                .map(|e| lower(e, builder, gazetteer, entity_atoms, leaves))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(inner) => Node::Not(Box::new(lower(inner, builder, gazetteer, entity_atoms, leaves)?)),
        Expr::Except { inner, excluded } => {
            let node = lower(inner, builder, gazetteer, entity_atoms, leaves)?;
            // The excluded terms are atoms to look for, not leaves of the query: they neither
            // score nor make the query true.
            let mut scratch = Vec::new();
            lower(excluded, builder, gazetteer, entity_atoms, &mut scratch)?;
            let except: Vec<(u32, Option<Field>)> = scratch.iter().map(|l| (l.atom, l.field)).collect();
            let mut own = Vec::new();
            positive_leaves(&node, false, &mut own);
            for l in own {
                leaves[l as usize].except.extend(except.iter().copied());
            }
            node
        }
        Expr::Near { left, right, distance } => {
            let mut side = |e: &Expr| -> Result<Vec<u32>, LowerError> {
                let node = lower(e, builder, gazetteer, entity_atoms, leaves)?;
                let mut out = Vec::new();
                positive_leaves(&node, false, &mut out);
                Ok(out)
            };
            Node::Near {
                left: side(left)?,
                right: side(right)?,
                distance: *distance,
            }
        }
    })
}

fn positive_leaves(node: &Node, negated: bool, out: &mut Vec<u32>) {
    match node {
        Node::Leaf(l) if !negated => out.push(*l),
        Node::Leaf(_) => {}
        Node::And(items) | Node::Or(items) => items.iter().for_each(|n| positive_leaves(n, negated, out)),
        Node::Not(inner) => positive_leaves(inner, !negated, out),
        Node::Focus { leaves, .. } if !negated => out.extend(leaves),
        Node::Focus { .. } => {}
        Node::Near { left, right, .. } if !negated => out.extend(left.iter().chain(right)),
        Node::Near { .. } => {}
    }
}

impl Node {
    fn uses_focus(&self) -> bool {
        match self {
            Node::Focus { .. } => true,
            Node::And(items) | Node::Or(items) => items.iter().any(Node::uses_focus),
            Node::Not(inner) => inner.uses_focus(),
            Node::Leaf(_) | Node::Near { .. } => false,
        }
    }
}

impl Topic {
    /// Atoms of which every match of `node` contains at least one, and how costly they are
    /// as a filter (common short words cost most); `None` when no such set exists (a NOT).
    fn anchors(&self, node: &Node, builder: &Builder) -> Option<(f64, Vec<u32>)> {
        let atom_cost = |atom: u32| -> f64 {
            let pattern = &builder.patterns[atom as usize];
            let words = builder.atoms[atom as usize].words;
            let chars = pattern.trim().chars().count().max(1) as f64;
            let prefix = !pattern.ends_with(' ');
            match (words, prefix) {
                (1, true) => 30.0 / chars,
                (1, false) => 10.0 / chars,
                _ => 2.0 / chars,
            }
        };
        let leaves = |ids: &[u32]| -> (f64, Vec<u32>) {
            let atoms: Vec<u32> = ids.iter().map(|l| self.leaves[*l as usize].atom).collect();
            (atoms.iter().map(|a| atom_cost(*a)).sum(), atoms)
        };
        match node {
            Node::Leaf(l) => Some(leaves(&[*l])),
            Node::Or(items) => {
                let mut cost = 0.0;
                let mut atoms = Vec::new();
                for item in items {
                    let (c, a) = self.anchors(item, builder)?;
                    cost += c;
                    atoms.extend(a);
                }
                Some((cost, atoms))
            }
            Node::And(items) => items
                .iter()
                .filter_map(|item| self.anchors(item, builder))
                .min_by(|a, b| a.0.total_cmp(&b.0)),
            Node::Not(_) => None,
            // A focus country has at least one mention.
            Node::Focus { leaves: ids, .. } => Some(leaves(ids)),
            Node::Near { left, right, .. } => {
                let (l, r) = (leaves(left), leaves(right));
                Some(if l.0 <= r.0 { l } else { r })
            }
        }
    }

    fn eval(&self, node: &Node, hits: &Hits) -> bool {
        match node {
            Node::Leaf(l) => hits.of(&self.leaves[*l as usize]).next().is_some(),
            Node::And(items) => items.iter().all(|n| self.eval(n, hits)),
            Node::Or(items) => items.iter().any(|n| self.eval(n, hits)),
            Node::Not(inner) => !self.eval(inner, hits),
            Node::Focus { code, .. } => hits.focus.contains(code),
            Node::Near { left, right, distance } => self.near(left, right, *distance, hits).is_some(),
        }
    }

    /// The first pair of occurrences within `distance` words of each other in one field.
    fn near(&self, left: &[u32], right: &[u32], distance: u32, hits: &Hits) -> Option<(Hit, Hit)> {
        let side = |leaves: &[u32]| -> Vec<Hit> {
            leaves
                .iter()
                .flat_map(|l| hits.of(&self.leaves[*l as usize]).copied())
                .collect()
        };
        let (a, b) = (side(left), side(right));
        for x in &a {
            for y in &b {
                if x.field != y.field {
                    continue;
                }
                // Words from the end of the first occurrence to the start of the second:
                // adjacent words are 1 apart. Overlapping occurrences do not count.
                let gap = if x.tok + x.len <= y.tok {
                    y.tok - (x.tok + x.len - 1)
                } else if y.tok + y.len <= x.tok {
                    x.tok - (y.tok + y.len - 1)
                } else {
                    continue;
                };
                if gap <= distance {
                    return Some((*x, *y));
                }
            }
        }
        None
    }

    /// The score and the highlights: every occurrence of a positive term, once.
    fn evidence(&self, hits: &Hits) -> (f64, Vec<TermMatch>) {
        let mut seen: HashSet<(u32, Field, u32)> = HashSet::new();
        let mut grouped: BTreeMap<(String, Field), Vec<Span>> = BTreeMap::new();
        let mut score = 0.0;
        let mut all: Vec<(u32, Hit)> = Vec::new();
        for &l in &self.positive {
            let leaf = &self.leaves[l as usize];
            all.extend(hits.of(leaf).map(|h| (l, *h)));
        }
        // An occurrence inside a longer one of another term counts once, as the longer one:
        // "Jens Stoltenberg" is one mention, not also one of "Stoltenberg".
        let inside_longer = |h: &Hit| {
            all.iter()
                .any(|(_, x)| x.field == h.field && x.len > h.len && x.tok <= h.tok && h.tok + h.len <= x.tok + x.len)
        };
        for &(l, hit) in &all {
            let leaf = &self.leaves[l as usize];
            if inside_longer(&hit) || !seen.insert((leaf.atom, hit.field, hit.tok)) {
                continue;
            }
            score += hit.weight();
            grouped
                .entry((leaf.display.clone(), hit.field))
                .or_default()
                .push(Span {
                    start: hit.start,
                    end: hit.end,
                });
        }
        let mut matches: Vec<TermMatch> = grouped
            .into_iter()
            .map(|((term, field), offsets)| TermMatch {
                term,
                field: field.as_str().to_string(),
                count: offsets.len() as u32,
                offsets,
            })
            .collect();
        matches.sort_by_key(|m| {
            (
                Field::ALL.iter().position(|f| f.as_str() == m.field),
                m.offsets[0].start,
            )
        });
        (score, matches)
    }

    fn explain(&self, node: &Node, hits: &Hits, depth: usize, out: &mut String) {
        let mark = if self.eval(node, hits) { "+" } else { "-" };
        let indent = "  ".repeat(depth);
        match node {
            Node::Leaf(l) => {
                let leaf = &self.leaves[*l as usize];
                let found: Vec<String> = hits
                    .of(leaf)
                    .map(|h| format!("{}[{}..{}]", h.field.as_str(), h.start, h.end))
                    .collect();
                if found.is_empty() {
                    let _ = writeln!(out, "{indent}{mark} {}", leaf.display);
                } else {
                    let _ = writeln!(out, "{indent}{mark} {}  at {}", leaf.display, found.join(" "));
                }
            }
            Node::And(items) | Node::Or(items) => {
                let op = if matches!(node, Node::And(_)) { "AND" } else { "OR" };
                let _ = writeln!(out, "{indent}{mark} {op}");
                // A long OR (an entity's aliases) shows only the branches that matched.
                let matched = items.iter().filter(|n| self.eval(n, hits)).count();
                for item in items {
                    if op == "AND" || items.len() <= 6 || self.eval(item, hits) {
                        self.explain(item, hits, depth + 1, out);
                    }
                }
                if op == "OR" && items.len() > 6 && matched < items.len() {
                    let _ = writeln!(out, "{indent}  ({} more that did not match)", items.len() - matched);
                }
            }
            Node::Not(inner) => {
                let _ = writeln!(out, "{indent}{mark} NOT");
                self.explain(inner, hits, depth + 1, out);
            }
            Node::Focus { code, .. } => {
                let _ = writeln!(
                    out,
                    "{indent}{mark} focus:{code}  (focus countries: {})",
                    if hits.focus.is_empty() {
                        "none".to_string()
                    } else {
                        hits.focus.join(", ")
                    }
                );
            }
            Node::Near { left, right, distance } => {
                let pair = self.near(left, right, *distance, hits);
                let names = |side: &[u32]| {
                    let mut names: Vec<&str> = side.iter().map(|l| self.leaves[*l as usize].display.as_str()).collect();
                    if names.len() > 4 {
                        names.truncate(4);
                        names.push("...");
                    }
                    names.join(" | ")
                };
                match pair {
                    Some((a, b)) => {
                        let _ = writeln!(
                            out,
                            "{indent}{mark} ({}) NEAR/{distance} ({})  at {}[{}..{}] and [{}..{}]",
                            names(left),
                            names(right),
                            a.field.as_str(),
                            a.start,
                            a.end,
                            b.start,
                            b.end
                        );
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "{indent}{mark} ({}) NEAR/{distance} ({})",
                            names(left),
                            names(right)
                        );
                    }
                }
            }
        }
    }
}
