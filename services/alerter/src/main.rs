fn main() -> std::process::ExitCode {
    runtime::service_main(
        "alerter",
        "Reads news.enriched, detects topic spikes, writes news.alerts.",
        alerter::run,
    )
}
