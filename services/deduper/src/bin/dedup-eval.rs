//! The deduper's evaluation: builds a labelled near-duplicate set from the real corpus
//! (deterministically), then reports pairwise precision and recall of "same story".
//!
//! ```text
//! dedup-eval [--corpus DIR] [--write FILE.jsonl] [--compare] [--check]
//! ```
//!
//! - The set: every article body of `articles/scrapinghub-aeb` and `articles/readability`, each
//!   with perturbed copies as another outlet would publish them (same text under a new
//!   headline; boilerplate added; paragraphs reordered; the end trimmed; a rewritten
//!   headline with a changed lead sentence and boilerplate), and every distinct item of
//!   `news_items.jsonl` (items with the same headline under different links form one story;
//!   some get an outlet suffix on the headline and a "read more" tail). Different stories on
//!   the same subject and day (the corpus is built around a few key days) are the hard
//!   negatives. `group` is the true story.
//! - `--compare` scores every pair with each candidate method (SimHash of word 3-shingles,
//!   SimHash of words, MinHash of word 3-shingles, exact Jaccard) over a threshold sweep.
//! - The default report runs the [`deduper::Deduper`] itself over the set in a shuffled
//!   order and scores its story clusters; `--check` exits non-zero when precision < 0.99 or
//!   recall of near-duplicates < 0.95 (used by `scripts/test.sh`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;

use deduper::fingerprint::{self, jaccard, minhash, minhash_similarity, shingles, simhash};
use serde::Serialize;

/// One document of the evaluation set.
#[derive(Debug, Clone, Serialize)]
struct Doc {
    url: String,
    title: String,
    text: String,
    /// The true story this document belongs to.
    group: String,
    /// `long` (article bodies) or `short` (feed items).
    kind: &'static str,
    /// How it was made from the original (`original`, `syndicated`, `boilerplate`...).
    variant: &'static str,
}

/// A deterministic random stream (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        fingerprint::mix(self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const BOILERPLATE: &[&str] = &[
    "Sign up for our daily newsletter to get the most important stories delivered to your inbox every morning. \
     You can unsubscribe at any time. By signing up you agree to our terms of use and privacy policy.",
    "We use cookies to improve your experience on our website, to personalise content and advertising and to \
     analyse our traffic. Read our cookie policy to find out more about how we use them and how to opt out.",
    "Advertisement. Support independent journalism: become a member today and get unlimited access to every \
     article, podcast and newsletter, ad-free, on all your devices. Cancel at any time.",
    "Copyright 2023 The Associated Press. All rights reserved. This material may not be published, broadcast, \
     rewritten or redistributed without permission. Follow our live coverage for the latest updates.",
];

const OUTLETS: &[&str] = &[
    "example-wire.com",
    "daily-courier.example.org",
    "metro-news.example.net",
    "world-report.example.com",
    "the-observer.example.co.uk",
    "news24.example.com",
];

const TITLE_SUFFIXES: &[&str] = &[" - BBC News", " | Reuters", " - The Guardian", " | AP News", " – CNN"];

