//! Evaluation of the cleaner on the shared corpus (`shared/corpus/articles`).
//!
//! * `scrapinghub-aeb`: body text against the article-extraction-benchmark's `articleBody`
//!   with the benchmark's metric ([`metric`]).
//! * `readability/<name>`: metadata against `expected-metadata.json` (title exact match after
//!   whitespace folding; published time, where given, as the same instant, or the same day when
//!   the expected value has no time; language primary subtag, where given), and the body text
//!   against the text of `expected.html` (agreement with Readability.js, reported apart: it is
//!   one extractor's output, not a human ground truth).
//! * `trafilatura-eval`: trafilatura's own evaluation pages and metric: per page, snippets the
//!   text must contain ("with") and must not ("without"), matched as substrings after
//!   whitespace is folded; true and false positives summed over pages ([`SnippetScore`]).
//!
//! Every benchmark is reported for the part rules were tuned on and the part only measured
//! (`bench/cleaner/splits.json`).

pub mod metric;

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::meta;

/// One scored page.
#[derive(Debug, Clone)]
pub struct PageScore {
    /// Page id or test name.
    pub page: String,
    /// Body metric.
    pub body: metric::Match,
    /// Extraction method or failure.
    pub method: String,
    /// Words extracted and expected.
    pub words: (usize, usize),
    /// `tune` or `measure` (`bench/cleaner/splits.json`).
    pub part: &'static str,
}

/// One page of trafilatura's evaluation: how many of its "with" snippets the text holds, and
/// how many of its "without" snippets.
#[derive(Debug, Clone)]
pub struct SnippetScore {
    /// The page's key in `evaldata.json`.
    pub page: String,
    /// `tune` or `measure`.
    pub part: &'static str,
    /// "with" snippets found (true positives) and missing (false negatives).
    pub found: usize,
    pub missing: usize,
    /// "without" snippets found (false positives) and left out (true negatives).
    pub leaked: usize,
    pub left_out: usize,
    /// Extraction method or failure.
    pub method: String,
    /// Words extracted.
    pub words: usize,
}

/// The body summary of the pages of one part.
fn part_summary(pages: &[PageScore], part: &str) -> metric::Summary {
    let bodies: Vec<metric::Match> = pages.iter().filter(|p| p.part == part).map(|p| p.body).collect();
    metric::summarize(&bodies)
}

/// Precision, recall and F1 of snippet scores summed over pages, as trafilatura's evaluation
/// computes them.
pub fn snippet_summary<'a>(scores: impl IntoIterator<Item = &'a SnippetScore>) -> metric::Summary {
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for s in scores {
        tp += s.found;
        fp += s.leaked;
        fn_ += s.missing;
    }
    let ratio = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let (precision, recall) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    metric::Summary { precision, recall, f1 }
}

/// Scores one text against a page's snippets: whitespace folded on both sides, substrings.
pub fn score_snippets(text: &str, with: &[&str], without: &[&str]) -> (usize, usize, usize, usize) {
    let text = fold(text);
    let found = with.iter().filter(|w| text.contains(&fold(w))).count();
    let leaked = without.iter().filter(|w| text.contains(&fold(w))).count();
    (found, with.len() - found, leaked, without.len() - leaked)
}

/// The whole evaluation.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// scrapinghub pages.
    pub aeb: Vec<PageScore>,
    /// trafilatura's evaluation pages.
    pub trafilatura: Vec<SnippetScore>,
    /// Chinese pages with a hand-made main text (`multilingual/pages/cn-wce`), scored with
    /// CJK characters as tokens.
    pub chinese: Vec<PageScore>,
    /// The other pages of `multilingual/pages` (fundus's People's Daily, Kommersant and
    /// Ukrainska Pravda pages, newspaper4k's Chinese ones), against those parsers' own output
    /// (silver truth), CJK characters as tokens; part `silver`.
    pub silver: Vec<PageScore>,
    /// readability pages (body agreement with Readability.js).
    pub readability: Vec<PageScore>,
    /// Title exact matches / pages.
    pub title: (usize, usize),
    /// Published time correct / pages whose ground truth has one.
    pub published: (usize, usize),
    /// Language correct / pages whose ground truth has one.
    pub language: (usize, usize),
    /// Bylines of the readability pages whose expected metadata has one.
    pub bylines: Vec<BylineScore>,
    /// Mismatches, one line each.
    pub misses: Vec<String>,
}

