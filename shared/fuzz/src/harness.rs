//! The harness: runs a target over its seeds and their mutants (see [`crate::mutate`]) in a
//! child process, and reports what it found.
//!
//! The parent (`newswire-fuzz run`) starts a worker: the same executable with
//! [`WORKER_ARG`], whose address space is capped (`RLIMIT_AS`, `--memory-mb`), so that an
//! input that needs too much memory kills only the worker. The worker runs the inputs one
//! after another on a thread with a 2 MiB stack (tokio's, which the services parse on), each
//! inside `catch_unwind`, and tells the parent on stdout how far it got every 200 ms.
//!
//! - **crash**: a panic (caught: the worker saves the input and reports it), or the worker
//!   killed by a signal (a stack overflow aborts);
//! - **hang**: an input that took longer than the target's limit. The worker checks each
//!   input's time when it returns; a watchdog thread catches one that does not return, makes
//!   the input again from its number (inputs are a pure function of the run's seed and their
//!   number) and saves it;
//! - **oom**: the worker aborted on a failed allocation (or was SIGKILLed, as the kernel's
//!   OOM killer does).
//!
//! When the worker dies without saying which input killed it, the parent replays the inputs
//! from the last one it reported, in a new worker that announces each input before running
//! it, and saves the input that kills it again. That costs nothing while nothing is found
//! (no input is written or copied per run).
//!
//! A finding is saved as `<artifacts>/<kind>-<first 16 hex digits of its SHA-256>`; the run
//! stops there and exits non-zero. `newswire-fuzz replay TARGET FILE` runs it again.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use crate::mutate::Generator;
use crate::seeds::{self, Sources};
use crate::targets::Target;

/// The first argument that makes the executable a worker.
pub const WORKER_ARG: &str = "__worker";

/// What the protocol lines on a worker's stdout start with (anything else is ignored).
const TAG: &str = "@@fuzz";

/// The stack of the thread that runs the inputs: tokio's default, which the services'
/// stages and the fetcher's parsing run on.
pub const STACK: usize = 2 << 20;

/// The time an input of `target` may take: its limit, four times that in a debug build (which
/// runs the targets several times slower, and is what CI fuzzes with, for its overflow checks).
pub fn limit(target: &Target) -> Duration {
    target.limit * if cfg!(debug_assertions) { 4 } else { 1 }
}

/// Exit code of a worker that found something and reported it.
const FOUND: i32 = 3;

/// What one run is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Stop after this many seconds of running inputs.
    pub seconds: Option<u64>,
    /// Stop after this many inputs (seeds included).
    pub runs: Option<u64>,
    /// The run's seed: the same seed makes the same inputs.
    pub seed: u64,
    /// Extra directories of seed files.
    pub corpus: Vec<PathBuf>,
    /// The shared corpus (`None`: none).
    pub shared_corpus: Option<PathBuf>,
    /// Where findings are saved.
    pub artifacts: PathBuf,
    /// The worker's address-space limit, in MiB.
    pub memory_mb: u64,
    /// Go on after a finding (with the next input, in a new worker) until the time or the
    /// runs are used up, instead of stopping at the first.
    pub keep_going: bool,
}

/// What kind of failure an input caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Crash,
    Hang,
    Oom,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Crash => "crash",
            Kind::Hang => "hang",
            Kind::Oom => "oom",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [Kind::Crash, Kind::Hang, Kind::Oom]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A failure and the input that caused it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: Kind,
    /// The input's number in the run.
    pub index: Option<u64>,
    /// Where the input was saved (`None`: it could not be found again).
    pub file: Option<PathBuf>,
    pub message: String,
}

/// What a run of one target came to.
#[derive(Debug, Clone)]
pub struct Summary {
    pub target: &'static str,
    pub executions: u64,
    pub elapsed: Duration,
    pub seeds: usize,
    /// What was found: one at most, unless the run went on after findings.
    pub findings: Vec<Finding>,
    /// Panics that the code under test caught itself (a finding only where the target says
    /// so, as `page` does), and the first one's message.
    pub caught: u64,
    pub caught_first: Option<String>,
}

impl Summary {
    fn count(&self, kind: Kind) -> usize {
        self.findings.iter().filter(|f| f.kind == kind).count()
    }

