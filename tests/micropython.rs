//! MicroPython on rthread: builds MicroPython's unix port with the thread layer of
//! `integrations/micropython/` (both builds: the default one without a GIL, and the GIL build),
//! runs MicroPython's own thread suite (`tests/run-tests.py -d thread`) on each, three runs in a
//! row (each must pass at least as many tests as the stock pthread layer and fail none; only the
//! suite's three wall-clock timing tests get one retry, which the summary names), and the Ctrl-C
//! test (`integrations/micropython/tests/ctrl_c.py`: a main thread blocked
//! in `lock.acquire()` gets KeyboardInterrupt within a second of SIGINT, 20 times in a row,
//! while other threads hammer locks).
//!
//! The MicroPython source is `RTHREAD_MICROPYTHON_SRC`, else `../shared/vendor/micropython`
//! beside this checkout. Without it (or without `python3`, which runs the suite) every test
//! prints `skipped: ...` on its own line and passes, unless `RTHREAD_MICROPYTHON_REQUIRE=1`
//! (as `.ci/run` sets), which turns the skip into a failure. `RTHREAD_MICROPYTHON_RUNS` sets the
//! number of suite runs (default 3).
//!
//! The builds live in cargo's target directory (`target/tmp/micropython/{unsafe,gil}`), linked
//! against a copy of the freshly built `librthread.so` in `target/tmp/micropython/lib`: the
//! first run copies and compiles MicroPython (a few minutes on two cores), later runs rebuild
//! only what changed. Arguments filter tests as libtest does.

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/runner.rs"]
mod runner;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The thread suite's counts on the stock pthread layer, on this project's reference machine:
/// the rthread layer must pass at least as many, and fail none.
const MIN_PASSED_UNSAFE: usize = 26;
const MIN_PASSED_GIL: usize = 32;
const CTRL_C_ROUNDS: usize = 20;

#[derive(Clone, Copy, PartialEq)]
enum Config {
    Unsafe,
    Gil,
}

impl Config {
    fn name(self) -> &'static str {
        match self {
            Config::Unsafe => "unsafe",
            Config::Gil => "gil",
        }
    }
}

enum Kind {
    Suite,
    CtrlC,
}

struct Case {
    name: String,
    kind: Kind,
    config: Config,
}

fn main() {
    let args = runner::Args::from_env();
    let started = Instant::now();
    let mut cases = Vec::new();
    for config in [Config::Unsafe, Config::Gil] {
        for (kind, what) in [(Kind::Suite, "thread_suite"), (Kind::CtrlC, "ctrl_c")] {
            cases.push(Case {
                name: format!("micropython::{what}::{}", config.name()),
                kind,
                config,
            });
        }
    }
    let total = cases.len();
    cases.retain(|c| {
        (args.filters.is_empty() || args.filters.iter().any(|f| c.name.contains(f.as_str())))
            && !args.skips.iter().any(|s| c.name.contains(s.as_str()))
    });
    let filtered_out = total - cases.len();
    if args.list_only {
        for c in &cases {
            println!("{}: test", c.name);
        }
        return;
    }
    println!("\nrunning {} tests", cases.len());

    let skip = if cases.is_empty() { None } else { why_skip() };
    let require = std::env::var("RTHREAD_MICROPYTHON_REQUIRE").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    let mut passed = 0;
    let mut builds: Vec<(Config, Result<PathBuf, String>)> = Vec::new();
    for case in &cases {
        if let Some(reason) = &skip {
            if require {
                println!("test {} ... FAILED", case.name);
                failures.push((
                    case.name.clone(),
                    format!("{reason}, and RTHREAD_MICROPYTHON_REQUIRE=1"),
                ));
            } else {
                println!("test {} ... skipped: {reason}", case.name);
                passed += 1;
            }
            continue;
        }
        if !builds.iter().any(|(c, _)| *c == case.config) {
            builds.push((case.config, build(case.config)));
        }
        let dir = &builds.iter().find(|(c, _)| *c == case.config).unwrap().1;
        let result = match dir {
            Err(e) => Err(format!("the build failed:\n{e}")),
            Ok(dir) => match case.kind {
                Kind::Suite => thread_suite(dir, case.config),
                Kind::CtrlC => ctrl_c(dir),
            },
        };
        match result {
            Ok(summary) => {
                println!("test {} ... ok ({summary})", case.name);
                passed += 1;
            }
            Err(detail) => {
                println!("test {} ... FAILED", case.name);
                failures.push((case.name.clone(), detail));
            }
        }
    }

    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (name, detail) in &failures {
            println!("---- {name} ----\n{}\n", detail.trim_end());
        }
        println!("failures:");
        for (name, _) in &failures {
            println!("    {name}");
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        if failures.is_empty() { "ok" } else { "FAILED" },
        passed,
        failures.len(),
        filtered_out,
        started.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        std::process::exit(101);
    }
}

