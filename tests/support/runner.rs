//! Running C programs as named tests and reporting them in libtest's format, for the test
//! targets that are C programs: `tests/c_suite.rs` and `tests/stress.rs`.
//!
//! A C test program (harness `c-tests/rt_test.c`) lists its cases with `--list` and runs one
//! with its name as the only argument. [`case_tests`] compiles every `.c` file of a directory
//! into such a program and makes one [`Test`] per case; [`run_main`] runs them, each in its own
//! process and under a time limit, and exits like libtest.
//!
//! Each run is the leader of its own process group, and its time limit ends the whole group:
//! processes a case forks (a fork test's child, a script's background job) cannot outlive it
//! and hold its output pipes open. The pipes are read with the time limit too: a run whose
//! pipes stay open after it exited (a process it left behind, even one that left its group)
//! fails once the limit passes, and the runner never waits for their end without bound.
//!
//! Arguments (as libtest takes them): words not starting with `-` filter tests by substring;
//! `--skip WORD` leaves out the tests whose names contain WORD; `--list` lists them. Other flags
//! are ignored.

#![allow(dead_code)]

use super::cbuild;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A check of a passing run's standard output.
pub type Check = Box<dyn Fn(&str) -> Result<(), String> + Send>;

pub enum Job {
    /// Runs `program`, with `arg` if there is one: it passes when it exits 0 and `check`, if
    /// any, accepts its standard output.
    Run {
        program: PathBuf,
        arg: Option<String>,
        check: Option<Check>,
    },
    /// Fails at once with this text (a file that did not compile, a program that cannot list
    /// its cases).
    Fail(String),
}

pub struct Test {
    pub name: String,
    pub job: Job,
}

pub struct Outcome {
    pub name: String,
    pub ok: bool,
    /// The run's output, or why it failed.
    pub detail: String,
    /// The run's standard output alone.
    pub stdout: String,
    pub secs: f64,
}

/// The command line, as libtest reads it.
pub struct Args {
    pub list_only: bool,
    pub filters: Vec<String>,
    pub skips: Vec<String>,
}

impl Args {
    pub fn from_env() -> Args {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut out = Args {
            list_only: args.iter().any(|a| a == "--list"),
            filters: Vec::new(),
            skips: Vec::new(),
        };
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            if a == "--skip" {
                out.skips.extend(it.next());
            } else if !a.starts_with('-') {
                out.filters.push(a);
            }
        }
        out
    }

    fn selects(&self, name: &str) -> bool {
        (self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str())))
            && !self.skips.iter().any(|s| name.contains(s.as_str()))
    }
}

/// How the tests run.
pub struct Options {
    /// How many tests run at the same time.
    pub workers: usize,
    /// The limit for one test: a run that takes longer is killed and reported as a hang.
    pub timeout: Duration,
    /// A command that prefixes every run (e.g. valgrind and its options).
    pub wrapper: Vec<String>,
    /// Environment variables set for every run.
    pub env: Vec<(String, String)>,
    /// Tests that take longer than this are named at the end.
    pub slow_secs: f64,
}

/// The words of environment variable `name` (empty if unset).
pub fn env_words(name: &str) -> Vec<String> {
    std::env::var(name)
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// Environment variable `name` as a number of seconds, or `default`.
pub fn env_secs(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default),
    )
}

