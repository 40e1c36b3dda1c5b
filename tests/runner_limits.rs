//! The C test runner (`tests/support/runner.rs`) cannot hang: a case's time limit ends its
//! whole process group, and pipes held open by processes a case left behind are read only
//! until the limit. Each test runs the runner on a small shell script whose background job
//! (a grandchild of the runner) keeps the case's stdout and stderr open.

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/runner.rs"]
mod runner;

use runner::{Job, Options};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn options(timeout: Duration) -> Options {
    Options {
        workers: 1,
        timeout,
        wrapper: Vec::new(),
        env: Vec::new(),
        slow_secs: f64::INFINITY,
    }
}

/// Writes `body` as a shell script under the scratch directory; returns its path.
fn script(name: &str, body: &str) -> PathBuf {
    let dir = cbuild::scratch_dir("runner-limits");
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// Runs `sh script` as one case with the given limit: (passed, detail, seconds it took).
fn run_script(path: PathBuf, timeout: Duration) -> (bool, String, f64) {
    let t0 = Instant::now();
    let (ok, detail, _) = runner::run(
        Job::Run {
            program: PathBuf::from("/bin/sh"),
            arg: Some(path.to_string_lossy().into_owned()),
            check: None,
        },
        &options(timeout),
    );
    (ok, detail, t0.elapsed().as_secs_f64())
}

/// The pid the script printed on the line `grandchild PID`.
fn grandchild_pid(detail: &str) -> i32 {
    detail
        .lines()
        .find_map(|l| l.strip_prefix("grandchild "))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no grandchild pid in:\n{detail}"))
}

/// Whether process `pid` is gone (or a zombie waiting for its new parent to reap it).
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command's closing parenthesis.
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with('Z')),
    }
}

fn wait_gone(pid: i32) -> bool {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// A case that hangs, with a forked grandchild that holds its pipes and sleeps: the limit
/// kills the group and the runner reports the hang at once (before: it killed the case only,
/// then waited for the grandchild to close the pipes, 120 s).
#[test]
fn a_hanging_case_with_a_grandchild_holding_its_pipes_fails_promptly() {
    let path = script(
        "hang.sh",
        "sleep 120 &\necho \"grandchild $!\"\necho on-stderr >&2\nsleep 120\n",
    );
    let (ok, detail, secs) = run_script(path, Duration::from_secs(1));
    assert!(!ok, "{detail}");
    assert!(detail.contains("timed out after 1s"), "{detail}");
    assert!(
        detail.contains("on-stderr"),
        "the output so far is kept:\n{detail}"
    );
    assert!(secs >= 1.0, "{secs}");
    assert!(secs < 15.0, "the runner waited {secs:.1}s:\n{detail}");
    assert!(
        wait_gone(grandchild_pid(&detail)),
        "the grandchild survived"
    );
}

/// A case that exits at once but leaves a grandchild holding its pipes: the runner reads them
/// only until the limit, then kills the group and fails the case.
#[test]
fn a_case_that_leaves_a_process_holding_its_pipes_fails_at_its_limit() {
    let path = script("leave.sh", "sleep 120 &\necho \"grandchild $!\"\nexit 0\n");
    let (ok, detail, secs) = run_script(path, Duration::from_secs(2));
    assert!(!ok, "{detail}");
    assert!(detail.contains("held its output open"), "{detail}");
    assert!(secs >= 2.0, "{secs}");
    assert!(secs < 15.0, "the runner waited {secs:.1}s:\n{detail}");
    assert!(
        wait_gone(grandchild_pid(&detail)),
        "the grandchild survived"
    );
}

/// A well-behaved case still passes, with its output, well within its limit.
#[test]
fn a_case_that_exits_passes_with_its_output() {
    let path = script("pass.sh", "echo hello\necho there >&2\n");
    let (ok, detail, secs) = run_script(path, Duration::from_secs(60));
    assert!(ok, "{detail}");
    assert!(
        detail.contains("hello") && detail.contains("there"),
        "{detail}"
    );
    assert!(secs < 30.0, "{secs}");
}
