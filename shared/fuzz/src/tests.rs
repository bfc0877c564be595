//! Every target over its seeds, once: the saved inputs of past findings (under
//! `shared/fuzz/seeds/<target>`) and a sample of the corpus seeds. Fast, so that
//! `cargo test --workspace` keeps every target passing on what it has seen.

use crate::harness::{self, Kind};
use crate::seeds::{self, Sources};
use crate::targets::{TARGETS, target};

fn sources() -> Sources {
    Sources {
        sample: Some(12),
        ..Sources::default_for_repo()
    }
}

fn check(name: &str) {
    let target = target(name).expect("a target");
    let inputs: Vec<(String, Vec<u8>)> = harness::load_seeds(target, &sources(), &[])
        .into_iter()
        .enumerate()
        .map(|(i, s)| (format!("{name} seed {i}"), s))
        .collect();
    assert!(!inputs.is_empty(), "{name} has seeds");
    let failed = harness::replay(target, &inputs);
    // Hangs are timing: a debug build on a busy machine is slower than the limits assume.
    let crashes: Vec<_> = failed.iter().filter(|(_, kind, _)| *kind != Kind::Hang).collect();
    assert!(crashes.is_empty(), "{name}: {crashes:?}");
}

#[test]
fn every_target_is_tested_here() {
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        ["feed", "sitemap", "page", "query", "url", "dedup_state", "record"]
    );
}

#[test]
fn feed_seeds() {
    check("feed");
}

#[test]
fn sitemap_seeds() {
    check("sitemap");
}

#[test]
fn page_seeds() {
    check("page");
}

#[test]
fn query_seeds() {
    check("query");
}

#[test]
fn url_seeds() {
    check("url");
}

#[test]
fn dedup_state_seeds() {
    check("dedup_state");
}

#[test]
fn record_seeds() {
    check("record");
}

#[test]
fn corpus_seeds_are_found() {
    let sources = Sources::default_for_repo();
    if sources.corpus.is_none() {
        eprintln!("no shared corpus: skipped");
        return;
    }
    for t in TARGETS {
        let n = (t.seeds)(&Sources {
            sample: Some(5),
            ..sources.clone()
        })
        .len();
        assert!(n > 0, "{}: corpus seeds", t.name);
    }
    let records = seeds::records(&Sources {
        sample: Some(40),
        ..sources
    });
    let kinds = |field: &str| {
        records
            .iter()
            .filter(|r| String::from_utf8_lossy(r).contains(field))
            .count()
    };
    assert!(kinds("\"story_id\"") > 0 && kinds("\"topics\"") > 0 && kinds("\"cleaned_at\"") > 0);
}

#[test]
fn a_panic_is_a_crash_and_a_slow_input_a_hang() {
    fn panics(data: &[u8]) {
        assert!(data.is_empty(), "not empty");
    }
    fn slow(data: &[u8]) {
        if !data.is_empty() {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    let mut t = *target("url").unwrap();
    t.run = panics;
    let failed = harness::replay(&t, &[("a".into(), b"x".to_vec()), ("b".into(), Vec::new())]);
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].0.as_str(), failed[0].1), ("a", Kind::Crash));
    // (Its message is not checked: the message is kept process-wide, since an extraction
    // thread's panic must reach the fuzz thread, and the tests beside this one panic too.)
    t.run = slow;
    t.limit = std::time::Duration::from_millis(10);
    let failed = harness::replay(&t, &[("a".into(), b"x".to_vec()), ("b".into(), Vec::new())]);
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].0.as_str(), failed[0].1), ("a", Kind::Hang));
}
