//! Prints the results of the last `cargo bench` as Markdown tables: for each group, each
//! bench's median time per operation and, for rthread's, its ratio to every reference in the
//! same group (below 1: rthread is faster). Contended groups add the fairness figures the
//! benches recorded.
//!
//!     cargo bench && cargo run --example bench_report

use std::path::{Path, PathBuf};

/// The median point estimate, in nanoseconds, from criterion's `estimates.json`.
fn median_ns(file: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(file).ok()?;
    let after = &text[text.find("\"median\"")?..];
    let value = &after[after.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

fn fmt_time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.2} ns")
    }
}

fn dirs(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(p)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|d| d.is_dir() && d.file_name().is_some_and(|n| n != "report"));
    v.sort();
    v
}

fn main() {
    let root = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
                .join("criterion")
        });
    let groups = dirs(&root);
    if groups.is_empty() {
        eprintln!(
            "no results under {}: run `cargo bench` first",
            root.display()
        );
        std::process::exit(1);
    }
    for group in groups {
        let name = group
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut rows: Vec<(String, f64, Option<String>)> = Vec::new();
        for bench in dirs(&group) {
            let id = bench
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if let Some(ns) = median_ns(&bench.join("new").join("estimates.json")) {
                let fairness = std::fs::read_to_string(bench.join("fairness.txt")).ok();
                rows.push((id, ns, fairness));
            }
        }
        if rows.is_empty() {
            continue;
        }
        let (ours, refs): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.0.starts_with("rthread"));
        println!("### {name}\n");
        let mut head = "| bench | median |".to_string();
        let mut line = "|---|---:|".to_string();
        for r in &refs {
            head += &format!(" ÷ {} |", r.0);
            line += "---:|";
        }
        let fair = rows.iter().any(|r| r.2.is_some());
        if fair {
            head += " least-served share (median, worst) |";
            line += "---|";
        }
        println!("{head}\n{line}");
        for r in ours.iter().chain(refs.iter()) {
            let mut row = format!("| {} | {} |", r.0, fmt_time(r.1));
            for q in &refs {
                if r.0.starts_with("rthread") {
                    row += &format!(" {:.2} |", r.1 / q.1);
                } else {
                    row += " |";
                }
            }
            if fair {
                let f = r.2.as_deref().map_or(String::new(), |t| {
                    let v: Vec<&str> = t.split_whitespace().collect();
                    match v.as_slice() {
                        [median, worst, ..] => format!("{median}, {worst}"),
                        _ => String::new(),
                    }
                });
                row += &format!(" {f} |");
            }
            println!("{row}");
        }
        println!();
    }
}
