//! Standalone mode is the cluster in one process: the same feeds through `newswire run
//! --kafka` and through the five services on the real broker give the same records on
//! `news.enriched` (ids, topics, entities, story ids, revisions), the same records on every
//! `news.topic.<slug>`, the same alert events, and the same metric names.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use record::{AlertEvent, EnrichedRecord};

use crate::kafka::{Collector, Service, http_get, pipeline_kafka, topic_env};
use crate::support::*;

/// Article bodies from the corpus, in a fixed order.
fn bodies() -> Vec<String> {
    aeb_articles()
        .into_iter()
        .map(|(_, body)| body)
        .filter(|b| b.split_whitespace().count() > 150)
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn item(base: &str, path: &str, title: &str, text: &str, published: Option<DateTime<Utc>>) -> String {
    let date = published.map_or(String::new(), |d| format!("<pubDate>{}</pubDate>", d.to_rfc2822()));
    let paragraphs: String = text
        .split('\n')
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("&lt;p&gt;{}&lt;/p&gt;", escape(p.trim())))
        .collect();
    format!(
        "<item><title>{}</title><link>{base}/{path}</link><guid>{base}/{path}</guid>{date}\
         <description>{paragraphs}</description></item>",
        escape(title)
    )
}

fn rss(title: &str, items: &[String]) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>{title}</title>{}</channel></rss>",
        items.concat()
    )
    .into_bytes()
}

/// The feeds: the seed article's, a real headline snapshot, a wire feed whose stories come
/// with near copies, and a desk whose Ukraine stories, oldest first, go from one
/// an hour to a burst in the last hour (a spike for the alerter).
fn feeds(base: &str, now: DateTime<Utc>) -> Vec<(String, Vec<u8>)> {
    let bodies = bodies();
    let mut wire = Vec::new();
    for (n, body) in bodies.iter().take(6).enumerate() {
        let paragraphs: Vec<&str> = body.split('\n').filter(|p| !p.trim().is_empty()).collect();
        let title = format!(
            "Wire story {n}: {}",
            paragraphs[0].split_whitespace().take(6).collect::<Vec<_>>().join(" ")
        );
        // Dated well before the desk's stories: the alerter's clock follows the records'
        // times, and feeds finish in any order, so no feed may carry a later time than the
        // desk's burst (it would make the desk's history late).
        let published = Some(now - chrono::Duration::hours(20) + chrono::Duration::minutes(n as i64));
        wire.push(item(base, &format!("wire/{n}"), &title, body, published));
        let keep = (paragraphs.len() * 4 / 5).max(1);
        let near = format!("{}\n\nSign up for our newsletter.", paragraphs[..keep].join("\n"));
        wire.push(item(base, &format!("outlet/{n}"), &title, &near, published));
    }
    let mut desk = Vec::new();
    let mut story = 6;
    let mut at = |minutes_ago: usize, n: usize| {
        let body = &bodies[story % bodies.len()];
        story += 1;
        let title = format!("Kharkiv report {n}: shelling hits district {n} as Ukraine's army regroups");
        let text = format!("Russian shelling hit Kharkiv overnight, Ukrainian officials said.\n{body}");
        item(
            base,
            &format!("desk/{n}"),
            &title,
            &text,
            Some(now - chrono::Duration::minutes(minutes_ago as i64)),
        )
    };
    for hour in 0..8 {
        desk.push(at(540 - hour * 60, desk.len()));
    }
    // Thirty in the 45 minutes before the last ten: whichever five-minute bucket the detector
    // judges last, its hour holds at least twenty of them.
    for n in 0..30 {
        desk.push(at(55 - n * 3 / 2, desk.len()));
    }
    vec![
        ("seed.xml".to_string(), seed_feed(base).into_bytes()),
        (
            "bbc.xml".to_string(),
            std::fs::read(corpus().join("feeds/gesab001-headlines/bbc__20210715T2038__c77d11f.xml")).unwrap(),
        ),
        ("wire.xml".to_string(), rss("Wire", &wire)),
        ("desk.xml".to_string(), rss("Desk", &desk)),
    ]
}

/// What must be equal between the two modes about one enriched record.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Seen {
    id: String,
    revision: u32,
    story_id: String,
    duplicate_of: Option<String>,
    topics: Vec<String>,
    entities: Vec<String>,
}

fn seen(payload: &[u8]) -> Seen {
    let r: EnrichedRecord = serde_json::from_slice(payload).unwrap();
    let mut entities: Vec<String> = r.entities.iter().map(|e| format!("{}:{}", e.id, e.name)).collect();
    entities.sort();
    Seen {
        id: r.article.id.clone(),
        revision: r.story.revision,
        story_id: r.story.story_id.clone(),
        duplicate_of: r.story.duplicate_of.clone(),
        topics: r.topics.iter().map(|t| t.slug.clone()).collect(),
        entities,
    }
}

