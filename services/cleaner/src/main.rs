fn main() -> std::process::ExitCode {
    runtime::service_main(
        "cleaner",
        "Reads news.raw, writes clean text and metadata to news.cleaned.",
        cleaner::run,
    )
}
