//! The C suite: compiles every `c-tests/*.c` and `examples/*.c` against `librthread.so` with
//! strict C99 flags, runs each C test case in its own process, and reports every case by name
//! in libtest's format. One failing case fails `cargo test` and names itself.
//!
//! Each `c-tests/*.c` program lists its cases with `--list` and runs one with its name as the
//! only argument (see `c-tests/rt_test.h`). Each example runs as one case and its output is
//! checked by `tests/support/examples.rs`. The machinery is `tests/support/runner.rs`.
//!
//! Arguments: words not starting with `-` filter cases by substring (as libtest does);
//! `--list` lists the cases. Environment: `RTHREAD_TEST_WRAPPER` prefixes every run (e.g.
//! `valgrind --error-exitcode=99 --leak-check=full`), `RTHREAD_TEST_CFLAGS` adds compiler flags
//! (e.g. `-fsanitize=address,undefined`), `RTHREAD_TEST_TIMEOUT` sets the per-case limit in
//! seconds (default 300).

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/examples.rs"]
mod examples;
#[path = "support/runner.rs"]
mod runner;

use runner::{Job, Test};
use std::time::Instant;

fn main() {
    let args = runner::Args::from_env();
    let started = Instant::now();

    let lib_dir = cbuild::lib_dir();
    let build = cbuild::scratch_dir("c-suite");
    let extra_flags = runner::env_words("RTHREAD_TEST_CFLAGS");
    let extra: Vec<&str> = extra_flags.iter().map(String::as_str).collect();

    let c_tests = cbuild::root().join("c-tests");
    let harness = c_tests.join("rt_test.c");
    let mut tests = runner::case_tests(
        "c",
        &c_tests,
        &[&harness],
        &[&harness],
        &build,
        &lib_dir,
        &extra,
    );
    for src in cbuild::c_files(&cbuild::root().join("examples")) {
        let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
        let exe = build.join(format!("example_{stem}"));
        let name = format!("examples::{stem}");
        let job = match cbuild::compile_c(&[&src], &exe, &lib_dir, &extra) {
            Ok(()) => Job::Run {
                program: exe,
                arg: None,
                check: Some(Box::new(move |out: &str| examples::check(&stem, out))),
            },
            Err(e) => Job::Fail(e),
        };
        tests.push(Test { name, job });
    }

    let opts = runner::Options {
        workers: std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .max(2)
            * 2,
        timeout: runner::env_secs("RTHREAD_TEST_TIMEOUT", 300),
        wrapper: runner::env_words("RTHREAD_TEST_WRAPPER"),
        env: Vec::new(),
        slow_secs: 10.0,
    };
    runner::run_main(tests, &args, &opts, started, |_| {});
}
