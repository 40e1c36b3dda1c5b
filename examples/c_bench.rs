//! Builds `benches/c/bench.c` against the freshly built `librthread.so`, as a C user links it,
//! and runs it: for each operation, rthread's time, pthread's time and their ratio.
//!
//!     cargo run --release --example c_bench            # every operation
//!     cargo run --release --example c_bench -- queue   # those whose name contains "queue"
//!     cargo run --example c_bench -- --build-only      # only compile it (CI)

#[path = "../tests/support/cbuild.rs"]
mod cbuild;

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
    let exe = cbuild::scratch_dir("c-bench").join("bench");
    if let Err(e) = cbuild::compile_c(&[&src], &exe, &lib_dir, &["-O2"]) {
        eprintln!("{e}");
        std::process::exit(1);
    }
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
}
