//! The newswire side of the tagger benchmark (see `bench/tagger/README.md`).
//!
//! ```text
//! tagger_bench generate GAZETTEER_DIR NEWS_ITEMS.jsonl OUT_DIR N...   # taxonomies + documents
//! tagger_bench run TAXONOMY.yaml DOCS.jsonl RUNS                     # prints one JSON line
//! ```
//!
//! `generate` writes, for each N, `topics-N.yaml` (a taxonomy in the query language) and
//! `topics-N.json` (the same queries as syntax trees, for the Lucene Monitor harness), built
//! deterministically from the gazetteers' names and a list of news words; and `docs.jsonl`,
//! one `{"body": title + summary}` per news item, HTML stripped.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};
use tagger::{Field, Gazetteer, Taxonomy};

const KEYWORDS: &[&str] = &[
    "summit",
    "talks",
    "sanction*",
    "trade",
    "gas",
    "oil",
    "missile*",
    "election*",
    "protest*",
    "attack*",
    "deal",
    "visit*",
    "minister",
    "military",
    "troops",
    "border",
    "nuclear",
    "drone*",
    "economy",
    "inflation",
    "tariff*",
    "export*",
    "import*",
    "pipeline*",
    "energy",
    "court",
    "arrest*",
    "police",
    "war",
    "ceasefire",
    "peace",
    "negotiat*",
    "alliance",
    "exercise*",
    "navy",
    "army",
    "spy",
    "hack*",
    "cyber*",
    "vaccine*",
    "covid",
    "climate",
    "refugee*",
    "aid",
    "loan*",
    "bank*",
    "market*",
    "price*",
    "strike*",
    "invasion",
    "occupation",
    "crackdown",
    "human rights",
    "security council",
    "foreign minister",
    "prime minister",
    "joint statement",
    "state visit",
    "interest rates",
    "supply chain",
    "grain",
    "wheat",
    "chip*",
    "semiconductor*",
    "embargo",
    "veto",
    "treaty",
];

/// A query as a syntax tree, rendered both in the query language and as JSON for Lucene.
enum Q {
    Term(Vec<String>, bool),
    And(Vec<Q>),
    Or(Vec<Q>),
    Not(Box<Q>),
    Near(Vec<Q>, Vec<Q>, u32),
}

impl Q {
    fn word(text: &str) -> Q {
        let prefix = text.ends_with('*');
        Q::Term(tagger::words(text.trim_end_matches('*')), prefix)
    }

    fn render(&self) -> String {
        let list = |items: &[Q], op: &str| {
            let parts: Vec<String> = items.iter().map(Q::render).collect();
            format!("({})", parts.join(op))
        };
        match self {
            Q::Term(words, prefix) => {
                let star = if *prefix { "*" } else { "" };
                if words.len() == 1 {
                    format!("{}{star}", words[0])
                } else {
                    format!("\"{}{star}\"", words.join(" "))
                }
            }
            Q::And(items) => list(items, " AND "),
            Q::Or(items) => list(items, " OR "),
            Q::Not(inner) => format!("NOT {}", inner.render()),
            Q::Near(l, r, n) => format!("{} NEAR/{n} {}", list(l, " OR "), list(r, " OR ")),
        }
    }

    fn json(&self) -> Value {
        match self {
            Q::Term(words, prefix) => json!({"t": "term", "w": words, "p": prefix}),
            Q::And(items) => json!({"t": "and", "c": items.iter().map(Q::json).collect::<Vec<_>>()}),
            Q::Or(items) => json!({"t": "or", "c": items.iter().map(Q::json).collect::<Vec<_>>()}),
            Q::Not(inner) => json!({"t": "not", "c": [inner.json()]}),
            Q::Near(l, r, n) => json!({
                "t": "near", "n": n,
                "l": l.iter().map(Q::json).collect::<Vec<_>>(),
                "r": r.iter().map(Q::json).collect::<Vec<_>>(),
            }),
        }
    }
}

/// A small deterministic generator (SplitMix64), so every run builds the same taxonomies.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

