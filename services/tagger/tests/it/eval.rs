//! Precision and recall of the default taxonomy on the labelled development set
//! (`services/tagger/eval/topics-dev.jsonl`, rules in `eval/LABELLING.md`), labelled by
//! someone who did not see the queries. Items are feed items: the tagger sees their title and
//! summary (HTML stripped), as the labeller did.
//!
//! The floors asserted below are what the taxonomy achieves today, rounded down, so a change
//! that makes tagging worse fails; the targets are printed beside them. Run with
//! `cargo test -p tagger --test it eval -- --nocapture` to see the table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tagger::{Field, Taxonomy};

/// (slug, target precision, target recall, asserted precision floor, asserted recall floor)
const TOPICS: &[(&str, f64, f64, f64, f64)] = &[
    ("russia-china", 0.90, 0.85, 0.65, 0.95),
    ("ukraine", 0.90, 0.85, 0.90, 0.80),
    ("us-china", 0.80, 0.75, 0.60, 0.75),
    ("us-russia", 0.80, 0.75, 0.60, 0.90),
    ("sanctions", 0.80, 0.75, 0.85, 0.95),
    ("taiwan", 0.80, 0.75, 0.80, 0.85),
    ("nato", 0.80, 0.75, 0.75, 0.80),
    ("xinjiang-hong-kong", 0.80, 0.75, 0.95, 0.80),
    ("energy-security", 0.80, 0.75, 0.70, 0.85),
];

#[derive(Debug, Default)]
struct Counts {
    tp: u32,
    fp: u32,
    fn_: u32,
}

impl Counts {
    fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            f64::from(self.tp) / f64::from(self.tp + self.fp)
        }
    }
    fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            f64::from(self.tp) / f64::from(self.tp + self.fn_)
        }
    }
}

#[test]
fn default_taxonomy_precision_and_recall_on_the_dev_set() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let taxonomy = Taxonomy::load(&root.join("../../deploy/taxonomy.yaml")).unwrap();
    let labels = std::fs::read_to_string(root.join("eval/topics-dev.jsonl")).unwrap();
    let mut counts: BTreeMap<&str, Counts> = TOPICS.iter().map(|t| (t.0, Counts::default())).collect();
    let mut items = 0;
    let mut errors: Vec<String> = Vec::new();
    for (index, line) in labels.lines().enumerate() {
        let item: serde_json::Value = serde_json::from_str(line).unwrap();
        // Feed titles and summaries are often HTML: tag them as the cleaner delivers them.
        let text = |key: &str| cleaner::text::html_to_text(item[key].as_str().unwrap_or_default());
        let (title, summary) = (text("title"), text("summary"));
        let want: BTreeSet<&str> = item["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let got: BTreeSet<String> = taxonomy
            .matches(&[(Field::Title, &title), (Field::Summary, &summary)])
            .into_iter()
            .map(|m| m.slug)
            .collect();
        items += 1;
        for (slug, c) in counts.iter_mut() {
            match (want.contains(slug), got.contains(*slug)) {
                (true, true) => c.tp += 1,
                (false, true) => {
                    c.fp += 1;
                    errors.push(format!("FP {slug} #{index}: {title}"));
                }
                (true, false) => {
                    c.fn_ += 1;
                    errors.push(format!("FN {slug} #{index}: {title}"));
                }
                (false, false) => {}
            }
        }
    }
    assert!(items >= 400, "the dev set has {items} items");
    if std::env::var_os("TAGGER_EVAL_ERRORS").is_some() {
        errors.sort();
        for e in &errors {
            println!("{e}");
        }
    }
    println!("{items} items");
    println!(
        "{:<20} {:>4} {:>4} {:>4} {:>9} {:>9} {:>8} {:>8}",
        "topic", "tp", "fp", "fn", "precision", "recall", "target P", "target R"
    );
    let mut failures = Vec::new();
    for &(slug, target_p, target_r, floor_p, floor_r) in TOPICS {
        let c = &counts[slug];
        let (p, r) = (c.precision(), c.recall());
        println!(
            "{slug:<20} {:>4} {:>4} {:>4} {p:>9.3} {r:>9.3} {target_p:>8.2} {target_r:>8.2}",
            c.tp, c.fp, c.fn_
        );
        if p < floor_p || r < floor_r {
            failures.push(format!(
                "{slug}: precision {p:.3} (floor {floor_p}), recall {r:.3} (floor {floor_r})"
            ));
        }
    }
    assert!(failures.is_empty(), "below the floors: {failures:#?}");
}