/// Compiles each `.c` file of `dir` (but those in `skip`) together with `extra_sources` into a
/// C test program in `build`, and makes one test per case, named `prefix::file::case`. A file
/// that does not compile, or a program that cannot list its cases, gives one failing test.
/// Files compile in parallel; the tests come in file order.
pub fn case_tests(
    prefix: &str,
    dir: &Path,
    skip: &[&Path],
    extra_sources: &[&Path],
    build: &Path,
    lib_dir: &Path,
    flags: &[&str],
) -> Vec<Test> {
    let files: Vec<PathBuf> = cbuild::c_files(dir)
        .into_iter()
        .filter(|src| !skip.contains(&src.as_path()))
        .collect();
    let next = Mutex::new(0);
    let done: Mutex<Vec<(usize, Vec<Test>)>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    std::thread::scope(|s| {
        for _ in 0..workers.min(files.len()) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        *n - 1
                    };
                    let Some(src) = files.get(i) else { break };
                    let tests = file_tests(prefix, src, extra_sources, build, lib_dir, flags);
                    done.lock().unwrap().push((i, tests));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().flat_map(|(_, tests)| tests).collect()
}

/// The tests of one C file: one per case, or one failure.
fn file_tests(
    prefix: &str,
    src: &Path,
    extra_sources: &[&Path],
    build: &Path,
    lib_dir: &Path,
    flags: &[&str],
) -> Vec<Test> {
    let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
    let exe = build.join(format!("{prefix}_{stem}"));
    let mut sources = vec![src];
    sources.extend_from_slice(extra_sources);
    if let Err(e) = cbuild::compile_c(&sources, &exe, lib_dir, flags) {
        return vec![Test {
            name: format!("{prefix}::{stem}::compile"),
            job: Job::Fail(e),
        }];
    }
    program_tests(prefix, &stem, &exe)
}

/// The tests of a built C or C++ test program: one per case it lists, named
/// `prefix::stem::case`, or one failure if it cannot list them.
pub fn program_tests(prefix: &str, stem: &str, exe: &Path) -> Vec<Test> {
    match list_cases(exe) {
        Ok(cases) => cases
            .into_iter()
            .map(|case| Test {
                name: format!("{prefix}::{stem}::{case}"),
                job: Job::Run {
                    program: exe.to_path_buf(),
                    arg: Some(case),
                    check: None,
                },
            })
            .collect(),
        Err(e) => vec![Test {
            name: format!("{prefix}::{stem}::list"),
            job: Job::Fail(e),
        }],
    }
}

fn list_cases(exe: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(exe)
        .arg("--list")
        .env("LD_LIBRARY_PATH", cbuild::lib_dir())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} --list failed: {}",
            exe.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect())
}

/// Runs the tests that `args` selects (or lists them), prints each result as it comes and a
/// libtest summary, and exits with status 101 if any failed. `epilogue` sees every outcome,
/// sorted by name, before the summary.
pub fn run_main(
    mut tests: Vec<Test>,
    args: &Args,
    opts: &Options,
    started: Instant,
    epilogue: impl FnOnce(&[Outcome]),
) {
    let total = tests.len();
    tests.retain(|t| args.selects(&t.name));
    let filtered_out = total - tests.len();
    if args.list_only {
        for t in &tests {
            println!("{}: test", t.name);
        }
        return;
    }

    println!("\nrunning {} tests", tests.len());
    let queue = Arc::new(Mutex::new(
        tests.into_iter().collect::<std::collections::VecDeque<_>>(),
    ));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for _ in 0..opts.workers.max(1) {
            let (queue, outcomes) = (queue.clone(), outcomes.clone());
            s.spawn(move || {
                loop {
                    let Some(test) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let t0 = Instant::now();
                    let (ok, detail, stdout) = run(test.job, opts);
                    let outcome = Outcome {
                        name: test.name,
                        ok,
                        detail,
                        stdout,
                        secs: t0.elapsed().as_secs_f64(),
                    };
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(
                        out,
                        "test {} ... {}",
                        outcome.name,
                        if outcome.ok { "ok" } else { "FAILED" }
                    );
                    drop(out);
                    outcomes.lock().unwrap().push(outcome);
                }
            });
        }
    });

    let mut outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    for o in outcomes.iter().filter(|o| o.secs > opts.slow_secs) {
        println!("note: {} took {:.1}s", o.name, o.secs);
    }
    epilogue(&outcomes);
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok).collect();
    if !failed.is_empty() {
        println!("\nfailures:\n");
        for o in &failed {
            println!("---- {} ----\n{}\n", o.name, o.detail.trim_end());
        }
        println!("failures:");
        for o in &failed {
            println!("    {}", o.name);
        }
    }
    let passed = outcomes.len() - failed.len();
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        passed,
        failed.len(),
        filtered_out,
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        std::process::exit(101);
    }
}

