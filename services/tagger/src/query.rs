//! The query language analysts write topics in (see `docs/query-language.md`).
//!
//! ```text
//! query   := or
//! or      := and ("OR" and)*
//! and     := unary (["AND"] "NOT" unary | "AND" unary)*
//! unary   := "NOT" unary | near
//! near    := except ("NEAR/n" except)?
//! except  := primary ("EXCEPT" primary)?
//! primary := "(" or ")" | FIELD ":" primary | "lang:" LANGS primary | ENTITY ":" (WORD | PHRASE)
//!          | "focus:" (WORD | PHRASE) | "@" NAME | WORD | PHRASE
//! ```
//!
//! Operators are upper-case (`and` is a word); two terms side by side without an operator are
//! an error rather than a guess. `EXCEPT` binds tightest, then `NEAR/n`, `NOT`, `AND`, `OR`.
//!
//! `@name` is a vocabulary of the taxonomy ([`Vocabularies`]): a query of its own, written
//! once per language and used in many topics, which stands where it is used as if written
//! there in parentheses (so `title:@talks` scopes every term of it to the title).
//! `lang:ru,uk (...)` holds only for articles in one of those languages.

use std::collections::BTreeMap;
use std::fmt;

use crate::text;

/// A field of an article a term can be scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Title,
    Summary,
    Text,
}

impl Field {
    /// Every field, in the order they are matched.
    pub const ALL: [Field; 3] = [Field::Title, Field::Summary, Field::Text];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Summary => "summary",
            Field::Text => "text",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// The kind of entity an entity reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityRef {
    Country,
    Person,
    Organisation,
    /// `entity:Q159`: any kind, by id.
    Any,
    /// `actors:RU`: a country and every person and organisation of the gazetteer whose
    /// country it is (Russia, Moscow, Putin, Lavrov, Gazprom...).
    Actors,
}

impl EntityRef {
    fn parse(name: &str) -> Option<EntityRef> {
        match name {
            "country" => Some(EntityRef::Country),
            "person" => Some(EntityRef::Person),
            "org" => Some(EntityRef::Organisation),
            "entity" => Some(EntityRef::Any),
            "actors" => Some(EntityRef::Actors),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EntityRef::Country => "country",
            EntityRef::Person => "person",
            EntityRef::Organisation => "org",
            EntityRef::Any => "entity",
            EntityRef::Actors => "actors",
        }
    }
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A word, a phrase (several words in a row) or a prefix (`sanction*`).
    Term {
        /// The term as written, for explanations.
        text: String,
        /// Its lower-cased words.
        words: Vec<String>,
        /// Whether the last word is a prefix.
        prefix: bool,
        field: Option<Field>,
        /// The language of the vocabulary entry the term comes from, if any (for explanations).
        lang: Option<String>,
    },
    /// `country:RU`, `person:"Vladimir Putin"`: any alias of a gazetteer entity.
    Entity {
        kind: EntityRef,
        key: String,
        field: Option<Field>,
        /// Character position of the reference in the query, for resolution errors.
        position: usize,
    },
    /// `focus:RU`: the country is one of the article's focus countries (the countries it is
    /// about, by the weighted mentions of the country and its people); not scoped to a field.
    Focus {
        key: String,
        /// Character position of the reference in the query, for resolution errors.
        position: usize,
    },
    /// `lang:ru,uk`: the article's language is one of these (primary subtags, lower-case).
    Lang(Vec<String>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// The occurrences of `inner` (a term, entity reference or OR-group of them) that do not
    /// overlap an occurrence of `excluded` in the same field: `org:NATO EXCEPT "nato chief"`
    /// does not count the NATO of "NATO chief" (Lucene's span-not).
    Except {
        inner: Box<Expr>,
        excluded: Box<Expr>,
    },
    /// The occurrences of `inner` (a term, entity reference or OR-group of them) that have an
    /// occurrence of `context` at most `distance` words away in the same field: `sanction*
    /// WITH/10 country:*` counts the sanctions a country is named beside. Only `inner`'s
    /// occurrences score; `context` neither scores nor makes the query true by itself.
    With {
        inner: Box<Expr>,
        context: Box<Expr>,
        distance: u32,
    },
    /// Both sides occur in the same field, at most `distance` words apart, in either order.
    Near {
        left: Box<Expr>,
        right: Box<Expr>,
        distance: u32,
    },
}

/// The taxonomy's vocabularies: each name with its entries, each a query in one language
/// (`None`: a query for every language), e.g. `talks` → `[(en, "talks OR negotiations"),
/// (ru, "переговоры"), (zh, "会谈 OR 会晤")]`. The language of an entry says which language's
/// terms matched (`--explain`); it does not restrict where they match (write `lang:` for that),
/// as articles quote words of other languages and detection can mistake a short text's.
pub type Vocabularies = BTreeMap<String, Vec<(Option<String>, String)>>;

/// A query that does not parse: what is wrong and where (a 1-based character column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct QueryError {
    pub column: usize,
    pub message: String,
}

