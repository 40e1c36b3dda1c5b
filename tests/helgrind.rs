//! Valgrind's helgrind, and DRD, on a C program that hands plain data between threads through every
//! rthread primitive (`c-tests/sanitizers/handoffs.c`): the program is clean, because rthread
//! tells helgrind about each hand-off and about its internal locks, and keeps its own memory
//! out of helgrind's checks (src/debug/annotate.rs); and the same program with a planted race
//! (its argument "race") is reported, so the annotations do not hide real races.
//!
//! Skipped by name when valgrind is not installed (`.ci/run` requires it).

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/skippable.rs"]
mod skippable;

use skippable::Outcome;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

fn main() {
    skippable::main(&[
        (
            "a_correct_program_is_clean_under_helgrind",
            a_correct_program_is_clean,
        ),
        (
            "a_planted_race_is_reported_by_helgrind",
            a_planted_race_is_reported,
        ),
        (
            "a_correct_program_is_clean_under_drd",
            a_correct_program_is_clean_under_drd,
        ),
        (
            "a_planted_race_is_reported_by_drd",
            a_planted_race_is_reported_by_drd,
        ),
    ]);
}

fn program() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if !Command::new("valgrind")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
            {
                return Err("valgrind is not installed".to_string());
            }
            let exe = cbuild::scratch_dir("helgrind").join("handoffs");
            let src = cbuild::root().join("c-tests/sanitizers/handoffs.c");
            cbuild::compile_c(&[&src], &exe, &cbuild::lib_dir(), &[]).expect("handoffs.c builds");
            Ok(exe)
        })
        .clone()
}

fn helgrind(args: &[&str]) -> Result<Output, String> {
    valgrind("helgrind", args)
}

fn valgrind(tool: &str, args: &[&str]) -> Result<Output, String> {
    let exe = program()?;
    Ok(Command::new("valgrind")
        .arg(format!("--tool={tool}"))
        .arg("--error-exitcode=99")
        .arg(&exe)
        .args(args)
        .env("LD_LIBRARY_PATH", cbuild::lib_dir())
        .output()
        .expect("valgrind runs"))
}

fn a_correct_program_is_clean() -> Outcome {
    // A few runs: the threads meet in a different order each time, which takes different
    // paths through the primitives (a fast path here, a wait there).
    for _ in 0..3 {
        check_clean(helgrind(&[])?);
    }
    Ok(())
}

fn check_clean(out: Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.contains("ERROR SUMMARY: 0 errors"),
        "helgrind reported on a correct program:\n{stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("handoffs: ok"), "stdout:\n{stdout}");
}

fn a_planted_race_is_reported() -> Outcome {
    let out = helgrind(&["race"])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Possible data race"),
        "helgrind did not report the planted race:\n{stderr}"
    );
    // The planted race, and nothing else: both of its sides, in one error.
    assert!(stderr.contains("racy_reader (handoffs.c"), "{stderr}");
    assert!(stderr.contains("main (handoffs.c"), "{stderr}");
    assert!(
        stderr.contains("ERROR SUMMARY: 1 errors from 1 contexts"),
        "only the planted race is reported:\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(99), "{stderr}");
    Ok(())
}

fn a_correct_program_is_clean_under_drd() -> Outcome {
    for _ in 0..2 {
        check_clean(valgrind("drd", &[])?);
    }
    Ok(())
}

fn a_planted_race_is_reported_by_drd() -> Outcome {
    let out = valgrind("drd", &["race"])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    // DRD names the access it catches and the other thread's segment (not its access).
    assert!(
        stderr.contains("Conflicting"),
        "DRD did not report the planted race:\n{stderr}"
    );
    assert!(
        stderr.contains("main (handoffs.c") || stderr.contains("racy_reader (handoffs.c"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ERROR SUMMARY: 1 errors from 1 contexts"),
        "only the planted race is reported:\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(99), "{stderr}");
    Ok(())
}