/// Runs one job: (passed, detail, stdout).
pub fn run(job: Job, opts: &Options) -> (bool, String, String) {
    let (program, arg, check) = match job {
        Job::Fail(e) => return (false, e, String::new()),
        Job::Run {
            program,
            arg,
            check,
        } => (program, arg, check),
    };
    let mut cmd = match opts.wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(&program);
            c
        }
        None => Command::new(&program),
    };
    // Only the freshly built library: cargo's LD_LIBRARY_PATH may name an older copy.
    cmd.env("LD_LIBRARY_PATH", cbuild::lib_dir());
    cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));
    if let Some(a) = arg {
        cmd.arg(a);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (status, stdout, stderr) = match run_with_timeout(cmd, opts.timeout) {
        Ok(r) => r,
        Err(e) => return (false, e, String::new()),
    };
    let mut detail = String::new();
    if !stdout.is_empty() {
        detail.push_str(&format!("---- stdout ----\n{stdout}\n"));
    }
    if !stderr.is_empty() {
        detail.push_str(&format!("---- stderr ----\n{stderr}\n"));
    }
    if !status.success() {
        return (false, format!("exit status: {status}\n{detail}"), stdout);
    }
    if let Some(check) = check {
        if let Err(e) = check(&stdout) {
            return (false, format!("output check failed: {e}\n{detail}"), stdout);
        }
    }
    (true, detail, stdout)
}

type RunResult = (ExitStatus, String, String);

/// How long the pipes may stay open once the process group was killed.
const AFTER_KILL: Duration = Duration::from_secs(2);

/// Reads a pipe to its end in a thread; the bytes arrive on the receiver.
fn read_in_thread(mut pipe: impl std::io::Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = pipe.read_to_end(&mut s);
        let _ = tx.send(s);
    });
    rx
}

/// The output read from a pipe by `until`, or what it read when it gave up (a reader that still
/// waits for the end is left to finish on its own).
fn collect(rx: &Receiver<Vec<u8>>, until: Instant) -> Option<String> {
    let left = until.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
    }
}

/// Ends every process of the group `pgid` (the run and whatever it forked).
fn kill_group(pgid: u32) {
    // SAFETY: killpg has no memory-safety preconditions; the group is the run's own, which
    // exists while its leader is not reaped (the callers kill before `wait`) or while a member
    // holds the pipes.
    unsafe { libc::killpg(pgid as libc::pid_t, libc::SIGKILL) };
}

fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<RunResult, String> {
    // Its own process group, so that the time limit can end everything the run started.
    cmd.process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let pgid = child.id();
    let out_rx = read_in_thread(child.stdout.take().expect("piped"));
    let err_rx = read_in_thread(child.stderr.take().expect("piped"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if Instant::now() >= deadline {
            kill_group(pgid);
            let _ = child.wait();
            let grace = Instant::now() + AFTER_KILL;
            let out = collect(&out_rx, grace).unwrap_or_default();
            let err = collect(&err_rx, grace).unwrap_or_default();
            return Err(format!(
                "timed out after {}s (a hang); its process group was killed\n---- stdout ----\n{out}\n---- stderr ----\n{err}",
                timeout.as_secs_f64()
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // The run exited; its pipes end when every process holding them has exited too.
    let out = collect(&out_rx, deadline);
    let err = collect(&err_rx, deadline);
    match (out, err) {
        (Some(out), Some(err)) => Ok((status, out, err)),
        (out, err) => {
            kill_group(pgid);
            let grace = Instant::now() + AFTER_KILL;
            let out = out.or_else(|| collect(&out_rx, grace)).unwrap_or_default();
            let err = err.or_else(|| collect(&err_rx, grace)).unwrap_or_default();
            Err(format!(
                "exited ({status}), but processes it left behind held its output open past the \
                 time limit of {}s; its process group was killed\n---- stdout ----\n{out}\n---- stderr ----\n{err}",
                timeout.as_secs_f64()
            ))
        }
    }
}
