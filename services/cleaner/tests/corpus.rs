//! The extraction evaluation on the shared corpus, with the figures the cleaner achieves as
//! floors (a small margin below the measured values; see `bench/cleaner/README.md`). Run with
//! `--nocapture` to see the report.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};

fn articles() -> PathBuf {
    let dir = std::env::var_os("NEWSWIRE_CORPUS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    dir.join("articles")
}

#[test]
fn extraction_quality_on_the_corpus() {
    // Dates are checked against a fixed "now" after every page of the corpus was published.
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let report = cleaner::eval::run(&articles(), now).expect("the corpus is readable");
    println!("{}", report.render());
    if std::env::var_os("NEWSWIRE_BYLINE_TUNE").is_some() {
        for b in report.bylines.iter().filter(|b| b.part == "tune" && !b.exact()) {
            println!("TUNE {} [{}] got {:?} want {:?}", b.page, b.source, b.got, b.want);
        }
    }
    assert!(report.aeb.len() >= 100, "benchmark pages found: {}", report.aeb.len());
    assert!(
        report.readability.len() >= 40,
        "readability pages found: {}",
        report.readability.len()
    );
    let body = report.aeb_summary();
    let pct = |(n, d): (usize, usize)| n as f64 / d.max(1) as f64;
    assert!(body.f1 >= F1_FLOOR, "body F1 {:.3} < {F1_FLOOR}", body.f1);
    assert!(pct(report.title) >= TITLE_FLOOR, "title exact match {:?}", report.title);
    assert!(
        pct(report.published) >= DATE_FLOOR,
        "published date {:?}",
        report.published
    );
    let junk: Vec<_> = report
        .bylines
        .iter()
        .filter(|b| b.junk())
        .map(|b| (&b.page, &b.got))
        .collect();
    assert!(
        junk.is_empty(),
        "no digit, address, link or `By` inside a name: {junk:?}"
    );
    assert!(
        report.trafilatura.len() >= 500,
        "trafilatura-eval pages: {}",
        report.trafilatura.len()
    );
    for part in ["tune", "measure"] {
        let f1 = report.trafilatura_part(part).f1;
        assert!(
            f1 >= TRAFILATURA_EVAL_FLOOR,
            "trafilatura-eval ({part}) F1 {f1:.3} < {TRAFILATURA_EVAL_FLOOR}"
        );
        let f1 = report.aeb_part(part).f1;
        assert!(f1 >= F1_FLOOR, "benchmark ({part}) body F1 {f1:.3} < {F1_FLOOR}");
    }
    assert!(report.chinese.len() >= 50, "Chinese pages: {}", report.chinese.len());
    for part in ["tune", "measure"] {
        let chinese: Vec<_> = report
            .chinese
            .iter()
            .filter(|p| p.part == part)
            .map(|p| p.body)
            .collect();
        let f1 = cleaner::eval::metric::summarize(&chinese).f1;
        assert!(
            f1 >= CHINESE_FLOOR,
            "Chinese pages ({part}) F1 {f1:.3} < {CHINESE_FLOOR}"
        );
    }
    assert!(report.silver.len() >= 6, "silver pages: {}", report.silver.len());
    for page in &report.silver {
        assert!(
            page.body.f1() >= SILVER_PAGE_FLOOR,
            "{} F1 {:.3} < {SILVER_PAGE_FLOOR} ({})",
            page.page,
            page.body.f1(),
            page.method
        );
    }
    for (part, floor) in [("tune", BYLINE_TUNE_FLOOR), ("measure", BYLINE_MEASURE_FLOOR)] {
        let scores: Vec<_> = report.bylines.iter().filter(|b| b.part == part).collect();
        let within = scores.iter().filter(|b| b.within()).count();
        assert!(
            scores.len() >= 20 && within as f64 / scores.len() as f64 >= floor,
            "bylines ({part}): {within} of {} within Readability's",
            scores.len()
        );
    }
}

// Measured on the visible corpus: body F1 0.975 (Readability.js pages 0.971), titles 85/87
// (97.7%), dates 26/26. The targets are F1 >= 0.97, titles >= 95%, dates >= 90%. The
// boilerplate rules were written from errors on these visible pages, so the held-out pages
// may score lower.
const F1_FLOOR: f64 = 0.97;
const TITLE_FLOOR: f64 = 0.95;
const DATE_FLOOR: f64 = 0.95;
// Bylines, against Readability.js's on its pages (bench/cleaner/splits.json): measured 20/24
// (0.83) on the part the rules were tuned on, 24/31 (0.77) on the part only measured; before
// the byline rules, 13/24 and 19/31, with four names holding a date.
const BYLINE_TUNE_FLOOR: f64 = 0.80;
// trafilatura's evaluation pages with its metric: measured F1 0.923 on the tune part and 0.923
// on the measure part (0.891 and 0.900 before the multilingual furniture labels, the
// standfirst, related lists and link lists; 0.912 and 0.917 before datelines in other
// languages, recipes' structured data and subscription walls; 0.917 and 0.918 before CJK
// words, ruby readings and the labels after the last sentence); Python trafilatura 2.0.0
// scores 0.914 and 0.919 on the same pages (bench/cleaner/README.md).
const TRAFILATURA_EVAL_FLOOR: f64 = 0.915;
// The Chinese pages of multilingual/pages/cn-wce, every CJK character a token: measured F1
// 0.911 (tune, 33 pages) and 0.951 (measure, 21); 0.857 and 0.904 before CJK text counted a
// word per two characters and a broken GBK page was decoded; Python trafilatura 2.0.0 0.729
// and 0.782 (bench/cleaner/README.md). The target is 0.90.
const CHINESE_FLOOR: f64 = 0.90;
// The six Russian, Ukrainian-edition and Chinese pages of fundus's and newspaper4k's tests,
// against those parsers' output: every page 0.980 to 1.000 (Python trafilatura 2.0.0: 0.972
// to 1.000; bench/cleaner/README.md). Too few to split; no rule was written from them.
const SILVER_PAGE_FLOOR: f64 = 0.95;
const BYLINE_MEASURE_FLOOR: f64 = 0.74;