/// An alert event, with its baseline and score apart. The detector's clock follows the
/// records' own times and starts at the first record it sees; feeds finish in any order (in
/// either mode, and from one run to the next), so which feed's record comes first moves the
/// baseline's start and with it `expected` and `score` (0.40 against 0.60 stories expected, in
/// one run). Everything else, the judgement itself (which topic spikes in which window, on how
/// many stories, with which samples), must be the same.
fn alert(payload: &[u8]) -> (String, f64, f64) {
    let mut event: AlertEvent = serde_json::from_slice(payload).unwrap();
    let (expected, score) = (event.expected, event.score);
    event.expected = 0.0;
    event.score = 0.0;
    (serde_json::to_string(&event).unwrap(), expected, score)
}

/// The metric names in a scrape that are about the pipeline (not the Kafka clients, whose
/// set depends on which clients a process has).
fn metric_names(scrape: &str) -> BTreeSet<String> {
    scrape
        .lines()
        .filter(|l| l.starts_with("# TYPE newswire_"))
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|name| !name.contains("_kafka_") && !name.starts_with("newswire_standalone_"))
        .map(str::to_string)
        .collect()
}

/// Everything on `topics` (read_committed) once `enough` holds of the counts per topic, and
/// nothing new has come for a few seconds.
async fn read_all(
    bootstrap: &str,
    topics: &[String],
    enough: impl Fn(&[usize]) -> bool,
) -> HashMap<String, Vec<Vec<u8>>> {
    let collectors: Vec<(String, Collector)> = topics
        .iter()
        .map(|t| (t.clone(), Collector::start(bootstrap, t)))
        .collect();
    let total = || collectors.iter().map(|(_, c)| c.count()).sum::<usize>();
    let counts = || collectors.iter().map(|(_, c)| c.count()).collect::<Vec<_>>();
    wait_until(Duration::from_secs(180), || enough(&counts())).await;
    let mut last = total();
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        if total() == last {
            break;
        }
        last = total();
    }
    collectors
        .into_iter()
        .map(|(t, c)| (t, c.snapshot().into_iter().map(|(_, p)| p).collect()))
        .collect()
}

/// The topics a run writes: news.enriched, then each news.topic.<slug>, then news.alerts.
fn output_topics(prefix: &str) -> Vec<String> {
    let taxonomy = tagger::Taxonomy::embedded().unwrap();
    let mut topics = vec![format!("{prefix}news.enriched")];
    topics.extend(taxonomy.topics().map(|t| format!("{prefix}news.topic.{}", t.slug)));
    topics.push(format!("{prefix}news.alerts"));
    topics
}

