//! The deduper's precision and recall on the evaluation set built from the corpus
//! (`../shared/corpus` beside the checkout), against the targets: pairwise precision
//! of "same story" ≥ 0.99 and recall on near duplicates ≥ 0.95, for English, Chinese and
//! Russian, on each half (medians of five arrival orders), and the previous set's figures. Runs the `dedup-eval` binary
//! with `--check`, which fails below either target; its output is shown on failure.

use std::path::Path;
use std::process::Command;

#[test]
fn story_clusters_meet_the_precision_and_recall_targets_on_the_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    assert!(
        corpus.join("news_items.jsonl").is_file(),
        "the corpus is expected beside the checkout: {}",
        corpus.display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_dedup-eval"))
        .arg("--corpus")
        .arg(&corpus)
        .arg("--check")
        .output()
        .expect("running dedup-eval");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "dedup-eval --check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("deduper story clusters, every language (the first order): pairwise precision")
            && stdout.contains("English (")
            && stdout.contains("Russian (")
            && stdout.contains("Chinese ("),
        "{stdout}"
    );
}