/// The largest `NEAR/n` distance accepted.
pub const MAX_NEAR: u32 = 100;

/// The deepest nesting accepted: parentheses, `NOT`s and field scopes inside one another.
/// The parser and everything that walks a query recurse once per level, so a query nested
/// thousands deep (a typo, or a generated file) would overflow the stack and abort the
/// tagger; this refuses it with an error instead. Real queries nest a few levels.
pub const MAX_DEPTH: usize = 100;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Except,
    Near(u32),
    With(u32),
    /// `title:`, `country:`...
    Scope(String),
    /// `@name`: a vocabulary.
    Vocab(String),
    Word(String),
    Phrase(String),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::LParen => write!(f, "'('"),
            Tok::RParen => write!(f, "')'"),
            Tok::And => write!(f, "AND"),
            Tok::Or => write!(f, "OR"),
            Tok::Not => write!(f, "NOT"),
            Tok::Except => write!(f, "EXCEPT"),
            Tok::Near(n) => write!(f, "NEAR/{n}"),
            Tok::With(n) => write!(f, "WITH/{n}"),
            Tok::Scope(s) => write!(f, "'{s}:'"),
            Tok::Vocab(v) => write!(f, "'@{v}'"),
            Tok::Word(w) => write!(f, "'{w}'"),
            Tok::Phrase(p) => write!(f, "\"{p}\""),
        }
    }
}

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError {
        column: position + 1,
        message: message.into(),
    })
}

fn lex(query: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push((i, Tok::LParen));
            i += 1;
        } else if c == ')' {
            out.push((i, Tok::RParen));
            i += 1;
        } else if c == '"' || c == '\u{201C}' || c == '\u{201D}' {
            let start = i;
            i += 1;
            let mut phrase = String::new();
            while i < chars.len() && !matches!(chars[i], '"' | '\u{201C}' | '\u{201D}') {
                phrase.push(chars[i]);
                i += 1;
            }
            if i == chars.len() {
                return err(start, "this quote is never closed");
            }
            i += 1;
            out.push((start, Tok::Phrase(phrase)));
        } else {
            let start = i;
            let mut word = String::new();
            while i < chars.len() && !chars[i].is_whitespace() && !matches!(chars[i], '(' | ')' | '"') {
                if chars[i] == ':' && !word.is_empty() && word.chars().all(|c| c.is_ascii_alphabetic()) {
                    break;
                }
                word.push(chars[i]);
                i += 1;
            }
            if i < chars.len() && chars[i] == ':' {
                i += 1;
                out.push((start, Tok::Scope(word)));
                continue;
            }
            let tok = match word.as_str() {
                "AND" => Tok::And,
                "OR" => Tok::Or,
                "NOT" => Tok::Not,
                "EXCEPT" => Tok::Except,
                "NEAR" => return err(start, "NEAR needs a distance in words, e.g. NEAR/5"),
                w if w.starts_with("NEAR/") => match w["NEAR/".len()..].parse::<u32>() {
                    Ok(n) if (1..=MAX_NEAR).contains(&n) => Tok::Near(n),
                    _ => return err(start, format!("NEAR/n needs a whole number n from 1 to {MAX_NEAR}")),
                },
                "WITH" => return err(start, "WITH needs a distance in words, e.g. WITH/5"),
                w if w.starts_with("WITH/") => match w["WITH/".len()..].parse::<u32>() {
                    Ok(n) if (1..=MAX_NEAR).contains(&n) => Tok::With(n),
                    _ => return err(start, format!("WITH/n needs a whole number n from 1 to {MAX_NEAR}")),
                },
                w if w.starts_with('@') => {
                    let name = &w[1..];
                    if !is_vocabulary_name(name) {
                        return err(
                            start,
                            "a vocabulary is '@' and a name of lower-case letters, digits, '-' or '_', e.g. @talks",
                        );
                    }
                    Tok::Vocab(name.to_string())
                }
                _ => Tok::Word(word),
            };
            out.push((start, tok));
        }
    }
    Ok(out)
}

/// Whether `name` can name a vocabulary.
pub fn is_vocabulary_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Parses a query that uses no vocabularies.
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    parse_with(query, &Vocabularies::new())
}

