//! The man pages (`man/man3/`, section 3): one per function the header declares, generated
//! from its doc comment, plus `rthread(3)`; committed and in sync with the header, one for every
//! function the shared library exports, and valid roff.
//!
//! To refresh them after changing the header: `RTHREAD_BLESS=1 cargo test --test man`.

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/declarations.rs"]
mod declarations;
#[path = "support/man.rs"]
mod man;

use std::collections::BTreeSet;
use std::process::Command;

fn header() -> String {
    std::fs::read_to_string(cbuild::root().join("include/rthread.h")).expect("header")
}

fn generated() -> Vec<man::Page> {
    let h = header();
    man::pages(&h, &declarations::declared_functions(&h))
}

fn committed_files() -> BTreeSet<String> {
    std::fs::read_dir(cbuild::root().join("man/man3"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn committed_man_pages_are_in_sync_with_the_header() {
    let dir = cbuild::root().join("man/man3");
    let pages = generated();
    if std::env::var_os("RTHREAD_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for p in &pages {
            std::fs::write(dir.join(&p.file), &p.text).unwrap();
        }
    }
    let expected: BTreeSet<String> = pages.iter().map(|p| p.file.clone()).collect();
    assert_eq!(
        committed_files(),
        expected,
        "man/man3 lists other pages than the header's functions; refresh with \
         `RTHREAD_BLESS=1 cargo test --test man`"
    );
    for p in &pages {
        let on_disk = std::fs::read_to_string(dir.join(&p.file)).unwrap_or_default();
        assert!(
            on_disk == p.text,
            "man/man3/{} is stale; refresh with `RTHREAD_BLESS=1 cargo test --test man`",
            p.file
        );
    }
}

#[test]
fn every_exported_function_has_a_man_page() {
    let text = cbuild::defined_dynamic_symbols();
    let exported: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(|n| n.split('@').next().unwrap().to_string())
        .filter(|n| n.starts_with("rt_"))
        .collect();
    assert!(exported.len() > 100, "nm found only {exported:?}");
    let pages = committed_files();
    let missing: Vec<&String> = exported
        .iter()
        .filter(|n| !pages.contains(&format!("{n}.3")))
        .collect();
    assert!(
        missing.is_empty(),
        "exported without a man page: {missing:?}"
    );
    assert!(pages.contains("rthread.3"));
}

#[test]
fn a_page_says_what_its_doc_comment_says() {
    let pages = generated();
    let acquire = pages
        .iter()
        .find(|p| p.file == "rt_lock_acquire.3")
        .expect("rt_lock_acquire.3");
    assert!(acquire.text.contains(".TH RT_LOCK_ACQUIRE 3"));
    assert!(acquire.text.contains(".SH SYNOPSIS"));
    assert!(
        acquire
            .text
            .contains("rt_status rt_lock_acquire(rt_lock *lock, bool blocking, double timeout);")
            || acquire.text.contains("rt_lock_acquire(rt_lock *lock"),
        "{}",
        acquire.text
    );
    assert!(
        acquire.text.contains("\\fBRT_TIMEOUT\\fR"),
        "{}",
        acquire.text
    );
}

/// groff reads every page without a warning (skipped, by name, without groff).
#[test]
fn man_pages_render_without_warnings() {
    if Command::new("groff").arg("--version").output().is_err() {
        eprintln!("skipped: man_pages_render_without_warnings: groff is not installed");
        return;
    }
    for p in generated() {
        let mut child = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("groff runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(p.text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.trim().is_empty(),
            "{}: {err}",
            p.file
        );
    }
}