/// One page's authors against Readability.js's `byline` (its output, not a human ground
/// truth: it may hold a date or a role itself).
#[derive(Debug, Clone)]
pub struct BylineScore {
    pub page: String,
    /// `tune` or `measure` (`bench/cleaner/splits.json`).
    pub part: &'static str,
    /// Where the authors came from (`json_ld`, `meta`, `html`), or `none`.
    pub source: String,
    pub got: Vec<String>,
    pub want: String,
}

impl BylineScore {
    /// Every name found occurs in the expected byline, and there is at least one.
    pub fn within(&self) -> bool {
        let want = fold(&self.want).to_lowercase();
        !self.got.is_empty() && self.got.iter().all(|n| want.contains(&fold(n).to_lowercase()))
    }

    /// The names, joined by ", ", are the expected byline without a leading "By" and
    /// trailing punctuation (case and spacing aside).
    pub fn exact(&self) -> bool {
        let want = fold(&self.want);
        let want = want
            .strip_prefix("By ")
            .or_else(|| want.strip_prefix("by "))
            .or_else(|| want.strip_prefix("BY "))
            .unwrap_or(&want)
            .trim_end_matches(['.', ',', ';', ':', '|'])
            .to_lowercase();
        let got = self.got.join(", ").to_lowercase();
        got == want || got == want.replace(" and ", ", ")
    }

    /// A name with what a name never holds: a digit, an address, a link, a leading "By".
    pub fn junk(&self) -> bool {
        self.got.iter().any(|n| {
            n.chars().any(|c| c.is_ascii_digit())
                || n.contains('@')
                || n.contains("://")
                || n.to_lowercase().starts_with("by ")
        })
    }
}

/// The part (`tune` or `measure`) of each page of `benchmark` in `bench/cleaner/splits.json`.
pub fn split_parts(benchmark: &str) -> std::collections::HashMap<String, &'static str> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/cleaner/splits.json");
    let splits: serde_json::Value = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut parts = std::collections::HashMap::new();
    for part in ["tune", "measure"] {
        for name in splits["benchmarks"][benchmark][part].as_array().into_iter().flatten() {
            if let Some(name) = name.as_str() {
                parts.insert(name.to_string(), part);
            }
        }
    }
    parts
}

impl Report {
    /// Body summary on the benchmark pages.
    pub fn aeb_summary(&self) -> metric::Summary {
        metric::summarize(&self.aeb.iter().map(|p| p.body).collect::<Vec<_>>())
    }

    /// Body summary on one part (`tune`, `measure`) of the benchmark pages.
    pub fn aeb_part(&self, part: &str) -> metric::Summary {
        part_summary(&self.aeb, part)
    }

    /// Body summary against Readability.js on one part of its pages.
    pub fn readability_part(&self, part: &str) -> metric::Summary {
        part_summary(&self.readability, part)
    }

    /// Snippet summary on one part of trafilatura's evaluation pages.
    pub fn trafilatura_part(&self, part: &str) -> metric::Summary {
        snippet_summary(self.trafilatura.iter().filter(|p| p.part == part))
    }

    /// Body summary against Readability.js.
    pub fn readability_summary(&self) -> metric::Summary {
        metric::summarize(&self.readability.iter().map(|p| p.body).collect::<Vec<_>>())
    }

