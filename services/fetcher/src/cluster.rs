//! Cluster mode: the fetcher service on Kafka. Replicas share the feed list through a
//! compacted topic and a consumer group, and publish polls in transactions with the feeds'
//! new states.

use std::collections::HashSet;
use std::sync::Arc;

use config::KafkaConfig;
use record::RawRecord;
use runtime::{OutgoingRecord, Publisher};
use telemetry::{Health, StageMetrics};
use tokio_util::sync::CancellationToken;

use crate::poll::PollLoop;
use crate::{FeedEntry, FeedsFile, Fetcher, FetcherConfig, state_change};

/// A raw record as JSON within `max_bytes` (the producer's record limit, see
/// `runtime::batch::max_record_bytes`): an article page that makes it too large is dropped
/// (the feed's own text remains); an item still too large is counted, logged and left out, so
/// that one huge item cannot block its feed forever.
pub fn encode_within_limit(mut record: RawRecord, max_bytes: usize, metrics: &StageMetrics) -> Option<Vec<u8>> {
    let mut payload = serde_json::to_vec(&record).ok()?;
    if payload.len() > max_bytes && record.page.take().is_some() {
        tracing::warn!(
            url = record.url.as_deref(),
            bytes = payload.len(),
            "Article page too large; using the feed's text."
        );
        payload = serde_json::to_vec(&record).ok()?;
    }
    if payload.len() > max_bytes {
        metrics.records_errored.with_label_values(&["too_large"]).inc();
        tracing::error!(id = %record.id, url = record.url.as_deref(), bytes = payload.len(), "Item too large to publish; left out.");
        return None;
    }
    Some(payload)
}

/// Runs the fetcher service until `shutdown`.
///
/// Replicas share the feed list through Kafka: each publishes its feeds file to the
/// compacted feeds topic (keyed by URL, so this is idempotent), joins the fetchers' consumer
/// group over that topic, and polls the feeds of the partitions assigned to it. When it gains
/// feeds (at start, or when another replica left) it restores their state from the changelog;
/// feeds it loses are forgotten, and polls of feeds lost meanwhile are not published. New
/// items are published with the feeds' new states in transactions.
pub async fn run(config: FetcherConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let mut fetcher = Fetcher::new(&config.fetcher, &config.network)?;
    let health = Health::default();
    let http_shutdown = CancellationToken::new();
    telemetry::serve(&config.runtime.listen_addr, health.clone(), http_shutdown.clone()).await?;
    fetcher.serve_push(http_shutdown.clone()).await?;
    let _stop_http = http_shutdown.drop_guard();
    let metrics = StageMetrics::get("fetcher");

    let topics = config.kafka.topics.clone();
    let feeds_file = config.service_feeds_file();
    let file_feeds = if feeds_file.exists() {
        Some(FeedsFile::load(&feeds_file)?.feeds)
    } else {
        tracing::warn!(file = %feeds_file.display(), "No feeds file; polling the feeds other replicas published.");
        None
    };
    let (kafka, runtime) = (config.kafka.clone(), config.runtime.clone());
    let group = config.runtime.group_id("fetcher");
    let (publisher, membership) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        if let Some(file_feeds) = file_feeds {
            publish_feed_list(&kafka, &topics.feeds, &file_feeds)?;
        }
        let publisher = Publisher::new(&kafka, &runtime, "fetcher", &topics.raw, Some(&topics.fetcher_state))?;
        let membership = runtime::Membership::join(&kafka, &group, &topics.feeds)?;
        Ok((publisher, membership))
    })
    .await??;
    let publisher = Arc::new(publisher);
    let membership = Arc::new(membership);
    tracing::info!(group = %config.runtime.group_id("fetcher"), "Fetcher started; waiting for its share of the feeds.");

    // Feeds are polled as they fall due, and finished polls are published in transactions of
    // up to FEEDS_PER_BATCH feeds (see PollLoop).
    let max_record_bytes = runtime::batch::max_record_bytes(&config.kafka);
    let mut feeds: Vec<FeedEntry> = Vec::new();
    let mut polls = PollLoop::scheduled();
    while !shutdown.is_cancelled() {
        if polls.scan_due() {
            if let Some(why) = membership.failure() {
                health.set_failed(&why);
                anyhow::bail!("{why}");
            }
            if let Some(owned) = membership.owned() {
                let now_owned = owned_feeds(owned);
                if now_owned != feeds {
                    feeds = take_over(&mut fetcher, &config.kafka, feeds, now_owned).await?;
                    health.set_ready(true);
                }
            }
            polls.start_due(&fetcher, &feeds);
        }
        let mut chunk = tokio::select! {
            batch = polls.next_batch() => match batch {
                Some(batch) => batch,
                None => continue,
            },
            () = shutdown.cancelled() => break,
        };
        // Feeds that moved to another replica while they were polled are its business now.
        chunk.retain(|(feed, _)| membership.owns(&feed.url));
        if chunk.is_empty() {
            continue;
        }
        let mut records = Vec::new();
        let mut changes = Vec::new();
        for (feed, polled) in &chunk {
            changes.push(state_change(&feed.url, &polled.next_state));
            records.extend(polled.records.iter().cloned().filter_map(|r| {
                let key = r.id.clone();
                encode_within_limit(r, max_record_bytes, &metrics).map(|payload| OutgoingRecord { key, payload })
            }));
        }
        let publisher = publisher.clone();
        let count = records.len() as u64;
        let result = tokio::task::spawn_blocking(move || publisher.publish(&records, &changes)).await?;
        match result {
            Ok(()) => {
                for (feed, polled) in chunk {
                    fetcher.commit(&feed, polled.next_state);
                }
                metrics.records_out.inc_by(count);
                metrics.transactions.with_label_values(&["committed"]).inc();
            }
            Err(err @ runtime::PublishError::Aborted { .. }) => {
                // The states are not committed either, so the next polls offer the same
                // items again: nothing is lost.
                metrics.transactions.with_label_values(&["aborted"]).inc();
                tracing::warn!(feeds = chunk.len(), error = %err, "Publishing polls failed; retrying next poll.");
            }
            Err(err) => {
                health.set_failed(err.to_string());
                return Err(err.into());
            }
        }
    }
    tracing::info!("Fetcher stopped.");
    Ok(())
}

