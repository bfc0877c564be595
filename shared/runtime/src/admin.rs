//! Creating the pipeline's topics.

use std::time::Duration;

use anyhow::Context as _;
use config::{KafkaConfig, TopicNames};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::kafka::client_config;

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication: i32,
    /// Compacted (state changelogs) rather than deleted after the retention time.
    pub compacted: bool,
}

/// Every topic the pipeline uses. Changelogs get one partition: each is read whole by its
/// single active owner (see ARCHITECTURE.md). So does `news.cleaned`, the deduper's input:
/// near duplicates must be found across every article, so one deduper replica owns the whole
/// stream and the others stand by. The feed list is compacted with the data topics'
/// partitions: they are what fetcher replicas share out.
pub fn pipeline_topics(names: &TopicNames, partitions: i32, replication: i32) -> Vec<TopicSpec> {
    let data = [&names.raw, &names.unique, &names.enriched, &names.dlq, &names.alerts];
    let single = [
        &names.cleaned,
        &names.fetcher_state,
        &names.deduper_state,
        &names.alerter_state,
    ];
    data.iter()
        .map(|name| TopicSpec {
            name: name.to_string(),
            partitions,
            replication,
            compacted: false,
        })
        .chain(single.iter().map(|name| TopicSpec {
            name: name.to_string(),
            partitions: 1,
            replication,
            compacted: name.as_str() != names.cleaned,
        }))
        .chain(std::iter::once(TopicSpec {
            name: names.feeds.clone(),
            partitions,
            replication,
            compacted: true,
        }))
        .collect()
}

/// Creates the topics; a topic that already exists is left as it is.
pub async fn create_topics(kafka: &KafkaConfig, topics: &[TopicSpec]) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        client_config(kafka)?.create().context("creating the admin client")?;
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| {
            let topic = NewTopic::new(&t.name, t.partitions, TopicReplication::Fixed(t.replication));
            if t.compacted {
                topic.set("cleanup.policy", "compact")
            } else {
                topic
            }
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(new_topics.iter(), &options)
        .await
        .context("creating topics")?;
    for result in results {
        match result {
            Ok(name) => tracing::info!(topic = %name, "Topic created."),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(topic = %name, "Topic exists.")
            }
            Err((name, code)) => anyhow::bail!("cannot create topic {name}: {code}"),
        }
    }
    Ok(())
}

/// The number of partitions of `topic` (an error when it does not exist).
pub fn partition_count(kafka: &KafkaConfig, topic: &str) -> anyhow::Result<usize> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = client_config(kafka)?.create().context("creating a metadata client")?;
    wait_for_partitions(consumer.client(), topic)
}

/// The number of partitions of `topic` as `client` sees it. A topic created a moment ago (by
/// the topic Job, `newswire topics create`, or a test) may not be in every broker's metadata
/// yet: this asks again for 10 s before calling it missing.
pub(crate) fn wait_for_partitions<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    topic: &str,
) -> anyhow::Result<usize> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metadata = client
            .fetch_metadata(Some(topic), Duration::from_secs(30))
            .with_context(|| format!("reading the metadata of {topic}"))?;
        match metadata.topics().iter().find(|t| t.name() == topic) {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => return Ok(t.partitions().len()),
            _ if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(250)),
            _ => anyhow::bail!("the topic {topic} does not exist; create the topics first (`newswire topics create`)"),
        }
    }
}
