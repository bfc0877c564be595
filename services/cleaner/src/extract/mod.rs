//! Main-text extraction from an article page, within a budget.
//!
//! The main extractor is `dom_smoothie` (a port of Mozilla's Readability), with paragraph
//! breaks kept and its paragraphs put through news-specific boilerplate rules
//! ([`is_boilerplate`]). Measured on the corpus against `rs-trafilatura` and `readability-rs`
//! (see `bench/cleaner/README.md`), it is the best of them once those rules are applied, and
//! about four times faster than rs-trafilatura. When it finds nothing worth keeping (fewer
//! than [`MIN_WORDS`] words), rs-trafilatura is tried, then the simple whole-page walk of
//! [`crate::text`]; the record's method says which one produced the text.
//!
//! Every page gets a budget ([`Budget`]): its size and its element nesting depth are checked
//! before parsing ([`precheck`]). The services and standalone mode then extract each page in
//! a child process ([`crate::sandbox`]), which is killed at the deadline and whose memory is
//! capped. Without the sandbox (library use, tests, `newswire extract`), [`extract_page`]
//! runs the extraction on a worker thread with a large stack and a deadline; a thread that
//! misses its deadline cannot be killed, so it is left to finish in the background and its
//! result is dropped, and while [`MAX_ABANDONED`] such threads are still running, further
//! pages are refused with `timeout` at once rather than piling up.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use dom_query::Document;
use memchr::memchr;

use crate::meta::{self, PageMeta};

mod boilerplate;
pub(crate) use boilerplate::{MONTHS, WEEKDAYS};
mod scan;

#[cfg(test)]
use boilerplate::*;
pub use boilerplate::{clean_paragraphs, is_boilerplate};
use scan::*;
pub use scan::{nesting, strip_inert};

/// Fewer words than this from the main extractor means it found nothing worth keeping.
pub const MIN_WORDS: usize = 25;

/// The stack of an extraction thread (extraction recurses over the document).
pub const WORKER_STACK: usize = 64 * 1024 * 1024;

/// Workers past their deadline that may still be running before pages are refused.
pub const MAX_ABANDONED: usize = 4;

static ABANDONED: AtomicUsize = AtomicUsize::new(0);

/// Limits on the work spent on one page.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Largest page, in bytes of UTF-8 HTML.
    pub max_bytes: usize,
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most elements.
    pub max_elements: usize,
    /// Wall-clock time for parsing, extraction and metadata.
    pub timeout: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_bytes: 8 * 1024 * 1024,
            max_depth: 400,
            max_elements: 250_000,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Why a page yielded no text. The names are the `reason` label of
/// `newswire_cleaner_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Failure {
    /// Larger than [`Budget::max_bytes`].
    TooLarge,
    /// Nested deeper, or with more elements, than the budget allows.
    TooDeep,
    /// Not done within [`Budget::timeout`].
    Timeout,
    /// Needed more memory than the extraction worker may use (only with the sandbox, see
    /// [`crate::sandbox`]).
    Memory,
    /// No text worth keeping, with either method.
    Empty,
    /// Undecodable bytes or a mis-declared character set that could not be repaired.
    Charset,
    /// The extractor panicked.
    Internal,
}

impl Failure {
    /// The metric label and record value.
    pub fn reason(self) -> &'static str {
        match self {
            Failure::TooLarge => "too_large",
            Failure::TooDeep => "too_deep",
            Failure::Timeout => "timeout",
            Failure::Memory => "memory",
            Failure::Empty => "empty",
            Failure::Charset => "charset",
            Failure::Internal => "internal",
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Failure::TooLarge => "page larger than the size budget",
            Failure::TooDeep => "page nested deeper (or with more elements) than the budget allows",
            Failure::Timeout => "page extraction ran past its time budget",
            Failure::Memory => "page extraction needed more memory than its budget allows",
            Failure::Empty => "no article text found on the page",
            Failure::Charset => "page text is not decodable (invalid or mis-declared character set)",
            Failure::Internal => "the extractor failed on the page",
        })
    }
}

