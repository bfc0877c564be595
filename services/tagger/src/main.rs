fn main() -> std::process::ExitCode {
    runtime::service_main(
        "tagger",
        "Reads news.unique, tags topics, writes news.enriched.",
        tagger::run,
    )
}