    /// A human-readable report with the worst ten benchmark pages.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let a = self.aeb_summary();
        let r = self.readability_summary();
        let pct = |(n, d): (usize, usize)| if d == 0 { 0.0 } else { 100.0 * n as f64 / d as f64 };
        let _ = writeln!(
            out,
            "body (article-extraction-benchmark, {} pages): precision {:.3} recall {:.3} F1 {:.3}",
            self.aeb.len(),
            a.precision,
            a.recall,
            a.f1
        );
        let _ = writeln!(
            out,
            "body vs Readability.js (readability test pages, {} pages): precision {:.3} recall {:.3} F1 {:.3}",
            self.readability.len(),
            r.precision,
            r.recall,
            r.f1
        );
        for part in ["tune", "measure"] {
            let (a, r, t) = (
                self.aeb_part(part),
                self.readability_part(part),
                self.trafilatura_part(part),
            );
            let _ = writeln!(
                out,
                "  {part} part: benchmark F1 {:.3} (P {:.3} R {:.3}); vs Readability.js F1 {:.3}; trafilatura-eval \
                 F1 {:.3} (P {:.3} R {:.3}, {} pages)",
                a.f1,
                a.precision,
                a.recall,
                r.f1,
                t.f1,
                t.precision,
                t.recall,
                self.trafilatura.iter().filter(|p| p.part == part).count()
            );
        }
        for part in ["tune", "measure"] {
            let c = part_summary(&self.chinese, part);
            let _ = writeln!(
                out,
                "Chinese pages (cn-wce, CJK characters as tokens), {part} part ({} pages): precision {:.3} recall {:.3} F1 {:.3}",
                self.chinese.iter().filter(|p| p.part == part).count(),
                c.precision,
                c.recall,
                c.f1
            );
        }
        if !self.silver.is_empty() {
            let c = metric::summarize(&self.silver.iter().map(|p| p.body).collect::<Vec<_>>());
            let pages: Vec<String> = self
                .silver
                .iter()
                .map(|p| format!("{} {:.3}", p.page, p.body.f1()))
                .collect();
            let _ = writeln!(
                out,
                "Russian, Ukrainian-edition and Chinese pages against fundus's or newspaper4k's output ({} pages): \
                 precision {:.3} recall {:.3} F1 {:.3} ({})",
                self.silver.len(),
                c.precision,
                c.recall,
                c.f1,
                pages.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "title exact match: {}/{} = {:.1}%",
            self.title.0,
            self.title.1,
            pct(self.title)
        );
        let _ = writeln!(
            out,
            "published date correct: {}/{} = {:.1}%",
            self.published.0,
            self.published.1,
            pct(self.published)
        );
        let _ = writeln!(
            out,
            "language correct: {}/{} = {:.1}%",
            self.language.0,
            self.language.1,
            pct(self.language)
        );
        let _ = writeln!(
            out,
            "bylines vs Readability.js's (readability pages with one; within: every name is in it; exact: the same names):"
        );
        for part in ["tune", "measure"] {
            let mut sources: Vec<&str> = self.bylines.iter().map(|b| b.source.as_str()).collect();
            sources.sort_unstable();
            sources.dedup();
            for source in std::iter::once("all").chain(sources) {
                let scores: Vec<&BylineScore> = self
                    .bylines
                    .iter()
                    .filter(|b| b.part == part && (source == "all" || b.source == source))
                    .collect();
                if scores.is_empty() {
                    continue;
                }
                let count = |f: fn(&BylineScore) -> bool| scores.iter().filter(|b| f(b)).count();
                let _ = writeln!(
                    out,
                    "  {part} {source}: {} pages, within {}, exact {}, with junk {}",
                    scores.len(),
                    count(BylineScore::within),
                    count(BylineScore::exact),
                    count(BylineScore::junk)
                );
            }
        }
        let mut worst: Vec<&PageScore> = self.aeb.iter().collect();
        worst.sort_by(|x, y| x.body.f1().total_cmp(&y.body.f1()));
        let _ = writeln!(
            out,
            "worst ten benchmark pages (F1, precision, recall, method, words got/expected):"
        );
        for p in worst.iter().take(10) {
            let _ = writeln!(
                out,
                "  {} F1 {:.3} P {:.3} R {:.3} {} {}/{}",
                p.page,
                p.body.f1(),
                p.body.precision(),
                p.body.recall(),
                p.method,
                p.words.0,
                p.words.1
            );
        }
        for part in ["tune", "measure"] {
            let mut worst: Vec<&SnippetScore> = self.trafilatura.iter().filter(|p| p.part == part).collect();
            worst.sort_by_key(|p| std::cmp::Reverse(p.missing + p.leaked));
            let _ = writeln!(
                out,
                "worst ten trafilatura-eval pages, {part} part (snippets missing, leaked; method, words):"
            );
            for p in worst.iter().take(10) {
                let _ = writeln!(
                    out,
                    "  {} missing {}/{} leaked {}/{} {} {}",
                    p.page,
                    p.missing,
                    p.found + p.missing,
                    p.leaked,
                    p.leaked + p.left_out,
                    p.method,
                    p.words
                );
            }
        }
        let _ = writeln!(out, "metadata mismatches:");
        for m in &self.misses {
            let _ = writeln!(out, "  {m}");
        }
        out
    }
}