/// Makes the feeds topic say what the feeds file says: every listed feed is written (keyed by
/// URL, so writing it again changes nothing), and every feed in the topic that the file no
/// longer lists is deleted with a tombstone, so that its owner stops polling it. The replica
/// started last with a feeds file decides the list (all replicas normally mount the same
/// file). The state of a deleted feed stays in the state changelog and is used again if the
/// feed comes back.
fn publish_feed_list(kafka: &KafkaConfig, topic: &str, listed: &[FeedEntry]) -> anyhow::Result<()> {
    let mut present: HashSet<String> = HashSet::new();
    runtime::restore_state(kafka, topic, |key, value| {
        let key = String::from_utf8_lossy(key).into_owned();
        if value.is_some() {
            present.insert(key);
        } else {
            present.remove(&key);
        }
    })?;
    let mut entries: Vec<(String, Option<Vec<u8>>)> = listed
        .iter()
        .map(|f| (f.url.clone(), serde_json::to_vec(f).ok()))
        .collect();
    let urls: HashSet<&str> = listed.iter().map(|f| f.url.as_str()).collect();
    let mut removed: Vec<String> = present.into_iter().filter(|u| !urls.contains(u.as_str())).collect();
    removed.sort();
    for url in &removed {
        tracing::info!(feed = %url, "Feed no longer in the feeds file; removed from the shared list.");
    }
    tracing::info!(feeds = listed.len(), removed = removed.len(), %topic, "Published the feed list.");
    entries.extend(removed.into_iter().map(|url| (url, None)));
    runtime::publish_keyed(kafka, topic, &entries)
}

/// The feeds of the owned entries of the feeds topic, in URL order; unreadable entries are
/// logged and left out.
fn owned_feeds(owned: Vec<(String, Vec<u8>)>) -> Vec<FeedEntry> {
    let mut feeds: Vec<FeedEntry> = owned
        .into_iter()
        .filter_map(|(url, value)| match serde_json::from_slice::<FeedEntry>(&value) {
            Ok(feed) if feed.url == url => Some(feed),
            Ok(_) => {
                tracing::warn!(feed = %url, "Feed entry whose key is not its URL ignored.");
                None
            }
            Err(err) => {
                tracing::warn!(feed = %url, error = %err, "Unreadable feed entry ignored.");
                None
            }
        })
        .collect();
    feeds.sort_by(|a, b| a.url.cmp(&b.url));
    feeds
}

/// A changelog entry: key, and value (`None`: deleted).
type PersistedEntry = (Vec<u8>, Option<Vec<u8>>);

/// Moves from the `old` feed list to `new`: forgets the state of feeds lost, restores the
/// state of feeds gained from the changelog (another replica may have polled them until now).
async fn take_over(
    fetcher: &mut Fetcher,
    kafka: &KafkaConfig,
    old: Vec<FeedEntry>,
    new: Vec<FeedEntry>,
) -> anyhow::Result<Vec<FeedEntry>> {
    let old_urls: HashSet<&str> = old.iter().map(|f| f.url.as_str()).collect();
    let new_urls: HashSet<String> = new.iter().map(|f| f.url.clone()).collect();
    for lost in old_urls.iter().filter(|u| !new_urls.contains(**u)) {
        fetcher.forget(lost);
    }
    let gained: HashSet<String> = new_urls
        .iter()
        .filter(|u| !old_urls.contains(u.as_str()))
        .cloned()
        .collect();
    if !gained.is_empty() {
        let (kafka, topic, wanted) = (kafka.clone(), kafka.topics.fetcher_state.clone(), gained.clone());
        let restored = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<PersistedEntry>> {
            let mut restored = Vec::new();
            runtime::restore_state(&kafka, &topic, |k, v| {
                if std::str::from_utf8(k).is_ok_and(|k| wanted.contains(k)) {
                    restored.push((k.to_vec(), v.map(<[u8]>::to_vec)));
                }
            })?;
            Ok(restored)
        })
        .await??;
        for url in &gained {
            fetcher.forget(url);
        }
        for (key, value) in &restored {
            fetcher.restore(key, value.as_deref());
        }
        tracing::info!(
            gained = gained.len(),
            restored = restored.len(),
            feeds = new.len(),
            "Took over feeds."
        );
    }
    Ok(new)
}
