//! Generates `rthread.h` from the crate's `extern "C"` face with cbindgen, into OUT_DIR.
//! `include/rthread.h` is the committed copy; `tests/header.rs` fails when they differ (see the
//! README for how to refresh it).

use std::env;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src");

    let config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let version = format!(
        "\n/** rthread's version, as in Cargo.toml. */\n\
         #define RTHREAD_VERSION_MAJOR {}\n\
         #define RTHREAD_VERSION_MINOR {}\n\
         #define RTHREAD_VERSION_PATCH {}\n",
        env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default(),
        env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default(),
        env::var("CARGO_PKG_VERSION_PATCH").unwrap_or_default(),
    );
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/status.rs"))
        .with_src(dir.join("src/ffi/mod.rs"))
        .with_after_include(version)
        .generate()
        .expect("cbindgen generates the header");
    bindings.write_to_file(out.join("rthread.h"));
    println!("cargo:include={}", dir.join("include").display());
}