fn read_maybe_gz(path: &Path) -> std::io::Result<Vec<u8>> {
    let bytes = std::fs::read(path)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Reads a plain or gzip-compressed HTML file and decodes it.
pub fn read_html(path: &Path) -> anyhow::Result<String> {
    use anyhow::Context as _;
    let bytes = read_maybe_gz(path).with_context(|| format!("reading {}", path.display()))?;
    let (text, _) = crate::decode::decode_html(&bytes).with_context(|| format!("decoding {}", path.display()))?;
    Ok(text)
}

fn fold(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs the evaluation over `articles` (the corpus's `articles/` folder). `now` is the time
/// dates are checked against.
pub fn run(articles: &Path, now: DateTime<Utc>) -> anyhow::Result<Report> {
    use anyhow::Context as _;
    let mut report = Report::default();
    let aeb = articles.join("scrapinghub-aeb");
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(aeb.join("ground-truth.json"))?).context("parsing ground-truth.json")?;
    let truth = truth.as_object().context("ground-truth.json is not an object")?;
    let aeb_parts = split_parts("scrapinghub-aeb");
    for (id, entry) in truth {
        let html = read_html(&aeb.join("html").join(format!("{id}.html.gz")))?;
        let expected = entry["articleBody"].as_str().unwrap_or_default();
        let url = entry["url"].as_str();
        let (text, method) = match crate::extract_document(&html, url, now) {
            Ok(r) => (r.article.text, r.article.extraction.method),
            Err(err) => (String::new(), format!("error: {err}")),
        };
        report.aeb.push(PageScore {
            page: id.chars().take(12).collect(),
            body: metric::shingle_match(expected, &text),
            method,
            words: (text.split_whitespace().count(), expected.split_whitespace().count()),
            part: aeb_parts.get(id).copied().unwrap_or("tune"),
        });
    }
    report.aeb.sort_by(|a, b| a.page.cmp(&b.page));

    let mut names: Vec<_> = std::fs::read_dir(articles.join("readability"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("source.html").exists())
        .collect();
    names.sort();
    let parts = split_parts("readability");
    for dir in names {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let html = read_html(&dir.join("source.html"))?;
        let expected_meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("expected-metadata.json"))?).unwrap_or_default();
        let expected_text = std::fs::read_to_string(dir.join("expected.html"))
            .map(|h| crate::html_to_text(&h))
            .unwrap_or_default();
        // Readability's tests resolve against this URL.
        let url = "http://fakehost/test/page.html";
        let result = crate::extract_document(&html, Some(url), now);
        let (text, method) = match &result {
            Ok(r) => (r.article.text.clone(), r.article.extraction.method.clone()),
            Err(err) => (String::new(), format!("error: {err}")),
        };
        report.readability.push(PageScore {
            page: name.clone(),
            body: metric::shingle_match(&expected_text, &text),
            method,
            words: (
                text.split_whitespace().count(),
                expected_text.split_whitespace().count(),
            ),
            part: parts.get(&name).copied().unwrap_or("tune"),
        });
        let article = result.ok().map(|r| r.article);
        if let Some(want) = expected_meta["byline"].as_str().filter(|t| !t.trim().is_empty()) {
            report.bylines.push(BylineScore {
                page: name.clone(),
                part: parts.get(&name).copied().unwrap_or("tune"),
                source: article
                    .as_ref()
                    .and_then(|a| a.extraction.provenance.get("authors").cloned())
                    .unwrap_or_else(|| "none".into()),
                got: article.as_ref().map(|a| a.authors.clone()).unwrap_or_default(),
                want: want.to_string(),
            });
        }
        if let Some(want) = expected_meta["title"].as_str().filter(|t| !t.trim().is_empty()) {
            report.title.1 += 1;
            let got = article.as_ref().map(|a| a.title.as_str()).unwrap_or_default();
            if fold(got) == fold(want) {
                report.title.0 += 1;
            } else {
                report.misses.push(format!("{name}: title {got:?}, expected {want:?}"));
            }
        }
        if let Some(want) = expected_meta["publishedTime"].as_str().filter(|t| !t.trim().is_empty()) {
            report.published.1 += 1;
            let got = article.as_ref().and_then(|a| a.published_at);
            let ok = match (got, meta::parse_date(want)) {
                (Some(got), Some(w)) if want.trim().len() <= 10 => got.date_naive() == w.date_naive(),
                (Some(got), Some(w)) => got == w,
                _ => false,
            };
            if ok {
                report.published.0 += 1;
            } else {
                report
                    .misses
                    .push(format!("{name}: published {got:?}, expected {want:?}"));
            }
        }
        if let Some(want) = expected_meta["lang"].as_str().filter(|t| !t.trim().is_empty()) {
            report.language.1 += 1;
            let primary = |l: &str| l.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
            let got = article.as_ref().and_then(|a| a.language.clone());
            if got.as_deref().map(primary) == Some(primary(want)) {
                report.language.0 += 1;
            } else {
                report
                    .misses
                    .push(format!("{name}: language {got:?}, expected {want:?}"));
            }
        }
    }
    report.trafilatura = trafilatura_eval(&articles.join("trafilatura-eval"), now)?;
    let cn_wce = articles.join("../multilingual/pages/cn-wce");
    if cn_wce.is_dir() {
        report.chinese = chinese_pages(&cn_wce, now)?;
    }
    let pages = articles.join("../multilingual/pages");
    if pages.is_dir() {
        report.silver = silver_pages(&pages, now)?;
    }
    Ok(report)
}

/// Scores the pages of fundus's tests (`fundus/{cn,ru,ua}`: its parse, summary and sections,
/// is the text) and newspaper4k's (`newspaper4k/txt`), every CJK character a token.
pub fn silver_pages(dir: &Path, now: DateTime<Utc>) -> anyhow::Result<Vec<PageScore>> {
    use anyhow::Context as _;
    let mut pages: Vec<(String, PathBuf, String)> = Vec::new();
    for lang in ["cn", "ru", "ua"] {
        let folder = dir.join("fundus").join(lang);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names.iter().filter(|n| n.ends_with(".json")) {
            let publisher = name.trim_end_matches(".json");
            let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(folder.join(name))?)
                .with_context(|| format!("parsing {}", folder.join(name).display()))?;
            let body = truth
                .as_object()
                .and_then(|o| o.values().next())
                .map(|v| &v["body"])
                .context("a fundus parse without a body")?;
            let strings = |v: &serde_json::Value| -> Vec<String> {
                v.as_array()
                    .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
                    .unwrap_or_default()
            };
            let mut parts = strings(&body["summary"]);
            for section in body["sections"].as_array().into_iter().flatten() {
                parts.extend(strings(&section["headline"]));
                parts.extend(strings(&section["paragraphs"]));
            }
            let Some(html) = names
                .iter()
                .find(|n| n.starts_with(&format!("{publisher}_")) && n.contains(".html"))
            else {
                continue;
            };
            pages.push((
                format!("fundus/{lang}/{publisher}"),
                folder.join(html),
                parts.join("\n\n"),
            ));
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir.join("newspaper4k/txt")) {
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".txt").map(str::to_string))
            .collect();
        names.sort();
        for name in names {
            let truth = std::fs::read_to_string(dir.join("newspaper4k/txt").join(format!("{name}.txt")))?;
            pages.push((
                format!("newspaper4k/{name}"),
                dir.join("newspaper4k/html").join(format!("{name}.html")),
                truth,
            ));
        }
    }
    let mut scores = Vec::new();
    for (page, file, expected) in pages {
        let (text, method) = extract_file(&file, now);
        scores.push(PageScore {
            page,
            body: metric::shingle_match_cjk(&expected, &text),
            method,
            words: (metric::cjk_tokens(&text).len(), metric::cjk_tokens(&expected).len()),
            part: "silver",
        });
    }
    Ok(scores)
}

