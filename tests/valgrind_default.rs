//! A program that joins every thread it started is valgrind-clean with valgrind's default
//! options: no block "definitely", "indirectly" or "possibly" lost. (The C suite's valgrind run
//! in .ci/run reports only definite and indirect leaks, because its daemon-thread cases leave
//! running threads at exit by design.)
//!
//! The program is `c-tests/valgrind/joined_threads.c`; see there why a joined thread could
//! leave a block "possibly lost". Without valgrind installed the test says so and passes (CI
//! requires valgrind).

#[path = "support/cbuild.rs"]
mod cbuild;

use std::process::Command;

/// The number before " bytes" in valgrind's summary line that starts with `what`.
fn lost_bytes(report: &str, what: &str) -> Option<u64> {
    report.lines().find_map(|l| {
        let rest = l.split_once(what)?.1.trim_start();
        rest.split_whitespace()
            .next()?
            .replace(',', "")
            .parse()
            .ok()
    })
}

#[test]
fn a_program_that_joins_its_threads_leaves_nothing_possibly_lost() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("valgrind is not installed: not checked");
        return;
    }
    let lib_dir = cbuild::lib_dir();
    let exe = cbuild::scratch_dir("valgrind-default").join("joined_threads");
    let src = cbuild::root().join("c-tests/valgrind/joined_threads.c");
    cbuild::compile_c(&[&src], &exe, &lib_dir, &[]).expect("compiles");
    for run in 0..3 {
        let out = Command::new("valgrind")
            .arg("--error-exitcode=99")
            .arg(&exe)
            .env("LD_LIBRARY_PATH", &lib_dir)
            .output()
            .expect("valgrind runs");
        let report = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "run {run}: {:?}\n{report}",
            out.status
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), "joined\n");
        // Either every block was freed, or the summary lists no lost bytes of any kind.
        if report.contains("All heap blocks were freed") {
            continue;
        }
        for what in ["definitely lost:", "indirectly lost:", "possibly lost:"] {
            assert_eq!(
                lost_bytes(&report, what),
                Some(0),
                "run {run}: {what}\n{report}"
            );
        }
    }
}

#[test]
fn the_report_parser_reads_valgrind_summaries() {
    let summary = "==1== LEAK SUMMARY:\n==1==    definitely lost: 0 bytes in 0 blocks\n\
                   ==1==    indirectly lost: 0 bytes in 0 blocks\n\
                   ==1==      possibly lost: 1,304 bytes in 1 blocks\n";
    assert_eq!(lost_bytes(summary, "definitely lost:"), Some(0));
    assert_eq!(lost_bytes(summary, "possibly lost:"), Some(1304));
    assert_eq!(lost_bytes(summary, "suppressed:"), None);
}
