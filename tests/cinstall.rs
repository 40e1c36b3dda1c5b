//! Installing like a C library: `cargo cinstall` (cargo-c) into a temporary prefix, then C and
//! C++ programs built with `pkg-config --cflags --libs rthread` against that prefix, linked
//! dynamically and statically, run and checked. Reported as ignored, with the reason, when
//! cargo-c or pkg-config is not installed (cargo-c is not needed for anything else).
//!
//! The build uses its own target directory (`target/tmp/cinstall/target`), so the first run
//! builds the library once more in release mode.

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/examples.rs"]
mod examples;
#[path = "support/skippable.rs"]
mod skippable;

use std::path::Path;
use std::process::Command;

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `pkg-config ARGS rthread` against the prefix, split into arguments.
fn pkg_config(pc_dir: &Path, args: &[&str]) -> Vec<String> {
    let out = cbuild::run(
        Command::new("pkg-config")
            .args(args)
            .arg("rthread")
            .env("PKG_CONFIG_PATH", pc_dir)
            .env_remove("PKG_CONFIG_LIBDIR"),
    );
    out.split_whitespace().map(String::from).collect()
}

fn main() {
    skippable::main(&[(
        "cinstall_then_build_with_pkg_config",
        cinstall_then_build_with_pkg_config,
    )]);
}

fn cinstall_then_build_with_pkg_config() -> skippable::Outcome {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    if !runs(&cargo, &["cinstall", "--version"]) {
        return Err(
            "cargo-c is not installed (docs/install.md gives the command), so \
             `cargo cinstall` was not checked"
                .into(),
        );
    }
    if !runs("pkg-config", &["--version"]) {
        return Err("no pkg-config, so the installed rthread.pc was not checked".into());
    }
    let scratch = cbuild::scratch_dir("cinstall");
    let prefix = scratch.join("prefix");
    let _ = std::fs::remove_dir_all(&prefix);
    let lib = prefix.join("lib");
    cbuild::run(
        Command::new(&cargo)
            .args(["cinstall", "--release", "--manifest-path"])
            .arg(cbuild::root().join("Cargo.toml"))
            .arg("--prefix")
            .arg(&prefix)
            .arg("--libdir")
            .arg(&lib)
            .env("CARGO_TARGET_DIR", scratch.join("target")),
    );

    // The files a distribution packages.
    let (major, minor) = (
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
    );
    let soname = if major == "0" {
        format!("librthread.so.{major}.{minor}")
    } else {
        format!("librthread.so.{major}")
    };
    for file in [
        "include/rthread.h",
        "include/rthread.hpp",
        "lib/librthread.a",
        "lib/librthread.so",
        "lib/pkgconfig/rthread.pc",
    ] {
        assert!(prefix.join(file).exists(), "{file} is not installed");
    }
    assert!(lib.join(&soname).exists(), "{soname} is not installed");
    let dynamic = cbuild::run(
        Command::new("readelf")
            .arg("-d")
            .arg(lib.join("librthread.so")),
    );
    assert!(
        dynamic.contains(&format!("Library soname: [{soname}]")),
        "soname is not {soname}:\n{dynamic}"
    );
    assert_eq!(
        std::fs::read(prefix.join("include/rthread.h")).unwrap(),
        std::fs::read(cbuild::root().join("include/rthread.h")).unwrap()
    );

    let pc_dir = lib.join("pkgconfig");
    let flags = pkg_config(&pc_dir, &["--cflags", "--libs"]);
    assert!(flags.contains(&"-lrthread".to_string()), "{flags:?}");
    let build = scratch.join("build");
    std::fs::create_dir_all(&build).unwrap();
    let check = |exe: &Path, name: &str, env_lib: Option<&Path>| {
        let mut cmd = Command::new(exe);
        cmd.env_remove("LD_LIBRARY_PATH");
        if let Some(dir) = env_lib {
            cmd.env("LD_LIBRARY_PATH", dir);
        }
        let out = cbuild::run(&mut cmd);
        examples::check(name, &out).unwrap_or_else(|e| panic!("{name}: {e}\n{out}"));
    };

    // C, against the shared library: cc prog.c $(pkg-config --cflags --libs rthread)
    let every = cbuild::root().join("examples/every_primitive.c");
    let exe = build.join("every_primitive_shared");
    cbuild::run(
        Command::new(cbuild::c_compiler())
            .args(["-std=c99", "-Wall", "-Werror", "-o"])
            .arg(&exe)
            .arg(&every)
            .args(&flags),
    );
    check(&exe, "every_primitive", Some(&lib));

    // C++ with rthread.hpp, the same way.
    let exe = build.join("cpp_worker_pool");
    cbuild::run(
        Command::new(cbuild::cxx_compiler())
            .args(["-std=c++17", "-Wall", "-Werror", "-o"])
            .arg(&exe)
            .arg(cbuild::root().join("examples/cpp_worker_pool.cpp"))
            .args(&flags),
    );
    check(&exe, "cpp_worker_pool", Some(&lib));

    // C, statically: the archive, then the native libraries that `--static` lists.
    let exe = build.join("every_primitive_static");
    let cflags = pkg_config(&pc_dir, &["--cflags"]);
    let libs: Vec<String> = pkg_config(&pc_dir, &["--static", "--libs-only-l"])
        .into_iter()
        .filter(|l| l != "-lrthread")
        .collect();
    cbuild::run(
        Command::new(cbuild::c_compiler())
            .args(["-std=c99", "-Wall", "-Werror", "-o"])
            .arg(&exe)
            .arg(&every)
            .args(&cflags)
            .arg(lib.join("librthread.a"))
            .args(&libs),
    );
    let needed = cbuild::run(Command::new("readelf").arg("-d").arg(&exe));
    assert!(!needed.contains("librthread"), "not static:\n{needed}");
    check(&exe, "every_primitive", None);
    Ok(())
}
