//! The taxonomy: topics as Boolean queries, compiled together with the gazetteers into one
//! Aho-Corasick automaton over every term of every query and every entity alias.
//!
//! Tagging an article is: cut each field into words (see [`crate::text`]), run the automaton
//! once over each field's normalised form, then evaluate only the topics whose terms
//! occurred (every query needs at least one of its terms, which [`Taxonomy::compile`]
//! checks), so the cost per article grows with the matches, not with the number of topics.
//!
//! The parts: [`file`] (the taxonomy file format, loading, the built-in taxonomy), [`compile`]
//! (queries into automaton atoms and topic trees), [`matching`] (scanning an article and
//! evaluating topics), [`entities`] (entity mentions and focus countries) and [`explain`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use record::{Entity, EntityKind, Mention, Span, TermMatch, TopicMatch};
use serde::Deserialize;

use crate::gazetteer::{Gazetteer, GazetteerError, NameKind};
use crate::query::{self, EntityRef, Expr, Field};
use crate::text::{self, Tokens};

mod compile;
mod entities;
mod explain;
mod file;
mod matching;

pub use file::TopicDef;

/// How much a match weighs, by where it is: a headline mention says more than one in the
/// tail of the body.
pub const WEIGHT_TITLE: f64 = 3.0;
pub const WEIGHT_SUMMARY: f64 = 2.0;
/// The first [`LEAD_WORDS`] words of the text.
pub const WEIGHT_LEAD: f64 = 2.0;
pub const WEIGHT_BODY: f64 = 1.0;
/// How many words of the text count as its lead.
pub const LEAD_WORDS: u32 = 60;

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
    #[error("invalid taxonomy: vocabulary {name:?}: {message}")]
    Vocabulary { name: String, message: String },
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
    /// `WITH/n`: an occurrence of this leaf counts only when each of these contexts has an
    /// occurrence near it.
    with: Vec<Arc<Context>>,
    /// The language of the vocabulary entry the term comes from (shown by `explain`).
    lang: Option<String>,
}

/// The right side of `a WITH/n b`: the terms of `b` and how far from an occurrence of `a` one
/// of them may be.
#[derive(Debug)]
struct Context {
    leaves: Vec<Leaf>,
    /// The leaves of each atom: an article's atoms are looked up here when it has fewer of
    /// them than the context has leaves (`country:*` has thousands).
    by_atom: AtomMap<Vec<u32>>,
    distance: u32,
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
    /// `lang:ru,uk`: the article's language (its primary subtag) is one of these.
    Lang(Vec<String>),
}

#[derive(Debug)]
struct Topic {
    def: TopicDef,
    leaves: Vec<Leaf>,
    root: Node,
    /// Leaves not under a NOT: the ones that score and are shown as highlights.
    positive: Vec<u32>,
    /// The positive leaves of each atom, in leaf order: an article's evidence is read from
    /// the atoms it has, not from every leaf (an `actors:` reference has hundreds).
    positive_by_atom: AtomMap<Vec<u32>>,
    /// The index of `def.parent` among the taxonomy's topics.
    parent: Option<u32>,
}

/// One occurrence of an atom.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hit {
    field: Field,
    /// First word, and number of words.
    tok: u32,
    len: u32,
    /// Character offsets in the field.
    start: u32,
    end: u32,
    /// Whether the word after it is a person noun or «язык» (see [`crate::nationality`]);
    /// looked up only for the atoms that are an entity's adjective.
    before_head: bool,
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

/// Hashes an atom id (a small integer) by one multiplication: the maps keyed by atom are
/// looked up for every term of every candidate topic, where SipHash cost most of the time.
#[derive(Debug, Default, Clone, Copy)]
struct AtomHasher(u64);

impl std::hash::Hasher for AtomHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (u64::from(n) ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by atom id.
type AtomMap<V> = HashMap<u32, V, std::hash::BuildHasherDefault<AtomHasher>>;

/// The atoms found in one article.
#[derive(Debug, Default)]
struct Hits {
    by_atom: AtomMap<Vec<Hit>>,
    /// The article's focus countries (computed only when some topic asks about them).
    focus: Vec<String>,
    /// The article's language, its primary subtag lower-cased (`zh` for `zh-Hant`), if known.
    language: Option<String>,
}

/// The compiled taxonomy.
#[derive(Debug)]
pub struct Taxonomy {
    topics: Vec<Topic>,
    atoms: Vec<Atom>,
    automaton: AhoCorasick,
    /// For each atom, the topics whose query mentions it: the only candidates to evaluate.
    atom_topics: Vec<Vec<u32>>,
    /// For each atom, the entities it is a name of, and what kind of name of each.
    atom_entities: Vec<Vec<(u32, NameKind)>>,
    /// For each atom, the entities it is an `except` or `other_sense` name of.
    atom_excepts: Vec<Vec<u32>>,
    /// For each atom, the entities it is an `other_sense` name of, each with the atoms of its
    /// names that the `other_sense` name holds: these count nowhere in an article where it
    /// occurs.
    atom_senses: Vec<Vec<(u32, Vec<u32>)>>,
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

impl Taxonomy {
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
}