fn paragraphs(text: &str) -> Vec<String> {
    text.split('\n')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn title_from_url(url: &str) -> String {
    let path = url.split('?').next().unwrap_or(url).trim_end_matches('/');
    let slug = path
        .rsplit('/')
        .find(|s| s.chars().filter(|c| *c == '-').count() >= 2)
        .unwrap_or("");
    let slug = slug
        .trim_end_matches(".html")
        .trim_end_matches(".php")
        .trim_end_matches(".htm");
    slug.split('-')
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Very small HTML-to-text for Readability's expected output: tags dropped, block ends as
/// paragraph breaks, the common entities decoded.
fn strip_html(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut tag = String::new();
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                tag.clear();
            }
            '>' if in_tag => {
                in_tag = false;
                let name = tag
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_lowercase();
                if ["p", "div", "br", "li", "h1", "h2", "h3", "h4", "blockquote", "tr"].contains(&name.as_str()) {
                    out.push('\n');
                }
            }
            c if in_tag => tag.push(c),
            c => out.push(c),
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
}

fn long_variants(rng: &mut Rng, base: usize, url: &str, title: &str, body: &str, docs: &mut Vec<Doc>) {
    let group = format!("article-{base}");
    let paras = paragraphs(body);
    let outlet = |rng: &mut Rng, n: usize| format!("https://{}/story/{base}-{n}", OUTLETS[rng.below(OUTLETS.len())]);
    let doc = |url: String, title: String, paras: &[String], variant: &'static str| Doc {
        url,
        title,
        text: paras.join("\n\n"),
        group: group.clone(),
        kind: "long",
        variant,
    };
    docs.push(doc(url.to_string(), title.to_string(), &paras, "original"));
    // The same text under another outlet's headline.
    let retitled = format!("{}{}", title, TITLE_SUFFIXES[rng.below(TITLE_SUFFIXES.len())]);
    docs.push(doc(outlet(rng, 1), retitled, &paras, "syndicated"));
    // Boilerplate before and after.
    let mut with_boilerplate = vec![BOILERPLATE[rng.below(BOILERPLATE.len())].to_string()];
    with_boilerplate.extend(paras.iter().cloned());
    with_boilerplate.push(BOILERPLATE[rng.below(BOILERPLATE.len())].to_string());
    docs.push(doc(outlet(rng, 2), title.to_string(), &with_boilerplate, "boilerplate"));
    // Paragraphs reordered: two swaps.
    if paras.len() >= 3 {
        let mut reordered = paras.clone();
        for _ in 0..2 {
            let (a, b) = (rng.below(reordered.len()), rng.below(reordered.len()));
            reordered.swap(a, b);
        }
        docs.push(doc(outlet(rng, 3), title.to_string(), &reordered, "reordered"));
    }
    // The end trimmed: 70 to 85% of the paragraphs kept.
    if paras.len() >= 4 {
        let keep = (paras.len() * (70 + rng.below(16)) / 100).max(1);
        docs.push(doc(outlet(rng, 4), title.to_string(), &paras[..keep], "trimmed"));
    }
    // A rewritten headline, the lead sentence changed, a boilerplate tail.
    let mut rewritten = paras.clone();
    if let Some(first) = rewritten.first_mut() {
        let rest = first.split_once(". ").map_or("", |(_, rest)| rest).to_string();
        *first = format!("In a development reported on Tuesday, officials confirmed the news. {rest}");
    }
    rewritten.push(BOILERPLATE[rng.below(BOILERPLATE.len())].to_string());
    let words: Vec<&str> = title.split_whitespace().collect();
    let headline = if words.len() > 3 {
        format!("What we know: {}", words[..words.len() * 2 / 3].join(" "))
    } else {
        format!("What we know about {title}")
    };
    docs.push(doc(outlet(rng, 5), headline, &rewritten, "rewritten"));
}

fn build(corpus: &std::path::Path) -> anyhow::Result<Vec<Doc>> {
    use anyhow::Context as _;
    let mut rng = Rng(20_261_128);
    let mut docs = Vec::new();
    let mut base = 0;

    let truth_path = corpus.join("articles/scrapinghub-aeb/ground-truth.json");
    let truth: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(
        &std::fs::read(&truth_path).with_context(|| format!("reading {}", truth_path.display()))?,
    )?;
    let mut keys: Vec<&String> = truth.keys().collect();
    keys.sort();
    for key in keys {
        let entry = &truth[key];
        let (Some(url), Some(body)) = (entry["url"].as_str(), entry["articleBody"].as_str()) else {
            continue;
        };
        long_variants(&mut rng, base, url, &title_from_url(url), body, &mut docs);
        base += 1;
    }

    let readability = corpus.join("articles/readability");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&readability)
        .with_context(|| format!("reading {}", readability.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    for dir in names {
        let (Ok(html), Ok(meta)) = (
            std::fs::read_to_string(dir.join("expected.html")),
            std::fs::read(dir.join("expected-metadata.json")),
        ) else {
            continue;
        };
        let meta: serde_json::Value = serde_json::from_slice(&meta)?;
        let title = meta["title"].as_str().unwrap_or_default().to_string();
        let body = strip_html(&html);
        // Readability's synthetic test pages share one lorem-ipsum text: they are copies of
        // each other, not different stories, so they are left out.
        if fingerprint::words(&body).len() < 50 || title.is_empty() || body.to_lowercase().contains("lorem ipsum") {
            continue;
        }
        let url = format!(
            "https://readability.example/{}",
            dir.file_name().unwrap_or_default().to_string_lossy()
        );
        long_variants(&mut rng, base, &url, &title, &body, &mut docs);
        base += 1;
    }

    // Feed items: one per distinct normalised link; the same headline under different links
    // is one story (one outlet's feeds, or a syndicated item).
    let items_path = corpus.join("news_items.jsonl");
    let items = std::fs::read_to_string(&items_path).with_context(|| format!("reading {}", items_path.display()))?;
    let mut links = HashSet::new();
    let mut by_title: HashMap<String, String> = HashMap::new();
    for (n, line) in items.lines().enumerate() {
        let item: serde_json::Value = serde_json::from_str(line)?;
        let (Some(link), Some(title)) = (item["link"].as_str(), item["title"].as_str()) else {
            continue;
        };
        let Some(canonical) = record::normalize_url(link) else {
            continue;
        };
        if !links.insert(canonical) {
            continue;
        }
        let summary = strip_html(item["summary"].as_str().unwrap_or_default());
        let title_words = fingerprint::words(title).join(" ");
        let group = by_title
            .entry(title_words)
            .or_insert_with(|| format!("item-{n}"))
            .clone();
        docs.push(Doc {
            url: link.to_string(),
            title: title.to_string(),
            text: summary.clone(),
            group: group.clone(),
            kind: "short",
            variant: "original",
        });
        // Every tenth item with a real summary is also republished with an outlet suffix on
        // the headline and a "read more" line.
        if fingerprint::words(&summary).len() >= 20 && rng.below(10) == 0 {
            docs.push(Doc {
                url: format!("https://{}/item/{n}", OUTLETS[rng.below(OUTLETS.len())]),
                title: format!("{title}{}", TITLE_SUFFIXES[rng.below(TITLE_SUFFIXES.len())]),
                text: format!("{summary}\n\nRead more on our website."),
                group,
                kind: "short",
                variant: "suffixed",
            });
        }
    }
    // Feed items that were found, by reading them, to be one story under two headlines (the
    // "same headline" rule above misses them). Listed by headline prefixes.
    for (a, b) in SAME_STORY {
        let group = docs.iter().find(|d| d.title.starts_with(a)).map(|d| d.group.clone());
        if let Some(group) = group {
            for d in docs
                .iter_mut()
                .filter(|d| d.title.starts_with(b) || d.title.starts_with(a))
            {
                d.group = group.clone();
            }
        }
    }
    Ok(docs)
}

/// Pairs of headline prefixes of one story, judged by reading the items.
const SAME_STORY: &[(&str, &str)] = &[
    ("Biden to Push Global Plan", "Biden Pushes Global Plan"),
    ("Abortion Poll: Most", "Most Americans Disagree"),
    ("Single mum lost", "Auckland single mum"),
    ("Lavrov: Ukraine must", "Russian foreign minister says"),
    (
        "U.S. to Lift Travel Ban on Vaccinated",
        "U.S. to Lift Travel Ban for Vaccinated",
    ),
    (
        "Russian cruise missiles destroyed in strike in Crimea, Ukraine says",
        "Russian cruise missiles destroyed in strike in Crimea, Ukraine Defense",
    ),
];

/// Pairwise counts of "same story": true positives, false positives, false negatives.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    tp: u64,
    fp: u64,
    fn_: u64,
}

