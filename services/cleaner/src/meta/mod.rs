//! Article metadata from the page, with the source of every field.
//!
//! Order of trust, per field (the first source that has a usable value wins; the feed item is
//! consulted by [`crate::clean`] after the page):
//!
//! | field | sources, most trusted first |
//! |---|---|
//! | title | JSON-LD `headline`/`name` · `dc.title` · `og:title` · `twitter:title` · `<title>` (site name cut off) · `<h1>` |
//! | authors | JSON-LD `author[].name` · `<meta name=author>` / `article:author` (names, not URLs) · `[rel=author]`, `[itemprop=author]`, `.byline` |
//! | published_at | JSON-LD `datePublished` · `article:published_time` · other date metas (`pubdate`, `date`, `dc.date`, `parsely-pub-date`, `sailthru.date`...) · `<time datetime>` · date in the URL path |
//! | updated_at | JSON-LD `dateModified` · `article:modified_time` · `og:updated_time` |
//! | language | `<html lang>` · `content-language` · `og:locale` · JSON-LD `inLanguage` (then the feed, then detection on the text) |
//! | summary | JSON-LD `description` · `og:description` · `description` · `twitter:description` |
//! | lead_image | JSON-LD `image` · `og:image` · `twitter:image` |
//! | site_name | JSON-LD `publisher.name` · `og:site_name` · `application-name` |
//! | section | JSON-LD `articleSection` · `article:section` |
//! | canonical_url | `<link rel=canonical>` · `og:url` · JSON-LD `url`/`mainEntityOfPage` |
//!
//! The feed item's value is taken over the page's when the page's comes only from its markup
//! or URL (`<title>`, `<h1>`, `<time>`, a byline element, a date in the path).
//!
//! Dates are sanity-checked ([`plausible_date`]): a date after the fetch time (plus a day of
//! clock skew) or before 1995 is not taken, and the next source is tried.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use dom_query::{Document, NodeRef};
use serde_json::Value;

pub mod byline;
mod dates;
mod language;

pub(crate) use dates::month_of;
pub use dates::{date_from_url, parse_date, press_offset_hours, visible_date};
pub use language::{bcp47, iso639_3, normalize_language};

/// Where a metadata value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum From {
    /// A JSON-LD block (schema.org `NewsArticle` and friends).
    JsonLd,
    /// OpenGraph (`og:*`, `article:*`) meta tags.
    OpenGraph,
    /// Other meta tags (`name=description`, `dc.*`, `twitter:*`, `<html lang>`, `<link rel=canonical>`).
    Meta,
    /// The document's markup itself (`<title>`, `<h1>`, `<time>`, a byline element).
    Html,
    /// The article's URL.
    Url,
    /// The feed item.
    Feed,
    /// Detected from the text.
    Detected,
}

impl From {
    /// The name used in the record's provenance map.
    pub fn as_str(self) -> &'static str {
        match self {
            From::JsonLd => "json_ld",
            From::OpenGraph => "opengraph",
            From::Meta => "meta",
            From::Html => "html",
            From::Url => "url",
            From::Feed => "feed",
            From::Detected => "detected",
        }
    }
}

/// A value and its source.
pub type Sourced<T> = Option<(T, From)>;

/// The metadata found in one page.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PageMeta {
    /// Headline.
    pub title: Sourced<String>,
    /// Author names.
    pub authors: Sourced<Vec<String>>,
    /// Publication time.
    pub published_at: Sourced<DateTime<Utc>>,
    /// Last modification time.
    pub updated_at: Sourced<DateTime<Utc>>,
    /// Declared language (BCP 47, normalised).
    pub language: Sourced<String>,
    /// Description / standfirst.
    pub summary: Sourced<String>,
    /// Lead image URL (absolute when a base URL is known).
    pub lead_image: Sourced<String>,
    /// Publisher name.
    pub site_name: Sourced<String>,
    /// Section.
    pub section: Sourced<String>,
    /// Canonical URL, absolute, not yet normalised.
    pub canonical_url: Sourced<String>,
}

pub use record::plausible_date;

/// How far after the headline a shown date is looked for, in characters.
const SHOWN_DATE_WINDOW: usize = 1_500;

