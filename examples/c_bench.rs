//! Builds `benches/c/bench.c` against the freshly built `librthread.so`, as a C user links it,
//! with the comparison anchors whose libraries are installed (nsync, Abseil, GLib: each one
//! missing is skipped with a message), and runs it.
//!
//!     cargo run --release --example c_bench              # the paired table and every row
//!     cargo run --release --example c_bench -- queue     # those whose name contains "queue"
//!     cargo run --release --example c_bench -- --quick   # fewer operations and thread counts
//!     cargo run --release --example c_bench -- --tsv results.tsv   # also machine-readable
//!     cargo run --release --example c_bench -- --static  # also linked with librthread.a
//!     cargo run --release --example c_bench -- --guard   # the CI regression guard
//!     cargo run --release --example c_bench -- --debug-modes  # each debug mode's cost, on/off
//!     cargo run --example c_bench -- --build-only        # only compile (CI)
//!
//! Other options of the benchmark itself: `--rounds N` (rounds of the comparison rows, 5),
//! `--no-table` (skip the paired table), `--no-rows` (only the paired table),
//! `--threads-memory N` (threads of the memory row, 10,000).

#[path = "../tests/support/cbuild.rs"]
mod cbuild;

use std::path::{Path, PathBuf};
use std::process::Command;

/// An optional comparison library: its translation unit in `benches/c/`, the flags to compile
/// and link it, and the macro that tells bench.c it is there.
struct Anchor {
    name: &'static str,
    package: &'static str,
    source: &'static str,
    define: &'static str,
    cxx: bool,
    /// pkg-config module, or None with `libs` as the link flags.
    pkg_config: Option<&'static str>,
    libs: &'static [&'static str],
}

const ANCHORS: &[Anchor] = &[
    Anchor {
        name: "nsync",
        package: "libnsync-dev",
        source: "anchor_nsync.c",
        define: "RTHREAD_BENCH_NSYNC",
        cxx: false,
        pkg_config: None,
        libs: &["-lnsync"],
    },
    Anchor {
        name: "absl",
        package: "libabsl-dev",
        source: "anchor_absl.cc",
        define: "RTHREAD_BENCH_ABSL",
        cxx: true,
        pkg_config: Some("absl_synchronization"),
        libs: &[],
    },
    Anchor {
        name: "glib",
        package: "libglib2.0-dev",
        source: "anchor_glib.c",
        define: "RTHREAD_BENCH_GLIB",
        cxx: false,
        pkg_config: Some("glib-2.0"),
        libs: &[],
    },
];

/// An anchor that compiled and links: its object, define and link flags.
struct Built {
    object: PathBuf,
    define: String,
    libs: Vec<String>,
    cxx: bool,
}

fn pkg_config(module: &str, what: &str) -> Option<Vec<String>> {
    let out = Command::new("pkg-config")
        .args([what, module])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    )
}