/// Which method produced the text. The names are the `method` label of
/// `newswire_cleaner_extractions_total` and the record's `extraction.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Method {
    /// dom_smoothie (Readability) plus the boilerplate rules: the main method.
    Readability,
    /// rs-trafilatura plus the boilerplate rules, when Readability finds too little.
    Trafilatura,
    /// The whole-page walk.
    Fallback,
}

impl Method {
    /// The label.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Readability => "readability",
            Method::Trafilatura => "trafilatura",
            Method::Fallback => "fallback",
        }
    }
}

/// What one page yielded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PageText {
    /// Clean paragraphs, separated by a blank line.
    pub text: String,
    /// Which method produced them.
    pub method: Method,
    /// The page's metadata.
    pub meta: PageMeta,
}

/// The budget's checks made before any parsing: size, nesting, undecodable characters.
pub fn precheck(html: &str, budget: &Budget) -> Result<(), Failure> {
    if html.len() > budget.max_bytes {
        return Err(Failure::TooLarge);
    }
    let (depth, elements) = nesting(html);
    if depth > budget.max_depth || elements > budget.max_elements {
        return Err(Failure::TooDeep);
    }
    if replacement_ratio(html) > 0.01 {
        return Err(Failure::Charset);
    }
    Ok(())
}

/// Checks the budget, then extracts text and metadata on a worker thread with a deadline.
pub fn extract_page(html: &str, url: Option<&str>, now: DateTime<Utc>, budget: &Budget) -> Result<PageText, Failure> {
    precheck(html, budget)?;
    if ABANDONED.load(Ordering::SeqCst) >= MAX_ABANDONED {
        return Err(Failure::Timeout);
    }
    // A rendezvous channel: a worker whose receiver is gone learns it from `send`.
    let (tx, rx) = mpsc::sync_channel(0);
    let html = strip_inert(html).into_owned();
    let url = url.map(str::to_string);
    let spawned = std::thread::Builder::new()
        .name("extract".into())
        .stack_size(WORKER_STACK)
        .spawn(move || {
            let result = extract_stripped(&html, url.as_deref(), now);
            // The receiver is gone when the deadline passed; then this worker was abandoned.
            if tx.send(result).is_err() {
                ABANDONED.fetch_sub(1, Ordering::SeqCst);
            }
        });
    if spawned.is_err() {
        return Err(Failure::Internal);
    }
    match rx.recv_timeout(budget.timeout) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            ABANDONED.fetch_add(1, Ordering::SeqCst);
            drop(rx);
            Err(Failure::Timeout)
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Failure::Internal),
    }
}

/// dom_smoothie (a port of Mozilla's Readability) with paragraph breaks kept, then the
/// boilerplate rules.
fn readability(doc: Document, url: Option<&str>, title: Option<&str>, byline: &[String]) -> String {
    let config = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        // The metadata is read from JSON-LD before (meta.rs); dom_smoothie's own reading of it
        // only costs time (a quarter of the extraction) and does not change the text.
        disable_json_ld: true,
        ..dom_smoothie::Config::default()
    };
    // dom_smoothie refuses a relative or malformed page URL; the text does not depend on it.
    let url = url.filter(|u| url::Url::parse(u).is_ok());
    // Captions are not article text, and neither are the readings ruby annotations give
    // above the characters (子<rt>こ</rt>ども is 子ども).
    doc.select(r#"figcaption, [itemprop="caption"], [class*="caption"], [class*="credit"], rt, rp"#)
        .remove();
    remove_link_lists(&doc);
    let reader = dom_smoothie::Readability::with_document(doc, url, Some(config));
    let Ok(Some(article)) = reader.map(|mut r| r.parse().ok()) else {
        return String::new();
    };
    clean_paragraphs(article.text_content.split('\n'), title, byline)
}

