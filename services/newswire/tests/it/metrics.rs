//! The metrics contract: the five services on a real broker over the corpus; every service's
//! `/metrics` is scraped and checked against the records on the topics, the documented metric
//! names, and every metric the Prometheus rules and the Grafana dashboard use.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use rdkafka::Message;
use rdkafka::message::Headers;
use record::{AlertEvent, AlertState, EnrichedRecord};
use runtime::TraceContext;

use crate::kafka::{Service, committed_reader, http_get, pipeline_kafka, topic_env};
use crate::support::*;

const SERVICES: [&str; 5] = ["fetcher", "cleaner", "deduper", "tagger", "alerter"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A record as read back: key, payload, trace context.
struct Read {
    key: String,
    payload: Vec<u8>,
    trace: Option<TraceContext>,
}

/// Reads a whole topic (read_committed) until nothing new comes for `idle`.
fn read_topic(bootstrap: &str, topic: &str, idle: Duration) -> Vec<Read> {
    let consumer = committed_reader(bootstrap, topic, &format!("{topic}-metrics-check"));
    let mut out = Vec::new();
    let (started, mut last) = (Instant::now(), Instant::now());
    while last.elapsed() < idle && started.elapsed() < Duration::from_secs(120) {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
            let trace = message
                .headers()
                .and_then(|h| h.iter().find(|h| h.key == runtime::TRACEPARENT).and_then(|h| h.value))
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(TraceContext::parse);
            out.push(Read {
                key: String::from_utf8_lossy(message.key().unwrap_or_default()).to_string(),
                payload: message.payload().unwrap_or_default().to_vec(),
                trace,
            });
            last = Instant::now();
        }
    }
    out
}

/// One scrape: sample lines by series (name and labels as written), and the families present.
#[derive(Default)]
struct Scrape {
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    fn parse(body: &str) -> Scrape {
        let mut scrape = Scrape::default();
        for line in body.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            if let Some((series, value)) = line.rsplit_once(' ') {
                scrape
                    .samples
                    .insert(series.to_string(), value.parse().unwrap_or(f64::NAN));
            }
        }
        scrape
    }

    /// Whether a sample of metric `name` is exported (histograms: `_bucket`, `_sum`, `_count`).
    fn has(&self, name: &str) -> bool {
        self.samples
            .keys()
            .any(|series| series == name || series.starts_with(&format!("{name}{{")))
    }

    /// The sum of every series of metric `name` whose labels contain all of `labels`.
    fn sum(&self, name: &str, labels: &[&str]) -> f64 {
        self.samples
            .iter()
            .filter(|(series, _)| series.as_str() == name || series.starts_with(&format!("{name}{{")))
            .filter(|(series, _)| labels.iter().all(|l| series.contains(l)))
            .map(|(_, v)| v)
            .sum()
    }
}

/// The metric names an expression uses: words starting `newswire_` (recording rules, which
/// are `newswire:...`, are not metrics a service exports).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("newswire_") {
        let start = i + at;
        let preceded = start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        if !preceded && bytes.get(end) != Some(&b':') {
            names.insert(expr[start..end].to_string());
        }
        i = end;
    }
    names
}

/// Every alert's expression and every recording rule's, with checks that each alert is
/// documented: summary, description, and a runbook link to a section that exists.
fn rule_metric_names() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("deploy/prometheus/newswire.rules.yaml")).unwrap();
    let rules: serde_yaml::Value = serde_yaml::from_str(&text).expect("the rules parse");
    let runbook = std::fs::read_to_string(repo().join("docs/runbook.md")).unwrap();
    let anchors: BTreeSet<String> = runbook
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|h| h.trim().to_lowercase().replace(' ', "-"))
        .collect();
    let mut names = BTreeSet::new();
    let groups = rules["groups"].as_sequence().expect("rule groups");
    for rule in groups
        .iter()
        .flat_map(|g| g["rules"].as_sequence().cloned().unwrap_or_default())
    {
        names.extend(metric_names(rule["expr"].as_str().expect("every rule has an expr")));
        if let Some(alert) = rule["alert"].as_str() {
            let annotations = &rule["annotations"];
            for key in ["summary", "description", "runbook_url"] {
                assert!(
                    annotations[key].as_str().is_some_and(|v| !v.is_empty()),
                    "{alert}: no {key}"
                );
            }
            let url = annotations["runbook_url"].as_str().unwrap();
            let anchor = url
                .strip_prefix("docs/runbook.md#")
                .unwrap_or_else(|| panic!("{alert}: {url}"));
            assert!(
                anchors.contains(anchor),
                "{alert}: no section #{anchor} in docs/runbook.md"
            );
        }
    }
    names
}