impl Counts {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

/// Scores a "same story" predicate over every pair; returns counts for all pairs and for the
/// near-duplicate pairs only (same group, texts not equal as content keys).
fn score_pairs(docs: &[Doc], same: impl Fn(usize, usize) -> bool) -> (Counts, Counts) {
    let keys: Vec<u64> = docs
        .iter()
        .map(|d| fingerprint::content_key(&d.title, &d.text))
        .collect();
    let (mut all, mut near) = (Counts::default(), Counts::default());
    for i in 0..docs.len() {
        for j in i + 1..docs.len() {
            let truth = docs[i].group == docs[j].group;
            let predicted = same(i, j);
            let is_near = truth && keys[i] != keys[j];
            match (truth, predicted) {
                (true, true) => {
                    all.tp += 1;
                    if is_near {
                        near.tp += 1;
                    }
                }
                (false, true) => {
                    all.fp += 1;
                    near.fp += 1;
                }
                (true, false) => {
                    all.fn_ += 1;
                    if is_near {
                        near.fn_ += 1;
                    }
                }
                (false, false) => {}
            }
        }
    }
    (all, near)
}

fn compare(docs: &[Doc]) {
    let features: Vec<Vec<u64>> = docs.iter().map(|d| shingles(&d.title, &d.text, 3)).collect();
    let unigrams: Vec<Vec<u64>> = docs.iter().map(|d| shingles(&d.title, &d.text, 1)).collect();
    let sim3: Vec<u64> = features.iter().map(|f| simhash(f)).collect();
    let sim1: Vec<u64> = unigrams.iter().map(|f| simhash(f)).collect();
    let mins: Vec<Vec<u32>> = features.iter().map(|f| minhash(f, 128)).collect();
    println!("method\tthreshold\tprecision\trecall_all\trecall_near\tfp\tfn_near");
    let report = |name: &str, threshold: String, (all, near): (Counts, Counts)| {
        println!(
            "{name}\t{threshold}\t{:.4}\t{:.4}\t{:.4}\t{}\t{}",
            all.precision(),
            all.recall(),
            near.recall(),
            all.fp,
            near.fn_
        );
    };
    for k in [3u32, 6, 10, 14, 18] {
        report(
            "simhash-3shingle",
            format!("hamming<={k}"),
            score_pairs(docs, |i, j| (sim3[i] ^ sim3[j]).count_ones() <= k),
        );
        report(
            "simhash-words",
            format!("hamming<={k}"),
            score_pairs(docs, |i, j| (sim1[i] ^ sim1[j]).count_ones() <= k),
        );
    }
    for t in [0.2, 0.3, 0.4, 0.5, 0.6] {
        report(
            "minhash128-3shingle",
            format!("jaccard>={t}"),
            score_pairs(docs, |i, j| minhash_similarity(&mins[i], &mins[j]) >= t),
        );
        report(
            "exact-jaccard-3shingle",
            format!("jaccard>={t}"),
            score_pairs(docs, |i, j| jaccard(&features[i], &features[j]) >= t),
        );
    }
}

/// Runs the deduper over the set (in a shuffled order) and scores its story clusters.
fn evaluate_stage(docs: &[Doc]) -> (Counts, Counts, Vec<(String, String, String)>) {
    let mut order: Vec<usize> = (0..docs.len()).collect();
    let mut rng = Rng(7);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut offline = deduper::offline::Offline::new(deduper::Settings::default());
    let mut story = vec![String::new(); docs.len()];
    for &i in &order {
        let d = &docs[i];
        let verdict = offline.check(&d.url, &d.title, &d.text);
        story[i] = verdict.story_id;
    }
    let (all, near) = score_pairs(docs, |i, j| story[i] == story[j]);
    // The merged pairs of different stories, for inspection.
    let mut wrong = Vec::new();
    let mut by_story: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in story.iter().enumerate() {
        by_story.entry(s.as_str()).or_default().push(i);
    }
    for members in by_story.values() {
        for (a, &i) in members.iter().enumerate() {
            for &j in &members[a + 1..] {
                if docs[i].group != docs[j].group && wrong.len() < 20 {
                    wrong.push((docs[i].title.clone(), docs[j].title.clone(), docs[i].kind.to_string()));
                }
            }
        }
    }
    (all, near, wrong)
}

fn main() -> ExitCode {
    let mut corpus = PathBuf::from("../shared/corpus");
    let (mut write, mut do_compare, mut check) = (None, false, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--corpus" => corpus = args.next().map(PathBuf::from).unwrap_or(corpus),
            "--write" => write = args.next().map(PathBuf::from),
            "--compare" => do_compare = true,
            "--check" => check = true,
            other => {
                eprintln!(
                    "error: unknown argument {other:?}\nusage: dedup-eval [--corpus DIR] [--write FILE] [--compare] [--check]"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let docs = match build(&corpus) {
        Ok(docs) => docs,
        Err(err) => {
            eprintln!("error: building the evaluation set from {}: {err:#}", corpus.display());
            return ExitCode::FAILURE;
        }
    };
    let groups: HashSet<&str> = docs.iter().map(|d| d.group.as_str()).collect();
    println!(
        "evaluation set: {} documents, {} stories ({} long, {} short documents)",
        docs.len(),
        groups.len(),
        docs.iter().filter(|d| d.kind == "long").count(),
        docs.iter().filter(|d| d.kind == "short").count()
    );
    if let Some(path) = write {
        let lines: String = docs
            .iter()
            .map(|d| serde_json::to_string(d).unwrap_or_default() + "\n")
            .collect();
        if let Err(err) = std::fs::write(&path, lines) {
            eprintln!("error: writing {}: {err}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    if do_compare {
        compare(&docs);
    }
    let (all, near, wrong) = evaluate_stage(&docs);
    for kind in ["long", "short"] {
        let subset: Vec<Doc> = docs.iter().filter(|d| d.kind == kind).cloned().collect();
        let (a, n, _) = evaluate_stage(&subset);
        println!(
            "deduper on {kind} only: precision {:.4} recall {:.4} recall(near) {:.4} (tp {} fp {} fn {})",
            a.precision(),
            a.recall(),
            n.recall(),
            a.tp,
            a.fp,
            a.fn_
        );
    }
    println!(
        "deduper story clusters: pairwise precision {:.4}, recall {:.4}, recall on near-duplicates {:.4} (tp {} fp {} fn {}, near fn {})",
        all.precision(),
        all.recall(),
        near.recall(),
        all.tp,
        all.fp,
        all.fn_,
        near.fn_
    );
    for (a, b, kind) in &wrong {
        println!("  merged ({kind}): {a:?} <> {b:?}");
    }
    if check && (all.precision() < 0.99 || near.recall() < 0.95) {
        eprintln!("dedup-eval: below target (precision >= 0.99, near-duplicate recall >= 0.95)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