/// Lists that are only links (three items or more, nine tenths of their text in links):
/// menus, "related stories", tag clouds and share bars, which Readability keeps when they sit
/// inside the container it picks.
fn remove_link_lists(doc: &Document) {
    for list in doc.select("ul, ol").iter() {
        if list.select("li").length() < 3 {
            continue;
        }
        let text: usize = list.text().split_whitespace().map(str::len).sum();
        let linked: usize = list
            .select("a")
            .iter()
            .map(|a| a.text().split_whitespace().map(str::len).sum::<usize>())
            .sum();
        if text > 0 && linked * 10 >= text * 9 {
            list.remove();
        }
    }
}

/// rs-trafilatura, then the boilerplate rules.
fn trafilatura(html: &str, url: Option<&str>, title: Option<&str>, byline: &[String]) -> String {
    let options = rs_trafilatura::Options {
        url: url.map(str::to_string),
        ..rs_trafilatura::Options::default()
    };
    rs_trafilatura::extract_with_options(html, &options)
        .map(|r| clean_paragraphs(r.content_text.split('\n'), title, byline))
        .unwrap_or_default()
}

/// Extraction without a budget (the worker's body).
pub fn extract_now(html: &str, url: Option<&str>, now: DateTime<Utc>) -> Result<PageText, Failure> {
    extract_stripped(&strip_inert(html), url, now)
}

/// [`extract_now`] of a page that has been through [`strip_inert`] already (what a sandbox
/// worker receives).
pub fn extract_stripped(html: &str, url: Option<&str>, now: DateTime<Utc>) -> Result<PageText, Failure> {
    // One parse serves the metadata and then dom_smoothie, which consumes (and edits) it.
    let doc = Document::from(html);
    let meta = meta::page_meta(&doc, url, now);
    let byline: Vec<String> = meta.authors.as_ref().map(|(a, _)| a.clone()).unwrap_or_default();
    let title = meta.title.as_ref().map(|(t, _)| t.as_str());
    let standfirst = standfirst(&doc, meta.summary.as_ref().map(|(s, _)| s.as_str()));
    // (Only a page that names a recipe has one: no second JSON-LD parse for the others.)
    let recipe = if html.contains("ecipe") || html.contains("ngredients") {
        shown_parts(&doc, meta::recipe_parts(&doc))
    } else {
        Vec::new()
    };

    let text = readability(doc, url, title, &byline);
    if words(&text) >= MIN_WORDS {
        return Ok(PageText {
            text: with_parts(with_standfirst(text, standfirst.as_deref()), &recipe),
            method: Method::Readability,
            meta,
        });
    }
    // Readability keeps navigation and headings on short pages, so its short output is not a
    // candidate; rs-trafilatura and the walk drop those. The walk only when rs-trafilatura
    // finds too little, and then whichever found more.
    let traf = trafilatura(html, url, title, &byline);
    let (text, method) = if words(&traf) >= MIN_WORDS {
        (traf, Method::Trafilatura)
    } else {
        let page = scraper::Html::parse_document(html);
        let walked = clean_paragraphs(crate::text::main_text(&page).split("\n\n"), title, &byline);
        if words(&walked) > words(&traf) {
            (walked, Method::Fallback)
        } else {
            (traf, Method::Trafilatura)
        }
    };
    let text = with_parts(text, &recipe);
    if text.is_empty() {
        return Err(Failure::Empty);
    }
    Ok(PageText { text, method, meta })
}

/// The parts of the page's structured data (a recipe's ingredients and steps) that the page
/// shows: data the reader does not see is not its text.
fn shown_parts(doc: &Document, parts: Vec<String>) -> Vec<String> {
    if parts.is_empty() {
        return parts;
    }
    let body = fold(&doc.select("body").text());
    parts
        .into_iter()
        .map(|p| crate::text::normalize_text(&p))
        .filter(|p| !p.is_empty() && body.contains(&fold(p)))
        .collect()
}

/// The text, and after it, one paragraph each, the parts it does not hold yet.
fn with_parts(text: String, parts: &[String]) -> String {
    if parts.is_empty() {
        return text;
    }
    let folded = fold(&text);
    let missing: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| !folded.contains(&fold(p)))
        .collect();
    if missing.is_empty() {
        return text;
    }
    let extra = missing.join("\n\n");
    if text.is_empty() {
        extra
    } else {
        format!("{text}\n\n{extra}")
    }
}

