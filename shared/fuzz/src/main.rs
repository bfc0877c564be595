//! `newswire-fuzz`: mutation fuzzing of the pipeline's parsers and decoders on stable Rust.
//! See the crate documentation and the README's "Fuzzing" paragraph.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use fuzz::harness::{self, Options, Summary};
use fuzz::{TARGETS, Target};

#[derive(Parser)]
#[command(
    name = "newswire-fuzz",
    about = "Fuzzes newswire's parsers and decoders (mutation fuzzing, stable Rust)."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Lists the targets.
    List,
    /// Fuzzes one target; stops at the first crash, hang or out-of-memory.
    Run {
        /// The target (see `list`).
        target: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Fuzzes every target in turn (each with `--seconds`/`--runs`); exits non-zero if any
    /// target found something.
    All {
        #[command(flatten)]
        run: RunArgs,
    },
    /// Runs a target once over saved inputs (findings, seeds), in this process.
    Replay {
        target: String,
        /// Input files (or directories of them).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Cap this process's address space, in MiB (0: no cap).
        #[arg(long, default_value_t = 0)]
        memory_mb: u64,
    },
    /// Shrinks a saved input on which a target panics; writes `<file>.min`.
    Minimize { target: String, file: PathBuf },
}

#[derive(Args, Clone)]
struct RunArgs {
    /// Run for this many seconds (seed loading not counted).
    #[arg(long)]
    seconds: Option<u64>,
    /// Run this many inputs (the seeds included).
    #[arg(long)]
    runs: Option<u64>,
    /// The run's seed: the same seed (and seeds) make the same inputs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A directory of extra seed files (repeatable).
    #[arg(long)]
    corpus: Vec<PathBuf>,
    /// The shared corpus (default: `../shared/corpus` beside the checkout, or
    /// `NEWSWIRE_CORPUS_DIR`).
    #[arg(long)]
    shared_corpus: Option<PathBuf>,
    /// Where findings are saved (default: `target/fuzz-artifacts/<target>`; with `all`, a
    /// directory per target under it).
    #[arg(long)]
    artifacts: Option<PathBuf>,
    /// The worker's address-space limit, in MiB.
    #[arg(long, default_value_t = 2048)]
    memory_mb: u64,
    /// Go on after a finding, with the next input, until the time or the runs are used up.
    #[arg(long)]
    keep_going: bool,
}

impl RunArgs {
    fn options(&self, target: &Target, per_target_dir: bool) -> Options {
        let default_root = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| fuzz::seeds::repo_root().join("target"), PathBuf::from)
            .join("fuzz-artifacts");
        let artifacts = match &self.artifacts {
            Some(dir) if per_target_dir => dir.join(target.name),
            Some(dir) => dir.clone(),
            None => default_root.join(target.name),
        };
        Options {
            seconds: self.seconds,
            runs: self.runs,
            seed: self.seed,
            corpus: self.corpus.clone(),
            shared_corpus: self
                .shared_corpus
                .clone()
                .or_else(|| fuzz::seeds::Sources::default_for_repo().corpus),
            artifacts,
            memory_mb: self.memory_mb,
            keep_going: self.keep_going,
        }
    }
}

fn find(name: &str) -> Result<&'static Target, String> {
    fuzz::target(name).ok_or_else(|| {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        format!("no target {name:?}; the targets: {}", names.join(", "))
    })
}

/// Prints a summary (and its findings); true when nothing was found.
fn print(summary: &Summary) -> bool {
    println!("{}", summary.line());
    if let Some(first) = &summary.caught_first {
        println!(
            "fuzz {}: {} panics caught inside the code under test (handled there, not findings); the first: {first}",
            summary.target, summary.caught
        );
    }
    for finding in &summary.findings {
        print_finding(summary.target, finding);
    }
    summary.findings.is_empty()
}

fn print_finding(target: &str, finding: &harness::Finding) {
    let at = finding.index.map_or_else(String::new, |i| format!(" at input {i}"));
    match &finding.file {
        Some(file) => {
            println!(
                "fuzz {}: {}{at}: {}: {}",
                target,
                finding.kind.as_str().to_uppercase(),
                file.display(),
                finding.message
            );
            println!("  reproduce: newswire-fuzz replay {} {}", target, file.display());
        }
        None => println!(
            "fuzz {}: {}{at}: {}",
            target,
            finding.kind.as_str().to_uppercase(),
            finding.message
        ),
    }
}

fn run(target: &'static Target, options: &Options) -> Result<bool, String> {
    if options.shared_corpus.is_none() {
        eprintln!(
            "fuzz {}: no shared corpus found; seeds from shared/fuzz/seeds only",
            target.name
        );
    }
    let summary = harness::run(target, options).map_err(|e| format!("cannot run the worker: {e}"))?;
    Ok(print(&summary))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == harness::WORKER_ARG) {
        return match harness::WorkerArgs::parse(&args[2..]) {
            Ok(worker) => ExitCode::from(u8::try_from(harness::worker(worker)).unwrap_or(1)),
            Err(e) => {
                eprintln!("fuzz worker: {e}");
                ExitCode::from(2)
            }
        };
    }
    let result = match Cli::parse().command {
        Cmd::List => {
            for t in TARGETS {
                println!(
                    "{:<12} {} (limit {} ms per input)",
                    t.name,
                    t.about,
                    harness::limit(t).as_millis()
                );
            }
            Ok(true)
        }
        Cmd::Run { target, run: args } => find(&target).and_then(|t| run(t, &args.options(t, false))),
        Cmd::All { run: args } => {
            if args.seconds.is_none() && args.runs.is_none() {
                Err("`all` needs --seconds or --runs".to_string())
            } else {
                let mut clean = true;
                let mut failed = Vec::new();
                for t in TARGETS {
                    match run(t, &args.options(t, true)) {
                        Ok(true) => {}
                        Ok(false) => {
                            clean = false;
                            failed.push(t.name);
                        }
                        Err(e) => return fail(&e),
                    }
                }
                if !clean {
                    eprintln!("fuzz: findings in {}", failed.join(", "));
                }
                Ok(clean)
            }
        }
        Cmd::Replay {
            target,
            files,
            memory_mb,
        } => find(&target).and_then(|t| {
            harness::limit_memory(memory_mb)?;
            let mut inputs = Vec::new();
            for path in files {
                let paths = if path.is_dir() {
                    fuzz::seeds::files(&path)
                } else {
                    vec![path]
                };
                for p in paths {
                    let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                    inputs.push((p.display().to_string(), bytes));
                }
            }
            let failed = harness::replay(t, &inputs);
            for (name, kind, message) in &failed {
                println!("fuzz {}: {}: {name}: {message}", t.name, kind.as_str().to_uppercase());
            }
            println!(
                "fuzz {}: {} inputs replayed, {} failed",
                t.name,
                inputs.len(),
                failed.len()
            );
            Ok(failed.is_empty())
        }),
        Cmd::Minimize { target, file } => find(&target).and_then(|t| {
            let input = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let smaller = harness::minimize(t, &input).ok_or("the target does not panic on this input")?;
            let out = PathBuf::from(format!("{}.min", file.display()));
            std::fs::write(&out, &smaller).map_err(|e| format!("{}: {e}", out.display()))?;
            println!(
                "fuzz {}: {} bytes to {}: {}",
                t.name,
                input.len(),
                smaller.len(),
                out.display()
            );
            Ok(true)
        }),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("newswire-fuzz: {message}");
    ExitCode::from(2)
}