/// Parses a query whose `@name`s are among `vocabularies`.
pub fn parse_with(query: &str, vocabularies: &Vocabularies) -> Result<Expr, QueryError> {
    parse_in(query, None, vocabularies, &mut Vec::new(), 0)
}

/// Parses `query` (a topic's, or a vocabulary entry's inside `expanding`, the vocabularies
/// being expanded, innermost last) within the field scope `field`, `depth` levels deep.
fn parse_in(
    query: &str,
    field: Option<Field>,
    vocabularies: &Vocabularies,
    expanding: &mut Vec<String>,
    depth: usize,
) -> Result<Expr, QueryError> {
    let tokens = lex(query)?;
    if tokens.is_empty() {
        return err(0, "the query is empty");
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        end: query.chars().count(),
        depth,
        vocabularies,
        expanding,
    };
    let expr = parser.or(field)?;
    if let Some((pos, tok)) = parser.peek() {
        let message = if *tok == Tok::RParen {
            "this ')' has no matching '('".to_string()
        } else {
            format!("expected AND, OR, NOT or NEAR/n before {tok}")
        };
        return err(*pos, message);
    }
    Ok(expr)
}

struct Parser<'a> {
    tokens: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
    /// How many levels the parser is inside (see [`MAX_DEPTH`]).
    depth: usize,
    vocabularies: &'a Vocabularies,
    /// The vocabularies being expanded (to refuse one that uses itself).
    expanding: &'a mut Vec<String>,
}

