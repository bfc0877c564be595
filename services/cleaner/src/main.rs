fn main() -> std::process::ExitCode {
    if let Some(code) = cleaner::sandbox::worker_main() {
        return code;
    }
    runtime::service_main(
        "cleaner",
        "Reads news.raw, writes clean text and metadata to news.cleaned.",
        cleaner::run,
    )
}
