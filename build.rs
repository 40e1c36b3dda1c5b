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

    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let patch = env::var("CARGO_PKG_VERSION_PATCH").unwrap_or_default();
    let version = env::var("CARGO_PKG_VERSION").unwrap_or_default();
    link_args();

    let config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let version = format!(
        "\n/** rthread's version, as in Cargo.toml. */\n\
         #define RTHREAD_VERSION_MAJOR {}\n\
         #define RTHREAD_VERSION_MINOR {}\n\
         #define RTHREAD_VERSION_PATCH {}\n\
         /** The same as one number, major * 10000 + minor * 100 + patch: compare with\n\
          * rt_version(), the loaded library's. */\n\
         #define RTHREAD_VERSION_NUMBER ({} * 10000 + {} * 100 + {})\n\
         /** The same as a string, \"major.minor.patch\". */\n\
         #define RTHREAD_VERSION_STRING \"{}\"\n\
         \n/** The static initialiser of an rt_once_flag: `static rt_once_flag once = RT_ONCE_INIT;`. */\n\
         #define RT_ONCE_INIT {{ 0, 0, 0 }}\n",
        major, minor, patch, major, minor, patch, version
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

/// The shared library's soname and symbol version (see docs/abi.md): `librthread.so.MAJOR`
/// (`librthread.so.0.MINOR` while the major version is 0, as cargo-c names it), and every
/// exported symbol versioned with that soname (`rt_lock_new@@librthread.so.0.1`), as GNU ld's
/// `--default-symver` does. rustc gives the linker its own anonymous version script (the
/// exported `rt_` names), which cannot be combined with a named one, and lld, rustc's default
/// linker here, has no `--default-symver`: the shared library is linked with GNU ld (bfd).
/// Linux with the GNU toolchain only; elsewhere the library has neither.
fn link_args() {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env_ = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env_ != "gnu" || env::var_os("RTHREAD_NO_SYMVER").is_some() {
        return;
    }
    println!("cargo:rerun-if-env-changed=RTHREAD_NO_SYMVER");
    let soname = soname();
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    // Programs linked with `-Ltarget/<profile> -lrthread` record the soname, so it must be
    // found beside the library in the build's own directories too, as after an install.
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    if let Some(profile_dir) = out.ancestors().nth(3) {
        for dir in [profile_dir.to_path_buf(), profile_dir.join("deps")] {
            let link = dir.join(&soname);
            if std::fs::symlink_metadata(&link).is_err() && dir.is_dir() {
                let _ = std::os::unix::fs::symlink("librthread.so", &link);
            }
        }
    }
    println!("cargo:rustc-cdylib-link-arg=-fuse-ld=bfd");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--default-symver");
}

/// `librthread.so.MAJOR`, or `librthread.so.0.MINOR` before 1.0.
fn soname() -> String {
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    if major == "0" {
        format!("librthread.so.0.{minor}")
    } else {
        format!("librthread.so.{major}")
    }
}