impl Parser<'_> {
    /// `@name` within the field scope `field`: the OR of its entries, each parsed there, its
    /// terms labelled with the entry's language. An error inside an entry is reported at the
    /// reference, saying where in the entry it is.
    fn vocabulary(&mut self, name: &str, field: Option<Field>, pos: usize) -> Result<Expr, QueryError> {
        let Some(entries) = self.vocabularies.get(name) else {
            let known: Vec<String> = self.vocabularies.keys().map(|k| format!("@{k}")).collect();
            return err(
                pos,
                if known.is_empty() {
                    format!("@{name} is not a vocabulary (the taxonomy defines none)")
                } else {
                    format!("@{name} is not a vocabulary (the taxonomy's: {})", known.join(", "))
                },
            );
        };
        if self.expanding.iter().any(|n| n == name) {
            return err(
                pos,
                format!(
                    "@{name} uses itself: {} -> @{name}",
                    self.expanding
                        .iter()
                        .map(|n| format!("@{n}"))
                        .collect::<Vec<_>>()
                        .join(" -> ")
                ),
            );
        }
        if self.depth == MAX_DEPTH {
            return err(
                pos,
                format!("the query nests more than {MAX_DEPTH} levels deep (vocabularies inside vocabularies)"),
            );
        }
        self.expanding.push(name.to_string());
        let mut items = Vec::new();
        for (lang, query) in entries {
            let parsed = parse_in(query, field, self.vocabularies, self.expanding, self.depth + 1);
            match parsed {
                Ok(mut expr) => {
                    if let Some(lang) = lang {
                        label(&mut expr, lang);
                    }
                    items.push(expr);
                }
                Err(e) => {
                    self.expanding.pop();
                    let which = lang.as_deref().map_or(String::new(), |l| format!(" ({l})"));
                    return err(pos, format!("in @{name}{which}, at column {}: {}", e.column, e.message));
                }
            }
        }
        self.expanding.pop();
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    /// `parse` one level deeper, at query position `pos`.
    fn nested(
        &mut self,
        pos: usize,
        parse: impl FnOnce(&mut Self) -> Result<Expr, QueryError>,
    ) -> Result<Expr, QueryError> {
        if self.depth == MAX_DEPTH {
            return err(
                pos,
                format!("the query nests more than {MAX_DEPTH} levels deep (parentheses, NOT, field scopes)"),
            );
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    fn peek(&self) -> Option<&(usize, Tok)> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<(usize, Tok)> {
        let tok = self.tokens.get(self.at).cloned();
        self.at += 1;
        tok
    }

    fn or(&mut self, field: Option<Field>) -> Result<Expr, QueryError> {
        let mut items = vec![self.and(field)?];
        while matches!(self.peek(), Some((_, Tok::Or))) {
            self.next();
            items.push(self.and(field)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self, field: Option<Field>) -> Result<Expr, QueryError> {
        let mut items = vec![self.unary(field)?];
        loop {
            match self.peek() {
                Some((_, Tok::And)) => {
                    self.next();
                    items.push(self.unary(field)?);
                }
                // `a NOT b` reads as `a AND NOT b`.
                Some((_, Tok::Not)) => items.push(self.unary(field)?),
                _ => break,
            }
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self, field: Option<Field>) -> Result<Expr, QueryError> {
        if let Some(&(pos, Tok::Not)) = self.peek() {
            self.next();
            return Ok(Expr::Not(Box::new(self.nested(pos, |p| p.unary(field))?)));
        }
        self.near(field)
    }

    fn near(&mut self, field: Option<Field>) -> Result<Expr, QueryError> {
        let left_at = self.peek().map_or(self.end, |(p, _)| *p);
        let left = self.with(field)?;
        let Some(&(_, Tok::Near(distance))) = self.peek() else {
            return Ok(left);
        };
        self.next();
        let right_at = self.peek().map_or(self.end, |(p, _)| *p);
        let right = self.with(field)?;
        for (side, at) in [(&left, left_at), (&right, right_at)] {
            if !is_span(side) {
                return err(
                    at,
                    "NEAR/n joins terms, phrases, entity references or OR-groups of them (not AND, NOT or NEAR)",
                );
            }
        }
        if let Some(&(next, Tok::Near(_))) = self.peek() {
            return err(next, "NEAR/n cannot be chained; group with parentheses and AND instead");
        }
        Ok(Expr::Near {
            left: Box::new(left),
            right: Box::new(right),
            distance,
        })
    }

    fn with(&mut self, field: Option<Field>) -> Result<Expr, QueryError> {
        let inner_at = self.peek().map_or(self.end, |(p, _)| *p);
        let inner = self.except(field)?;
        let Some(&(_, Tok::With(distance))) = self.peek() else {
            return Ok(inner);
        };
        self.next();
        let context_at = self.peek().map_or(self.end, |(p, _)| *p);
        let context = self.except(field)?;
        for (side, at) in [(&inner, inner_at), (&context, context_at)] {
            if !is_span(side) {
                return err(
                    at,
                    "WITH/n joins terms, phrases, entity references or OR-groups of them (not AND, NOT or NEAR)",
                );
            }
        }
        if let Some(&(next, Tok::With(_))) = self.peek() {
            return err(next, "WITH/n cannot be chained; write a WITH/n (b OR c)");
        }
        Ok(Expr::With {
            inner: Box::new(inner),
            context: Box::new(context),
            distance,
        })
    }

    fn except(&mut self, field: Option<Field>) -> Result<Expr, QueryError> {
        let inner_at = self.peek().map_or(self.end, |(p, _)| *p);
        let inner = self.primary(field)?;
        if !matches!(self.peek(), Some((_, Tok::Except))) {
            return Ok(inner);
        }
        self.next();
        let excluded_at = self.peek().map_or(self.end, |(p, _)| *p);
        let excluded = self.primary(field)?;
        for (side, at) in [(&inner, inner_at), (&excluded, excluded_at)] {
            if !is_span(side) {
                return err(
                    at,
                    "EXCEPT joins terms, phrases, entity references or OR-groups of them (not AND, NOT, NEAR or EXCEPT)",
                );
            }
        }
        if let Some(&(next, Tok::Except)) = self.peek() {
            return err(next, "EXCEPT cannot be chained; write a EXCEPT (b OR c)");
        }
        Ok(Expr::Except {
            inner: Box::new(inner),
            excluded: Box::new(excluded),
        })
    }

    fn primary(&mut self, field: Option<Field>) -> Result<Expr, QueryError> {
        let Some((pos, tok)) = self.next() else {
            return err(self.end, "the query ends where a term was expected");
        };
        match tok {
            Tok::LParen => {
                if matches!(self.peek(), Some((_, Tok::RParen))) {
                    return err(pos, "empty parentheses");
                }
                let inner = self.nested(pos, |p| p.or(field))?;
                match self.next() {
                    Some((_, Tok::RParen)) => Ok(inner),
                    Some((p, t)) => err(p, format!("expected ')' or an operator, found {t}")),
                    None => err(pos, "this '(' is never closed"),
                }
            }
            Tok::Vocab(name) => self.vocabulary(&name, field, pos),
            Tok::Scope(name) => {
                if name == "lang" {
                    let langs = match self.next() {
                        Some((_, Tok::Word(list))) => parse_langs(&list),
                        _ => None,
                    };
                    let Some(langs) = langs else {
                        return err(
                            pos,
                            "'lang:' needs languages and a term or group, e.g. lang:ru,uk (...)",
                        );
                    };
                    let inner = self.nested(pos, |p| p.primary(field))?;
                    Ok(Expr::And(vec![Expr::Lang(langs), inner]))
                } else if name == "focus" {
                    if field.is_some() {
                        return err(pos, "'focus:' is about the whole article and takes no field scope");
                    }
                    match self.next() {
                        Some((_, Tok::Word(key) | Tok::Phrase(key))) if !key.trim().is_empty() => Ok(Expr::Focus {
                            key: key.trim().to_string(),
                            position: pos,
                        }),
                        _ => err(pos, "'focus:' needs a country, e.g. focus:RU"),
                    }
                } else if let Some(scope) = Field::parse(&name) {
                    if field.is_some_and(|f| f != scope) {
                        return err(pos, format!("'{name}:' inside a scope on another field"));
                    }
                    self.nested(pos, |p| p.primary(Some(scope)))
                } else if let Some(kind) = EntityRef::parse(&name) {
                    match self.next() {
                        Some((_, Tok::Word(key) | Tok::Phrase(key))) if !key.trim().is_empty() => Ok(Expr::Entity {
                            kind,
                            key: key.trim().to_string(),
                            field,
                            position: pos,
                        }),
                        _ => err(pos, format!("'{name}:' needs a name or code, e.g. {name}:\"...\"")),
                    }
                } else {
                    err(
                        pos,
                        format!(
                            "unknown field '{name}:' (fields: title, summary, text; entities: country, person, org, entity, actors; focus; lang)"
                        ),
                    )
                }
            }
            Tok::Word(word) => term(&word, false, field, pos),
            Tok::Phrase(phrase) => term(&phrase, true, field, pos),
            Tok::RParen => err(pos, "')' where a term was expected"),
            other => err(pos, format!("{other} where a term was expected")),
        }
    }
}

/// `ru,uk` → `["ru", "uk"]`: language codes (two or three letters, a subtag after `-` ignored).
fn parse_langs(list: &str) -> Option<Vec<String>> {
    let langs: Vec<String> = list
        .split(',')
        .map(|l| l.split('-').next().unwrap_or_default().to_ascii_lowercase())
        .collect();
    let ok = langs
        .iter()
        .all(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()));
    ok.then_some(langs)
}

/// Labels the terms of `expr` that have no language yet with `lang`.
fn label(expr: &mut Expr, lang: &str) {
    match expr {
        Expr::Term { lang: l @ None, .. } => *l = Some(lang.to_string()),
        Expr::Term { .. } | Expr::Entity { .. } | Expr::Focus { .. } | Expr::Lang(_) => {}
        Expr::And(items) | Expr::Or(items) => items.iter_mut().for_each(|e| label(e, lang)),
        Expr::Not(inner) => label(inner, lang),
        Expr::Except { inner, excluded } => {
            label(inner, lang);
            label(excluded, lang);
        }
        Expr::Near { left, right, .. } => {
            label(left, lang);
            label(right, lang);
        }
        Expr::With { inner, context, .. } => {
            label(inner, lang);
            label(context, lang);
        }
    }
}

fn is_span(expr: &Expr) -> bool {
    match expr {
        Expr::Term { .. } | Expr::Entity { .. } => true,
        Expr::Or(items) => items.iter().all(is_span),
        Expr::Except { inner, .. } | Expr::With { inner, .. } => is_span(inner),
        _ => false,
    }
}

fn term(raw: &str, quoted: bool, field: Option<Field>, pos: usize) -> Result<Expr, QueryError> {
    let prefix = raw.ends_with('*');
    let body = raw.trim_end_matches('*');
    if body.contains('*') || raw.ends_with("**") {
        return err(pos, "a wildcard '*' may only end a term");
    }
    let words = text::words(body);
    if words.is_empty() {
        return err(pos, format!("{raw:?} has no letters or digits"));
    }
    if prefix && words.last().is_some_and(|w| w.chars().count() < 2) {
        return err(pos, "a wildcard needs at least two characters before '*'");
    }
    if prefix && !body.ends_with(|c: char| c.is_alphanumeric()) {
        return err(pos, "'*' must follow a letter or digit");
    }
    let text = if quoted { format!("\"{raw}\"") } else { raw.to_string() };
    Ok(Expr::Term {
        text,
        words,
        prefix,
        field,
        lang: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders a parsed query compactly, so that cases read as one line each.
    fn show(expr: &Expr) -> String {
        let scoped = |field: &Option<Field>, s: String| match field {
            Some(f) => format!("{}:{s}", f.as_str()),
            None => s,
        };
        let list = |items: &[Expr]| items.iter().map(show).collect::<Vec<_>>().join(" ");
        match expr {
            Expr::Term {
                words,
                prefix,
                field,
                lang,
                ..
            } => scoped(
                field,
                format!(
                    "[{}{}{}]",
                    words.join(" "),
                    if *prefix { "*" } else { "" },
                    lang.as_deref().map_or(String::new(), |l| format!("@{l}"))
                ),
            ),
            Expr::Lang(langs) => format!("<lang={}>", langs.join(",")),
            Expr::Entity { kind, key, field, .. } => scoped(field, format!("<{}={key}>", kind.as_str())),
            Expr::Focus { key, .. } => format!("<focus={key}>"),
            Expr::And(items) => format!("(AND {})", list(items)),
            Expr::Or(items) => format!("(OR {})", list(items)),
            Expr::Not(inner) => format!("(NOT {})", show(inner)),
            Expr::Near { left, right, distance } => format!("(NEAR/{distance} {} {})", show(left), show(right)),
            Expr::Except { inner, excluded } => format!("(EXCEPT {} {})", show(inner), show(excluded)),
            Expr::With {
                inner,
                context,
                distance,
            } => format!("(WITH/{distance} {} {})", show(inner), show(context)),
        }
    }

    #[track_caller]
    fn check(query: &str, expected: &str) {
        match parse(query) {
            Ok(expr) => assert_eq!(show(&expr), expected, "query {query:?}"),
            Err(e) => assert_eq!(format!("error {e}"), expected, "query {query:?}"),
        }
    }

    #[test]
    fn operators_nesting_and_precedence() {
        check("putin", "[putin]");
        check("Putin AND Xi", "(AND [putin] [xi])");
        check("putin OR xi OR lavrov", "(OR [putin] [xi] [lavrov])");
        check("a OR b AND c", "(OR [a] (AND [b] [c]))");
        check("(a OR b) AND c", "(AND (OR [a] [b]) [c])");
        check("a NOT b", "(AND [a] (NOT [b]))");
        check("a AND NOT b", "(AND [a] (NOT [b]))");
        check("NOT NOT a", "(NOT (NOT [a]))");
        check("a AND (b OR (c AND NOT d))", "(AND [a] (OR [b] (AND [c] (NOT [d]))))");
        check(
            "a and b",
            "error at column 3: expected AND, OR, NOT or NEAR/n before 'and'",
        );
        check("\"Xi Jinping\" OR sanction*", "(OR [xi jinping] [sanction*])");
        check("\u{201C}Xi Jinping\u{201D}", "[xi jinping]");
        check("\"Nord Stream*\"", "[nord stream*]");
        check("U.S.", "[u s]");
    }

    fn vocabularies() -> Vocabularies {
        let entry = |lang: Option<&str>, q: &str| (lang.map(str::to_string), q.to_string());
        [
            (
                "talks",
                vec![
                    entry(Some("en"), "talks OR negotiat*"),
                    entry(Some("ru"), "переговоры"),
                    entry(Some("zh"), "会谈"),
                ],
            ),
            ("meet", vec![entry(None, "@talks OR summit")]),
            ("loop", vec![entry(None, "a OR @loop2")]),
            ("loop2", vec![entry(None, "@loop")]),
            ("broken", vec![entry(Some("ru"), "a AND")]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    #[track_caller]
    fn check_with(query: &str, expected: &str) {
        let got = parse_with(query, &vocabularies()).unwrap_or_else(|e| panic!("{query:?}: {e}"));
        assert_eq!(show(&got), expected, "{query:?}");
    }

    #[test]
    fn vocabularies_stand_where_they_are_used() {
        check_with(
            "@talks",
            "(OR (OR [talks@en] [negotiat*@en]) [переговоры@ru] [会 谈@zh])",
        );
        check_with(
            "title:@talks AND x",
            "(AND (OR (OR title:[talks@en] title:[negotiat*@en]) title:[переговоры@ru] title:[会 谈@zh]) [x])",
        );
        // A vocabulary in a vocabulary keeps the inner entries' languages.
        check_with(
            "@meet",
            "(OR (OR (OR [talks@en] [negotiat*@en]) [переговоры@ru] [会 谈@zh]) [summit])",
        );
        check_with("lang:ru,uk (a OR b)", "(AND <lang=ru,uk> (OR [a] [b]))");
        check_with(
            "lang:zh-Hant @talks",
            "(AND <lang=zh> (OR (OR [talks@en] [negotiat*@en]) [переговоры@ru] [会 谈@zh]))",
        );
    }

    #[test]
    fn vocabulary_errors_say_which_and_where() {
        let e = |q: &str| parse_with(q, &vocabularies()).unwrap_err().to_string();
        assert_eq!(
            e("x OR @nope"),
            "at column 6: @nope is not a vocabulary (the taxonomy's: @broken, @loop, @loop2, @meet, @talks)"
        );
        assert_eq!(
            parse("@talks").unwrap_err().to_string(),
            "at column 1: @talks is not a vocabulary (the taxonomy defines none)"
        );
        assert_eq!(
            e("@loop"),
            "at column 1: in @loop, at column 6: in @loop2, at column 1: @loop uses itself: @loop -> @loop2 -> @loop"
        );
        assert_eq!(
            e("@broken"),
            "at column 1: in @broken (ru), at column 6: the query ends where a term was expected"
        );
        assert_eq!(
            e("@Talks"),
            "at column 1: a vocabulary is '@' and a name of lower-case letters, digits, '-' or '_', e.g. @talks"
        );
        assert!(
            e("lang:russian x").contains("'lang:' needs languages"),
            "{}",
            e("lang:russian x")
        );
        assert!(
            e("lang:ru").contains("the query ends where a term was expected"),
            "{}",
            e("lang:ru")
        );
    }

    #[test]
    fn near() {
        check("putin NEAR/5 xi", "(NEAR/5 [putin] [xi])");
        check(
            "(putin OR kremlin) NEAR/3 \"xi jinping\"",
            "(NEAR/3 (OR [putin] [kremlin]) [xi jinping])",
        );
        check("a NEAR/2 b AND c", "(AND (NEAR/2 [a] [b]) [c])");
        check("NOT a NEAR/2 b", "(NOT (NEAR/2 [a] [b]))");
        check("a NEAR/2 country:RU", "(NEAR/2 [a] <country=RU>)");
        check(
            "a NEAR b",
            "error at column 3: NEAR needs a distance in words, e.g. NEAR/5",
        );
        check(
            "a NEAR/0 b",
            "error at column 3: NEAR/n needs a whole number n from 1 to 100",
        );
        check(
            "a NEAR/101 b",
            "error at column 3: NEAR/n needs a whole number n from 1 to 100",
        );
        check(
            "a NEAR/x b",
            "error at column 3: NEAR/n needs a whole number n from 1 to 100",
        );
        check(
            "(a AND b) NEAR/2 c",
            "error at column 1: NEAR/n joins terms, phrases, entity references or OR-groups of them (not AND, NOT or NEAR)",
        );
        check(
            "a NEAR/2 (b OR NOT c)",
            "error at column 10: NEAR/n joins terms, phrases, entity references or OR-groups of them (not AND, NOT or NEAR)",
        );
        check(
            "a NEAR/2 b NEAR/2 c",
            "error at column 12: NEAR/n cannot be chained; group with parentheses and AND instead",
        );
        check(
            "a NEAR/2",
            "error at column 9: the query ends where a term was expected",
        );
    }

    #[test]
    fn with() {
        check("sanction* WITH/10 oil", "(WITH/10 [sanction*] [oil])");
        check("a EXCEPT b WITH/5 c", "(WITH/5 (EXCEPT [a] [b]) [c])");
        check("a WITH/5 b NEAR/3 c", "(NEAR/3 (WITH/5 [a] [b]) [c])");
        check("a WITH/5 b OR c", "(OR (WITH/5 [a] [b]) [c])");
        check("(a WITH/2 b) WITH/5 c", "(WITH/5 (WITH/2 [a] [b]) [c])");
        check(
            "a WITH/5 (b AND c)",
            "error at column 10: WITH/n joins terms, phrases, entity references or OR-groups of them (not AND, NOT or NEAR)",
        );
        check(
            "a WITH/2 b WITH/2 c",
            "error at column 12: WITH/n cannot be chained; write a WITH/n (b OR c)",
        );
        check(
            "a WITH/101 b",
            "error at column 3: WITH/n needs a whole number n from 1 to 100",
        );
    }

    #[test]
    fn except() {
        check("nato EXCEPT \"nato chief\"", "(EXCEPT [nato] [nato chief])");
        check(
            "org:NATO EXCEPT (\"nato ally\" OR \"nato allies\")",
            "(EXCEPT <org=NATO> (OR [nato ally] [nato allies]))",
        );
        check("a EXCEPT b OR c", "(OR (EXCEPT [a] [b]) [c])");
        check("NOT a EXCEPT b", "(NOT (EXCEPT [a] [b]))");
        check("a EXCEPT b NEAR/3 c", "(NEAR/3 (EXCEPT [a] [b]) [c])");
        check("title:(a EXCEPT b)", "(EXCEPT title:[a] title:[b])");
        check(
            "a except b",
            "error at column 3: expected AND, OR, NOT or NEAR/n before 'except'",
        );
        check(
            "a EXCEPT (b AND c)",
            "error at column 10: EXCEPT joins terms, phrases, entity references or OR-groups of them (not AND, NOT, NEAR or EXCEPT)",
        );
        check(
            "(a NEAR/2 b) EXCEPT c",
            "error at column 1: EXCEPT joins terms, phrases, entity references or OR-groups of them (not AND, NOT, NEAR or EXCEPT)",
        );
        check(
            "a EXCEPT b EXCEPT c",
            "error at column 12: EXCEPT cannot be chained; write a EXCEPT (b OR c)",
        );
        check(
            "a EXCEPT",
            "error at column 9: the query ends where a term was expected",
        );
    }

    #[test]
    fn scripts() {
        check(
            "путин* AND (си OR \"Си Цзиньпин\")",
            "(AND [путин*] (OR [си] [си цзиньпин]))",
        );
        check("Зеленськ*", "[зеленськ*]");
        check("习近平 OR 普京", "(OR [习 近 平] [普 京])");
        check("\"中俄 关系\"", "[中 俄 关 系]");
    }

    #[test]
    fn fields_and_entities() {
        check("title:putin", "title:[putin]");
        check(
            "title:(putin OR xi) AND text:\"power of siberia\"",
            "(AND (OR title:[putin] title:[xi]) text:[power of siberia])",
        );
        check("title:country:CN", "title:<country=CN>");
        check(
            "person:\"Vladimir Putin\" AND org:NATO",
            "(AND <person=Vladimir Putin> <org=NATO>)",
        );
        check("entity:Q159", "<entity=Q159>");
        check(
            "title:(a OR text:b)",
            "error at column 13: 'text:' inside a scope on another field",
        );
        check(
            "body:putin",
            "error at column 1: unknown field 'body:' (fields: title, summary, text; entities: country, person, org, entity, actors; focus; lang)",
        );
        check(
            "country:",
            "error at column 1: 'country:' needs a name or code, e.g. country:\"...\"",
        );
        check("10:30", "[10 30]");
        check("focus:RU AND focus:\"China\"", "(AND <focus=RU> <focus=China>)");
        check(
            "title:focus:RU",
            "error at column 7: 'focus:' is about the whole article and takes no field scope",
        );
        check("focus:", "error at column 1: 'focus:' needs a country, e.g. focus:RU");
        check(
            "focus:RU NEAR/3 putin",
            "error at column 1: NEAR/n joins terms, phrases, entity references or OR-groups of them (not AND, NOT or NEAR)",
        );
    }

    #[test]
    fn errors_name_the_position() {
        check("", "error at column 1: the query is empty");
        check("a AND", "error at column 6: the query ends where a term was expected");
        check("(a OR b", "error at column 1: this '(' is never closed");
        check("a OR b)", "error at column 7: this ')' has no matching '('");
        check("()", "error at column 1: empty parentheses");
        check("a OR \"b c", "error at column 6: this quote is never closed");
        check("sanc*tion", "error at column 1: a wildcard '*' may only end a term");
        check("*", "error at column 1: \"*\" has no letters or digits");
        check(
            "s*",
            "error at column 1: a wildcard needs at least two characters before '*'",
        );
        check("a OR OR b", "error at column 6: OR where a term was expected");
        check(
            "(a) (b)",
            "error at column 5: expected AND, OR, NOT or NEAR/n before '('",
        );
    }

    /// Found by fuzzing (`newswire-fuzz run query`): 7,831 nested parentheses overflowed the
    /// parser's stack and aborted the process; so would long chains of NOT or of one field
    /// scope. Such a query is now an error at the level that is too deep.
    #[test]
    fn nesting_is_limited_instead_of_overflowing_the_stack() {
        let parens = |n: usize| format!("{}putin{}", "(".repeat(n), ")".repeat(n));
        check(&parens(MAX_DEPTH), "[putin]");
        check(
            &parens(MAX_DEPTH + 1),
            "error at column 101: the query nests more than 100 levels deep (parentheses, NOT, field scopes)",
        );
        check(
            &format!("a AND {}b", "NOT ".repeat(MAX_DEPTH + 1)),
            "error at column 407: the query nests more than 100 levels deep (parentheses, NOT, field scopes)",
        );
        check(
            &format!("{}putin", "title:".repeat(MAX_DEPTH + 1)),
            "error at column 601: the query nests more than 100 levels deep (parentheses, NOT, field scopes)",
        );
        let input = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fuzz/seeds/query/crash-deep-parentheses.txt"
        ))
        .unwrap();
        let input = String::from_utf8_lossy(&input).into_owned();
        // On a thread with the 2 MiB stack the services run stages on.
        let result = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || parse(&input).map(|_| ()))
            .unwrap()
            .join()
            .unwrap();
        assert!(result.unwrap_err().message.contains("levels deep"));
    }
}
