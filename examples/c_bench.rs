//! Builds `benches/c/bench.c` against the freshly built `librthread.so`, as a C user links it,
//! and runs it: for each operation, rthread's time, pthread's time and their ratio.
//!
//!     cargo run --release --example c_bench            # every operation
//!     cargo run --release --example c_bench -- queue   # those whose name contains "queue"
//!     cargo run --release --example c_bench -- --static # also linked with librthread.a
//!     cargo run --example c_bench -- --build-only      # only compile both (CI)

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
    // The same program linked with librthread.a: in an executable the linker turns rthread's
    // thread-local accesses into plain %fs-relative loads, where the shared library pays a
    // call to `__tls_get_addr` (it shows in RLock re-entry).
    let static_lib = lib_dir.join("librthread.a");
    let static_exe = cbuild::scratch_dir("c-bench").join("bench-static");
    let link_static = |out: &std::path::Path| {
        let mut cmd = std::process::Command::new(cbuild::c_compiler());
        cmd.args(cbuild::C_FLAGS)
            .arg("-O2")
            .arg("-I")
            .arg(cbuild::root().join("include"))
            .arg("-o")
            .arg(out)
            .arg(&src)
            .arg(&static_lib)
            .args(["-lpthread", "-ldl", "-lm"]);
        cmd.status().is_ok_and(|s| s.success())
    };
    let with_static = args.iter().any(|a| a == "--static");
    if (with_static || build_only) && !link_static(&static_exe) {
        eprintln!("c_bench: linking {} failed", static_lib.display());
        std::process::exit(1);
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
        let status = std::process::Command::new(&static_exe)
            .args(&args)
            .status()
            .expect("the benchmark runs");
        if !status.success() {
            std::process::exit(status.code().unwrap_or(1));
        }
    }
}
