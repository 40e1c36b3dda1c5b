//! The C suite: compiles every `c-tests/*.c` and `examples/*.c` against `librthread.so` with
//! strict C99 flags, runs each C test case in its own process, and reports every case by name
//! in libtest's format. One failing case fails `cargo test` and names itself.
//!
//! Each `c-tests/*.c` program lists its cases with `--list` and runs one with its name as the
//! only argument (see `c-tests/rt_test.h`). Each example runs as one case and its output is
//! checked by `tests/support/examples.rs`.
//!
//! Arguments: words not starting with `-` filter cases by substring (as libtest does);
//! `--skip WORD` leaves out the cases whose names contain WORD; `--list` lists the cases. Environment: `RTHREAD_TEST_WRAPPER` prefixes every run (e.g.
//! `valgrind --error-exitcode=99 --leak-check=full`), `RTHREAD_TEST_CFLAGS` adds compiler flags
//! (e.g. `-fsanitize=address,undefined`), `RTHREAD_TEST_TIMEOUT` sets the per-case limit in
//! seconds (default 300).

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/examples.rs"]
mod examples;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

enum Job {
    /// A case of a C test program.
    Case { program: PathBuf, case: String },
    /// An example program, run whole and checked.
    Example { program: PathBuf, name: String },
    /// A file that did not compile: fails with the compiler's message.
    CompileError(String),
}

struct Test {
    name: String,
    job: Job,
}

struct Outcome {
    name: String,
    ok: bool,
    detail: String,
    secs: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let list_only = args.iter().any(|a| a == "--list");
    // `--skip WORD` (repeatable) leaves out the cases whose names contain WORD, as libtest does.
    let mut skips: Vec<&String> = Vec::new();
    let mut filters: Vec<&String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--skip" {
            skips.extend(it.next());
        } else if !a.starts_with('-') {
            filters.push(a);
        }
    }
    let started = Instant::now();

    let lib_dir = cbuild::lib_dir();
    let build = cbuild::scratch_dir("c-suite");
    let extra_flags: Vec<String> = std::env::var("RTHREAD_TEST_CFLAGS")
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    let extra: Vec<&str> = extra_flags.iter().map(String::as_str).collect();

    let mut tests = Vec::new();
    let harness = cbuild::root().join("c-tests").join("rt_test.c");
    for src in cbuild::c_files(&cbuild::root().join("c-tests")) {
        if src == harness {
            continue;
        }
        let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
        let exe = build.join(format!("test_{stem}"));
        if let Err(e) = cbuild::compile_c(&[&src, &harness], &exe, &lib_dir, &extra) {
            tests.push(Test {
                name: format!("c::{stem}::compile"),
                job: Job::CompileError(e),
            });
            continue;
        }
        match list_cases(&exe) {
            Ok(cases) => {
                for case in cases {
                    tests.push(Test {
                        name: format!("c::{stem}::{case}"),
                        job: Job::Case {
                            program: exe.clone(),
                            case,
                        },
                    });
                }
            }
            Err(e) => tests.push(Test {
                name: format!("c::{stem}::list"),
                job: Job::CompileError(e),
            }),
        }
    }
    for src in cbuild::c_files(&cbuild::root().join("examples")) {
        let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
        let exe = build.join(format!("example_{stem}"));
        let name = format!("examples::{stem}");
        match cbuild::compile_c(&[&src], &exe, &lib_dir, &extra) {
            Ok(()) => tests.push(Test {
                name,
                job: Job::Example {
                    program: exe,
                    name: stem,
                },
            }),
            Err(e) => tests.push(Test {
                name,
                job: Job::CompileError(e),
            }),
        }
    }

    let total = tests.len();
    tests.retain(|t| filters.is_empty() || filters.iter().any(|f| t.name.contains(f.as_str())));
    tests.retain(|t| !skips.iter().any(|s| t.name.contains(s.as_str())));
    let filtered_out = total - tests.len();
    if list_only {
        for t in &tests {
            println!("{}: test", t.name);
        }
        return;
    }

    println!("\nrunning {} tests", tests.len());
    let timeout = Duration::from_secs(
        std::env::var("RTHREAD_TEST_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300),
    );
    let wrapper: Vec<String> = std::env::var("RTHREAD_TEST_WRAPPER")
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2)
        * 2;
    let queue = Arc::new(Mutex::new(
        tests.into_iter().collect::<std::collections::VecDeque<_>>(),
    ));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let (queue, outcomes, wrapper) = (queue.clone(), outcomes.clone(), wrapper.clone());
            std::thread::spawn(move || {
                loop {
                    let Some(test) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let t0 = Instant::now();
                    let (ok, detail) = run(&test.job, &wrapper, timeout);
                    let outcome = Outcome {
                        name: test.name,
                        ok,
                        detail,
                        secs: t0.elapsed().as_secs_f64(),
                    };
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(
                        out,
                        "test {} ... {}",
                        outcome.name,
                        if outcome.ok {
                            "ok".to_string()
                        } else {
                            "FAILED".to_string()
                        }
                    );
                    drop(out);
                    outcomes.lock().unwrap().push(outcome);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker thread");
    }

    let mut outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok).collect();
    let slow: Vec<&Outcome> = outcomes.iter().filter(|o| o.secs > 10.0).collect();
    for o in &slow {
        println!("note: {} took {:.1}s", o.name, o.secs);
    }
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

fn list_cases(exe: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(exe)
        .arg("--list")
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

fn lib_dir() -> std::path::PathBuf {
    cbuild::lib_dir()
}

fn run(job: &Job, wrapper: &[String], timeout: Duration) -> (bool, String) {
    let (program, arg, example) = match job {
        Job::CompileError(e) => return (false, e.clone()),
        Job::Case { program, case } => (program, Some(case.as_str()), None),
        Job::Example { program, name } => (program, None, Some(name.as_str())),
    };
    let mut cmd = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program);
            c
        }
        None => Command::new(program),
    };
    // Only the freshly built library: cargo's LD_LIBRARY_PATH may name an older copy.
    cmd.env("LD_LIBRARY_PATH", lib_dir());
    if let Some(a) = arg {
        cmd.arg(a);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (status, stdout, stderr) = match run_with_timeout(cmd, timeout) {
        Ok(r) => r,
        Err(e) => return (false, e),
    };
    let mut detail = String::new();
    if !stdout.is_empty() {
        detail.push_str(&format!("---- stdout ----\n{stdout}\n"));
    }
    if !stderr.is_empty() {
        detail.push_str(&format!("---- stderr ----\n{stderr}\n"));
    }
    if !status.success() {
        return (false, format!("exit status: {status}\n{detail}"));
    }
    if let Some(name) = example {
        if let Err(e) = examples::check(name, &stdout) {
            return (false, format!("output check failed: {e}\n{detail}"));
        }
    }
    (true, detail)
}

type RunResult = (std::process::ExitStatus, String, String);

fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<RunResult, String> {
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let mut out_pipe = child.stdout.take().expect("piped");
    let mut err_pipe = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out_pipe, &mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err_pipe, &mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let out = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
            let err = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
            return Err(format!(
                "timed out after {}s (a hang)\n---- stdout ----\n{out}\n---- stderr ----\n{err}",
                timeout.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let err = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Ok((status, out, err))
}