/// Words of a text, for the length rules: runs between spaces, and in CJK writing (which has
/// no spaces) a word per [`CJK_CHARS_PER_WORD`] characters.
fn words(text: &str) -> usize {
    text.split_whitespace()
        .map(|run| match run.chars().filter(|&c| record::is_cjk(c)).count() {
            0 => 1,
            cjk => cjk.div_ceil(CJK_CHARS_PER_WORD),
        })
        .sum()
}

/// CJK characters per word for [`words`]: a Chinese word is one to three characters, two on
/// average. Counted as one word, a paragraph of Chinese (which has no spaces) made a whole
/// page "too short" for Readability's text, and rs-trafilatura's or the walk's was taken.
const CJK_CHARS_PER_WORD: usize = 2;

/// The page's standfirst: its description (JSON-LD, Open Graph or meta), when the page's text
/// shows it whole and it is a sentence or more (8 words). Pages put the
/// standfirst beside the headline, outside the container Readability picks.
fn standfirst(doc: &Document, description: Option<&str>) -> Option<String> {
    let description = crate::text::normalize_text(description?);
    if words(&description) < 8 {
        return None;
    }
    // One pass over the body's text (an element-by-element comparison would read deep pages
    // quadratically).
    let shown = fold(&doc.select("body").text()).contains(&fold(&description));
    shown.then_some(description)
}

/// The text with the standfirst as its first paragraph, unless the text holds it already.
fn with_standfirst(text: String, standfirst: Option<&str>) -> String {
    match standfirst {
        Some(s) if !fold(&text).contains(&fold(s)) => format!("{s}\n\n{text}"),
        _ => text,
    }
}

fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_article_is_long_enough_for_readability_and_keeps_its_inline_words_joined() {
        // Six paragraphs of Chinese, about 300 characters: no spaces, so "one word" each when
        // words are runs between spaces. Names and terms in links and bold, as news sites
        // write them.
        let paragraph = "国家主席<a href=/xi>习近平</a>在人民大会堂会见来访的外国领导人，双方就<strong>双边关系</strong>\
                         和共同关心的国际地区问题深入交换意见，一致同意推动两国合作不断向前发展。";
        let body: String = (0..6).map(|_| format!("<p>{paragraph}</p>")).collect();
        let page = format!(
            "<html><head><title>习近平会见外国领导人</title></head><body>\
             <nav><a href=/>首页</a> <a href=/news>新闻</a> <a href=/world>国际</a></nav>\
             <article><h1>习近平会见外国领导人</h1>{body}</article></body></html>"
        );
        let got = extract_now(&page, None, Utc::now()).unwrap();
        assert_eq!(got.method, Method::Readability, "{}", got.text);
        assert!(got.text.contains("国家主席习近平在人民大会堂"), "{}", got.text);
        assert!(got.text.contains("就双边关系和共同"), "{}", got.text);
        assert!(!got.text.contains("首页"), "{}", got.text);
    }

    #[test]
    fn labels_after_the_last_sentence_are_the_pages() {
        let story = "Die Gemeinde hat den Bau der neuen Halle beschlossen. Er soll im Frühjahr beginnen.";
        for tail in [
            "Autoren:",
            "Über den Autor",
            "zurück zur Listenansicht",
            "Valora esta noticia",
        ] {
            let text = clean_paragraphs([story, "Mehr Themen:", tail].into_iter(), None, &[]);
            assert_eq!(text, story, "{tail}");
        }
        // A last line that is a sentence, a figure, a quotation or Chinese is text; and a
        // label between sentences is left to the other rules.
        for tail in [
            "Guten Appetit!",
            "390 kcal",
            "Ray Gillen (1959-1993)",
            "„Wir bleiben“",
            "（评论员 罗博 萧海川）",
            "正是有了英勇的你们",
        ] {
            let text = clean_paragraphs([story, tail].into_iter(), None, &[]);
            assert!(text.ends_with(tail), "{tail}: {text}");
        }
        let text = clean_paragraphs([story, "Zum Ablauf", story].into_iter(), None, &[]);
        assert!(text.contains("Zum Ablauf"), "{text}");
        // A text that is only a label stays what it is.
        assert_eq!(clean_paragraphs(["Zum Ablauf"].into_iter(), None, &[]), "Zum Ablauf");
    }

    #[test]
    fn ruby_readings_are_not_text() {
        let paragraph = "<ruby>子<rt>こ</rt></ruby>どもへの<ruby><span>虐待</span><rp>(</rp><rt>ぎゃくたい</rt><rp>)</rp></ruby>\
                         をなくすための<ruby>法律<rt>ほうりつ</rt></ruby>ができて、親が子どもを教育するために体罰を禁止することになりました。";
        let body: String = (0..5).map(|_| format!("<p>{paragraph}</p>")).collect();
        let page = format!("<html><body><article><h1>法律ができる</h1>{body}</article></body></html>");
        let text = extract_now(&page, None, Utc::now()).unwrap().text;
        assert!(text.contains("子どもへの虐待をなくすための法律ができて"), "{text}");
        // The walk, which takes what Readability and rs-trafilatura do not find, drops them too.
        let walked = crate::text::main_text(&scraper::Html::parse_document(&page));
        assert!(walked.contains("子どもへの虐待をなくすための法律ができて"), "{walked}");
    }

    #[test]
    fn a_recipes_ingredients_and_steps_join_the_text_when_it_lacks_them() {
        let story = "<p>".to_string()
            + &"A cake my grandmother baked every summer, with fruit from the garden. ".repeat(6)
            + "</p>";
        let ld = r#"<script type="application/ld+json">{"@type": "Recipe", "name": "Cake",
            "recipeIngredient": ["200 g Mehl", "2 Eier", "Geheim"],
            "recipeInstructions": [{"@type": "HowToSection", "itemListElement": [
                {"@type": "HowToStep", "text": "Den Ofen vorheizen."}]}]}</script>"#;
        let page = format!(
            "<html><head>{ld}</head><body><article><h1>Cake</h1>{story}</article>\
             <ul class=x><li><a href=/a>200 g Mehl</a></li><li><a href=/b>2 Eier</a></li></ul>\
             <ol><li>Den Ofen vorheizen.</li></ol></body></html>"
        );
        let text = extract_now(&page, None, Utc::now()).unwrap().text;
        assert!(text.contains("grandmother"), "{text}");
        for part in ["200 g Mehl", "2 Eier", "Den Ofen vorheizen."] {
            assert!(text.contains(part), "{part} missing: {text}");
        }
        // What the page does not show is not its text.
        assert!(!text.contains("Geheim"), "{text}");
        // Microdata, where there is no JSON-LD.
        let page = format!(
            "<html><body><article><h1>Cake</h1>{story}</article>\
             <table><tr itemprop=ingredients><td>1 Pck.</td> <td>Trockenhefe</td></tr></table></body></html>"
        );
        let text = extract_now(&page, None, Utc::now()).unwrap().text;
        assert!(text.contains("1 Pck. Trockenhefe"), "{text}");
    }

    #[test]
    fn nesting_is_measured_without_parsing() {
        assert_eq!(
            nesting("<html><body><div><p>a<br>b</p><img src=x></div></body></html>"),
            (4, 6)
        );
        assert_eq!(nesting("<div><script>if (a<b) { '<div><div>' }</script></div>"), (1, 2));
        assert_eq!(
            nesting("<div><SCRIPT>'<div>'</Script><p>x</p><style>p{}</style></div>"),
            (2, 4)
        );
        assert_eq!(nesting("<div><script>never closed <div>"), (1, 2));
        let deep = "<div>".repeat(1000);
        assert_eq!(nesting(&deep).0, 1000);
    }

    #[test]
    fn inert_elements_are_stripped_before_parsing() {
        let page = "<html><head><script>var a = '<p>not text</p>';</script>\
            <script type=\"application/ld+json\">{\"headline\":\"H\"}</script>\
            <STYLE>p { color: red }</STYLE><!-- <script>x</script> --></head>\
            <body><svg viewBox=\"0 0 1 1\"><title>icon</title></svg><svg/><p>Text</p>\
            <script src=\"a.js\"></script ><p>More</p></body></html>";
        assert_eq!(
            strip_inert(page),
            "<html><head><script type=\"application/ld+json\">{\"headline\":\"H\"}</script>\
             </head><body><p>Text</p><p>More</p></body></html>"
        );
        // Nothing to strip, or an unclosed element: the page as it is.
        for page in [
            "<p>plain</p>",
            "<p>a</p><script>never closed <p>b</p>",
            "<!-- open <p>x</p>",
        ] {
            assert!(matches!(strip_inert(page), std::borrow::Cow::Borrowed(_)), "{page}");
        }
        // An attribute or text that merely mentions the words is not an element.
        let page = "<p data-x=\"<scripts>\">a <b>svg</b> <stylesheet></p>";
        assert_eq!(strip_inert(page), page);
    }

    /// Found by fuzzing (`newswire-fuzz run page`): each unclosed `<style>` (or `<!--`, or `<`
    /// without a `>`) searched the rest of the page, so a 2 MB page of 261,122 `<style>`s took
    /// 469 s (the worker sandbox kills it at 5 s; the threads extractor cannot). Linear now, with
    /// the same result.
    #[test]
    fn unclosed_inert_elements_are_linear() {
        for unit in ["<style>", "<!--", "<a ", "<script x", "<svg><p>"] {
            let page = format!("<p>head</p><style>p {{}}</style>{}<p>tail", unit.repeat(200_000));
            let started = std::time::Instant::now();
            let stripped = strip_inert(&page);
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{unit}: {:?}",
                started.elapsed()
            );
            assert_eq!(stripped, page.replacen("<style>p {}</style>", "", 1), "{unit}");
        }
        // Repeated searches give what a fresh search gives.
        let page = "<style>a</style><style>b<!-- c --><style>d</style> <style>e";
        assert_eq!(strip_inert(page), " <style>e");
        let page = "<!-- a --><!-- b <script>c</script> --><script>d</script ><svg/><svg>x";
        assert_eq!(strip_inert(page), "<svg>x");
        let page = "<script type=\"application/ld+json\" <script x <script y>{}</script>";
        // Only the tag that says ld+json is kept (the scan reads each `<script` as a tag).
        assert_eq!(strip_inert(page), "<script type=\"application/ld+json\" ");
        // The fuzzer's page (its 261,122 `<style>`s cut to 20,000), within the page budget.
        let input = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fuzz/seeds/page/hang-unclosed-styles.html"
        ))
        .unwrap();
        let html = String::from_utf8_lossy(&input);
        let result = extract_page(&html, None, Utc::now(), &Budget::default());
        assert!(!matches!(result, Err(Failure::Timeout)), "{:?}", result.err());
    }

    #[test]
    fn budget_failures_are_clean_errors() {
        let now = Utc::now();
        let budget = Budget {
            max_bytes: 100,
            ..Budget::default()
        };
        let big = format!("<p>{}</p>", "x".repeat(200));
        assert_eq!(extract_page(&big, None, now, &budget).unwrap_err(), Failure::TooLarge);
        let deep = format!("<html><body>{}</body></html>", "<div>".repeat(5000));
        assert_eq!(
            extract_page(&deep, None, now, &Budget::default()).unwrap_err(),
            Failure::TooDeep
        );
        let bad = format!("<p>{}</p>", "\u{FFFD}abc".repeat(50));
        assert_eq!(
            extract_page(&bad, None, now, &Budget::default()).unwrap_err(),
            Failure::Charset
        );
        let empty = "<html><body><nav>Home</nav></body></html>";
        assert_eq!(
            extract_page(empty, None, now, &Budget::default()).unwrap_err(),
            Failure::Empty
        );
    }

    #[test]
    fn a_page_that_runs_past_its_deadline_times_out() {
        // A huge flat page takes far longer than a microsecond.
        let html = format!(
            "<html><body>{}</body></html>",
            "<p>Some words of text here.</p>".repeat(20_000)
        );
        let budget = Budget {
            timeout: Duration::from_micros(1),
            ..Budget::default()
        };
        assert_eq!(
            extract_page(&html, None, Utc::now(), &budget).unwrap_err(),
            Failure::Timeout
        );
    }

    /// Asserts that `rule` says `expected` of every case.
    fn check(rule: fn(&str) -> bool, expected: bool, cases: &[&str]) {
        for case in cases {
            assert_eq!(rule(case), expected, "{case}");
        }
    }

    #[test]
    fn boilerplate_lines() {
        check(
            is_boilerplate,
            true,
            &[
                "Comments",
                "Join our commenting forum",
                "Join thought-provoking conversations, follow other Independent readers and see their replies",
                "Thank you for registering",
                "Please refresh the page or navigate to another page on the site to be automatically logged in",
                "China furious at Macron for Hong Kong protest jibe [INSIGHT]|",
                "READ MORE ON FOX BUSINESS BY CLICKING HERE",
            ],
        );
        check(
            is_boilerplate,
            false,
            &[
                "Comments by the minister were welcomed by the opposition on Monday.",
                "The [unclear] part of the recording was not released.",
            ],
        );
        check(
            is_dateline,
            true,
            &[
                "Wednesday 15 December 2021 15:19 GMT",
                "Updated Nov 19, 6:55 AM;Posted Nov 19, 6:51 AM",
                "Updated 5:27 am CST, Wednesday, November 20, 2019",
                "Published 1 day ago",
                "Nov 18, 2019 @17:19 PM · Updated: Nov 18, 2019 @17:26 PM",
                "By HNN Staff | November 18, 2019 at 2:26 PM HST - Updated November 18 at 4:46 PM",
                // Other languages, by CLDR's month and weekday names.
                "7. Oktober 2020",
                "Mittwoch, 7. Oktober 2020, 10:30",
                "12 juin 2021",
                "30 de julio de 2018",
                "15 марта 2023 г.",
                "Середа, 15 березня 2023",
            ],
        );
        check(
            is_dateline,
            false,
            &[
                "On 15 December 2021 the leaders met.",
                "The study was published in March.",
                "By November 2019, 6:00 pm curfews were in place across the city.",
                "Updated figures are expected in May",
                "Im Oktober 2020 wurde die Halle eröffnet",
                "So it was March 5, 10:30 when they left",
                "Mars 2020 rover",
            ],
        );
        check(
            is_boilerplate,
            true,
            &[
                "To view the full story, please subscribe to The Haitian Times.",
                "If you’re seeing this message but you’re already a subscriber, you can log in for immediate access to this story.",
                "Um weiterzulesen, melden Sie sich an oder abonnieren Sie jetzt.",
                "Pour lire la suite, abonnez-vous ou connectez-vous.",
            ],
        );
        check(
            is_boilerplate,
            false,
            &[
                "Subscribers who share passwords will lose access from March, the company said.",
                "The paper lost 20,000 subscribers after the paywall went up.",
            ],
        );
        check(
            is_captioned,
            true,
            &[
                "Protesters have worn masks to protect their identities (Image: GETTY )",
                "Vicente Aguiar loads garage door trims into his pickup truck outside a Home Depot in Hialeah, Fla. (AP Photo/Alan Diaz, File)",
                "A reference habitation module for a crewed Mars mission compared to its hibernation-based equivalent. Credit: ESA",
            ],
        );
        check(
            is_captioned,
            false,
            &["The minister (who spoke to Reuters on Monday) denied it."],
        );
        check(is_credit, true, &[" (Sputnik/Mikhail Metzel/Pool via Reuters)"]);
        check(is_credit, false, &[" (and the rest of the sentence)"]);
    }
}