/// The page's text from its headline (`<h1>`, else the start of the body) for
/// [`SHOWN_DATE_WINDOW`] characters, scripts and styles left out.
fn shown_text(doc: &Document) -> String {
    // The body's text nodes but those of scripts, styles and noscripts (read in place: the
    // page keeps its scripts, JSON-LD among them, and is not parsed twice).
    let mut text = String::new();
    for body in doc.select("body").nodes() {
        for node in body.descendants_it().filter(|n| n.is_text()) {
            let hidden = node
                .ancestors_it(None)
                .take_while(|a| a.id != body.id)
                .any(|a| a.has_name("script") || a.has_name("style") || a.has_name("noscript"));
            if !hidden {
                text.push_str(&node.text());
            }
        }
    }
    let headline = select(doc, "h1")
        .first()
        .map(|h| h.text().trim().to_string())
        .unwrap_or_default();
    let from = (!headline.is_empty())
        .then(|| text.find(&headline))
        .flatten()
        .unwrap_or(0);
    text[from..].chars().take(SHOWN_DATE_WINDOW).collect()
}

/// The language a text's letters say, for the zone of a shown date: `zh` when it is mostly
/// CJK, `ru` when mostly Cyrillic.
fn script_language(text: &str) -> Option<String> {
    let (mut cjk, mut cyrillic, mut letters) = (0usize, 0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        if record::is_cjk(c) {
            cjk += 1;
        } else if ('\u{0400}'..='\u{04FF}').contains(&c) {
            cyrillic += 1;
        }
    }
    if cjk * 2 > letters {
        Some("zh".into())
    } else if cyrillic * 2 > letters {
        Some("ru".into())
    } else {
        None
    }
}

/// The elements matching `css`, in document order (none when the selector is invalid).
fn select<'a>(doc: &'a Document, css: &str) -> Vec<NodeRef<'a>> {
    doc.try_select(css).map(|s| s.nodes().to_vec()).unwrap_or_default()
}

fn attr(el: &NodeRef<'_>, name: &str) -> Option<String> {
    el.attr(name).map(|v| v.to_string())
}

fn clean(s: &str) -> Option<String> {
    let s = crate::text::normalize_text(&crate::html_to_text(s));
    (!s.is_empty()).then_some(s)
}

/// One `<meta content>` tag: the names it goes by, and its content.
struct MetaTag {
    /// `property` or else `name` (the name `meta_all` matches).
    name: Option<String>,
    /// `itemprop`.
    itemprop: Option<String>,
    content: String,
}

/// Every `<meta content>` of the page, read in one pass (the fields below look up a dozen
/// names each; a selector pass over the document per name cost more than the lookups).
fn meta_tags(doc: &Document) -> Vec<MetaTag> {
    select(doc, "meta[content]")
        .iter()
        .filter_map(|el| {
            Some(MetaTag {
                name: attr(el, "property").or_else(|| attr(el, "name")),
                itemprop: attr(el, "itemprop"),
                content: attr(el, "content")?,
            })
        })
        .collect()
}

/// `content` of the first `<meta>` whose `property`, `name` or `itemprop` is one of `keys`
/// (case-insensitive), trying the keys in order.
fn meta_content(metas: &[MetaTag], keys: &[&str]) -> Option<String> {
    for key in keys {
        for tag in metas {
            let name = tag.name.as_deref().or(tag.itemprop.as_deref());
            if name.is_some_and(|n| n.trim().eq_ignore_ascii_case(key))
                && let Some(v) = clean(&tag.content)
            {
                return Some(v);
            }
        }
    }
    None
}

/// Every `content` of `<meta>` tags whose `property` or `name` is `key`.
fn meta_all(metas: &[MetaTag], key: &str) -> Vec<String> {
    metas
        .iter()
        .filter(|tag| tag.name.as_deref().is_some_and(|n| n.trim().eq_ignore_ascii_case(key)))
        .filter_map(|tag| clean(&tag.content))
        .collect()
}

/// The text of an element, its text nodes joined by spaces (`<h1>One<br>Two</h1>` is
/// "One Two"), normalised.
fn element_text(el: &NodeRef<'_>) -> String {
    text_without(el, |_| false)
}

/// [`element_text`] without the text inside the descendants `skip` says are not part of it.
fn text_without(el: &NodeRef<'_>, skip: impl Fn(&NodeRef<'_>) -> bool) -> String {
    let kept = |n: &NodeRef<'_>| {
        let mut at = n.parent();
        while let Some(parent) = at {
            if parent.id == el.id {
                return true;
            }
            if skip(&parent) {
                return false;
            }
            at = parent.parent();
        }
        true
    };
    let parts: Vec<String> = el
        .descendants_it()
        .filter(|n| n.is_text() && kept(n))
        .map(|n| n.text().to_string())
        .collect();
    crate::text::normalize_text(&parts.join(" "))
}