/// A page file's text and extraction method. A page that cannot be read, decoded or
/// extracted scores as an empty extraction (its method says why), not left out.
fn extract_file(file: &Path, now: DateTime<Utc>) -> (String, String) {
    match read_html(file) {
        Ok(html) => match crate::extract_document(&html, None, now) {
            Ok(r) => (r.article.text, r.article.extraction.method),
            Err(err) => (String::new(), format!("error: {err}")),
        },
        Err(err) => (String::new(), format!("error: {err:#}")),
    }
}

/// Scores the Chinese pages of `cn-wce` against their hand-made text, every CJK character a
/// token. A page's part is the split's rule on `cn-wce:<id>`.
pub fn chinese_pages(dir: &Path, now: DateTime<Utc>) -> anyhow::Result<Vec<PageScore>> {
    use sha2::Digest as _;
    let mut ids: Vec<String> = std::fs::read_dir(dir.join("cleaned"))?
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".txt"))
                .map(str::to_string)
        })
        .collect();
    ids.sort();
    let mut scores = Vec::new();
    for id in ids {
        let Ok(expected) = std::fs::read_to_string(dir.join("cleaned").join(format!("{id}.txt"))) else {
            continue;
        };
        let (text, method) = extract_file(&dir.join("original").join(format!("{id}.html")), now);
        let digest = sha2::Sha256::digest(format!("newswire-split-1:cn-wce:{id}").as_bytes());
        scores.push(PageScore {
            page: id.chars().take(13).collect(),
            body: metric::shingle_match_cjk(&expected, &text),
            method,
            words: (metric::cjk_tokens(&text).len(), metric::cjk_tokens(&expected).len()),
            part: if digest[0] % 2 == 1 { "measure" } else { "tune" },
        });
    }
    Ok(scores)
}

