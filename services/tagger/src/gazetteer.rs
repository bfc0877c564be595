//! Gazetteers: the countries, people and organisations the tagger recognises, as data files
//! (`deploy/gazetteer/*.yaml`) that analysts extend without touching code.
//!
//! ```yaml
//! kind: country            # country | person | organisation
//! entities:
//!   - id: Q159             # a Wikidata QID where one exists, else a stable local id
//!     name: Russia         # the preferred name (also an alias)
//!     code: RU             # countries: ISO 3166-1 alpha-2
//!     country: RU          # people and organisations: their home country, if any
//!     aliases: [Russian Federation, Russian, Россия, России, 俄罗斯]
//!     adjectives: [российский, российского, российские]
//!     cased: [RF]          # aliases matched only with exactly this case
//!     metonyms: [Moscow, Kremlin, Москва, 莫斯科]
//!     except: [埃塞俄比亚]  # longer names holding one of its names that are not the entity
//!   - id: Q230
//!     name: Georgia
//!     code: GE
//!     other_sense: [Atlanta Georgia, Georgia governor]  # another bearer of a name: where one
//!                          # occurs, the names it holds count nowhere in the article
//! ```
//!
//! A metonym is a name that stands for the entity in news copy but names something else: a
//! capital, a seat of government. It counts wherever the entity's names count in queries
//! (`country:RU` matches «Москве») and towards focus countries, but a metonym alone does not
//! make the entity one the article mentions: «в Москве прошёл фестиваль» is about the city.
//!
//! An adjective (a demonym adjective in Russian or Ukrainian, «российский») counts like an
//! alias, and is a mention too, except where the word after it is a person noun or «язык»:
//! «российский магнат», «американские сенаторы», «на испанском языке» name a nationality or a
//! language, not the state (`crate::nationality` has the nouns). «Российские власти» and
//! «российско-китайские отношения» are mentions of Russia.

use std::collections::HashSet;
use std::path::Path;

use record::EntityKind;
use serde::Deserialize;

use crate::text;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GazetteerFile {
    kind: Kind,
    entities: Vec<EntityDef>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Country,
    Person,
    Organisation,
}

/// One entity as written in a gazetteer file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityDef {
    /// `id`: a Wikidata QID (`Q159`) where one exists, else a stable local id (`nw:...`).
    pub id: String,
    /// `name`: the preferred name; it is an alias too.
    pub name: String,
    /// `code`: for a country, its ISO 3166-1 alpha-2 code.
    #[serde(default)]
    pub code: Option<String>,
    /// `country`: for a person or an organisation, the ISO code of its home country.
    #[serde(default)]
    pub country: Option<String>,
    /// `role`: what the entity is (free text, for the reader).
    #[serde(default)]
    pub role: Option<String>,
    /// `aliases`: other names, matched case-insensitively on word boundaries.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `adjectives`: adjective forms of the name («российский», «российских»), matched
    /// case-insensitively; see the module docs.
    #[serde(default)]
    pub adjectives: Vec<String>,
    /// `cased`: names matched only with exactly this case (`US`, `Xi`).
    #[serde(default)]
    pub cased: Vec<String>,
    /// `metonyms`: names that stand for the entity (a capital, a seat of government), matched
    /// case-insensitively; see the module docs.
    #[serde(default)]
    pub metonyms: Vec<String>,
    /// `except`: longer names that contain one of the entity's names but are not the entity
    /// («埃塞俄比亚», Ethiopia, holds «俄», Russia's one-character name): the entity's names
    /// inside an occurrence of one of these do not count. (A name inside a longer name of
    /// another entity never counts: «俄» in «白俄罗斯» is Belarus.)
    #[serde(default)]
    pub except: Vec<String>,
    /// `other_sense`: names that hold one of the entity's names and say the article means
    /// another bearer of it («Atlanta, Georgia», «the Georgia governor»: the US state, not the
    /// country). They are `except` names, and more: where one occurs, the entity's names it
    /// holds count nowhere in the article («polls closed in Georgia» further down is the state
    /// too), one sense of a name per article. Its other names («Tbilisi», «Грузия») still
    /// count.
    #[serde(default)]
    pub other_sense: Vec<String>,
}

/// What kind of name of an entity a name is; where one name is of several kinds for one
/// entity, the greatest counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameKind {
    /// Stands for the entity but names something else: never a mention on its own.
    Metonym,
    /// A demonym adjective: a mention unless it qualifies a person noun or «язык».
    Adjective,
    /// A name of the entity: always a mention.
    Alias,
}

/// A loaded entity.
#[derive(Debug, Clone)]
pub struct GazEntity {
    pub def: EntityDef,
    pub kind: EntityKind,
}

impl GazEntity {
    /// The entity's country: its own code, or its home country.
    pub fn country(&self) -> Option<&str> {
        self.def.code.as_deref().or(self.def.country.as_deref())
    }

    /// Every name to match: (text, case-sensitive), adjectives and metonyms included.
    pub fn names(&self) -> impl Iterator<Item = (&str, bool)> {
        self.names_and_kinds().map(|(name, cased, _)| (name, cased))
    }

    /// Every name to match: (text, case-sensitive, its kind).
    pub fn names_and_kinds(&self) -> impl Iterator<Item = (&str, bool, NameKind)> {
        std::iter::once((self.def.name.as_str(), false, NameKind::Alias))
            .chain(all(&self.def.aliases, false, NameKind::Alias))
            .chain(all(&self.def.adjectives, false, NameKind::Adjective))
            .chain(all(&self.def.cased, true, NameKind::Alias))
            .chain(all(&self.def.metonyms, false, NameKind::Metonym))
    }
}