fn generate(gazetteer_dir: &Path, items: &Path, out: &Path, sizes: &[usize]) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let files: Vec<_> = ["countries", "people", "organisations"]
        .iter()
        .map(|f| gazetteer_dir.join(format!("{f}.yaml")))
        .collect();
    let gazetteer = Gazetteer::load(&files)?;
    // Each entity as the OR of (up to six of) its names.
    let entities: Vec<Vec<String>> = gazetteer
        .entities
        .iter()
        .map(|e| e.names().take(6).map(|(n, _)| n.to_string()).collect())
        .collect();
    let names = |e: usize| -> Vec<Q> { entities[e].iter().map(|n| Q::Term(tagger::words(n), false)).collect() };
    for &size in sizes {
        let mut rng = Rng(size as u64);
        let mut yaml = String::from("topics:\n");
        let mut trees = Vec::new();
        for i in 0..size {
            let kw = |rng: &mut Rng, k: usize| -> Vec<Q> {
                (0..k).map(|_| Q::word(KEYWORDS[rng.next(KEYWORDS.len())])).collect()
            };
            let a = rng.next(entities.len());
            let b = (a + 1 + rng.next(entities.len() - 1)) % entities.len();
            let q = match i % 4 {
                0 => Q::And(vec![Q::Or(names(a)), Q::Or(names(b))]),
                1 => Q::Near(names(a), kw(&mut rng, 3), 10),
                2 => Q::And(vec![
                    Q::Or(names(a)),
                    Q::Or(kw(&mut rng, 4)),
                    Q::Not(Box::new(Q::Or(kw(&mut rng, 2)))),
                ]),
                _ => Q::And(vec![
                    Q::Or(names(a).into_iter().chain(kw(&mut rng, 1)).collect()),
                    Q::Or(names(b)),
                ]),
            };
            let query = q.render().replace('\'', "''");
            writeln!(yaml, "  - {{slug: t{i}, label: T{i}, query: '{query}'}}")?;
            trees.push(json!({"id": format!("t{i}"), "q": q.json()}));
        }
        std::fs::write(out.join(format!("topics-{size}.yaml")), yaml)?;
        std::fs::write(out.join(format!("topics-{size}.json")), serde_json::to_string(&trees)?)?;
    }
    let mut docs = String::new();
    for line in std::fs::read_to_string(items)?.lines() {
        let item: Value = serde_json::from_str(line)?;
        let field = |k: &str| item[k].as_str().unwrap_or_default().to_string();
        let body = format!("{}\n{}", field("title"), cleaner::text::html_to_text(&field("summary")));
        docs.push_str(&serde_json::to_string(&json!({ "body": body }))?);
        docs.push('\n');
    }
    std::fs::write(out.join("docs.jsonl"), docs)?;
    Ok(())
}

fn run(taxonomy: &Path, docs: &Path, runs: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    // With the gazetteers the file names, if any (the shipped taxonomy's; the generated ones
    // name none).
    let taxonomy = Taxonomy::load(taxonomy)?;
    let compile_seconds = started.elapsed().as_secs_f64();
    let docs: Vec<String> = std::fs::read_to_string(docs)?
        .lines()
        .map(|l| {
            Ok(serde_json::from_str::<Value>(l)?["body"]
                .as_str()
                .unwrap_or_default()
                .to_string())
        })
        .collect::<anyhow::Result<_>>()?;
    let pass = || -> usize {
        docs.iter()
            .map(|d| taxonomy.matches(&[(Field::Text, d.as_str())]).len())
            .sum()
    };
    let mut matches = pass(); // warm-up
    let mut rates = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        matches = pass();
        rates.push(docs.len() as f64 / start.elapsed().as_secs_f64());
    }
    let mut sorted = rates.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "engine": "newswire",
            "topics": taxonomy.len(),
            "docs": docs.len(),
            "compile_seconds": (compile_seconds * 1000.0).round() / 1000.0,
            "median_docs_per_sec": (sorted[runs / 2] * 10.0).round() / 10.0,
            "runs": rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
            "matches": matches,
        })
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate") if args.len() >= 5 => {
            let sizes = args[4..].iter().map(|s| s.parse()).collect::<Result<Vec<usize>, _>>()?;
            generate(Path::new(&args[1]), Path::new(&args[2]), Path::new(&args[3]), &sizes)
        }
        Some("run") if args.len() == 4 => run(Path::new(&args[1]), Path::new(&args[2]), args[3].parse()?),
        _ => anyhow::bail!(
            "usage: tagger_bench generate GAZETTEER_DIR ITEMS.jsonl OUT_DIR N... | run TAXONOMY DOCS RUNS"
        ),
    }
}