/// The MicroPython source tree, if there is one.
fn source() -> Result<PathBuf, String> {
    let (dir, from) = match std::env::var_os("RTHREAD_MICROPYTHON_SRC") {
        Some(d) => (PathBuf::from(d), "RTHREAD_MICROPYTHON_SRC"),
        None => (
            cbuild::root().join("../shared/vendor/micropython"),
            "the default; RTHREAD_MICROPYTHON_SRC is not set",
        ),
    };
    if dir.join("py/mpthread.h").is_file() && dir.join("tests/run-tests.py").is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "no MicroPython source at {} ({from})",
            dir.display()
        ))
    }
}

/// Why the tests cannot run here, if they cannot.
fn why_skip() -> Option<String> {
    if let Err(e) = source() {
        return Some(e);
    }
    let python = Command::new("python3").arg("--version").output();
    if !python.is_ok_and(|o| o.status.success()) {
        return Some("no python3 to run MicroPython's tests/run-tests.py".to_string());
    }
    for tool in ["make", "cc", "patch"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("no {tool} to build MicroPython"));
        }
    }
    None
}

/// Builds one configuration with build.sh (incrementally) and returns its build directory.
fn build(config: Config) -> Result<PathBuf, String> {
    let src = source()?;
    let base = cbuild::scratch_dir("micropython");
    // A stable copy of the library, so that the interpreter's rpath never changes between runs
    // (cargo's own copy moves between target/debug and target/debug/deps).
    let lib = base.join("lib");
    std::fs::create_dir_all(&lib).map_err(|e| e.to_string())?;
    let name = cbuild::shared_lib_name();
    let fresh = std::fs::read(cbuild::lib_dir().join(name)).map_err(|e| e.to_string())?;
    if std::fs::read(lib.join(name)).ok().as_deref() != Some(&fresh[..]) {
        // Replace, never overwrite in place: a running interpreter may have the old one mapped.
        let tmp = lib.join(format!("{name}.new"));
        std::fs::write(&tmp, &fresh).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, lib.join(name)).map_err(|e| e.to_string())?;
    }
    // The interpreter records the library's soname (`librthread.so.0.1`): the links that
    // build.rs puts beside cargo's copy go beside this one too, so that the interpreter runs
    // from its rpath alone, outside cargo's LD_LIBRARY_PATH.
    for entry in std::fs::read_dir(cbuild::lib_dir()).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let link_name = entry.file_name();
        let is_soname = link_name
            .to_str()
            .is_some_and(|n| n.starts_with(&format!("{name}.")));
        if is_soname && entry.file_type().is_ok_and(|t| t.is_symlink()) {
            let link = lib.join(&link_name);
            if std::fs::symlink_metadata(&link).is_err() {
                std::os::unix::fs::symlink(name, &link).map_err(|e| e.to_string())?;
            }
        }
    }
    let dir = base.join(config.name());
    let mut cmd = Command::new(cbuild::root().join("integrations/micropython/build.sh"));
    cmd.arg(&src).arg(&dir).env("RTHREAD_LIB_DIR", &lib);
    if config == Config::Gil {
        cmd.arg("--gil");
    }
    let out = cmd.output().map_err(|e| format!("build.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(dir)
}

/// Kills the child if it outlives its time.
fn wait_with_deadline(
    child: &mut Child,
    limit: Duration,
) -> Result<std::process::ExitStatus, String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {limit:?}: killed"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The number before `what` in the suite's summary ("27 tests passed").
fn count(output: &str, what: &str) -> usize {
    output
        .lines()
        .filter_map(|l| {
            l.strip_suffix(what)
                .or_else(|| l.split_once(what).map(|(a, _)| a))
        })
        .filter_map(|n| n.trim().parse().ok())
        .next_back()
        .unwrap_or(0)
}

fn thread_suite(dir: &Path, config: Config) -> Result<String, String> {
    let runs: usize = std::env::var("RTHREAD_MICROPYTHON_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let min_passed = match config {
        Config::Unsafe => MIN_PASSED_UNSAFE,
        Config::Gil => MIN_PASSED_GIL,
    };
    let files = std::fs::read_dir(dir.join("tests/thread"))
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "py"))
        .count();
    let mut summaries = Vec::new();
    for run in 1..=runs {
        let log = dir.join(format!("thread-suite-run{run}.log"));
        let (status, output) = run_tests(dir, &["-d", "thread"], &log)?;
        let mut passed = count(&output, " tests passed");
        let skipped = count(&output, " tests skipped");
        let mut failed = count(&output, " tests failed");
        let performed = count(&output, " tests performed");
        let mut note = String::new();
        // The suite's timing tests measure sleeps against wall-clock bounds (and
        // thread_sleep2.py's expected output comes from CPython, timed at run time), so on a
        // shared, loaded machine either layer fails them now and then (the stock layer's
        // thread_coop.py did, in 1 of 5 runs, beside this test). Those alone get one retry,
        // which the summary reports; any other failure, or a second one, fails the test.
        let failures = failed_tests(&output);
        if failed > 0 && failures.iter().all(|t| TIMING_TESTS.contains(&t.as_str())) {
            let relog = dir.join(format!("thread-suite-run{run}-retry.log"));
            let (restatus, reoutput) = run_tests(dir, &["--run-failures"], &relog)?;
            let repassed = count(&reoutput, " tests passed");
            if restatus.success() && count(&reoutput, " tests failed") == 0 && repassed == failed {
                passed += repassed;
                failed = 0;
                note = format!(", {} passed on a retry", failures.join(" "));
            }
        }
        let ok = failed == 0 && passed >= min_passed && passed + skipped == files;
        if !ok {
            return Err(format!(
                "run {run} of {runs}: {passed} passed, {skipped} skipped, {failed} failed of {files} \
                 files (at least {min_passed} must pass, none fail); status {status:?}\n{output}"
            ));
        }
        summaries.push(format!(
            "run {run}: {performed} performed, {passed} passed, {skipped} skipped{note}"
        ));
    }
    Ok(summaries.join("; "))
}

