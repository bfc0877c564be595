use super::*;

/// The taxonomy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    /// Gazetteer files, relative to the taxonomy file.
    #[serde(default)]
    gazetteers: Vec<PathBuf>,
    /// Named vocabularies the queries use as `@name`.
    #[serde(default)]
    vocabularies: BTreeMap<String, VocabularyDef>,
    topics: Vec<TopicDef>,
}

/// A vocabulary as written: one query for every language, or one per language.
///
/// ```yaml
/// vocabularies:
///   talks:
///     en: talks OR negotiations
///     ru: переговоры OR переговор*
///     zh: 会谈 OR 会晤
///   kremlin: Kremlin OR Кремль OR 克里姆林宫
/// ```
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum VocabularyDef {
    Any(String),
    ByLanguage(BTreeMap<String, String>),
}

impl TaxonomyFile {
    /// The vocabularies, checked: names usable as `@name`, languages as `lang:` takes them.
    fn vocabularies(&self) -> Result<query::Vocabularies, TaxonomyError> {
        let mut out = query::Vocabularies::new();
        for (name, def) in &self.vocabularies {
            let fail = |message: String| TaxonomyError::Vocabulary {
                name: name.clone(),
                message,
            };
            if !query::is_vocabulary_name(name) {
                return Err(fail(
                    "a vocabulary's name is lower-case letters, digits, '-' and '_'".into(),
                ));
            }
            let entries = match def {
                VocabularyDef::Any(q) => vec![(None, q.clone())],
                VocabularyDef::ByLanguage(map) => {
                    let mut entries = Vec::new();
                    for (lang, q) in map {
                        let ok = (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_lowercase());
                        if !ok {
                            return Err(fail(format!(
                                "{lang:?} is not a language code (two or three lower-case letters: en, ru, uk, zh)"
                            )));
                        }
                        entries.push((Some(lang.clone()), q.clone()));
                    }
                    entries
                }
            };
            if entries.is_empty() {
                return Err(fail("a vocabulary needs at least one entry".into()));
            }
            out.insert(name.clone(), entries);
        }
        // Each entry must parse where it stands (errors in unused vocabularies too).
        for (name, entries) in &out {
            for (lang, q) in entries {
                query::parse_with(q, &out).map_err(|e| TaxonomyError::Vocabulary {
                    name: name.clone(),
                    message: format!(
                        "{}query error at column {}: {}",
                        lang.as_deref().map_or(String::new(), |l| format!("{l}: ")),
                        e.column,
                        e.message
                    ),
                })?;
            }
        }
        Ok(out)
    }
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

pub(super) fn one() -> f64 {
    1.0
}

/// The shipped taxonomy, as built into the binary: its name and text.
const EMBEDDED_TAXONOMY: (&str, &str) = ("deploy/taxonomy.yaml", include_str!("../../../../deploy/taxonomy.yaml"));

/// The shipped gazetteers, by the names the shipped taxonomy gives them.
const EMBEDDED_GAZETTEERS: &[(&str, &str)] = &[
    (
        "gazetteer/countries.yaml",
        include_str!("../../../../deploy/gazetteer/countries.yaml"),
    ),
    (
        "gazetteer/people.yaml",
        include_str!("../../../../deploy/gazetteer/people.yaml"),
    ),
    (
        "gazetteer/organisations.yaml",
        include_str!("../../../../deploy/gazetteer/organisations.yaml"),
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
        let vocabularies = file.vocabularies()?;
        let mut taxonomy = Self::compile_with(file.topics, &vocabularies, gazetteer)?;
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
        let vocabularies = file.vocabularies()?;
        Self::compile_with(file.topics, &vocabularies, gazetteer)
    }

    /// Compiles a taxonomy from YAML text, with the given gazetteer (a `gazetteers:` key in
    /// the text is ignored: there is no file to resolve it against).
    pub fn parse(yaml: &str, gazetteer: Gazetteer) -> Result<Taxonomy, TaxonomyError> {
        let file: TaxonomyFile = serde_yaml::from_str(yaml).map_err(|cause| TaxonomyError::Parse {
            path: "<text>".into(),
            cause,
        })?;
        let vocabularies = file.vocabularies()?;
        Self::compile_with(file.topics, &vocabularies, gazetteer)
    }
}