/// Scores every page of trafilatura's evaluation (`evaldata.json`, pages in `html/`).
pub fn trafilatura_eval(dir: &Path, now: DateTime<Utc>) -> anyhow::Result<Vec<SnippetScore>> {
    use anyhow::Context as _;
    let data: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("evaldata.json")).with_context(|| format!("reading {}", dir.display()))?,
    )
    .context("parsing evaldata.json")?;
    let data = data.as_object().context("evaldata.json is not an object")?;
    let parts = split_parts("trafilatura-eval");
    let mut scores = Vec::new();
    for (key, entry) in data {
        let Some(file) = entry["file"].as_str() else {
            continue;
        };
        let html = read_html(&dir.join("html").join(format!("{file}.gz")))
            .or_else(|_| read_html(&dir.join("html").join(file)))?;
        let strings = |field: &str| -> Vec<&str> {
            entry[field]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
                .collect()
        };
        let url = entry["url"].as_str().filter(|u| u.starts_with("http"));
        let (text, method) = match crate::extract_document(&html, url, now) {
            Ok(r) => (r.article.text, r.article.extraction.method),
            Err(err) => (String::new(), format!("error: {err}")),
        };
        let (found, missing, leaked, left_out) = score_snippets(&text, &strings("with"), &strings("without"));
        scores.push(SnippetScore {
            page: key.clone(),
            part: parts.get(key).copied().unwrap_or("tune"),
            found,
            missing,
            leaked,
            left_out,
            method,
            words: text.split_whitespace().count(),
        });
    }
    scores.sort_by(|a, b| a.page.cmp(&b.page));
    Ok(scores)
}
