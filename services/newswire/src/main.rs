use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

/// newswire: news feeds in, a clean, deduplicated, topic-tagged stream of JSON records out.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Log format on stderr: `text` for people, `json` for log pipelines.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole pipeline in this process (standalone mode).
    Run(newswire::standalone::Options),
    /// Manage the pipeline's Kafka topics.
    Topics {
        #[command(subcommand)]
        command: TopicsCommand,
    },
    /// Write the JSON Schema of every record to a directory.
    Schemas {
        /// The directory (deploy/schemas in the repository).
        #[arg(long, default_value = "deploy/schemas")]
        out: PathBuf,
    },
    /// Parse a feed file and print its items as raw records (JSON lines).
    ParseFeed {
        /// The feed document (RSS, Atom or JSON Feed).
        file: PathBuf,
        /// The URL relative links resolve against.
        #[arg(long, default_value = "http://localhost/")]
        base_url: String,
    },
    /// Deduplicate JSON lines (url, title, text) offline: each line comes back with its
    /// story_id, duplicate_of, similarity and is_duplicate.
    Dedup(newswire::dedup::Options),
}

#[derive(Debug, Subcommand)]
enum TopicsCommand {
    /// Create every topic the pipeline uses (existing topics are left as they are).
    Create {
        /// Kafka bootstrap servers.
        #[arg(long, env = "NEWSWIRE_KAFKA_BOOTSTRAP")]
        kafka: String,
        /// A prefix for every topic name.
        #[arg(long, default_value = "")]
        prefix: String,
        /// Partitions of the data topics (news.cleaned and the state changelogs get one).
        #[arg(long, default_value_t = 3)]
        partitions: i32,
        /// Replication factor.
        #[arg(long, default_value_t = 1)]
        replication: i32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = if cli.log_format == "json" {
        telemetry::LogFormat::Json
    } else {
        telemetry::LogFormat::Text
    };
    telemetry::init_logging(format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(execute(cli.command));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run(options) => {
            let shutdown = CancellationToken::new();
            telemetry::cancel_on_signals(shutdown.clone());
            let summary = newswire::standalone::run(options, shutdown).await?;
            eprintln!(
                "newswire: {} records written, {} dead letters",
                summary.written, summary.dead_letters
            );
            Ok(())
        }
        Command::Topics {
            command:
                TopicsCommand::Create {
                    kafka,
                    prefix,
                    partitions,
                    replication,
                },
        } => {
            let config = config::KafkaConfig {
                bootstrap_servers: kafka,
                topics: config::TopicNames::with_prefix(&prefix),
                ..Default::default()
            };
            runtime::create_topics(
                &config,
                &runtime::pipeline_topics(&config.topics, partitions, replication),
            )
            .await
        }
        Command::Schemas { out } => {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            for (name, schema) in record::schemas() {
                let path = out.join(name);
                std::fs::write(&path, schema).with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::ParseFeed { file, base_url } => {
            let body = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let feed = fetcher::FeedEntry {
                url: base_url.clone(),
                name: None,
                fetch_article: false,
                min_interval_secs: None,
                max_interval_secs: None,
                tags: Vec::new(),
            };
            let records = fetcher::parse_feed(&feed, &body, &base_url, chrono::Utc::now())
                .with_context(|| format!("parsing {}", file.display()))?;
            for record in records {
                println!("{}", serde_json::to_string(&record)?);
            }
            Ok(())
        }
        Command::Dedup(options) => match newswire::dedup::run(options)? {
            0 => Ok(()),
            skipped => anyhow::bail!("{skipped} input lines could not be read (see above)"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_feeds_file_is_valid() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/feeds.yaml");
        let feeds = fetcher::FeedsFile::load(&path).unwrap().feeds;
        assert!(feeds.len() >= 20, "{} feeds", feeds.len());
    }

    #[test]
    fn the_cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
