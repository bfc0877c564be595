//! Seeds: what each target starts from. From the shared corpus (`../shared/corpus` beside
//! the checkout): feeds, article pages (gzip unpacked, charsets decoded as the fetcher
//! decodes them), the URLs the feeds link to; from the repository: the taxonomy's queries;
//! and records and deduper state entries made by running the pipeline's own code over the
//! corpus. Besides those, the files of `shared/fuzz/seeds/<target>/` (the inputs of past
//! findings among them) and of any `--corpus` directory, each file one seed.
//!
//! Every list is sorted and free of repeats, so that a run is reproducible.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use chrono::Duration;

/// Where seeds come from.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The shared corpus, if there is one.
    pub corpus: Option<PathBuf>,
    /// The repository root (for `deploy/taxonomy.yaml`).
    pub repo: PathBuf,
    /// At most this many seeds from the corpus per target, spread over it (for quick runs
    /// such as the unit tests); `None`: all of them.
    pub sample: Option<usize>,
}

impl Sources {
    /// The repository this crate is in, and the shared corpus beside it (or
    /// `NEWSWIRE_CORPUS_DIR`), if it exists.
    pub fn default_for_repo() -> Sources {
        let repo = repo_root();
        let corpus = std::env::var_os("NEWSWIRE_CORPUS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("../shared/corpus"));
        Sources {
            corpus: corpus.is_dir().then_some(corpus),
            repo,
            sample: None,
        }
    }

    fn corpus_dir(&self, sub: &str) -> Option<PathBuf> {
        self.corpus.as_ref().map(|c| c.join(sub)).filter(|d| d.is_dir())
    }

    /// `items` cut to the sample size, evenly spread.
    fn sampled<T>(&self, items: Vec<T>) -> Vec<T> {
        match self.sample {
            Some(n) if items.len() > n && n > 0 => {
                let step = items.len().div_ceil(n);
                items.into_iter().step_by(step).collect()
            }
            _ => items,
        }
    }
}

/// The repository root: two levels above this crate.
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The directory of a target's own seeds, `shared/fuzz/seeds/<target>`.
pub fn seeds_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds").join(target)
}

/// Every file under `dir` (recursively), sorted by path.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A file's bytes, gzip unpacked when it is gzip.
fn read(path: &Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    if path.extension().is_some_and(|e| e == "gz") && bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .ok()?;
        return Some(out);
    }
    Some(bytes)
}

/// The files under `dir` as raw seeds, each once, sorted.
pub fn raw_files(dir: &Path) -> Vec<Vec<u8>> {
    dedup(files(dir).iter().filter_map(|p| std::fs::read(p).ok()))
}

fn dedup(seeds: impl IntoIterator<Item = Vec<u8>>) -> Vec<Vec<u8>> {
    let mut seen = BTreeSet::new();
    seeds.into_iter().filter(|s| seen.insert(s.clone())).collect()
}

/// The feed documents of the corpus (without the expected-output sidecars).
fn feed_files(sources: &Sources) -> Vec<PathBuf> {
    let Some(dir) = sources.corpus_dir("feeds") else {
        return Vec::new();
    };
    files(&dir)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            !name.ends_with(".serde.json") && !name.ends_with("_expected.json")
        })
        .collect()
}

/// `feed`: the corpus's feed documents.
pub fn feeds(sources: &Sources) -> Vec<Vec<u8>> {
    dedup(sources.sampled(feed_files(sources)).iter().filter_map(|p| read(p)))
}

/// `sitemap`: a few of the corpus's feeds (XML that is not a sitemap); the sitemaps and
/// robots.txt files are in `shared/fuzz/seeds/sitemap`.
pub fn sitemaps(sources: &Sources) -> Vec<Vec<u8>> {
    let feeds = feed_files(sources);
    let step = feeds.len().div_ceil(12).max(1);
    dedup(feeds.iter().step_by(step).filter_map(|p| read(p)))
}

/// `page`: the corpus's article pages (`articles/*`, `multilingual/pages`), unpacked and
/// decoded to UTF-8 as the fetcher decodes a page.
pub fn pages(sources: &Sources) -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    for sub in ["articles", "multilingual/pages"] {
        if let Some(dir) = sources.corpus_dir(sub) {
            paths.extend(files(&dir).into_iter().filter(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                (name.ends_with(".html") || name.ends_with(".html.gz")) && name != "expected.html"
            }));
        }
    }
    dedup(
        sources
            .sampled(paths)
            .iter()
            .filter_map(|p| read(p))
            .map(|bytes| fetcher::decode(&bytes, None).0.into_owned().into_bytes()),
    )
}

/// `query`: every query of the shipped taxonomy.
pub fn queries(sources: &Sources) -> Vec<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct File {
        topics: Vec<Topic>,
    }
    #[derive(serde::Deserialize)]
    struct Topic {
        query: String,
    }
    let Ok(text) = std::fs::read_to_string(sources.repo.join("deploy/taxonomy.yaml")) else {
        return Vec::new();
    };
    let Ok(file) = serde_yaml::from_str::<File>(&text) else {
        return Vec::new();
    };
    dedup(file.topics.into_iter().map(|t| t.query.into_bytes()))
}

