fn main() -> std::process::ExitCode {
    runtime::service_main(
        "fetcher",
        "Polls the feeds file and publishes new items to news.raw.",
        fetcher::run,
    )
}
