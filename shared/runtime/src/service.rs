//! The `main` of every stage service.

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, Command};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

/// Parses `--config FILE` (or `NEWSWIRE_CONFIG`), starts JSON logging, cancels on SIGTERM or
/// SIGINT, and runs `run` to completion. Exit code 0 after a graceful shutdown, 1 on error.
pub fn service_main<C, F, Fut>(service: &'static str, about: &'static str, run: F) -> ExitCode
where
    C: DeserializeOwned,
    F: FnOnce(C, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let matches = Command::new(service)
        .version(env!("CARGO_PKG_VERSION"))
        .about(about)
        .after_help(
            "Every setting can also be given in the environment as NEWSWIRE__<SECTION>__<KEY>, \
             e.g. NEWSWIRE__KAFKA__BOOTSTRAP_SERVERS=broker:9092.",
        )
        .arg(
            Arg::new("config")
                .long("config")
                .env("NEWSWIRE_CONFIG")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("The service's configuration file (YAML)"),
        )
        .get_matches();
    telemetry::init_logging(telemetry::LogFormat::Json);
    telemetry::register_build_info(service);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(error = %err, "Cannot start the async runtime.");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let config: C = config::load(matches.get_one::<PathBuf>("config").map(PathBuf::as_path))?;
        let shutdown = CancellationToken::new();
        telemetry::cancel_on_signals(shutdown.clone());
        run(config, shutdown).await
    });
    // rdkafka's threads may still hold the runtime; don't wait for them forever.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(service, error = format!("{err:#}"), "Service failed.");
            ExitCode::FAILURE
        }
    }
}
