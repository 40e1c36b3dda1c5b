//! The benchmark tooling that is not itself timed: the regression guard's ceilings as
//! BENCHMARKS.md documents them, the chart command on a small sample of the benchmark's
//! machine-readable output, and the stand-alone C programs that BENCHMARKS.md quotes.

#[path = "support/cbuild.rs"]
mod cbuild;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(key, ceiling)` of every entry of `GUARD[]` in benches/c/bench.c.
fn committed_ceilings() -> Vec<(String, String)> {
    let src = std::fs::read_to_string(root().join("benches/c/bench.c")).expect("bench.c");
    let start = src
        .find("static const struct ceiling GUARD[] = {")
        .expect("bench.c has the guard's table");
    let body = &src[start..start + src[start..].find("};").expect("the table ends")];
    body.lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("{\"")?;
            let (key, rest) = l.split_once('"')?;
            let ceiling = rest.trim_start_matches(',').trim().split(',').next()?;
            Some((key.to_string(), ceiling.trim().to_string()))
        })
        .collect()
}

#[test]
fn every_guard_ceiling_is_documented_with_its_value() {
    let ceilings = committed_ceilings();
    assert!(
        ceilings.len() >= 5,
        "the guard has its ceilings: {ceilings:?}"
    );
    let doc = std::fs::read_to_string(root().join("BENCHMARKS.md")).expect("BENCHMARKS.md");
    let section = &doc[doc
        .find("### The regression guard (CI)")
        .expect("BENCHMARKS.md describes the guard")..];
    // The table's rows, in the order of GUARD[]: each has the ceiling's value.
    let rows: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("| operation | ceiling"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(
        rows.len(),
        ceilings.len(),
        "one documented row per ceiling: {rows:?} against {ceilings:?}"
    );
    for ((key, ceiling), row) in ceilings.iter().zip(&rows) {
        let cell = row.split('|').nth(2).expect("a ceiling cell").trim();
        assert!(
            cell.starts_with(ceiling.as_str()),
            "{key}: bench.c says {ceiling}, BENCHMARKS.md says {cell}"
        );
    }
}

#[test]
fn the_chart_command_draws_every_scaling_row_and_implementation() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rthread-chart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let tsv = dir.join("sample.tsv");
    let mut text = String::from(
        "row\timpl\tthreads\tunit\tmedian\tmin\tmax\tcpu_ns\tratio_pthread\tshare_median\tshare_worst\n",
    );
    for (impl_, base) in [("rthread", 10.0), ("pthread", 20.0), ("nsync", 15.0)] {
        for t in [1, 2, 4, 64] {
            let ns = base * f64::from(t).sqrt();
            text += &format!(
                "lock-contention\t{impl_}\t{t}\tns/op\t{ns}\t{ns}\t{ns}\t5.0\t-\t0.9\t0.8\n"
            );
        }
        text += &format!("lock-pair\t{impl_}\t1\tns/op\t{base}\t{base}\t{base}\t-\t-\t-\t-\n");
    }
    text += "paired/lock-pair\trthread\t0\tns/op\t12\t12\t12\t-\t0.9\t-\t-\n";
    std::fs::write(&tsv, text).expect("sample written");
    let out = dir.join("charts");
    let status = Command::new("python3")
        .arg(root().join("benches/chart.py"))
        .arg(&tsv)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "chart.py failed");
    let read = |name: &str| -> String {
        std::fs::read_to_string(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let scaling = read("lock-contention.svg");
    assert!(scaling.starts_with("<svg"), "an SVG document");
    assert_eq!(
        scaling.matches("<polyline").count(),
        3,
        "one line per implementation"
    );
    for impl_ in ["rthread", "pthread", "nsync"] {
        assert!(
            scaling.contains(&format!(">{impl_}</text>")),
            "{impl_} in the legend"
        );
    }
    assert!(read("lock-contention-fairness.svg").contains("<polyline"));
    let single = read("single.svg");
    assert!(
        single.contains("lock-pair: rthread") && single.contains(">0.5</text>"),
        "rthread's bar at half pthread's time"
    );
    assert!(!Path::new(&out.join("paired")).exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// The interleaved round-trip program (`benches/c/pool_round_trip.c`) builds against the
/// library as a C user's program does, runs a few small batches, and prints every figure
/// BENCHMARKS.md quotes from it, each a number.
#[test]
fn the_pool_round_trip_program_prints_every_figure() {
    let lib = cbuild::lib_dir();
    let exe = cbuild::scratch_dir("bench_tools").join("pool_round_trip");
    let source = root().join("benches/c/pool_round_trip.c");
    cbuild::compile_c(&[&source], &exe, &lib, &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = cbuild::run(cbuild::command(&exe, &lib).args(["4", "50"]));
    for label in [
        "semaphore ping-pong",
        "pool submit->result",
        "future set by hand",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no line for {label} in:\n{out}"));
        let figures: Vec<f64> = line[label.len()..]
            .split_whitespace()
            .map(|w| {
                w.parse()
                    .unwrap_or_else(|_| panic!("not a number in {line:?}"))
            })
            .collect();
        assert_eq!(figures.len(), 2, "{line:?}");
        assert!(figures.iter().all(|&f| f > 0.0), "{line:?}");
    }
    assert!(
        out.contains("pool / semaphore, per batch: median "),
        "{out}"
    );
    assert!(
        out.contains("context switches per 1000 round trips"),
        "{out}"
    );
}
