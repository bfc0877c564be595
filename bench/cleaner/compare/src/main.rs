//! Scores several Rust article extractors on the scrapinghub article-extraction-benchmark
//! pages of the corpus with the benchmark's shingle metric (see `services/cleaner/src/eval.rs`).
//! Usage: `extractor-compare CORPUS_ARTICLES_DIR [NAME-PREFIX]`.
//!
//! `extractor-compare extract FILE...` runs the cleaner's own page extraction (the very source
//! files of `services/cleaner`: budget checks skipped, text and metadata extracted) on each
//! file and prints `{"file","text","elapsed_ms"}` per line, like `newswire extract`, for the
//! throughput benchmark when a release build of the whole `newswire` binary is not at hand.

#[allow(dead_code)]
#[path = "../../../../services/cleaner/src/eval/metric.rs"]
mod metric;

#[allow(dead_code)]
#[path = "../../../../services/cleaner/src/decode.rs"]
mod decode;
#[allow(dead_code)]
#[path = "../../../../services/cleaner/src/extract.rs"]
mod extract;
#[allow(dead_code)]
#[path = "../../../../services/cleaner/src/meta.rs"]
mod meta;
#[allow(dead_code)]
#[path = "../../../../services/cleaner/src/text.rs"]
mod text;
pub use text::html_to_text;

fn extract_files(files: &[String]) {
    let now = chrono::Utc::now();
    for file in files {
        let start = Instant::now();
        let mut bytes = std::fs::read(file).unwrap();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).unwrap();
            bytes = out;
        }
        let text = decode::decode_html(&bytes)
            .ok()
            .and_then(|(html, _)| extract::extract_now(&html, None, now).ok())
            .map(|p| p.text)
            .unwrap_or_default();
        let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        println!(
            "{}",
            serde_json::json!({"file": file, "text": text, "elapsed_ms": elapsed_ms})
        );
    }
}

/// rs-trafilatura with the page URL and the given options.
fn traf(html: &str, url: &str, deduplicate: bool, favor_precision: bool) -> String {
    let o = rs_trafilatura::Options {
        url: Some(url.to_string()),
        deduplicate,
        favor_precision,
        ..Default::default()
    };
    rs_trafilatura::extract_with_options(html, &o)
        .map(|r| r.content_text)
        .unwrap_or_default()
}

/// dom_smoothie with its default settings but `text`, then the cleaner's boilerplate rules
/// (without the cleaner's caption removal).
fn smoothie(html: &str, url: &str, text: dom_smoothie::TextMode) -> String {
    let cfg = dom_smoothie::Config {
        text_mode: text,
        ..Default::default()
    };
    let Ok(mut r) = dom_smoothie::Readability::new(html, Some(url), Some(cfg)) else {
        return String::new();
    };
    let Ok(a) = r.parse() else { return String::new() };
    let t = a.text_content.to_string();
    let title = a.title.to_string();
    extract::clean_paragraphs(t.split('\n'), Some(title.as_str()), &[])
}

use std::io::Read;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "extract") {
        extract_files(&args[1..]);
        return;
    }
    let dir = std::env::args()
        .nth(1)
        .expect("usage: extractor-compare CORPUS_ARTICLES_DIR");
    let aeb = format!("{dir}/scrapinghub-aeb");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{aeb}/ground-truth.json")).unwrap()).unwrap();
    let truth = truth.as_object().unwrap();
    let mut pages = Vec::new();
    for (id, entry) in truth {
        let mut html = String::new();
        let file = std::fs::File::open(format!("{aeb}/html/{id}.html.gz")).unwrap();
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(file).read_to_end(&mut bytes).unwrap();
        html.push_str(&String::from_utf8_lossy(&bytes));
        let body = entry["articleBody"].as_str().unwrap_or_default().to_string();
        let url = entry["url"].as_str().unwrap_or_default().to_string();
        pages.push((html, body, url));
    }
    type Extractor = fn(&str, &str) -> String;
    let only = std::env::args().nth(2);
    let extractors: [(&str, Extractor); 8] = [
        ("html5ever parse only", |html, _url| {
            let doc = scraper::Html::parse_document(html);
            doc.root_element().value().name().to_string()
        }),
        ("cleaner (dom_smoothie + rules)", |html, url| {
            extract::extract_now(html, Some(url), chrono::Utc::now())
                .map(|p| p.text)
                .unwrap_or_default()
        }),
        ("dom_smoothie, paragraphs + rules", |html, url| {
            smoothie(html, url, dom_smoothie::TextMode::Formatted)
        }),
        ("rs-trafilatura dedup", |html, url| traf(html, url, true, false)),
        ("rs-trafilatura precision", |html, url| traf(html, url, false, true)),
        ("rs-trafilatura 0.2.2", |html, _| {
            rs_trafilatura::extract(html)
                .map(|r| r.content_text)
                .unwrap_or_default()
        }),
        ("dom_smoothie 0.19.0", |html, url| {
            let Ok(mut r) = dom_smoothie::Readability::new(html, Some(url), None) else {
                return String::new();
            };
            r.parse().map(|a| a.text_content.to_string()).unwrap_or_default()
        }),
        ("readability_rs 0.5.0", |html, url| {
            let Ok(url) = url::Url::parse(url) else {
                return String::new();
            };
            readability::extract(&mut html.as_bytes(), &url, readability::ExtractOptions::default())
                .map(|a| a.text)
                .unwrap_or_default()
        }),
    ];
    for (name, extract) in extractors {
        if only.as_deref().is_some_and(|o| !name.starts_with(o)) {
            continue;
        }
        let start = Instant::now();
        let scores: Vec<_> = pages
            .iter()
            .map(|(html, body, url)| metric::shingle_match(body, &extract(html, url)))
            .collect();
        let elapsed = start.elapsed().as_secs_f64();
        let s = metric::summarize(&scores);
        println!(
            "{name:<24} P={:.3} R={:.3} F1={:.3} pages={} {:.1} pages/s",
            s.precision,
            s.recall,
            s.f1,
            pages.len(),
            pages.len() as f64 / elapsed
        );
    }
}