/// The suite's tests that check wall-clock timing (see `thread_suite`).
const TIMING_TESTS: [&str; 3] = [
    "thread/thread_coop.py",
    "thread/thread_sleep1.py",
    "thread/thread_sleep2.py",
];

/// Runs MicroPython's `run-tests.py` with `args`, one test at a time, its output going to `log`.
/// One test at a time: the timing tests must not share the two cores with the stress tests.
fn run_tests(
    dir: &Path,
    args: &[&str],
    log: &Path,
) -> Result<(std::process::ExitStatus, String), String> {
    let file = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let mut child = Command::new("python3")
        .args(["./run-tests.py", "-j", "1"])
        .args(args)
        .current_dir(dir.join("tests"))
        .env("MICROPY_MICROPYTHON", dir.join("micropython"))
        .env("MICROPY_MPYCROSS", dir.join("mpy-cross/build/mpy-cross"))
        .stdout(file.try_clone().map_err(|e| e.to_string())?)
        .stderr(file)
        .spawn()
        .map_err(|e| format!("python3 run-tests.py: {e}"))?;
    let status = wait_with_deadline(&mut child, Duration::from_secs(900))?;
    Ok((status, std::fs::read_to_string(log).unwrap_or_default()))
}

/// The tests named on the suite's "N tests failed: a b c" line.
fn failed_tests(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.split_once(" tests failed: ").map(|(_, names)| names))
        .flat_map(|names| names.split_whitespace().map(String::from))
        .collect()
}

/// The state letter of process `pid`'s main thread ('R' running, 'S' sleeping, ...).
fn main_thread_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

fn ctrl_c(dir: &Path) -> Result<String, String> {
    let script = cbuild::root().join("integrations/micropython/tests/ctrl_c.py");
    let mut child = Command::new(dir.join("micropython"))
        .arg(&script)
        .arg(CTRL_C_ROUNDS.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("micropython: {e}"))?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let result = drive_ctrl_c(pid, &rx);
    let status = match &result {
        Ok(_) => wait_with_deadline(&mut child, Duration::from_secs(10)),
        Err(_) => {
            let _ = child.kill();
            child.wait().map_err(|e| e.to_string())
        }
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    let _ = reader.join();
    let summary = result.map_err(|e| format!("{e}\nstderr:\n{stderr}"))?;
    match status {
        Ok(s) if s.success() => Ok(summary),
        other => Err(format!(
            "the interpreter did not exit cleanly: {other:?}\nstderr:\n{stderr}"
        )),
    }
}

fn drive_ctrl_c(pid: u32, rx: &mpsc::Receiver<String>) -> Result<String, String> {
    let expect = |want: &str, limit: Duration| -> Result<(), String> {
        match rx.recv_timeout(limit) {
            Ok(line) if line == want => Ok(()),
            Ok(line) => Err(format!("expected {want:?}, got {line:?}")),
            Err(_) => Err(format!("no {want:?} within {limit:?}")),
        }
    };
    let mut latencies = Vec::new();
    for round in 0..CTRL_C_ROUNDS {
        expect(&format!("waiting {round}"), Duration::from_secs(10))?;
        // Let the main thread get into its wait: it sleeps (state S) there. A SIGINT that
        // came earlier would be a weaker test, not a wrong one.
        let t0 = Instant::now();
        while main_thread_state(pid) != Some('S') && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20));
        let sent = Instant::now();
        // SAFETY: kill(2) on our own child's pid, which has not been waited for yet.
        if unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) } != 0 {
            return Err(format!("kill: {}", std::io::Error::last_os_error()));
        }
        expect(&format!("interrupted {round}"), Duration::from_secs(1))
            .map_err(|e| format!("round {round}: {e}"))?;
        latencies.push(sent.elapsed());
    }
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(line) if line.starts_with(&format!("done {CTRL_C_ROUNDS} ")) => {}
        Ok(line) => return Err(format!("expected \"done ...\", got {line:?}")),
        Err(_) => return Err("no \"done\" line within 10 s".to_string()),
    }
    latencies.sort();
    Ok(format!(
        "{} of {} interrupts within 1 s; median {:.1} ms, max {:.1} ms",
        latencies.len(),
        CTRL_C_ROUNDS,
        latencies[latencies.len() / 2].as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3
    ))
}