fn all(names: &[String], cased: bool, kind: NameKind) -> impl Iterator<Item = (&str, bool, NameKind)> {
    names.iter().map(move |a| (a.as_str(), cased, kind))
}

/// Every entity of every gazetteer file.
#[derive(Debug, Clone, Default)]
pub struct Gazetteer {
    pub entities: Vec<GazEntity>,
}

/// A gazetteer that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GazetteerError {
    #[error("cannot read the gazetteer {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("invalid gazetteer {path}: {cause}")]
    Parse { path: String, cause: serde_yaml::Error },
    #[error("invalid gazetteer {path}: entity {id:?}: {message}")]
    Entity { path: String, id: String, message: String },
}

impl Gazetteer {
    /// Reads gazetteer files.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<Gazetteer, GazetteerError> {
        let mut gazetteer = Gazetteer::default();
        for path in paths {
            let path = path.as_ref();
            let text = std::fs::read_to_string(path).map_err(|cause| GazetteerError::Read {
                path: path.display().to_string(),
                cause,
            })?;
            gazetteer.add(&path.display().to_string(), &text)?;
        }
        Ok(gazetteer)
    }

    /// Adds the entities of one gazetteer file (`name` is used in errors).
    pub fn add(&mut self, name: &str, yaml: &str) -> Result<(), GazetteerError> {
        let file: GazetteerFile = serde_yaml::from_str(yaml).map_err(|cause| GazetteerError::Parse {
            path: name.to_string(),
            cause,
        })?;
        let mut ids: HashSet<String> = self.entities.iter().map(|e| e.def.id.clone()).collect();
        for def in file.entities {
            let fail = |message: &str| GazetteerError::Entity {
                path: name.to_string(),
                id: def.id.clone(),
                message: message.to_string(),
            };
            if def.id.trim().is_empty() || def.name.trim().is_empty() {
                return Err(fail("an entity needs an id and a name"));
            }
            if !ids.insert(def.id.clone()) {
                return Err(fail("the id is used twice"));
            }
            let kind = match file.kind {
                Kind::Country => {
                    let ok = def
                        .code
                        .as_deref()
                        .is_some_and(|c| c.len() == 2 && c.chars().all(|c| c.is_ascii_uppercase()));
                    if !ok {
                        return Err(fail("a country needs `code`, its ISO 3166-1 alpha-2 code (upper case)"));
                    }
                    EntityKind::Country
                }
                Kind::Person => EntityKind::Person,
                Kind::Organisation => EntityKind::Organisation,
            };
            let entity = GazEntity { def, kind };
            if let Some((bad, _)) = entity
                .names()
                .chain(entity.def.except.iter().map(|n| (n.as_str(), false)))
                .chain(entity.def.other_sense.iter().map(|n| (n.as_str(), false)))
                .find(|(n, _)| text::words(n).is_empty())
            {
                return Err(GazetteerError::Entity {
                    path: name.to_string(),
                    id: entity.def.id.clone(),
                    message: format!("the alias {bad:?} has no letters or digits"),
                });
            }
            self.entities.push(entity);
        }
        Ok(())
    }

    /// The entities an entity reference in a query names: by id, by ISO code (countries), or
    /// by any of their names (case-insensitive).
    pub fn resolve(&self, kind: Option<EntityKind>, key: &str) -> Vec<usize> {
        let key_words = text::words(key);
        let found: Vec<usize> = self
            .entities
            .iter()
            .enumerate()
            .filter(|(_, e)| kind.is_none_or(|k| e.kind == k))
            .filter(|(_, e)| {
                e.def.id.eq_ignore_ascii_case(key)
                    || e.def.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(key))
                    || e.names().any(|(n, _)| text::words(n) == key_words)
            })
            .map(|(i, _)| i)
            .collect();
        // A name shared by several entities is ambiguous; an id or code never is.
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEOPLE: &str = "kind: person\nentities:\n  - id: Q7747\n    name: Vladimir Putin\n    country: RU\n    aliases: [Putin, Путин, 普京]\n";

    #[test]
    fn resolves_by_id_code_and_any_name() {
        let mut g = Gazetteer::default();
        g.add(
            "c",
            "kind: country\nentities:\n  - id: Q159\n    name: Russia\n    code: RU\n    aliases: [Moscow]\n",
        )
        .unwrap();
        g.add("p", PEOPLE).unwrap();
        assert_eq!(g.resolve(Some(EntityKind::Country), "ru"), vec![0]);
        assert_eq!(g.resolve(Some(EntityKind::Country), "MOSCOW"), vec![0]);
        assert_eq!(g.resolve(Some(EntityKind::Person), "vladimir putin"), vec![1]);
        assert_eq!(g.resolve(Some(EntityKind::Person), "Путин"), vec![1]);
        assert_eq!(g.resolve(None, "Q7747"), vec![1]);
        assert!(g.resolve(Some(EntityKind::Person), "RU").is_empty());
        assert_eq!(g.entities[1].country(), Some("RU"));
    }

    #[test]
    fn bad_files_name_the_entity() {
        let mut g = Gazetteer::default();
        let err = g
            .add("c.yaml", "kind: country\nentities:\n  - id: Q1\n    name: Nowhere\n")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("c.yaml: entity \"Q1\": a country needs `code`"),
            "{err}"
        );
        g.add("p", PEOPLE).unwrap();
        let err = g.add("p2", PEOPLE).unwrap_err();
        assert!(err.to_string().contains("used twice"), "{err}");
        let err = g
            .add(
                "o",
                "kind: organisation\nentities:\n  - id: X\n    name: X\n    aliases: ['--']\n",
            )
            .unwrap_err();
        assert!(err.to_string().contains("no letters"), "{err}");
        let err = g.add("o", "kind: planet\nentities: []\n").unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
    }
}
