//! Page extraction in child processes, so that the page budget is hard.
//!
//! A thread cannot be stopped from outside: a page that makes the extractor run for minutes,
//! or allocate gigabytes, would keep doing so in a worker thread after its deadline. With the
//! sandbox enabled ([`enable`]), each page is extracted by a child process instead: the same
//! executable started with [`WORKER_ARG`], which reads requests on stdin and answers on
//! stdout, one JSON line each. The child's address space is capped (`RLIMIT_AS`), so a page
//! that needs more memory makes the child abort, not the service; a child that misses the
//! page's deadline is killed. Either way the page fails cleanly (`memory` or `timeout`) and a
//! fresh child takes the next page. Children are kept and reused between pages (a pool, so
//! concurrent callers each get their own); a page costs one copy of its HTML through a pipe.
//!
//! The executable must call [`worker_main`] first thing in `main` (the `cleaner` and
//! `newswire` binaries do).

use std::borrow::Cow;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::extract::{self, Failure, PageText};

/// The first argument that makes an executable a sandbox worker.
pub const WORKER_ARG: &str = "__extract-worker";

/// The environment variable that tells a worker its address-space limit, in bytes.
const MEMORY_ENV: &str = "NEWSWIRE_EXTRACT_MEMORY_BYTES";

/// Where the workers come from, how much memory each may use, and the idle ones.
#[derive(Debug)]
pub struct Sandbox {
    /// The executable, which must dispatch [`WORKER_ARG`] to [`worker_main`].
    exe: PathBuf,
    /// The worker's address-space limit (`RLIMIT_AS`), in bytes.
    memory_bytes: u64,
    idle: Mutex<Vec<Worker>>,
}

impl Sandbox {
    /// Workers started from `exe` with an address-space limit of `memory_bytes`. The limit
    /// covers the worker's code, its 64 MiB extraction stack and its allocator arenas as well
    /// as the page's data, so it must be well above a page's needs (a few hundred MiB at least).
    pub fn new(exe: impl Into<PathBuf>, memory_bytes: u64) -> Sandbox {
        Sandbox {
            exe: exe.into(),
            memory_bytes,
            idle: Mutex::new(Vec::new()),
        }
    }
}

/// One page for a worker. Borrowed when sent, owned when received.
#[derive(Serialize, Deserialize)]
struct Request<'a> {
    /// The page after [`extract::strip_inert`].
    html: Cow<'a, str>,
    url: Option<Cow<'a, str>>,
    now: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
enum Reply {
    Ok(Box<PageText>),
    Err(Failure),
}

/// One child process and the receiving end of its reply lines. Dropping it kills the child.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: mpsc::Receiver<String>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Worker {
    fn spawn(sandbox: &Sandbox) -> std::io::Result<Worker> {
        let mut child = Command::new(&sandbox.exe)
            .arg(WORKER_ARG)
            .env(MEMORY_ENV, sandbox.memory_bytes.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(std::io::Error::other("the worker's pipes are missing"));
        };
        let (tx, replies) = mpsc::channel();
        std::thread::Builder::new()
            .name("extract-worker-reader".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Worker { child, stdin, replies })
    }

    /// Kills the child (if it still runs) and reaps it.
    fn kill(&mut self) -> Option<std::process::ExitStatus> {
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

/// Extracts one page in a worker process of `sandbox`, within `timeout`. The budget's other
/// checks ([`extract::precheck`]) are the caller's.
pub fn extract(
    sandbox: &Sandbox,
    html: &str,
    url: Option<&str>,
    now: DateTime<Utc>,
    timeout: Duration,
) -> Result<PageText, Failure> {
    let idle = sandbox.idle.lock().ok().and_then(|mut idle| idle.pop());
    let mut worker = match idle {
        Some(worker) => worker,
        None => Worker::spawn(sandbox).map_err(|e| {
            tracing::error!(exe = %sandbox.exe.display(), error = %e, "Could not start an extraction worker.");
            Failure::Internal
        })?,
    };
    let request = Request {
        // Half of a typical page is scripts and styles: not worth a trip through the pipe.
        html: extract::strip_inert(html),
        url: url.map(Cow::Borrowed),
        now,
    };
    let sent = serde_json::to_writer(&mut worker.stdin, &request)
        .map_err(std::io::Error::from)
        .and_then(|()| worker.stdin.write_all(b"\n"))
        .and_then(|()| worker.stdin.flush());
    if let Err(e) = sent {
        // Dropping the worker kills it.
        tracing::warn!(error = %e, "An extraction worker could not take a page; it is replaced.");
        return Err(Failure::Internal);
    }
    match worker.replies.recv_timeout(timeout) {
        Ok(line) => {
            let reply = serde_json::from_str::<Reply>(&line);
            if let Ok(mut idle) = sandbox.idle.lock() {
                idle.push(worker);
            }
            match reply {
                Ok(Reply::Ok(page)) => Ok(*page),
                Ok(Reply::Err(failure)) => Err(failure),
                Err(e) => {
                    tracing::error!(error = %e, "An extraction worker sent an unreadable reply.");
                    Err(Failure::Internal)
                }
            }
        }
        // Past the deadline: the worker is dropped, which kills it.
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Failure::Timeout),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker died on this page. Rust aborts on a failed allocation, which is
            // what the address-space limit produces.
            let status = worker.kill();
            let aborted = status.is_some_and(|s| {
                use std::os::unix::process::ExitStatusExt as _;
                s.signal() == Some(nix::sys::signal::Signal::SIGABRT as i32)
            });
            tracing::warn!(?status, "An extraction worker died on a page; it is replaced.");
            Err(if aborted { Failure::Memory } else { Failure::Internal })
        }
    }
}

/// When this process was started as a worker (its first argument is [`WORKER_ARG`]): serves
/// requests until stdin closes and returns the exit code. Otherwise returns `None` at once.
pub fn worker_main() -> Option<ExitCode> {
    if std::env::args_os().nth(1).is_none_or(|a| a != WORKER_ARG) {
        return None;
    }
    if let Some(limit) = std::env::var(MEMORY_ENV).ok().and_then(|v| v.parse::<u64>().ok()) {
        use nix::sys::resource::{Resource, setrlimit};
        if let Err(e) = setrlimit(Resource::RLIMIT_AS, limit, limit) {
            eprintln!("extraction worker: cannot limit memory to {limit} bytes: {e}");
            return Some(ExitCode::FAILURE);
        }
    }
    // Extraction recurses over the document; the page budget's depth limit keeps it within
    // this stack, as it does for the in-process worker threads.
    let serve = std::thread::Builder::new()
        .name("extract".into())
        .stack_size(extract::WORKER_STACK)
        .spawn(serve);
    Some(match serve.map(|h| h.join()) {
        Ok(Ok(Ok(()))) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

fn serve() -> std::io::Result<()> {
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line?;
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(req) => {
                let result =
                    std::panic::catch_unwind(|| extract::extract_stripped(&req.html, req.url.as_deref(), req.now));
                match result {
                    Ok(Ok(page)) => Reply::Ok(Box::new(page)),
                    Ok(Err(failure)) => Reply::Err(failure),
                    Err(_) => Reply::Err(Failure::Internal),
                }
            }
            Err(_) => Reply::Err(Failure::Internal),
        };
        serde_json::to_writer(&mut stdout, &reply)?;
        stdout.write_all(b"\n")?;
        stdout.flush()?;
    }
    Ok(())
}