    /// The summary line.
    pub fn line(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        format!(
            "fuzz {}: {} executions in {:.1} s ({:.0}/s), crashes {}, hangs {}, ooms {}, seeds {}",
            self.target,
            self.executions,
            secs,
            self.executions as f64 / secs.max(1e-9),
            self.count(Kind::Crash),
            self.count(Kind::Hang),
            self.count(Kind::Oom),
            self.seeds
        )
    }
}

/// The seeds of `target`: its own seed directory first (past findings run first), then the
/// shared corpus's, then the `extra` directories'.
pub fn load_seeds(target: &Target, sources: &Sources, extra: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut all = seeds::raw_files(&seeds::seeds_dir(target.name));
    all.extend((target.seeds)(sources));
    for dir in extra {
        all.extend(seeds::raw_files(dir));
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|s| seen.insert(Sha256::digest(s)));
    all
}

/// Saves a finding's input: `<dir>/<kind>-<hash>`.
pub fn save(dir: &Path, kind: Kind, input: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let hash = hex::encode(&Sha256::digest(input)[..8]);
    let path = dir.join(format!("{}-{hash}", kind.as_str()));
    std::fs::write(&path, input)?;
    Ok(path)
}

/// One line, for the protocol: no line breaks, no tabs, at most 1,000 characters.
fn one_line(s: &str) -> String {
    let mut line: String = s.chars().take(1000).collect();
    if line.len() < s.len() {
        line.push('…');
    }
    line.replace(['\n', '\r', '\t'], " ")
}

// --- the worker ---------------------------------------------------------------------------------

/// The worker's arguments (after [`WORKER_ARG`]): what the parent passes on.
#[derive(Debug, Clone)]
pub struct WorkerArgs {
    pub target: &'static Target,
    pub options: Options,
    /// The first input's number.
    pub start: u64,
    /// Announce every input before running it (replay).
    pub trace: bool,
}

impl WorkerArgs {
    fn to_args(&self) -> Vec<String> {
        let o = &self.options;
        let mut args = vec![
            WORKER_ARG.to_string(),
            self.target.name.to_string(),
            "--seed".into(),
            o.seed.to_string(),
            "--start".into(),
            self.start.to_string(),
            "--artifacts".into(),
            o.artifacts.display().to_string(),
            "--memory-mb".into(),
            o.memory_mb.to_string(),
        ];
        if let Some(s) = o.seconds {
            args.extend(["--seconds".into(), s.to_string()]);
        }
        if let Some(r) = o.runs {
            args.extend(["--runs".into(), r.to_string()]);
        }
        if let Some(c) = &o.shared_corpus {
            args.extend(["--shared-corpus".into(), c.display().to_string()]);
        }
        for c in &o.corpus {
            args.extend(["--corpus".into(), c.display().to_string()]);
        }
        if self.trace {
            args.push("--trace".into());
        }
        args
    }

    /// Parses what [`WorkerArgs::to_args`] wrote (without [`WORKER_ARG`]).
    pub fn parse(args: &[String]) -> Result<WorkerArgs, String> {
        let mut it = args.iter();
        let name = it.next().ok_or("no target")?;
        let target = crate::targets::target(name).ok_or_else(|| format!("no target {name:?}"))?;
        let mut parsed = WorkerArgs {
            target,
            options: Options {
                seconds: None,
                runs: None,
                seed: 0,
                corpus: Vec::new(),
                shared_corpus: None,
                artifacts: PathBuf::new(),
                memory_mb: 0,
                keep_going: false,
            },
            start: 0,
            trace: false,
        };
        while let Some(flag) = it.next() {
            if flag == "--trace" {
                parsed.trace = true;
                continue;
            }
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            let number = || value.parse::<u64>().map_err(|e| format!("{flag} {value}: {e}"));
            let o = &mut parsed.options;
            match flag.as_str() {
                "--seed" => o.seed = number()?,
                "--start" => parsed.start = number()?,
                "--seconds" => o.seconds = Some(number()?),
                "--runs" => o.runs = Some(number()?),
                "--memory-mb" => o.memory_mb = number()?,
                "--artifacts" => o.artifacts = PathBuf::from(value),
                "--shared-corpus" => o.shared_corpus = Some(PathBuf::from(value)),
                "--corpus" => o.corpus.push(PathBuf::from(value)),
                _ => return Err(format!("unknown worker flag {flag}")),
            }
        }
        Ok(parsed)
    }
}