/// Class words of the parts of a byline that say what the person is, not who: «<div
/// class="author"><a>Ben Silverman</a><div class="author-title">Games Editor</div></div>».
const ROLE_CLASSES: &[&str] = &["title", "role", "job", "position", "bio", "desc"];

/// Whether an element's class marks it as a byline's role, title or biography
/// ([`ROLE_CLASSES`]).
fn is_role_element(el: &NodeRef<'_>) -> bool {
    attr(el, "class").is_some_and(|class| {
        let class = class.to_ascii_lowercase();
        ROLE_CLASSES.iter().any(|r| class.contains(r))
    })
}

/// The page's `<link rel="canonical" href>`, if any.
fn canonical_link(doc: &Document) -> Option<String> {
    select(doc, "link[rel=canonical][href]")
        .iter()
        .filter_map(|link| attr(link, "href"))
        .map(|href| href.trim().to_string())
        .find(|href| !href.is_empty())
}

/// The JSON-LD object describing the article: the first object (searching `@graph` and arrays)
/// whose `@type` is an article type, else the first with a `headline`.
fn json_ld_article(doc: &Document) -> Option<Value> {
    let mut objects = json_ld_objects(doc);
    let is_article = |v: &Value| {
        let types: Vec<&str> = match v.get("@type") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        types.iter().any(|t| {
            t.ends_with("Article") || matches!(*t, "BlogPosting" | "Report" | "LiveBlogPosting" | "SocialMediaPosting")
        })
    };
    let idx = objects
        .iter()
        .position(is_article)
        .or_else(|| objects.iter().position(|v| v.get("headline").is_some()))?;
    Some(objects.swap_remove(idx))
}

/// The ingredients and steps of the page's recipe, from its JSON-LD `Recipe`
/// (`recipeIngredient`; `recipeInstructions` as text, a list of texts, `HowToStep`s or
/// `HowToSection`s of them), or its microdata (`itemprop="recipeIngredient"`, `ingredients`,
/// `recipeInstructions`), in order. Readability drops a recipe's lists (short lines, many
/// of them links), yet they are the page's content.
pub fn recipe_parts(doc: &Document) -> Vec<String> {
    fn steps(v: &Value, out: &mut Vec<String>, depth: usize) {
        if depth > 4 {
            return;
        }
        match v {
            Value::String(s) => out.extend(clean(s)),
            Value::Array(items) => items.iter().for_each(|i| steps(i, out, depth + 1)),
            Value::Object(o) => {
                if let Some(list) = o.get("itemListElement") {
                    steps(list, out, depth + 1);
                } else if let Some(text) = o.get("text").or_else(|| o.get("name")) {
                    steps(text, out, depth + 1);
                }
            }
            _ => {}
        }
    }
    let is_recipe = |v: &Value| match v.get("@type") {
        Some(Value::String(s)) => s == "Recipe",
        Some(Value::Array(a)) => a.iter().any(|t| t == "Recipe"),
        _ => false,
    };
    let Some(recipe) = json_ld_objects(doc).into_iter().find(is_recipe) else {
        // Microdata, where the page has no JSON-LD recipe.
        return select(
            doc,
            r#"[itemprop="recipeIngredient"], [itemprop="ingredients"], [itemprop="recipeInstructions"]"#,
        )
        .iter()
        .filter_map(|e| clean(&e.text()))
        .collect();
    };
    let mut out = Vec::new();
    for key in ["recipeIngredient", "recipeInstructions"] {
        if let Some(v) = recipe.get(key) {
            steps(v, &mut out, 0);
        }
    }
    out
}

/// Every JSON-LD object of the page, `@graph`s and arrays flattened.
fn json_ld_objects(doc: &Document) -> Vec<Value> {
    let mut objects = Vec::new();
    for script in select(doc, r#"script[type="application/ld+json"]"#) {
        let text = script.text().to_string();
        let text = text.trim();
        let text = text.strip_prefix("//").unwrap_or(text).trim_start();
        let text = text.strip_prefix("<![CDATA[").unwrap_or(text);
        let text = text.trim_end();
        let text = text.strip_suffix("]]>").unwrap_or(text).trim_end();
        let text = text.strip_suffix("//").unwrap_or(text);
        let Ok(value) = serde_json::from_str::<Value>(text.trim().trim_end_matches(';')) else {
            continue;
        };
        flatten_ld(value, &mut objects, 0);
    }
    objects
}

