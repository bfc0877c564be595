fn main() -> std::process::ExitCode {
    runtime::service_main(
        "deduper",
        "Reads news.cleaned, drops repeats, writes news.unique.",
        deduper::run,
    )
}