/// Caps this process's address space.
pub fn limit_memory(memory_mb: u64) -> Result<(), String> {
    if memory_mb == 0 {
        return Ok(());
    }
    use nix::sys::resource::{Resource, setrlimit};
    let bytes = memory_mb.saturating_mul(1 << 20);
    setrlimit(Resource::RLIMIT_AS, bytes, bytes).map_err(|e| format!("cannot limit memory to {memory_mb} MiB: {e}"))
}

/// The first panic's message and place since [`last_panic`] was called, recorded by the hook
/// instead of printed: the root cause, when a caught panic leads to another (the page target
/// panics when the extraction thread did).
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Makes panics record their message (see [`last_panic`]) instead of printing it: a target
/// that catches a panic of its own (the cleaner's extraction thread) would otherwise fill
/// the log.
pub fn record_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".into());
        let place = info.location().map(|l| l.to_string()).unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        let message = format!("panicked at {place} (thread {thread}): {payload}");
        LAST_PANIC
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert(message);
    }));
}

/// The message of the first panic since the previous call, if any.
pub fn last_panic() -> Option<String> {
    LAST_PANIC
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

/// When nothing is running.
const IDLE: u64 = u64::MAX;

/// What the watchdog sees: the input running and since when (ms since the worker's epoch).
struct Running {
    index: AtomicU64,
    since_ms: AtomicU64,
}

fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{TAG} {line}");
    let _ = out.flush();
}

fn report(kind: Kind, index: u64, dir: &Path, input: &[u8], message: &str) -> ! {
    match save(dir, kind, input) {
        Ok(path) => emit(&format!(
            "found {} {index} {}\t{}",
            kind.as_str(),
            path.display(),
            one_line(message)
        )),
        Err(e) => emit(&format!(
            "found {} {index} -\t{} (not saved: {e})",
            kind.as_str(),
            one_line(message)
        )),
    }
    std::process::exit(FOUND);
}