fn quiet_status(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Compiles one anchor and links it into a probe program; None (with the reason) if the
/// library is not installed.
fn build_anchor(a: &Anchor, dir: &Path) -> Result<Built, String> {
    let c_dir = cbuild::root().join("benches").join("c");
    let (cflags, libs) = match a.pkg_config {
        Some(m) => (
            pkg_config(m, "--cflags").ok_or(format!("pkg-config finds no {m}"))?,
            pkg_config(m, "--libs").ok_or(format!("pkg-config finds no {m}"))?,
        ),
        None => (
            Vec::new(),
            a.libs.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ),
    };
    let object = dir.join(format!("{}.o", a.name));
    let mut cmd = if a.cxx {
        let mut c = Command::new(cbuild::cxx_compiler());
        c.args(cbuild::CXX_FLAGS);
        c
    } else {
        let mut c = Command::new(cbuild::c_compiler());
        c.args(cbuild::C_FLAGS);
        c
    };
    cmd.args(["-O2", "-DNDEBUG"])
        .args(&cflags)
        .arg("-c")
        .arg("-o")
        .arg(&object)
        .arg(c_dir.join(a.source));
    quiet_status(&mut cmd).map_err(|e| first_line(&e))?;
    // The probe: the anchor's object with a main that takes its table, linked as bench is.
    let probe_src = dir.join(format!("probe_{}.c", a.name));
    let entry = match a.name {
        "nsync" => "bench_nsync",
        "absl" => "bench_absl",
        _ => "bench_glib",
    };
    std::fs::write(
        &probe_src,
        format!(
            "#include \"anchor.h\"\ndouble bench_now_ns(void) {{ return 0; }}\n\
             int main(void) {{ return {entry}()->name == 0; }}\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut cmd = Command::new(cbuild::c_compiler());
    cmd.arg("-I")
        .arg(&c_dir)
        .arg("-o")
        .arg(dir.join(format!("probe_{}", a.name)))
        .arg(&probe_src)
        .arg(&object)
        .args(&libs);
    if a.cxx {
        cmd.arg("-lstdc++");
    }
    cmd.arg("-pthread");
    quiet_status(&mut cmd).map_err(|e| first_line(&e))?;
    Ok(Built {
        object,
        define: format!("-D{}", a.define),
        libs,
        cxx: a.cxx,
    })
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| l.contains("error"))
        .or_else(|| s.lines().next())
        .unwrap_or("failed")
        .trim()
        .to_string()
}

/// Links bench.c with the anchors; `rthread` is how librthread is linked.
fn link(src: &Path, anchors: &[Built], out: &Path, rthread: &[String]) -> Result<(), String> {
    let mut cmd = Command::new(cbuild::c_compiler());
    cmd.args(cbuild::C_FLAGS)
        .arg("-O2")
        .arg("-I")
        .arg(cbuild::root().join("include"))
        .args(anchors.iter().map(|b| &b.define))
        .arg("-o")
        .arg(out)
        .arg(src)
        .args(anchors.iter().map(|b| &b.object))
        .args(rthread)
        .args(anchors.iter().flat_map(|b| b.libs.iter()));
    if anchors.iter().any(|b| b.cxx) {
        cmd.arg("-lstdc++");
    }
    cmd.args(["-pthread", "-ldl", "-lm"]);
    quiet_status(&mut cmd).map_err(|e| format!("c_bench: linking {} failed:\n{e}", out.display()))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let build_only = args.iter().any(|a| a == "--build-only");
    if cfg!(debug_assertions) && !build_only {
        eprintln!(
            "c_bench: this is a debug build of librthread; run with --release for real figures"
        );
    }
    let lib_dir = cbuild::lib_dir();
    let src = cbuild::root().join("benches").join("c").join("bench.c");
    let dir = cbuild::scratch_dir("c-bench");
    let exe = dir.join("bench");

    let mut anchors = Vec::new();
    for a in ANCHORS {
        match build_anchor(a, &dir) {
            Ok(b) => anchors.push(b),
            Err(why) => eprintln!(
                "c_bench: {} skipped (install {} to compare with it): {why}",
                a.name, a.package
            ),
        }
    }
    let shared = [
        "-L".to_string(),
        lib_dir.display().to_string(),
        "-lrthread".to_string(),
        format!("-Wl,-rpath,{}", lib_dir.display()),
        "-Wl,--disable-new-dtags".to_string(),
    ];
    if let Err(e) = link(&src, &anchors, &exe, &shared) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    // The same program linked with librthread.a: in an executable the linker turns rthread's
    // thread-local accesses into plain %fs-relative loads, where the shared library pays a
    // call to `__tls_get_addr` (it shows in RLock re-entry).
    let static_lib = lib_dir.join("librthread.a");
    let static_exe = dir.join("bench-static");
    let with_static = args.iter().any(|a| a == "--static");
    if with_static || build_only {
        if let Err(e) = link(
            &src,
            &anchors,
            &static_exe,
            &[static_lib.display().to_string()],
        ) {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
    let args: Vec<String> = args.into_iter().filter(|a| a != "--static").collect();
    if build_only {
        return;
    }
    println!(
        "rthread C benchmark: {} linked against {}",
        src.strip_prefix(cbuild::root()).unwrap_or(&src).display(),
        lib_dir.join(cbuild::shared_lib_name()).display()
    );
    let status = cbuild::command(&exe, &lib_dir)
        .args(&args)
        .status()
        .expect("the benchmark runs");
    if !status.success() {
        std::process::exit(status.code().unwrap_or(1));
    }
    if with_static {
        println!("\nthe same, linked with {}:", static_lib.display());
        let status = Command::new(&static_exe)
            .args(&args)
            .status()
            .expect("the benchmark runs");
        if !status.success() {
            std::process::exit(status.code().unwrap_or(1));
        }
    }
}