/// Every metric the dashboard's panels query.
fn dashboard_metric_names() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("deploy/grafana/newswire.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard parses");
    let mut names = BTreeSet::new();
    let mut stack = vec![&dashboard];
    let mut queries = 0;
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(expr) = map.get("expr").and_then(|e| e.as_str()) {
                    queries += 1;
                    names.extend(metric_names(expr));
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    assert!(queries > 10, "the dashboard has {queries} queries");
    names
}

/// The names the documentation promises that every deployment exports once records flowed (per-stage
/// names for each stage; the bounded per-feed gauges only exist while a feed fails, which the
/// corpus's empty feed does).
fn documented_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for stage in SERVICES {
        for suffix in [
            "records_in_total",
            "records_out_total",
            "records_dropped_total",
            "record_duration_seconds_count",
            "batch_duration_seconds_count",
            "transactions_total",
            "kafka_producer_queue_messages",
            "kafka_delivery_errors_total",
        ] {
            names.insert(format!("newswire_{stage}_{suffix}"));
        }
        if stage != "fetcher" {
            names.insert(format!("newswire_{stage}_kafka_consumer_lag_messages"));
            names.insert(format!("newswire_{stage}_kafka_hanging_partitions"));
        }
    }
    for name in [
        "newswire_build_info",
        "newswire_tagger_end_to_end_seconds_count",
        "newswire_alerter_topic_spike_score",
        "newswire_alerter_topic_spiking",
        "newswire_alerter_alerts_total",
        "newswire_fetcher_polls_total",
        "newswire_fetcher_items_new_total",
        "newswire_fetcher_response_bytes_total",
        "newswire_fetcher_request_duration_seconds_count",
        "newswire_fetcher_freshness_seconds_count",
        "newswire_fetcher_poll_lag_seconds_count",
        "newswire_fetcher_feeds",
        "newswire_fetcher_feed_consecutive_errors",
        "newswire_fetcher_feed_last_success_timestamp_seconds",
        "newswire_cleaner_extractions_total",
        "newswire_deduper_fingerprints",
        "newswire_deduper_fingerprint_bytes",
        "newswire_deduper_revisions_total",
        "newswire_topic_articles_total",
        "newswire_tagger_taxonomy_reloads_total",
        "newswire_tagger_topics",
    ] {
        names.insert(name.to_string());
    }
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn every_service_exports_the_documented_metrics_and_they_match_the_records() {
    let bootstrap = kafka_bootstrap();
    let prefix = unique_prefix("metrics");
    let dir = tempfile::tempdir().unwrap();
    let server = corpus_feed_server().await;
    let expected = expected(&server);
    let feeds = write_feeds_file(dir.path(), &server.urls());
    let taxonomy = repo().join("deploy/taxonomy.yaml");
    let kafka = pipeline_kafka(&bootstrap, &prefix, 3).await;

    let mut common = topic_env(&prefix);
    common.extend(
        [
            ("NEWSWIRE__KAFKA__BOOTSTRAP_SERVERS", bootstrap.as_str()),
            ("NEWSWIRE__RUNTIME__LISTEN_ADDR", "127.0.0.1:0"),
            ("NEWSWIRE__RUNTIME__INSTANCE_ID", "it-0"),
            ("NEWSWIRE__RUNTIME__BATCH_MAX_RECORDS", "50"),
            // Every record is logged with its trace id, so that one can be followed.
            ("NEWSWIRE_LOG", "info,runtime=trace"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let mut services: HashMap<&str, Service> = HashMap::new();
    for name in SERVICES {
        let mut env = common.clone();
        env.push(("NEWSWIRE__RUNTIME__GROUP_ID".into(), format!("{prefix}{name}")));
        match name {
            "fetcher" => {
                env.push(("NEWSWIRE__FEEDS_FILE".into(), feeds.display().to_string()));
                env.push(("NEWSWIRE__FETCHER__MIN_INTERVAL_SECS".into(), "5".into()));
                // Every feed is on one loopback host, which the fetcher may reach only when told.
                env.push(("NEWSWIRE__FETCHER__PER_HOST_REQUESTS_PER_SEC".into(), "100".into()));
                env.push(("NEWSWIRE__FETCHER__PER_HOST_CONCURRENCY".into(), "8".into()));
                env.push(("NEWSWIRE__NETWORK__ALLOW".into(), "[\"127.0.0.1/32\"]".into()));
            }
            "tagger" => env.push(("NEWSWIRE__TAXONOMY_FILE".into(), taxonomy.display().to_string())),
            _ => {}
        }
        services.insert(name, Service::start(name, &env, dir.path(), 0));
    }
    let logs = |services: &HashMap<&str, Service>| {
        services
            .values()
            .map(|s| format!("--- {} ---\n{}", s.name, s.logs()))
            .collect::<Vec<_>>()
            .join("\n")
    };

    // The address each service serves its metrics on, from its log.
    let mut addrs: BTreeMap<&str, String> = BTreeMap::new();
    let found = wait_until(Duration::from_secs(60), || {
        for name in SERVICES {
            let addr = services[name]
                .logs()
                .lines()
                .find(|l| l.contains("Serving /metrics"))
                .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .and_then(|v| v["addr"].as_str().map(str::to_string));
            if let Some(addr) = addr {
                addrs.insert(name, addr);
            }
        }
        addrs.len() == SERVICES.len()
    })
    .await;
    assert!(found, "not every service serves metrics\n{}", logs(&services));
    let scrape_all = |addrs: &BTreeMap<&str, String>| -> BTreeMap<String, Scrape> {
        addrs
            .iter()
            .map(|(name, addr)| {
                let response = http_get(addr, "/metrics");
                let body = response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
                (name.to_string(), Scrape::parse(body))
            })
            .collect()
    };

    // Run until every article is on news.enriched and the alerter has read all of it, and
    // librdkafka has reported statistics (every 5 s).
    let enriched_topic = kafka.topics.enriched.clone();
    let done = wait_until(Duration::from_secs(240), || {
        let scrapes = scrape_all(&addrs);
        let sum = |service: &str, name: &str| scrapes[service].sum(name, &[]);
        // Every item fetched (a raw record per cleaned article at least) and every stage caught
        // up with its input; the deduper drops exact copies, so counts are compared stage to stage.
        let fetched = sum("fetcher", "newswire_fetcher_records_out_total");
        let tagged = sum("tagger", "newswire_tagger_records_out_total");
        let alerted = sum("alerter", "newswire_alerter_records_in_total");
        fetched as usize >= expected.ids.len()
            && sum("cleaner", "newswire_cleaner_records_in_total") >= fetched
            && sum("deduper", "newswire_deduper_records_in_total")
                >= sum("cleaner", "newswire_cleaner_records_out_total")
            && tagged >= sum("deduper", "newswire_deduper_records_out_total")
            && tagged > 0.0
            && alerted >= tagged
            && scrapes["alerter"].has("newswire_alerter_kafka_consumer_lag_messages")
    })
    .await;
    assert!(done, "the pipeline did not finish\n{}", logs(&services));
    // Statistics once more after the end, so that lags and queues are current.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let scrapes = scrape_all(&addrs);

    let idle = Duration::from_secs(4);
    let topics = &kafka.topics;
    let read = |topic: &str| read_topic(&bootstrap, topic, idle);
    let (raw, cleaned, unique, enriched, dlq, alerts) = (
        read(&topics.raw),
        read(&topics.cleaned),
        read(&topics.unique),
        read(&enriched_topic),
        read(&topics.dlq),
        read(&topics.alerts),
    );
    eprintln!(
        "metrics: raw {} cleaned {} unique {} enriched {} dlq {} alerts {}",
        raw.len(),
        cleaned.len(),
        unique.len(),
        enriched.len(),
        dlq.len(),
        alerts.len()
    );
    let enriched_records: Vec<EnrichedRecord> = enriched
        .iter()
        .map(|r| serde_json::from_slice(&r.payload).unwrap())
        .collect();
    assert!(
        expected.covered_by(&enriched_records),
        "missing {:?}",
        expected.missing(&enriched_records)
    );
    expected.assert_exactly_once(&enriched_records);

    // Counts agree with the records on the topics.
    let count = |service: &str, name: &str, labels: &[&str]| scrapes[service].sum(name, labels) as usize;
    assert_eq!(count("fetcher", "newswire_fetcher_records_out_total", &[]), raw.len());
    let stages = [
        ("cleaner", &raw, &cleaned),
        ("deduper", &cleaned, &unique),
        ("tagger", &unique, &enriched),
        ("alerter", &enriched, &alerts),
    ];
    let mut errored_total = 0;
    for (stage, input, output) in stages {
        let metric = |suffix: &str| format!("newswire_{stage}_{suffix}");
        assert_eq!(
            count(stage, &metric("records_in_total"), &[]),
            input.len(),
            "{stage} in"
        );
        assert_eq!(
            count(stage, &metric("records_out_total"), &[]),
            output.len(),
            "{stage} out"
        );
        let errored = count(stage, &metric("records_errored_total"), &[]);
        let dropped = count(stage, &metric("records_dropped_total"), &[]);
        errored_total += errored;
        if stage != "alerter" {
            // One output per input, or none: a drop or a dead letter.
            assert_eq!(output.len() + dropped + errored, input.len(), "{stage} balance");
        }
        assert_eq!(
            count(stage, &metric("record_duration_seconds_count"), &[]),
            input.len(),
            "{stage} timed every record"
        );
        assert!(count(stage, &metric("transactions_total"), &["outcome=\"committed\""]) >= 1);
        // Caught up: the lag of every partition of the input topic is 0.
        let lag = format!("newswire_{stage}_kafka_consumer_lag_messages");
        assert!(scrapes[stage].has(&lag), "{stage} exports its consumer lag");
        assert_eq!(scrapes[stage].sum(&lag, &[]), 0.0, "{stage} caught up");
    }
    assert_eq!(errored_total, dlq.len(), "every error is a dead letter");
    for service in SERVICES {
        assert_eq!(
            count(service, &format!("newswire_{service}_kafka_delivery_errors_total"), &[]),
            0
        );
        let queue = format!("newswire_{service}_kafka_producer_queue_messages");
        assert!(scrapes[service].has(&queue), "{service} exports its producer queue");
        // The stages poll their producer all the time; the fetcher's statistics are served
        // when it publishes, so its gauge may show the queue of its last transaction.
        if service != "fetcher" {
            assert_eq!(
                count(service, &queue, &[]),
                0,
                "{service}'s producer queue is empty at rest"
            );
        }
        assert_eq!(
            count(service, "newswire_build_info", &[&format!("service=\"{service}\"")]),
            1,
            "{service} exports its build info"
        );
    }
    assert_eq!(
        count("tagger", "newswire_tagger_end_to_end_seconds_count", &[]),
        enriched.len(),
        "one end-to-end latency per enriched record"
    );

    // The alerter's judgement and events agree with news.alerts, and every topic it has
    // seen is exported.
    let events: Vec<AlertEvent> = alerts
        .iter()
        .map(|r| serde_json::from_slice(&r.payload).unwrap())
        .collect();
    let records: Vec<EnrichedRecord> = enriched
        .iter()
        .map(|r| serde_json::from_slice(&r.payload).unwrap())
        .collect();
    let spiking = events.iter().filter(|e| e.state == AlertState::Spiking).count();
    assert_eq!(count("alerter", "newswire_alerter_alerts_total", &[]), spiking);
    let mut stories: BTreeMap<&str, usize> = BTreeMap::new();
    for record in &records {
        let counts = record.story.duplicate_of.is_none() && record.story.revision == 1;
        for topic in &record.topics {
            *stories.entry(topic.slug.as_str()).or_default() += usize::from(counts);
        }
    }
    assert!(stories.contains_key("russia-china"), "{stories:?}");
    for topic in stories.iter().filter(|(_, n)| **n > 0).map(|(t, _)| t) {
        let label = format!("topic=\"{topic}\"");
        assert!(
            scrapes["alerter"]
                .samples
                .contains_key(&format!("newswire_alerter_topic_spiking{{{label}}}")),
            "the alerter judges {topic}"
        );
    }
    // The tagger's topic counters (issue 6) count each story once.
    if scrapes["tagger"].has("newswire_topic_articles_total") {
        for (topic, n) in &stories {
            let label = format!("topic=\"{topic}\"");
            assert_eq!(
                count("tagger", "newswire_topic_articles_total", &[&label]),
                *n,
                "{topic}"
            );
        }
    }

    // Trace context: every record carries one; an enriched record continues the trace its raw
    // item started, under another span; the cleaner's log names the trace.
    // (A repeated item, the same article in two feeds, is on news.raw once per copy.)
    let mut raw_traces: HashMap<&str, Vec<TraceContext>> = HashMap::new();
    for record in &raw {
        let trace = record.trace.expect("raw records carry a traceparent");
        raw_traces.entry(record.key.as_str()).or_default().push(trace);
    }
    for record in enriched.iter().chain(&cleaned).chain(&unique) {
        let trace = record.trace.expect("every record carries a traceparent");
        let origins = &raw_traces[record.key.as_str()];
        assert!(
            origins
                .iter()
                .any(|o| o.trace_id == trace.trace_id && o.span_id != trace.span_id),
            "{} continues the trace of its raw item under a span of its own",
            record.key
        );
    }
    for record in &dlq {
        assert!(record.trace.is_some(), "dead letters keep their trace");
    }
    let seed = records
        .iter()
        .find(|r| r.article.title.starts_with("Putin and Xi exchange warm words"))
        .expect("the seed article");
    let seed_trace = raw_traces[seed.article.id.as_str()][0].trace_id_hex();
    for service in ["cleaner", "deduper", "tagger"] {
        let logs = services[service].logs();
        assert!(
            logs.lines()
                .any(|l| l.contains(&seed_trace) && l.contains("Record processed")),
            "the {service} logs the seed article's trace {seed_trace}"
        );
    }

    for service in services.values() {
        service.signal(Signal::SIGTERM);
    }
    for service in services.values_mut() {
        assert_eq!(
            service.wait_exit(Duration::from_secs(40)),
            Some(true),
            "{}",
            service.logs()
        );
    }

    // Last: every metric that the documentation, the rules and the dashboard name is
    // exported by some service. Until every issue's metrics are merged, this names the
    // missing ones.
    let exported = |name: &String| scrapes.values().any(|s| s.has(name));
    let mut missing: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (source, names) in [
        ("documented", documented_names()),
        ("rules", rule_metric_names()),
        ("dashboard", dashboard_metric_names()),
    ] {
        for name in names.iter().filter(|n| !exported(n)) {
            missing.entry(name.clone()).or_default().push(source);
        }
    }
    assert!(
        missing.is_empty(),
        "metrics named but not exported by any service:\n{}",
        missing
            .iter()
            .map(|(name, sources)| format!("  {name} ({})", sources.join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn metric_names_are_found_in_expressions() {
    let names = metric_names(
        "histogram_quantile(0.99, sum by (le) (rate(newswire_tagger_end_to_end_seconds_bucket[10m]))) \
         / newswire:stage_records_in:rate5m + x_newswire_not",
    );
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(names, ["newswire_tagger_end_to_end_seconds_bucket"]);
}