fn flatten_ld(value: Value, out: &mut Vec<Value>, depth: usize) {
    if depth > 4 {
        return;
    }
    match value {
        Value::Array(items) => items.into_iter().for_each(|v| flatten_ld(v, out, depth + 1)),
        Value::Object(mut map) => {
            if let Some(graph) = map.remove("@graph") {
                flatten_ld(graph, out, depth + 1);
            }
            out.push(Value::Object(map));
        }
        _ => {}
    }
}

/// A string, or the `name`/`url`/`@id` of an object, or the first of an array.
fn ld_str(v: &Value, keys: &[&str]) -> Option<String> {
    match v {
        Value::String(s) => clean(s),
        Value::Array(a) => a.iter().find_map(|v| ld_str(v, keys)),
        Value::Object(o) => keys.iter().find_map(|k| o.get(*k).and_then(|v| ld_str(v, keys))),
        _ => None,
    }
}

fn ld_names(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().flat_map(ld_names).collect(),
        Value::Object(o) => o.get("name").and_then(|n| ld_str(n, &[])).into_iter().collect(),
        Value::String(s) => clean(s).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn absolute(base: Option<&url::Url>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    match base {
        Some(base) => base.join(href).ok().map(String::from),
        None => url::Url::parse(href).ok().map(String::from),
    }
}

/// Cuts a site name off a document title, in the way reader views do: at the last ` | `,
/// ` - `, ` — `, ` » ` or ` / ` separator, keeping the longer side when the first part is too
/// short to be a headline.
pub fn title_from_document(title: &str, h1: Option<&str>) -> String {
    let orig = crate::text::normalize_text(title);
    let words = |s: &str| s.split_whitespace().count();
    let seps = [" | ", " - ", " – ", " — ", " » ", " / ", " :: "];
    let last_sep = seps
        .iter()
        .filter_map(|sep| orig.rfind(sep).map(|i| (i, sep.len())))
        .max();
    let mut cur = orig.clone();
    if let Some((i, _)) = last_sep {
        cur = orig[..i].trim().to_string();
        if words(&cur) < 3 {
            let first_sep = seps
                .iter()
                .filter_map(|sep| orig.find(sep).map(|i| (i, sep.len())))
                .min();
            if let Some((j, len)) = first_sep {
                cur = orig[j + len..].trim().to_string();
            }
        }
    } else if orig.contains(": ") {
        let matches_heading = h1.is_some_and(|h| h.trim() == orig);
        if !matches_heading && let Some(i) = orig.rfind(':') {
            cur = orig[i + 1..].trim().to_string();
            if words(&cur) < 3
                && let Some(j) = orig.find(':')
            {
                cur = orig[j + 1..].trim().to_string();
            } else if orig.find(':').is_some_and(|j| words(&orig[..j]) > 5) {
                cur = orig.clone();
            }
        }
    } else if (orig.len() > 150 || orig.len() < 15)
        && let Some(h) = h1
    {
        cur = crate::text::normalize_text(h);
    }
    let hierarchical = [" / ", " » ", " > ", " \\ "].iter().any(|s| orig.contains(s));
    let orig_words = orig
        .split_whitespace()
        .filter(|w| !matches!(*w, "|" | "-" | "–" | "—" | "»" | "/" | ">" | "::"))
        .count();
    if words(&cur) <= 4 && (!hierarchical || words(&cur) + 1 != orig_words) {
        return orig;
    }
    if cur.is_empty() { orig } else { cur }
}

/// Reads every metadata field the page offers. `page_url` resolves relative links; `now` is
/// the fetch time that dates are checked against.
pub fn page_meta(doc: &Document, page_url: Option<&str>, now: DateTime<Utc>) -> PageMeta {
    let base = page_url.and_then(|u| url::Url::parse(u).ok());
    let base = base.as_ref();
    let ld = json_ld_article(doc);
    let metas = meta_tags(doc);
    let ld_get = |key: &str| ld.as_ref().and_then(|v| v.get(key));
    let mut m = PageMeta::default();

    let h1 = select(doc, "h1").first().map(element_text);
    let doc_title = select(doc, "title").first().map(element_text);
    let ld_headline = ld_get("headline").and_then(|v| ld_str(v, &[]));
    let ld_name = ld_get("name").and_then(|v| ld_str(v, &[]));
    // Some sites put a description in `headline` and the title in `name`: when they differ,
    // take the one closer to the document's title.
    let ld_title = match (ld_headline, ld_name) {
        (Some(h), Some(n)) if h != n => {
            let t = doc_title.as_deref().unwrap_or_default();
            if similarity(&n, t) > similarity(&h, t) {
                Some(n)
            } else {
                Some(h)
            }
        }
        (h, n) => h.or(n),
    };
    m.title = ld_title
        .map(|t| (t, From::JsonLd))
        .or_else(|| meta_content(&metas, &["dc.title", "dcterm:title"]).map(|t| (t, From::Meta)))
        .or_else(|| meta_content(&metas, &["og:title"]).map(|t| (t, From::OpenGraph)))
        .or_else(|| meta_content(&metas, &["twitter:title"]).map(|t| (t, From::Meta)))
        .or_else(|| {
            let t = title_from_document(doc_title.as_deref()?, h1.as_deref());
            (!t.is_empty()).then_some((t, From::Html))
        })
        .or_else(|| h1.clone().filter(|h| !h.is_empty()).map(|h| (h, From::Html)));

    // Authors are people: each source's strings are cut down to the names in them (no
    // dates, roles, `By`, contacts or the outlet; one entry per person, see `byline`). The
    // page's structured data wins over its meta tags, which win over its visible byline.
    let site = ld_get("publisher")
        .and_then(|p| p.get("name"))
        .and_then(|n| ld_str(n, &[]))
        .or_else(|| meta_content(&metas, &["og:site_name"]));
    let site = site.as_deref();
    let ld_authors = ld_get("author").map(ld_names).unwrap_or_default();
    let sourced = |raws: Vec<String>, from: From| {
        let names = byline::merge(raws.iter().map(String::as_str), site);
        (!names.is_empty()).then_some((names, from))
    };
    m.authors = sourced(ld_authors, From::JsonLd)
        .or_else(|| {
            let raws: Vec<String> = meta_all(&metas, "author")
                .into_iter()
                .chain(meta_all(&metas, "article:author"))
                .chain(meta_all(&metas, "dc.creator"))
                .filter(|a| !a.contains("://"))
                .collect();
            sourced(raws, From::Meta)
        })
        .or_else(|| {
            // The visible byline: the first short element marked as one that gives a name, and
            // the marked elements beside it (one `rel=author` link per person). Pages list
            // other articles' authors further down; those are not this article's.
            let marked = select(
                doc,
                r#"[rel="author"], [itemprop~="author"], [class*="byline"], [id*="byline"], [class*="author"], [class*="writtenby"]"#,
            );
            let short: Vec<(NodeRef<'_>, String)> = marked
                .iter()
                .filter(|e| !is_role_element(e))
                .map(|e| (*e, text_without(e, is_role_element)))
                .filter(|(_, t)| !t.is_empty() && t.chars().count() <= 100)
                .collect();
            let first = short
                .iter()
                .position(|(_, t)| !byline::names(t, site).is_empty())?;
            let parent = short[first].0.parent().map(|p| p.id);
            let raws: Vec<String> = short[first..]
                .iter()
                .enumerate()
                .filter(|(i, (e, _))| *i == 0 || e.parent().map(|p| p.id) == parent)
                .map(|(_, (_, t))| t.clone())
                .collect();
            sourced(raws, From::Html)
        });

    let ok = |d: DateTime<Utc>| plausible_date(d, now);
    m.published_at = ld_get("datePublished")
        .or_else(|| ld_get("dateCreated"))
        .and_then(|v| ld_str(v, &[]))
        .and_then(|s| parse_date(&s))
        .filter(|d| ok(*d))
        .map(|d| (d, From::JsonLd))
        .or_else(|| {
            meta_content(
                &metas,
                &[
                    "article:published_time",
                    "og:published_time",
                    "og:article:published_time",
                ],
            )
            .and_then(|s| parse_date(&s))
            .filter(|d| ok(*d))
            .map(|d| (d, From::OpenGraph))
        })
        .or_else(|| {
            meta_content(
                &metas,
                &[
                    "datePublished",
                    "pubdate",
                    "publishdate",
                    "publish-date",
                    "date",
                    "dc.date",
                    "dc.date.issued",
                    "dcterms.created",
                    "parsely-pub-date",
                    "sailthru.date",
                    "article.published",
                    "published-date",
                    "cxenseparse:recs:publishtime",
                ],
            )
            .and_then(|s| parse_date(&s))
            .filter(|d| ok(*d))
            .map(|d| (d, From::Meta))
        })
        .or_else(|| {
            select(doc, "time[datetime]")
                .iter()
                .filter_map(|t| attr(t, "datetime").as_deref().and_then(parse_date))
                .find(|d| ok(*d))
                .map(|d| (d, From::Html))
        })
        .or_else(|| {
            page_url
                .and_then(date_from_url)
                .filter(|d| ok(*d))
                .map(|d| (d, From::Url))
        });

    let after_published = |d: &DateTime<Utc>| ok(*d) && m.published_at.as_ref().is_none_or(|(p, _)| d >= p);
    m.updated_at = ld_get("dateModified")
        .and_then(|v| ld_str(v, &[]))
        .and_then(|s| parse_date(&s))
        .filter(after_published)
        .map(|d| (d, From::JsonLd))
        .or_else(|| {
            meta_content(&metas, &["article:modified_time", "og:updated_time"])
                .and_then(|s| parse_date(&s))
                .filter(after_published)
                .map(|d| (d, From::OpenGraph))
        });

    let html_lang = select(doc, "html[lang]")
        .first()
        .and_then(|h| attr(h, "lang"))
        .and_then(|l| normalize_language(&l));
    m.language = html_lang
        .map(|l| (l, From::Meta))
        .or_else(|| {
            select(doc, "meta[http-equiv][content]")
                .iter()
                .find(|e| attr(e, "http-equiv").is_some_and(|h| h.eq_ignore_ascii_case("content-language")))
                .and_then(|e| attr(e, "content"))
                .and_then(|l| normalize_language(&l))
                .map(|l| (l, From::Meta))
        })
        .or_else(|| {
            meta_content(&metas, &["og:locale"])
                .and_then(|l| normalize_language(&l))
                .map(|l| (l, From::OpenGraph))
        })
        .or_else(|| {
            ld_get("inLanguage")
                .and_then(|v| ld_str(v, &["name"]))
                .and_then(|l| normalize_language(&l))
                .map(|l| (l, From::JsonLd))
        });

    // No machine-readable date, or only the URL's day: the date the page shows near its
    // headline (Chinese portals write «2005-5-7 21:23:57» under it and nothing else).
    if m.published_at.as_ref().is_none_or(|(_, from)| *from == From::Url) {
        let shown = shown_text(doc);
        let language = m
            .language
            .as_ref()
            .map(|(l, _)| l.clone())
            .or_else(|| script_language(&shown));
        if let Some(d) = visible_date(&shown, press_offset_hours(language.as_deref())).filter(|d| ok(*d)) {
            m.published_at = Some((d, From::Html));
        }
    }

    m.summary = ld_get("description")
        .and_then(|v| ld_str(v, &[]))
        .map(|s| (s, From::JsonLd))
        .or_else(|| meta_content(&metas, &["og:description"]).map(|s| (s, From::OpenGraph)))
        .or_else(|| meta_content(&metas, &["description", "twitter:description"]).map(|s| (s, From::Meta)));

    m.lead_image = ld_get("image")
        .and_then(|v| ld_str(v, &["url", "contentUrl", "@id"]))
        .and_then(|s| absolute(base, &s))
        .map(|s| (s, From::JsonLd))
        .or_else(|| {
            meta_content(&metas, &["og:image", "og:image:url", "og:image:secure_url"])
                .and_then(|s| absolute(base, &s))
                .map(|s| (s, From::OpenGraph))
        })
        .or_else(|| {
            meta_content(&metas, &["twitter:image", "twitter:image:src"])
                .and_then(|s| absolute(base, &s))
                .map(|s| (s, From::Meta))
        });

    m.site_name = ld_get("publisher")
        .and_then(|v| ld_str(v, &["name"]))
        .filter(|s| !s.contains("://"))
        .map(|s| (s, From::JsonLd))
        .or_else(|| meta_content(&metas, &["og:site_name"]).map(|s| (s, From::OpenGraph)))
        .or_else(|| meta_content(&metas, &["application-name"]).map(|s| (s, From::Meta)));

    m.section = ld_get("articleSection")
        .and_then(|v| ld_str(v, &[]))
        .map(|s| (s, From::JsonLd))
        .or_else(|| meta_content(&metas, &["article:section"]).map(|s| (s, From::OpenGraph)));

    m.canonical_url = canonical_link(doc)
        .and_then(|h| absolute(base, &h))
        .map(|u| (u, From::Meta))
        .or_else(|| {
            meta_content(&metas, &["og:url"])
                .and_then(|u| absolute(base, &u))
                .map(|u| (u, From::OpenGraph))
        })
        .or_else(|| {
            ld_get("mainEntityOfPage")
                .or_else(|| ld_get("url"))
                .and_then(|v| ld_str(v, &["@id", "url"]))
                .and_then(|u| absolute(base, &u))
                .map(|u| (u, From::JsonLd))
        });
    m
}

/// Share of `a`'s words that occur in `b` (case-insensitive).
fn similarity(a: &str, b: &str) -> f64 {
    let b: Vec<String> = b.split_whitespace().map(str::to_lowercase).collect();
    let words: Vec<String> = a.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return 0.0;
    }
    words.iter().filter(|w| b.contains(w)).count() as f64 / words.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn json_ld_beats_opengraph_and_each_field_says_where_it_came_from() {
        let html = r#"<html lang="en-gb"><head>
            <title>Page title | Site</title>
            <meta property="og:title" content="OG title">
            <meta property="article:published_time" content="2021-12-15T10:00:00Z">
            <meta property="og:site_name" content="The Site">
            <meta name="description" content="Meta description">
            <link rel="canonical" href="/news/story-1">
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
              {"@type":"WebSite","name":"The Site"},
              {"@type":"NewsArticle","headline":"LD headline","datePublished":"2021-12-15T15:19:00+00:00",
               "author":[{"@type":"Person","name":"Sravasti Dasgupta"}],"articleSection":"World",
               "image":{"@type":"ImageObject","url":"/img/lead.jpg"}}]}</script>
            </head><body><h1>H1 title</h1></body></html>"#;
        let doc = Document::from(html);
        let m = page_meta(&doc, Some("https://www.example.com/news/story-1?utm_source=x"), now());
        assert_eq!(m.title, Some(("LD headline".into(), From::JsonLd)));
        assert_eq!(m.authors, Some((vec!["Sravasti Dasgupta".to_string()], From::JsonLd)));
        assert_eq!(
            m.published_at,
            Some((Utc.with_ymd_and_hms(2021, 12, 15, 15, 19, 0).unwrap(), From::JsonLd))
        );
        assert_eq!(m.language, Some(("en-GB".into(), From::Meta)));
        assert_eq!(m.summary, Some(("Meta description".into(), From::Meta)));
        assert_eq!(m.site_name, Some(("The Site".into(), From::OpenGraph)));
        assert_eq!(m.section, Some(("World".into(), From::JsonLd)));
        assert_eq!(
            m.lead_image,
            Some(("https://www.example.com/img/lead.jpg".into(), From::JsonLd))
        );
        assert_eq!(
            m.canonical_url,
            Some(("https://www.example.com/news/story-1".into(), From::Meta))
        );
    }

    #[test]
    fn implausible_dates_are_not_taken_and_the_next_source_is_tried() {
        let html = r#"<html><head>
            <script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2031-01-01T00:00:00Z"}</script>
            <meta property="article:published_time" content="1970-01-01T00:00:00Z">
            <meta name="parsely-pub-date" content="2021-06-01T08:00:00Z">
            </head><body></body></html>"#;
        let doc = Document::from(html);
        let m = page_meta(&doc, None, now());
        assert_eq!(
            m.published_at,
            Some((Utc.with_ymd_and_hms(2021, 6, 1, 8, 0, 0).unwrap(), From::Meta))
        );
        let doc = Document::from("<html><body><p>x</p></body></html>");
        let m = page_meta(&doc, Some("https://example.com/2021/12/15/story"), now());
        assert_eq!(
            m.published_at,
            Some((Utc.with_ymd_and_hms(2021, 12, 15, 0, 0, 0).unwrap(), From::Url))
        );
        let m = page_meta(&doc, Some("https://example.com/2029/12/15/story"), now());
        assert_eq!(m.published_at, None, "a URL date in the future is not taken");
    }

    #[test]
    fn dates_shown_on_the_page() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // Chinese portals: the date under the headline, in the zone of China's press.
        assert_eq!(
            visible_date("来源：新华网 2005-5-7 21:23:57 【字号 大 中 小】", 8),
            Some(at("2005-05-07T13:23:57Z"))
        );
        assert_eq!(
            visible_date("2023年3月21日 10:05 来源：人民网", 8),
            Some(at("2023-03-21T02:05:00Z"))
        );
        assert_eq!(
            visible_date("发布时间：2022/02/13 04:22", 8),
            Some(at("2022-02-12T20:22:00Z"))
        );
        assert_eq!(
            visible_date("Опубликовано 2018-07-30", 3),
            Some(at("2018-07-29T21:00:00Z"))
        );
        // With a month's name, in the languages newswire reads dates in (CLDR's names).
        assert_eq!(
            visible_date("Veröffentlicht am 7. Oktober 2020, 10:30 Uhr", 1),
            Some(at("2020-10-07T10:30:00+01:00"))
        );
        assert_eq!(
            visible_date("Опубликовано 30 июля 2018 г., 12:00", 3),
            Some(at("2018-07-30T12:00:00+03:00"))
        );
        assert_eq!(
            visible_date("Оновлено 15 березня 2023", 3),
            Some(at("2023-03-15T00:00:00+03:00"))
        );
        assert_eq!(
            visible_date("Publicado el 30 de julio de 2018", 0),
            Some(at("2018-07-30T00:00:00Z"))
        );
        assert_eq!(
            visible_date("Publié le 12 juin 2021 à 10h30", 0),
            Some(at("2021-06-12T10:30:00Z"))
        );
        assert_eq!(
            visible_date("December 15, 2021, 10:30 GMT", 0),
            Some(at("2021-12-15T10:30:00Z"))
        );
        // Whichever comes first, named or numeric.
        assert_eq!(
            visible_date("2021-12-14 · December 15, 2021", 0),
            Some(at("2021-12-14T00:00:00Z"))
        );
        assert_eq!(
            visible_date("December 15, 2021 · 2021-12-14", 0),
            Some(at("2021-12-15T00:00:00Z"))
        );
        // A month and a year, or a day and a month, are no date; nor is a percentage a time.
        assert_eq!(visible_date("Im Mai 2020 und am 15. März", 1), None);
        assert_eq!(visible_date("2023-03-21 12.5%", 0), Some(at("2023-03-21T00:00:00Z")));
        // A year and a month are an archive's, not a day; other numbers are not dates.
        assert_eq!(visible_date("1998-3 合订本 共 12345 字 2023-13-40", 8), None);
        assert_eq!(visible_date("电话 010-2005-5-7", 8), None);
        assert_eq!(press_offset_hours(Some("zh-Hans")), 8);
        assert_eq!(press_offset_hours(Some("en")), 0);
    }

    #[test]
    fn a_visible_byline_is_the_name_without_the_role_beneath_it() {
        let html = r#"<html><body><div class="author-box"><div class="author">
            <a class="author-link" href="/author/ben-silverman">Ben Silverman</a>
            <div class="author-title">Games Editor</div></div>
            <div class="author-bio">Ben covers games for the Tech section</div></div>
            <h1>A review</h1><p>Text.</p></body></html>"#;
        let m = page_meta(&Document::from(html), None, now());
        assert_eq!(m.authors, Some((vec!["Ben Silverman".to_string()], From::Html)));
    }

    #[test]
    fn a_page_without_a_machine_date_gets_the_one_it_shows() {
        let html = "<html><head><title>t</title><script type=\"text/javascript\">var d='2001-01-01';</script></head>\
                    <body><div>今天是 2020-01-01</div><h1>中俄签署天然气贸易协议</h1>\
                    <p>2005-5-7 21:23:57 来源：新华网</p><p>正文</p></body></html>";
        let doc = Document::from(html);
        let m = page_meta(&doc, None, now());
        assert_eq!(
            m.published_at,
            Some(("2005-05-07T13:23:57Z".parse().unwrap(), From::Html))
        );
    }

    #[test]
    fn date_formats() {
        let want = Utc.with_ymd_and_hms(2021, 12, 15, 15, 19, 0).unwrap();
        for s in [
            "2021-12-15T15:19:00Z",
            "2021-12-15T15:19:00+00:00",
            "2021-12-15T16:19:00+0100",
            "2021-12-15 15:19:00",
            "2021-12-15T15:19",
            "Wed, 15 Dec 2021 15:19:00 GMT",
        ] {
            assert_eq!(parse_date(s), Some(want), "{s}");
        }
        assert_eq!(
            parse_date("2021-12-15"),
            Some(Utc.with_ymd_and_hms(2021, 12, 15, 0, 0, 0).unwrap())
        );
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn document_titles_lose_the_site_name() {
        assert_eq!(
            title_from_document("Putin and Xi exchange warm words | The Independent", None),
            "Putin and Xi exchange warm words"
        );
        assert_eq!(
            title_from_document("News - Putin and Xi exchange warm words", None),
            "Putin and Xi exchange warm words"
        );
        assert_eq!(normalize_language("en_us").as_deref(), Some("en-US"));
        assert_eq!(normalize_language("x"), None);
    }
}
