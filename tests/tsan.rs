//! ThreadSanitizer on a C program that hands plain data between threads through every rthread
//! primitive (`c-tests/sanitizers/handoffs.c`, built with `-fsanitize=thread`): the program is
//! clean, because rthread tells TSan about each hand-off (src/debug/annotate.rs); and the same
//! program with a planted race (its argument "race") is reported, so the annotations do not
//! hide real races.
//!
//! Skipped by name when the compiler cannot build with `-fsanitize=thread` (no TSan runtime:
//! Debian's `libtsan2`; `.ci/run` installs it).

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/skippable.rs"]
mod skippable;

use skippable::Outcome;
use std::path::PathBuf;
use std::process::Output;
use std::sync::OnceLock;

fn main() {
    skippable::main(&[
        (
            "a_correct_program_is_clean_under_tsan",
            a_correct_program_is_clean,
        ),
        (
            "a_planted_race_is_reported_by_tsan",
            a_planted_race_is_reported,
        ),
    ]);
}

/// The program built with TSan, or why it cannot be.
fn program() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let lib_dir = cbuild::lib_dir();
            let dir = cbuild::scratch_dir("tsan");
            // A trivial program first: a failure there is the toolchain's, not rthread's.
            let probe_src = dir.join("probe.c");
            std::fs::write(&probe_src, "int main(void) { return 0; }\n").unwrap();
            if let Err(e) = cbuild::compile_c(
                &[&probe_src],
                &dir.join("probe"),
                &lib_dir,
                &["-fsanitize=thread"],
            ) {
                return Err(format!(
                    "the C compiler cannot build with -fsanitize=thread (no TSan runtime?): {}",
                    e.lines().last().unwrap_or("")
                ));
            }
            // TSan refuses to start on some kernels (too much address-space randomisation for
            // its shadow memory): that is the machine's, not rthread's.
            let probe = std::process::Command::new(dir.join("probe"))
                .output()
                .expect("the probe runs");
            if !probe.status.success() {
                return Err(format!(
                    "a program built with -fsanitize=thread does not run here: {}",
                    String::from_utf8_lossy(&probe.stderr)
                        .lines()
                        .next()
                        .unwrap_or("")
                ));
            }
            let exe = dir.join("handoffs");
            let src = cbuild::root().join("c-tests/sanitizers/handoffs.c");
            cbuild::compile_c(&[&src], &exe, &lib_dir, &["-fsanitize=thread"])
                .expect("handoffs.c builds with -fsanitize=thread");
            Ok(exe)
        })
        .clone()
}

fn run(args: &[&str]) -> Result<Output, String> {
    let exe = program()?;
    Ok(cbuild::command(&exe, &cbuild::lib_dir())
        .args(args)
        // TSan's default exit status after a report, stated so that the check below holds.
        .env("TSAN_OPTIONS", "exitcode=66")
        .output()
        .expect("the TSan build runs"))
}

fn a_correct_program_is_clean() -> Outcome {
    let out = run(&[])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stderr.contains("ThreadSanitizer"),
        "TSan reported on a correct program:\n{stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("handoffs: ok"), "stdout:\n{stdout}");
    Ok(())
}

fn a_planted_race_is_reported() -> Outcome {
    let out = run(&["race"])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("WARNING: ThreadSanitizer: data race"),
        "TSan did not report the planted race:\n{stderr}"
    );
    // The planted race, and nothing else: both of its sides, and a single warning.
    assert!(stderr.contains("racy_reader"), "{stderr}");
    assert!(stderr.contains("'unsynchronised'"), "{stderr}");
    assert_eq!(
        stderr.matches("WARNING: ThreadSanitizer").count(),
        1,
        "only the planted race is reported:\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(66), "{stderr}");
    Ok(())
}
