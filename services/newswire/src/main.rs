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
    /// Tag articles (JSON lines with title, summary, text) with topics, entities and focus countries.
    Tag(newswire::tag::Options),
    /// Check configuration, feeds or taxonomy files with the services' own parsers.
    CheckConfig {
        /// What the files are.
        #[arg(long, value_enum)]
        kind: newswire::check_config::Kind,
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run the spike detector over enriched records (JSON lines) in time order and print its
    /// events (JSON lines).
    Alerts(newswire::alerts::Options),
    /// Extract article text and metadata from HTML files (plain or .gz), one JSON line per file.
    Extract(newswire::extract::Args),
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
        /// Kafka bootstrap servers (replaces the configuration file's).
        #[arg(long, env = "NEWSWIRE_KAFKA_BOOTSTRAP", required_unless_present = "config")]
        kafka: Option<String>,
        /// A service-style configuration file whose `kafka:` section (TLS, SASL, topic names)
        /// is used; `NEWSWIRE__KAFKA__...` environment variables override it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// A prefix for every topic name (replaces the configuration file's names).
        #[arg(long, default_value = "")]
        prefix: String,
        /// Partitions of the data topics (news.cleaned and the state changelogs get one).
        #[arg(long, default_value_t = 3)]
        partitions: i32,
        /// Replication factor.
        #[arg(long, default_value_t = 1)]
        replication: i32,
        /// The taxonomy whose topics get a `news.topic.<slug>` topic each (default: the one
        /// built into the binary).
        #[arg(long, value_name = "FILE")]
        taxonomy: Option<PathBuf>,
        /// The prefix of the per-topic topics (the tagger's `topic_prefix`); default
        /// `<prefix>news.topic.`.
        #[arg(long)]
        topic_prefix: Option<String>,
    },
}

fn main() -> ExitCode {
    // Standalone mode extracts article pages in child processes of this executable.
    if let Some(code) = cleaner::sandbox::worker_main() {
        return code;
    }
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
                "newswire: {} records written, {} alert events, {} dead letters",
                summary.written, summary.alerts, summary.dead_letters
            );
            Ok(())
        }
        Command::Topics {
            command:
                TopicsCommand::Create {
                    kafka,
                    config,
                    prefix,
                    partitions,
                    replication,
                    taxonomy,
                    topic_prefix,
                },
        } => {
            let config = newswire::topics::kafka_config(config.as_deref(), kafka, &prefix)?;
            let taxonomy = match &taxonomy {
                Some(file) => tagger::Taxonomy::load(file)?,
                None => tagger::Taxonomy::embedded()?,
            };
            // Clusters that forbid auto-creation need the per-topic topics up front too.
            let tagger = tagger::TaggerConfig {
                topic_prefix: topic_prefix.unwrap_or_else(|| format!("{prefix}news.topic.")),
                topic_partitions: partitions,
                topic_replication: replication,
                ..Default::default()
            };
            let mut specs = runtime::pipeline_topics(&config.topics, partitions, replication);
            specs.extend(tagger.topic_specs(&taxonomy));
            runtime::create_topics(&config, &specs).await
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
        Command::Tag(options) => {
            let summary = newswire::tag::run(&options, &mut std::io::stdout().lock())?;
            eprintln!(
                "newswire: {} records tagged, {} invalid lines skipped",
                summary.tagged, summary.invalid
            );
            Ok(())
        }
        Command::CheckConfig { kind, files } => newswire::check_config::run(kind, &files),
        Command::Alerts(options) => {
            let summary = newswire::alerts::run(&options, &mut std::io::stdout().lock())?;
            eprintln!(
                "newswire alerts: {} records, {} events, {} bad lines",
                summary.records, summary.events, summary.bad_lines
            );
            Ok(())
        }
        Command::Extract(args) => newswire::extract::run(args),
        Command::ParseFeed { file, base_url } => {
            let body = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let feed = fetcher::FeedEntry::new(base_url.clone());
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