/// The service's metrics address, from its log.
fn served_at(logs: &str) -> String {
    logs.lines()
        .find(|l| l.contains("Serving /metrics"))
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["addr"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("the service logs its address\n{logs}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_and_the_services_give_the_same_records_topics_alerts_and_metrics() {
    let bootstrap = kafka_bootstrap();
    let now = Utc::now();
    let server = FeedServer::start_with(|base| feeds(&format!("{base}/feeds"), now)).await;
    let dir = tempfile::tempdir().unwrap();
    let feeds_file = write_feeds_file(dir.path(), &server.urls());

    // Standalone, publishing to Kafka, serving its metrics; stopped once its output is in.
    let solo = unique_prefix("parity-solo");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(dir.path().join("standalone.log")).unwrap();
    let mut standalone = std::process::Command::new(env!("CARGO_BIN_EXE_newswire"))
        .args([
            "run",
            "--allow-network",
            "127.0.0.1/32",
            "--interval-secs",
            "3600",
            "--feeds",
        ])
        .arg(&feeds_file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args([
            "--kafka",
            &bootstrap,
            "--topic-prefix",
            &solo,
            "--metrics-addr",
            &metrics_addr,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let solo_logs = || std::fs::read_to_string(dir.path().join("standalone.log")).unwrap_or_default();
    // Twenty enriched records and an alert at least (the desk's burst).
    let solo_out = read_all(&bootstrap, &output_topics(&solo), |n| n[0] >= 20 && n[n.len() - 1] >= 1).await;
    let solo_metrics = http_get(&metrics_addr, "/metrics");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(standalone.id() as i32), Signal::SIGTERM).unwrap();
    let status = standalone.wait().unwrap();
    assert!(status.success(), "standalone stops cleanly on SIGTERM\n{}", solo_logs());

    // The same feeds through the five services, on one partition per topic, so that the
    // order the deduper and the alerter see is the fetcher's, as in the one process.
    let cluster = unique_prefix("parity-cluster");
    pipeline_kafka(&bootstrap, &cluster, 1).await;
    let mut common = topic_env(&cluster);
    common.extend(
        [
            ("NEWSWIRE__KAFKA__BOOTSTRAP_SERVERS", bootstrap.clone()),
            ("NEWSWIRE__RUNTIME__LISTEN_ADDR", "127.0.0.1:0".to_string()),
            ("NEWSWIRE__RUNTIME__INSTANCE_ID", "parity-0".to_string()),
            ("NEWSWIRE_LOG", "info".to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    let env_for = |service: &str| {
        let mut env = common.clone();
        env.push(("NEWSWIRE__RUNTIME__GROUP_ID".to_string(), format!("{cluster}{service}")));
        match service {
            "fetcher" => env.extend(
                [
                    ("NEWSWIRE__FEEDS_FILE", feeds_file.display().to_string()),
                    ("NEWSWIRE__FETCHER__MIN_INTERVAL_SECS", "3600".to_string()),
                    ("NEWSWIRE__NETWORK__ALLOW", "[\"127.0.0.1/32\"]".to_string()),
                ]
                .map(|(k, v)| (k.to_string(), v)),
            ),
            "tagger" => env.extend([
                ("NEWSWIRE__TOPIC_PREFIX".to_string(), format!("{cluster}news.topic.")),
                ("NEWSWIRE__TOPIC_PARTITIONS".to_string(), "1".to_string()),
            ]),
            _ => {}
        }
        env
    };
    let services: Vec<Service> = ["fetcher", "cleaner", "deduper", "tagger", "alerter"]
        .into_iter()
        .enumerate()
        .map(|(i, name)| Service::start(name, &env_for(name), dir.path(), i as u32))
        .collect();
    let logs = || {
        services
            .iter()
            .map(|s| format!("--- {} ---\n{}", s.name, s.logs()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // At least as much on every topic as standalone wrote (the alerter joins its group last).
    let solo_counts: Vec<usize> = output_topics(&solo).iter().map(|t| solo_out[t].len()).collect();
    let cluster_out = read_all(&bootstrap, &output_topics(&cluster), |n| {
        n.iter().zip(&solo_counts).all(|(got, want)| got >= want)
    })
    .await;
    let mut cluster_metrics = BTreeSet::new();
    for service in &services {
        cluster_metrics.extend(metric_names(&http_get(&served_at(&service.logs()), "/metrics")));
    }

    // news.enriched and every news.topic.<slug>: the same records.
    let by_topic = |out: &HashMap<String, Vec<Vec<u8>>>, prefix: &str| -> BTreeMap<String, Vec<Seen>> {
        out.iter()
            .filter(|(t, _)| !t.ends_with("news.alerts"))
            .map(|(t, payloads)| {
                let mut records: Vec<Seen> = payloads.iter().map(|p| seen(p)).collect();
                records.sort();
                (t.strip_prefix(prefix).unwrap().to_string(), records)
            })
            .collect()
    };
    let (solo_records, cluster_records) = (by_topic(&solo_out, &solo), by_topic(&cluster_out, &cluster));
    let enriched = &solo_records["news.enriched"];
    assert!(enriched.len() >= 20, "{} records\n{}", enriched.len(), solo_logs());
    assert!(
        enriched.iter().any(|r| r.duplicate_of.is_some()),
        "the wire feed's near copies"
    );
    assert!(enriched.iter().any(|r| !r.entities.is_empty()), "entities");
    assert!(
        solo_records["news.topic.ukraine"].len() >= 20,
        "the desk's stories are routed"
    );
    for (topic, records) in &solo_records {
        assert_eq!(
            Some(records),
            cluster_records.get(topic),
            "{topic}: the same records in both modes\n{}",
            logs()
        );
    }
    assert_eq!(solo_records.len(), cluster_records.len());

    // The same alert events.
    let alerts = |out: &HashMap<String, Vec<Vec<u8>>>, prefix: &str| -> Vec<(String, f64, f64)> {
        // Events of one topic keep their order (keyed by topic); topics may interleave.
        let mut events: Vec<_> = out[&format!("{prefix}news.alerts")].iter().map(|p| alert(p)).collect();
        events.sort_by(|a, b| a.0.cmp(&b.0));
        events
    };
    let (solo_alerts, cluster_alerts) = (alerts(&solo_out, &solo), alerts(&cluster_out, &cluster));
    assert!(!solo_alerts.is_empty(), "the desk's burst is a spike\n{}", solo_logs());
    let events = |alerts: &[(String, f64, f64)]| alerts.iter().map(|a| a.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        events(&solo_alerts),
        events(&cluster_alerts),
        "the same alert events\n{}",
        logs()
    );
    for (solo, cluster) in solo_alerts.iter().zip(&cluster_alerts) {
        eprintln!(
            "parity: alert {}: expected {} / {} and score {} / {} (standalone / services)",
            solo.0, solo.1, cluster.1, solo.2, cluster.2
        );
    }

    // The same metric names.
    let solo_names = metric_names(&solo_metrics);
    let only_solo: Vec<_> = solo_names.difference(&cluster_metrics).collect();
    let only_cluster: Vec<_> = cluster_metrics.difference(&solo_names).collect();
    assert!(
        only_solo.is_empty() && only_cluster.is_empty(),
        "only standalone: {only_solo:?}; only the services: {only_cluster:?}"
    );
}
