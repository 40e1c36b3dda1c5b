//! A tiny test harness (for `harness = false` targets) whose tests may skip at run time, and
//! show it in `cargo test`'s summary by name: a skipped test is reported as
//! `test NAME ... ignored, skipped: REASON` and counted as ignored, as libtest does for
//! `#[ignore = "REASON"]`.
//!
//! Arguments as libtest's: words filter by substring, `--skip WORD`, `--list`; `--ignored` and
//! `--include-ignored` are accepted (every test runs, since none is ignored before it runs).

#![allow(dead_code)]

use std::panic::AssertUnwindSafe;

/// What a test returns: `Ok(())` (passed, if it did not panic) or `Err(reason)` (skipped).
pub type Outcome = Result<(), String>;

/// A named test.
pub type Case<'a> = (&'a str, fn() -> Outcome);

pub fn main(tests: &[Case]) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut filters = Vec::new();
    let mut skips = Vec::new();
    let mut list = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--skip" => {
                if let Some(w) = args.get(i + 1) {
                    skips.push(w.clone());
                }
                i += 1;
            }
            "--list" => list = true,
            a if a.starts_with('-') => {}
            a => filters.push(a.to_string()),
        }
        i += 1;
    }
    let chosen: Vec<&Case> = tests
        .iter()
        .filter(|(n, _)| filters.is_empty() || filters.iter().any(|f| n.contains(f.as_str())))
        .filter(|(n, _)| !skips.iter().any(|s| n.contains(s.as_str())))
        .collect();
    if list {
        for (n, _) in &chosen {
            println!("{n}: test");
        }
        return;
    }
    println!("\nrunning {} tests", chosen.len());
    let (mut passed, mut failed, mut ignored) = (0, 0, 0);
    let mut failures = Vec::new();
    let start = std::time::Instant::now();
    for (name, f) in chosen {
        match std::panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(())) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Ok(Err(reason)) => {
                ignored += 1;
                println!("test {name} ... ignored, skipped: {reason}");
            }
            Err(e) => {
                failed += 1;
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                println!("test {name} ... FAILED");
                failures.push((name.to_string(), msg));
            }
        }
    }
    if !failures.is_empty() {
        println!("\nfailures:");
        for (n, m) in &failures {
            println!("\n---- {n} ----\n{m}");
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; {ignored} ignored; 0 measured; \
         {} filtered out; finished in {:.2}s\n",
        if failed == 0 { "ok" } else { "FAILED" },
        tests.len() - passed - failed - ignored,
        start.elapsed().as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(101);
    }
}