/// `url`: the URLs in the corpus's feeds and items (links, guids, images, namespaces).
pub fn urls(sources: &Sources) -> Vec<Vec<u8>> {
    let mut texts: Vec<Vec<u8>> = feed_files(sources).iter().filter_map(|p| read(p)).collect();
    if let Some(items) = sources
        .corpus
        .as_ref()
        .and_then(|c| std::fs::read(c.join("news_items.jsonl")).ok())
    {
        texts.push(items);
    }
    let mut urls = BTreeSet::new();
    for text in &texts {
        let text = String::from_utf8_lossy(text);
        for (at, _) in text.match_indices("http") {
            let rest = &text[at..];
            if !(rest.starts_with("http://") || rest.starts_with("https://")) {
                continue;
            }
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ']' | ')' | '\\'))
                .unwrap_or(rest.len());
            // Feeds escape `&` in attributes and text.
            urls.insert(rest[..end].replace("&amp;", "&").into_bytes());
        }
    }
    sources.sampled(urls.into_iter().collect::<Vec<_>>().into_iter().take(20_000).collect())
}

/// The corpus's feed items, as (title, text) pairs.
fn items(sources: &Sources) -> Vec<(String, String)> {
    let Some(text) = sources
        .corpus
        .as_ref()
        .and_then(|c| std::fs::read_to_string(c.join("news_items.jsonl")).ok())
    else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|item| {
            let field = |name: &str| item[name].as_str().unwrap_or_default().to_string();
            (field("title"), field("summary"))
        })
        .collect()
}

/// `dedup_state`: the entries a deduper window writes for the corpus's items (new stories,
/// near duplicates, exact copies), and the first deduper's format (an RFC 3339 time).
pub fn dedup_entries(sources: &Sources) -> Vec<Vec<u8>> {
    use deduper::index::{Index, Input, Settings};
    let mut index = Index::new(Settings::default());
    let items = items(sources);
    let start = crate::targets::now().timestamp();
    let mut entries = vec![b"2021-07-15T20:38:00Z".to_vec()];
    for (n, (title, text)) in items.iter().take(400).enumerate() {
        let id = record::article_id(&format!("https://fuzz.example/{}", n % 350));
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        index.decide(Input {
            id: &id,
            title,
            text,
            now: start + n * 60,
        });
    }
    entries.extend(index.take_changes().into_iter().filter_map(|(_, value)| value));
    sources.sampled(dedup(entries))
}

/// `record`: every record type as the pipeline writes it: the corpus's feeds parsed into raw
/// records (and one with an article page), those cleaned, deduplicated and tagged, and a
/// spike event.
pub fn records(sources: &Sources) -> Vec<Vec<u8>> {
    let now = crate::targets::now();
    let feed = fetcher::FeedEntry::new("https://fuzz.example/feed");
    let mut raw: Vec<record::RawRecord> = Vec::new();
    for path in feed_files(sources) {
        let Some(body) = read(&path) else { continue };
        if let Ok(records) = fetcher::parse_feed(&feed, &body, "https://fuzz.example/feed", now) {
            raw.extend(records.into_iter().take(3));
        }
    }
    let mut raw = sources.sampled(raw);
    raw.truncate(120);
    if let Some(page) = sources
        .corpus
        .as_ref()
        .and_then(|c| std::fs::read_to_string(c.join("seed/independent-putin-xi-2021-12-15.txt")).ok())
    {
        let html = format!(
            "<html><head><title>Putin and Xi exchange warm words</title></head><body><article>{}</article></body></html>",
            page.split("\n\n").map(|p| format!("<p>{p}</p>")).collect::<String>()
        );
        if let Some(first) = raw.first().cloned() {
            raw.push(record::RawRecord {
                page: Some(record::Page {
                    url: "https://fuzz.example/news/putin-xi".into(),
                    html,
                    fetched_at: now,
                }),
                ..first
            });
        }
    }
    let cleaned: Vec<record::CleanedRecord> = raw.iter().filter_map(|r| cleaner::clean(r, now).ok()).collect();
    let mut deduper = deduper::Deduper::default();
    let unique: Vec<record::UniqueRecord> = cleaned
        .iter()
        .enumerate()
        .filter_map(|(n, c)| deduper.dedupe(c.clone(), now + Duration::seconds(i64::try_from(n).unwrap_or(0))))
        .collect();
    let enriched: Vec<record::EnrichedRecord> = match tagger::Taxonomy::embedded() {
        Ok(taxonomy) => {
            let tagger = tagger::Tagger::new(taxonomy);
            unique.iter().take(40).map(|u| tagger.tag(u.clone(), now)).collect()
        }
        Err(_) => Vec::new(),
    };
    let alert = record::AlertEvent {
        schema_version: 1,
        id: "ukraine/spiking/2024-06-01T12:00:00Z".into(),
        topic: "ukraine".into(),
        label: "Ukraine".into(),
        state: record::AlertState::Spiking,
        window_start: now - Duration::hours(1),
        window_end: now,
        window_secs: 3600,
        observed: 12,
        expected: 2.5,
        score: 4.2,
        sample_article_ids: enriched.iter().take(3).map(|e| e.article.id.clone()).collect(),
    };
    fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
        serde_json::to_vec(value).expect("a record serialises")
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    out.extend(raw.iter().map(json));
    out.extend(cleaned.iter().take(60).map(json));
    out.extend(unique.iter().take(60).map(json));
    out.extend(enriched.iter().map(json));
    out.push(json(&alert));
    dedup(out)
}
