//! Precision and recall of the default taxonomy on Chinese news: the CCTV Xinwen Lianbo set
//! (`services/tagger/eval/zh/topics-zh.jsonl`, rules and selection in `eval/zh/LABELLING.md`),
//! labelled by someone who did not see the queries. The tagger sees each story's title and
//! text, as the labeller did.
//!
//! Stories are in a tune and a measure half by day. The queries were tuned by reading the
//! errors of the tune half only (`TAGGER_EVAL_ERRORS=1` prints those, never the measure
//! half's). The selection took every story with a topic keyword (pool K) and one in four of
//! the others (pool O), so an O story stands for four: counts are weighted that way, which
//! estimates precision on a day's whole programme.
//!
//! Floors are asserted on both halves: what the taxonomy achieves, rounded down, so that a
//! change that makes Chinese tagging worse fails. The targets are printed beside.
//! `cargo test -p tagger --test it eval_zh -- --nocapture` prints the table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tagger::{Field, Taxonomy};

use crate::counts::{Counts, Floor, topic_header, topic_row};

/// (slug, target precision, target recall, floors (P, R) on the tune half, on the measure half)
type Row = (&'static str, f64, f64, (f64, f64), (f64, f64));

const TOPICS: &[Row] = &[
    ("russia-china", 0.90, 0.85, (1.00, 0.90), (0.90, 1.00)),
    ("ukraine", 0.90, 0.85, (0.98, 0.98), (0.94, 0.97)),
    ("sanctions", 0.80, 0.75, (0.92, 0.92), (0.93, 0.77)),
    ("taiwan", 0.80, 0.75, (0.87, 1.00), (0.85, 0.85)),
    ("us-china", 0.80, 0.75, (0.63, 0.87), (0.70, 0.93)),
    ("us-russia", 0.80, 0.75, (0.50, 0.50), (0.25, 0.33)),
    ("nato", 0.80, 0.75, (1.00, 0.57), (0.66, 0.28)),
    ("xinjiang-hong-kong", 0.80, 0.75, (1.00, 0.50), (0.11, 0.33)),
    ("energy-security", 0.80, 0.75, (0.92, 0.73), (0.85, 0.48)),
];

#[test]
fn default_taxonomy_on_chinese_news() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let taxonomy = Taxonomy::load(&root.join("../../deploy/taxonomy.yaml")).unwrap();
    let labels = std::fs::read_to_string(root.join("eval/zh/topics-zh.jsonl")).unwrap();
    let mut counts: BTreeMap<(&str, String), Counts> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut items = 0;
    for line in labels.lines() {
        let item: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(item["labelled"], true, "an unlabelled item: {}", item["id"]);
        let s = |k: &str| item[k].as_str().unwrap_or_default().to_string();
        let (id, half, title, text) = (s("id"), s("half"), s("title"), s("text"));
        let weight = if item["pool"] == "O" { 4.0 } else { 1.0 };
        let want: BTreeSet<&str> = item["labels"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l.as_str())
            .collect();
        let got: BTreeSet<String> = taxonomy
            .matches_in(Some("zh"), &[(Field::Title, &title), (Field::Text, &text)])
            .into_iter()
            .map(|m| m.slug)
            .collect();
        items += 1;
        for &(slug, ..) in TOPICS {
            let (w, g) = (want.contains(slug), got.contains(slug));
            counts.entry((slug, half.clone())).or_default().add(w, g, weight);
            if half == "tune" && w != g {
                errors.push(format!("{} {slug} {id}: {title}", if g { "FP" } else { "FN" }));
            }
        }
    }
    assert!(items >= 800, "the Chinese set has {items} items");
    if std::env::var_os("TAGGER_EVAL_ERRORS").is_some() {
        errors.sort();
        for e in &errors {
            println!("{e}");
        }
    }
    println!("{items} stories (pool O weighted x4)");
    topic_header();
    let mut failures = Vec::new();
    for &(slug, target_p, target_r, (tune_p, tune_r), (measure_p, measure_r)) in TOPICS {
        let get = |h: &str| counts.get(&(slug, h.to_string())).copied().unwrap_or_default();
        topic_row(
            slug,
            (target_p, target_r),
            [
                ("tune", get("tune"), Floor::new(tune_p, tune_r)),
                ("measure", get("measure"), Floor::new(measure_p, measure_r)),
            ],
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "below the floors: {failures:#?}");
}
