//! The C suite: compiles every `c-tests/*.c` and `examples/*.c` against `librthread.so` with
//! strict C99 flags, and every `cpp-tests/` program and `examples/*.cpp` with strict C++17
//! flags, runs each test case in its own process, and reports every case by name in libtest's
//! format. One failing case fails `cargo test` and names itself.
//!
//! Each `c-tests/*.c` program lists its cases with `--list` and runs one with its name as the
//! only argument (see `c-tests/rt_test.h`); the C++ programs (`cpp-tests/NAME.cpp`, or the
//! units in `cpp-tests/NAME/`) use the same harness, compiled as C and linked in. Each example
//! runs as one case and its output is checked by `tests/support/examples.rs`. The machinery is
//! `tests/support/runner.rs`.
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
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    // The cases run against the library of this test binary's profile; a case whose bound
    // depends on optimisation (c-tests/thread_memory.c) reads it here.
    // SAFETY: no other thread exists yet.
    unsafe {
        std::env::set_var(
            "RTHREAD_TEST_PROFILE",
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        )
    };
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
    // The allocation-failure harness defines the allocator, so it is a program of its own
    // (c-tests/alloc/, with the same case runner).
    tests.extend(runner::case_tests(
        "c_alloc",
        &c_tests.join("alloc"),
        &[],
        &[&harness],
        &build,
        &lib_dir,
        &extra,
    ));
    // The C++ suite: each cpp-tests/ program (compiled in parallel), linked with the C harness
    // compiled as C.
    let harness_obj = build.join("rt_test.o");
    let harness_built = cbuild::compile_c_object(&harness, &harness_obj, &extra);
    let programs = cbuild::cpp_programs(&cbuild::root().join("cpp-tests"));
    let cpp_tests: Vec<Vec<Test>> = std::thread::scope(|scope| {
        let handles: Vec<_> = programs
            .iter()
            .map(|(stem, sources)| {
                let (harness_obj, harness_built) = (&harness_obj, &harness_built);
                let (build, lib_dir, extra) = (&build, &lib_dir, &extra);
                scope.spawn(move || {
                    let exe = build.join(format!("cpp_{stem}"));
                    let mut inputs: Vec<&Path> = sources.iter().map(PathBuf::as_path).collect();
                    inputs.push(harness_obj);
                    let built = harness_built
                        .clone()
                        .and_then(|()| cbuild::compile_cxx(&inputs, &exe, lib_dir, extra));
                    match built {
                        Ok(()) => runner::program_tests("cpp", stem, &exe),
                        Err(e) => vec![Test {
                            name: format!("cpp::{stem}::compile"),
                            job: Job::Fail(e),
                        }],
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("compile thread"))
            .collect()
    });
    tests.extend(cpp_tests.into_iter().flatten());

    let examples_dir = cbuild::root().join("examples");
    let c_examples = cbuild::c_files(&examples_dir).into_iter().map(|src| {
        let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
        (stem, false, vec![src])
    });
    let cpp_examples = cbuild::cpp_programs(&examples_dir)
        .into_iter()
        .map(|(stem, srcs)| (stem, true, srcs));
    for (stem, is_cpp, sources) in c_examples.chain(cpp_examples) {
        let exe = build.join(format!("example_{stem}"));
        let name = format!("examples::{stem}");
        let inputs: Vec<&Path> = sources.iter().map(PathBuf::as_path).collect();
        let built = if is_cpp {
            cbuild::compile_cxx(&inputs, &exe, &lib_dir, &extra)
        } else {
            cbuild::compile_c(&inputs, &exe, &lib_dir, &extra)
        };
        let job = match built {
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
