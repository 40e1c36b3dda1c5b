//! The stress and soak programs: compiles every `stress/*.c` (cases in the format of the C
//! suite, with the helpers of `stress/stress.h`) against `librthread`, runs each case in its own
//! process, one at a time (each uses the whole machine), and reports them in libtest's format.
//! The figures each case prints (threads, operations, duration) follow the results.
//!
//! In a debug build the cases run small (a tenth of a second per timed phase, a hundredth of
//! their operation counts), so that `cargo test` stays quick; `cargo test --release --test
//! stress` (as `.ci/run` does) runs them at full size, which takes about a minute on two
//! cores. `RTHREAD_STRESS_SECONDS` (seconds per timed phase) and `RTHREAD_STRESS_SCALE` (a
//! factor on operation counts) override either. `RTHREAD_STRESS_TIMEOUT` is the limit per case
//! in seconds (default 300); each case also has a watchdog of its own that reports its counters
//! if it hangs. `RTHREAD_TEST_WRAPPER` and `RTHREAD_TEST_CFLAGS` work as for the C suite (the
//! stress programs run clean under valgrind at a small size). Arguments filter cases as libtest
//! does.

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/runner.rs"]
mod runner;

use std::time::Instant;

fn main() {
    let args = runner::Args::from_env();
    let started = Instant::now();

    let lib_dir = cbuild::lib_dir();
    let build = cbuild::scratch_dir("stress");
    let stress = cbuild::root().join("stress");
    let helpers = stress.join("stress.c");
    let harness = cbuild::root().join("c-tests").join("rt_test.c");
    let include = format!("-I{}", stress.display());
    let mut flags = vec![include.as_str()];
    let extra_flags = runner::env_words("RTHREAD_TEST_CFLAGS");
    flags.extend(extra_flags.iter().map(String::as_str));
    let tests = runner::case_tests(
        "stress",
        &stress,
        &[&helpers],
        &[&harness, &helpers],
        &build,
        &lib_dir,
        &flags,
    );

    let small = cfg!(debug_assertions);
    let mut env = Vec::new();
    for (name, small_value) in [
        ("RTHREAD_STRESS_SECONDS", "0.1"),
        ("RTHREAD_STRESS_SCALE", "0.01"),
    ] {
        if small && std::env::var_os(name).is_none() {
            env.push((name.to_string(), small_value.to_string()));
        }
    }
    let opts = runner::Options {
        workers: 1,
        timeout: runner::env_secs("RTHREAD_STRESS_TIMEOUT", 300),
        wrapper: runner::env_words("RTHREAD_TEST_WRAPPER"),
        env,
        slow_secs: f64::INFINITY,
    };
    runner::run_main(tests, &args, &opts, started, |outcomes| {
        println!("\nfigures:");
        for o in outcomes.iter().filter(|o| o.ok) {
            for line in o.stdout.lines() {
                println!("    {line}");
            }
            println!("    ({} took {:.1} s)", o.name, o.secs);
        }
    });
}