/// The worker: runs the inputs and reports on stdout. Returns the exit code.
pub fn worker(args: WorkerArgs) -> i32 {
    if let Err(e) = limit_memory(args.options.memory_mb) {
        eprintln!("fuzz worker: {e}");
        return 2;
    }
    record_panics();
    let target = args.target;
    let sources = Sources {
        corpus: args.options.shared_corpus.clone(),
        repo: seeds::repo_root(),
        sample: None,
    };
    let seeds = load_seeds(target, &sources, &args.options.corpus);
    emit(&format!("seeds {}", seeds.len()));
    let generator = Arc::new(Generator::new(
        args.options.seed,
        seeds,
        target.dictionary,
        target.max_len,
    ));
    let running = Arc::new(Running {
        index: AtomicU64::new(0),
        since_ms: AtomicU64::new(IDLE),
    });
    let epoch = Instant::now();
    let millis = move || u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
    let artifacts = args.options.artifacts.clone();

    // The watchdog: an input past its limit (with some slack, so that one that returns is
    // reported by the loop, with its measured time) is a hang.
    {
        let (generator, running, artifacts) = (generator.clone(), running.clone(), artifacts.clone());
        let limit_ms = u64::try_from(limit(target).as_millis()).unwrap_or(u64::MAX / 2) + 1000;
        std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(50));
                    let since = running.since_ms.load(Ordering::SeqCst);
                    let index = running.index.load(Ordering::SeqCst);
                    if since == IDLE || running.since_ms.load(Ordering::SeqCst) != since {
                        continue;
                    }
                    let elapsed = millis().saturating_sub(since);
                    if elapsed > limit_ms {
                        let input = generator.input(index);
                        report(
                            Kind::Hang,
                            index,
                            &artifacts,
                            &input,
                            &format!(
                                "input {index} ({} bytes) still running after {elapsed} ms (limit {} ms)",
                                input.len(),
                                limit(target).as_millis()
                            ),
                        );
                    }
                }
            })
            .expect("the watchdog thread starts");
    }

    let (start, runs, seconds, trace) = (args.start, args.options.runs, args.options.seconds, args.trace);
    let fuzz = std::thread::Builder::new()
        .name("fuzz".into())
        .stack_size(STACK)
        .spawn(move || {
            let began = Instant::now();
            let deadline = seconds.map(|s| began + Duration::from_secs(s));
            let mut last_report = Instant::now();
            let mut executions: u64 = 0;
            let mut index = start;
            let (mut caught, mut caught_first) = (0u64, None::<String>);
            loop {
                if runs.is_some_and(|r| executions >= r) || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let input = generator.input(index);
                if trace {
                    emit(&format!("start {index}"));
                }
                running.index.store(index, Ordering::SeqCst);
                running.since_ms.store(millis(), Ordering::SeqCst);
                let started = Instant::now();
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.run)(&input)));
                let took = started.elapsed();
                running.since_ms.store(IDLE, Ordering::SeqCst);
                if let Err(payload) = result {
                    let message = last_panic().unwrap_or_else(|| {
                        payload
                            .downcast_ref::<&str>()
                            .map(|s| (*s).to_string())
                            .or_else(|| payload.downcast_ref::<String>().cloned())
                            .unwrap_or_default()
                    });
                    report(Kind::Crash, index, &artifacts, &input, &message);
                }
                if let Some(message) = last_panic() {
                    caught += 1;
                    caught_first.get_or_insert(message);
                }
                if took > limit(target) {
                    report(
                        Kind::Hang,
                        index,
                        &artifacts,
                        &input,
                        &format!(
                            "input {index} ({} bytes) took {} ms (limit {} ms)",
                            input.len(),
                            took.as_millis(),
                            limit(target).as_millis()
                        ),
                    );
                }
                executions += 1;
                index += 1;
                if last_report.elapsed() >= Duration::from_millis(200) {
                    emit(&format!("progress {index} {executions}"));
                    last_report = Instant::now();
                }
            }
            if let Some(first) = caught_first {
                emit(&format!("caught {caught}\t{}", one_line(&first)));
            }
            emit(&format!("done {index} {executions} {}", began.elapsed().as_millis()));
        })
        .expect("the fuzz thread starts");
    match fuzz.join() {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

// --- the parent ---------------------------------------------------------------------------------

/// What the parent learnt from one worker.
#[derive(Debug, Default)]
struct WorkerReport {
    seeds: usize,
    /// Every input before this one completed.
    next: u64,
    executions: u64,
    loop_ms: Option<u64>,
    /// The last input announced (trace mode).
    started: Option<u64>,
    found: Option<Finding>,
    caught: u64,
    caught_first: Option<String>,
    done: bool,
    status: Option<ExitStatus>,
    /// The end of the worker's stderr.
    stderr: String,
    /// The parent killed it: nothing heard for too long.
    silent: bool,
}

/// Runs one worker to its end.
fn run_worker(exe: &Path, args: &WorkerArgs, silence: Duration) -> std::io::Result<WorkerReport> {
    let mut child = Command::new(exe)
        .args(args.to_args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The last 16 KiB of stderr.
    let tail = std::thread::spawn(move || {
        let mut kept: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > 32 << 10 {
                kept.drain(..kept.len() - (16 << 10));
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    });
    let mut report = WorkerReport {
        next: args.start,
        ..WorkerReport::default()
    };
    loop {
        match rx.recv_timeout(silence) {
            Ok(line) => {
                let Some(rest) = line.strip_prefix(TAG).map(str::trim_start) else {
                    continue;
                };
                let (what, rest) = rest.split_once(' ').unwrap_or((rest, ""));
                let mut words = rest.split(' ');
                let mut number = || words.next().and_then(|w| w.parse::<u64>().ok());
                match what {
                    "seeds" => report.seeds = number().map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)),
                    "progress" => {
                        report.next = number().unwrap_or(report.next);
                        report.executions = number().unwrap_or(report.executions);
                    }
                    "start" => report.started = number(),
                    "caught" => {
                        let (count, message) = rest.split_once('\t').unwrap_or((rest, ""));
                        report.caught = count.parse().unwrap_or(0);
                        report.caught_first = Some(message.to_string());
                    }
                    "done" => {
                        report.next = number().unwrap_or(report.next);
                        report.executions = number().unwrap_or(report.executions);
                        report.loop_ms = number();
                        report.done = true;
                    }
                    "found" => {
                        let (head, message) = rest.split_once('\t').unwrap_or((rest, ""));
                        let mut parts = head.splitn(3, ' ');
                        let kind = parts.next().and_then(Kind::parse).unwrap_or(Kind::Crash);
                        let index = parts.next().and_then(|n| n.parse::<u64>().ok());
                        let file = parts.next().filter(|f| *f != "-").map(PathBuf::from);
                        if let Some(i) = index {
                            report.executions += i.saturating_sub(report.next);
                            report.next = i;
                        }
                        report.found = Some(Finding {
                            kind,
                            index,
                            file,
                            message: message.to_string(),
                        });
                    }
                    _ => {}
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Not even the watchdog spoke: kill it (by its own pid).
                let _ = child.kill();
                report.silent = true;
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    report.status = Some(child.wait()?);
    report.stderr = tail.join().unwrap_or_default();
    Ok(report)
}

/// How a worker that died without a report died.
fn death(report: &WorkerReport) -> (Kind, String) {
    use std::os::unix::process::ExitStatusExt as _;
    let status = report.status;
    let signal = status.and_then(|s| s.signal());
    let last_lines: Vec<&str> = report.stderr.lines().rev().take(6).collect();
    let stderr = last_lines.into_iter().rev().collect::<Vec<_>>().join(" | ");
    let oom = report.stderr.contains("memory allocation of") || report.stderr.contains("out of memory");
    let how = match (signal, status.and_then(|s| s.code())) {
        _ if report.silent => "stopped answering (killed by the harness)".to_string(),
        (Some(sig), _) => format!(
            "killed by signal {}",
            nix::sys::signal::Signal::try_from(sig).map_or_else(|_| sig.to_string(), |s| s.as_str().to_string())
        ),
        (None, Some(code)) => format!("exited with code {code}"),
        (None, None) => "ended".to_string(),
    };
    let kind = if report.silent {
        Kind::Hang
    } else if oom || signal == Some(nix::sys::signal::Signal::SIGKILL as i32) {
        Kind::Oom
    } else {
        Kind::Crash
    };
    (kind, format!("the worker {how}: {stderr}"))
}

/// Runs `target` as `options` says: a worker, and a replay when it dies unexplained; with
/// `keep_going`, a new worker from the input after each finding, while time and runs last.
pub fn run(target: &'static Target, options: &Options) -> std::io::Result<Summary> {
    // This very executable, even if the file was rebuilt since it started.
    let proc_exe = Path::new("/proc/self/exe");
    let exe = if proc_exe.exists() {
        proc_exe.to_path_buf()
    } else {
        std::env::current_exe()?
    };
    let began = Instant::now();
    let mut summary = Summary {
        target: target.name,
        executions: 0,
        elapsed: Duration::ZERO,
        seeds: 0,
        findings: Vec::new(),
        caught: 0,
        caught_first: None,
    };
    let (mut start, mut looped) = (0, Duration::ZERO);
    loop {
        let seconds = options.seconds.map(|s| s.saturating_sub(looped.as_secs()));
        let runs = options.runs.map(|r| r.saturating_sub(summary.executions));
        if seconds == Some(0) || runs == Some(0) {
            break;
        }
        let args = WorkerArgs {
            target,
            options: Options {
                seconds,
                runs,
                ..options.clone()
            },
            start,
            trace: false,
        };
        let worker_began = Instant::now();
        // Seed loading, then at most the limit per input and the watchdog's slack.
        let report = run_worker(&exe, &args, limit(target) + Duration::from_secs(120))?;
        looped += report
            .loop_ms
            .map_or_else(|| worker_began.elapsed(), Duration::from_millis);
        summary.executions += report.executions;
        summary.seeds = report.seeds;
        summary.caught += report.caught;
        if summary.caught_first.is_none() {
            summary.caught_first = report.caught_first.clone();
        }
        let finding = match report.found.clone() {
            Some(found) => Some(found),
            None if report.done && report.status.is_some_and(|s| s.success()) => None,
            None => {
                let (kind, message) = death(&report);
                Some(locate(&exe, target, options, report.next, kind, message)?)
            }
        };
        let Some(finding) = finding else { break };
        let next = finding.index.map(|i| i + 1);
        summary.findings.push(finding);
        match next {
            Some(next) if options.keep_going => start = next,
            _ => break,
        }
    }
    summary.elapsed = if options.keep_going { began.elapsed() } else { looped };
    Ok(summary)
}

/// Finds the input a worker died on: replays from `from` in a worker that announces each
/// input, and saves the one it dies on again (made afresh here from its number).
fn locate(
    exe: &Path,
    target: &'static Target,
    options: &Options,
    from: u64,
    kind: Kind,
    message: String,
) -> std::io::Result<Finding> {
    eprintln!(
        "fuzz {}: {} ({message}); replaying from input {from} to find the input",
        target.name,
        kind.as_str()
    );
    let replay = WorkerArgs {
        target,
        options: Options {
            // Progress is reported every 200 ms: the input is within a few thousand.
            runs: Some(1_000_000),
            seconds: Some(300),
            ..options.clone()
        },
        start: from,
        trace: true,
    };
    let report = run_worker(exe, &replay, limit(target) + Duration::from_secs(120))?;
    if let Some(found) = report.found {
        return Ok(found);
    }
    let Some(index) = report.started.filter(|_| !report.done) else {
        return Ok(Finding {
            kind,
            index: None,
            file: None,
            message: format!("{message}; not reproduced when the inputs from {from} were replayed"),
        });
    };
    let (replay_kind, replay_message) = death(&report);
    let sources = Sources {
        corpus: options.shared_corpus.clone(),
        repo: seeds::repo_root(),
        sample: None,
    };
    let seeds = load_seeds(target, &sources, &options.corpus);
    let input = Generator::new(options.seed, seeds, target.dictionary, target.max_len).input(index);
    let file = save(&options.artifacts, replay_kind, &input)?;
    Ok(Finding {
        kind: replay_kind,
        index: Some(index),
        file: Some(file),
        message: replay_message,
    })
}

/// Runs `target` once over each of `inputs` in this process (no mutation, no worker):
/// `(input, finding)` for each input that fails.
pub fn replay(target: &Target, inputs: &[(String, Vec<u8>)]) -> Vec<(String, Kind, String)> {
    record_panics();
    let mut failed = Vec::new();
    for (name, input) in inputs {
        let started = Instant::now();
        let result = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(STACK)
                .spawn_scoped(scope, || {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.run)(input)))
                })
                .expect("the replay thread starts")
                .join()
                .unwrap_or(Err(Box::new("the replay thread failed")))
        });
        let took = started.elapsed();
        if result.is_err() {
            failed.push((name.clone(), Kind::Crash, last_panic().unwrap_or_default()));
        } else if took > limit(target) {
            failed.push((
                name.clone(),
                Kind::Hang,
                format!("took {} ms (limit {} ms)", took.as_millis(), limit(target).as_millis()),
            ));
        }
    }
    failed
}

/// Whether `target` panics on `input` (in this process, on a thread with [`STACK`]).
fn panics(target: &Target, input: &[u8]) -> bool {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(scope, || {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.run)(input))).is_err()
            })
            .expect("the thread starts")
            .join()
            .unwrap_or(true)
    })
}

/// A smaller input on which `target` still panics: ranges are cut out while it does, from
/// halves down to single bytes (a greedy delta debugging). Only for crashes that are panics;
/// `None` if `input` does not make the target panic.
pub fn minimize(target: &Target, input: &[u8]) -> Option<Vec<u8>> {
    record_panics();
    if !panics(target, input) {
        return None;
    }
    let mut best = input.to_vec();
    let mut chunk = best.len().div_ceil(2).max(1);
    loop {
        let mut at = 0;
        while at < best.len() {
            let end = (at + chunk).min(best.len());
            let mut candidate = best[..at].to_vec();
            candidate.extend_from_slice(&best[end..]);
            if panics(target, &candidate) {
                best = candidate;
            } else {
                at += chunk;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    let _ = last_panic();
    Some(best)
}
