//! The sandbox's hard limits, with the real `cleaner` executable as the worker: a page that
//! runs past its deadline gets its worker killed, a page that needs more memory than the
//! worker may use makes only the worker die, and the next page is extracted by a fresh one.

use std::time::{Duration, Instant};

use chrono::Utc;
use cleaner::sandbox::{Sandbox, WORKER_ARG};
use cleaner::{Budget, Failure};

fn sandbox(memory_bytes: u64) -> Sandbox {
    Sandbox::new(env!("CARGO_BIN_EXE_cleaner"), memory_bytes)
}

fn article() -> String {
    let para = "<p>The ministers met in Beijing on Tuesday and agreed to widen trade in energy and grain, \
                officials from both sides said after the talks ended late in the evening.</p>";
    format!(
        "<html><head><title>Ministers meet</title></head><body><nav>Home | World</nav>\
         <article><h1>Ministers meet</h1>{}</article><footer>(c) Example</footer></body></html>",
        para.repeat(6)
    )
}

/// A flat page of about 230,000 elements: within the size and element budget, but one that
/// takes the extractor many seconds.
fn slow_page() -> String {
    let mut page = String::from("<html><head><title>t</title></head><body>");
    for i in 0..76_000 {
        page.push_str(&format!(
            "<div class=\"c{i}\"><p>Some words of text here, more words. <a href=\"/x\">link</a></p></div>"
        ));
    }
    page.push_str("</body></html>");
    page
}

/// A page far over the budget's size and element limits (5 million paragraphs in 20 MB),
/// whose document tree needs well over a gigabyte: the sandbox caps memory whatever the
/// caller checked before.
fn huge_page() -> String {
    format!("<html><body>{}</body></html>", "<p>a".repeat(5_000_000))
}

/// Workers of this test process still alive (their command line has the worker argument).
fn live_workers() -> usize {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let dir = e.path();
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
            // Field 4 of /proc/PID/stat is the parent pid; field 3 is the state (Z: zombie).
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, r)| r.split_whitespace().collect())
                .unwrap_or_default();
            String::from_utf8_lossy(&cmdline).contains(WORKER_ARG)
                && fields.get(1).is_some_and(|ppid| *ppid == me)
                && fields.first().is_some_and(|state| *state != "Z")
        })
        .count()
}

#[test]
fn pages_over_their_time_or_memory_budget_kill_only_their_worker() {
    let now = Utc::now();
    let budget = Budget {
        timeout: Duration::from_secs(30),
        ..Budget::default()
    };
    let page = article();
    let in_process = cleaner::extract::extract_now(&page, Some("https://example.com/a"), now).unwrap();
    // A 256 MiB address space: enough for an article (the worker's code, its 64 MiB stack
    // and allocator arenas included), not for the huge page's document tree.
    let sb = sandbox(256 << 20);

    let start = Instant::now();
    let got = cleaner::sandbox::extract(&sb, &page, Some("https://example.com/a"), now, budget.timeout).unwrap();
    assert_eq!(got.text, in_process.text);
    assert_eq!(got.method, in_process.method);
    assert_eq!(got.meta.title, in_process.meta.title);
    assert!(start.elapsed() < budget.timeout);
    assert_eq!(live_workers(), 1, "the worker is kept for the next page");

    // Past the deadline: the worker is killed, not left running.
    let slow = slow_page();
    cleaner::extract::precheck(&slow, &Budget::default()).expect("the slow page is within the budget's size and shape");
    let roomy = sandbox(8 << 30);
    let start = Instant::now();
    let err = cleaner::sandbox::extract(&roomy, &slow, None, now, Duration::from_millis(300)).unwrap_err();
    assert_eq!(err, Failure::Timeout);
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
    assert_eq!(live_workers(), 1, "the timed-out worker is gone; the idle one is left");

    // Over the memory limit: the worker dies, the caller gets `memory`.
    let err = cleaner::sandbox::extract(&sb, &huge_page(), None, now, Duration::from_secs(120)).unwrap_err();
    assert_eq!(err, Failure::Memory);

    // And the next page is extracted as before, by a fresh worker.
    let got = cleaner::sandbox::extract(&sb, &page, Some("https://example.com/a"), now, budget.timeout).unwrap();
    assert_eq!(got.text, in_process.text);
}
