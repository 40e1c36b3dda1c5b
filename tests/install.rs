//! The install step, `tools/install.sh --prefix DIR`, into a scratch prefix: every file a
//! packager gets, where the docs say; then programs built against the installed prefix the
//! three ways a C user does it (pkg-config, shared and static; CMake's `find_package` with the
//! imported target `rthread::rthread`; `man 3`), run and checked.
//!
//! The tests that need a tool the machine lacks (pkg-config, cmake, man) are reported as
//! ignored, with the reason, by name (`.ci/run` installs them all, so none is skipped there).

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/declarations.rs"]
mod declarations;
#[path = "support/examples.rs"]
mod examples;
#[path = "support/skippable.rs"]
mod skippable;

use skippable::Outcome;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn main() {
    skippable::main(&[
        (
            "install_step_installs_every_file",
            install_step_installs_every_file,
        ),
        (
            "pkg_config_shared_and_static_against_the_installed_prefix",
            pkg_config_builds,
        ),
        (
            "cmake_find_package_rthread_against_the_installed_prefix",
            cmake_find_package,
        ),
        ("man_3_finds_the_installed_pages", man_finds_pages),
    ]);
}

fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn soname() -> String {
    if env!("CARGO_PKG_VERSION_MAJOR") == "0" {
        format!("librthread.so.0.{}", env!("CARGO_PKG_VERSION_MINOR"))
    } else {
        format!("librthread.so.{}", env!("CARGO_PKG_VERSION_MAJOR"))
    }
}

/// Installs once into target/tmp/install/prefix; returns the prefix.
fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let scratch = cbuild::scratch_dir("install");
        let prefix = scratch.join("prefix");
        let _ = std::fs::remove_dir_all(&prefix);
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        cbuild::run(
            Command::new("sh")
                .arg(cbuild::root().join("tools/install.sh"))
                .arg("--prefix")
                .arg(&prefix)
                .env("CARGO", cargo),
        );
        prefix
    })
}

fn install_step_installs_every_file() -> Outcome {
    let prefix = prefix();
    let mut files = vec![
        "include/rthread.h".to_string(),
        "include/rthread.hpp".to_string(),
        "lib/librthread.a".to_string(),
        "lib/librthread.so".to_string(),
        format!("lib/{}", soname()),
        format!("lib/librthread.so.{VERSION}"),
        "lib/pkgconfig/rthread.pc".to_string(),
        "lib/cmake/rthread/rthreadConfig.cmake".to_string(),
        "lib/cmake/rthread/rthreadConfigVersion.cmake".to_string(),
        "share/man/man3/rthread.3".to_string(),
        "share/doc/rthread/LICENSE-MIT".to_string(),
        "share/doc/rthread/LICENSE-APACHE".to_string(),
        "share/doc/rthread/README.md".to_string(),
    ];
    let header = std::fs::read_to_string(cbuild::root().join("include/rthread.h")).unwrap();
    let functions = declarations::declared_functions(&header);
    for (name, _) in &functions {
        files.push(format!("share/man/man3/{name}.3"));
    }
    for f in &files {
        assert!(prefix.join(f).exists(), "{f} is not installed");
    }
    // The links: .so -> soname -> the versioned file.
    let lib = prefix.join("lib");
    assert_eq!(
        std::fs::read_link(lib.join("librthread.so")).unwrap(),
        PathBuf::from(soname())
    );
    assert_eq!(
        std::fs::read_link(lib.join(soname())).unwrap(),
        PathBuf::from(format!("librthread.so.{VERSION}"))
    );
    let dynamic = cbuild::run(
        Command::new("readelf")
            .arg("-d")
            .arg(lib.join(format!("librthread.so.{VERSION}"))),
    );
    assert!(
        dynamic.contains(&format!("Library soname: [{}]", soname())),
        "{dynamic}"
    );
    assert_eq!(
        std::fs::read(prefix.join("include/rthread.h")).unwrap(),
        header.as_bytes()
    );
    let pc = std::fs::read_to_string(lib.join("pkgconfig/rthread.pc")).unwrap();
    assert!(pc.contains(&format!("Version: {VERSION}\n")), "{pc}");
    assert!(
        pc.contains(&format!("prefix={}\n", prefix.display())),
        "{pc}"
    );
    Ok(())
}

fn checked_run(exe: &Path, example: &str, lib: Option<&Path>) {
    let mut cmd = Command::new(exe);
    cmd.env_remove("LD_LIBRARY_PATH");
    if let Some(lib) = lib {
        cmd.env("LD_LIBRARY_PATH", lib);
    }
    let out = cbuild::run(&mut cmd);
    examples::check(example, &out).unwrap_or_else(|e| panic!("{example}: {e}\n{out}"));
}

fn pkg_config(prefix: &Path, args: &[&str]) -> Vec<String> {
    cbuild::run(
        Command::new("pkg-config")
            .args(args)
            .arg("rthread")
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
            .env_remove("PKG_CONFIG_LIBDIR"),
    )
    .split_whitespace()
    .map(String::from)
    .collect()
}

fn pkg_config_builds() -> Outcome {
    if !has("pkg-config") {
        return Err("pkg-config is not installed".into());
    }
    let prefix = prefix();
    let lib = prefix.join("lib");
    let build = cbuild::scratch_dir("install").join("pkg-config");
    std::fs::create_dir_all(&build).unwrap();
    let every = cbuild::root().join("examples/every_primitive.c");
    // cc -std=c99 prog.c $(pkg-config --cflags --libs rthread)
    let exe = build.join("every_primitive_shared");
    cbuild::run(
        Command::new(cbuild::c_compiler())
            .args(["-std=c99", "-Wall", "-Werror", "-o"])
            .arg(&exe)
            .arg(&every)
            .args(pkg_config(prefix, &["--cflags", "--libs"])),
    );
    let needed = cbuild::run(Command::new("readelf").arg("-d").arg(&exe));
    assert!(
        needed.contains(&format!("Shared library: [{}]", soname())),
        "{needed}"
    );
    checked_run(&exe, "every_primitive", Some(&lib));
    // cc -std=c99 prog.c $(pkg-config --cflags rthread) librthread.a $(pkg-config --static
    // --libs-only-l rthread without -lrthread)
    let exe = build.join("every_primitive_static");
    let libs: Vec<String> = pkg_config(prefix, &["--static", "--libs-only-l"])
        .into_iter()
        .filter(|l| l != "-lrthread")
        .collect();
    cbuild::run(
        Command::new(cbuild::c_compiler())
            .args(["-std=c99", "-Wall", "-Werror", "-o"])
            .arg(&exe)
            .arg(&every)
            .args(pkg_config(prefix, &["--cflags"]))
            .arg(lib.join("librthread.a"))
            .args(&libs),
    );
    let needed = cbuild::run(Command::new("readelf").arg("-d").arg(&exe));
    assert!(!needed.contains("librthread"), "not static:\n{needed}");
    checked_run(&exe, "every_primitive", None);
    Ok(())
}

fn cmake_find_package() -> Outcome {
    if !has("cmake") {
        return Err("cmake is not installed".into());
    }
    let prefix = prefix();
    let root = cbuild::root();
    let project = cbuild::scratch_dir("install").join("cmake-project");
    let _ = std::fs::remove_dir_all(&project);
    std::fs::create_dir_all(&project).unwrap();
    let lists = format!(
        "cmake_minimum_required(VERSION 3.16)\n\
         project(uses_rthread C CXX)\n\
         find_package(rthread 0.1 REQUIRED)\n\
         add_executable(app \"{every}\")\n\
         target_link_libraries(app rthread::rthread)\n\
         add_executable(app_static \"{every}\")\n\
         target_link_libraries(app_static rthread::rthread_static)\n\
         add_executable(pool \"{pool}\")\n\
         set_property(TARGET pool PROPERTY CXX_STANDARD 17)\n\
         target_link_libraries(pool rthread::rthread)\n",
        every = root.join("examples/every_primitive.c").display(),
        pool = root.join("examples/cpp_worker_pool.cpp").display(),
    );
    std::fs::write(project.join("CMakeLists.txt"), lists).unwrap();
    let build = project.join("build");
    cbuild::run(
        Command::new("cmake")
            .arg("-S")
            .arg(&project)
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
            .env("CC", cbuild::c_compiler())
            .env("CXX", cbuild::cxx_compiler()),
    );
    cbuild::run(Command::new("cmake").arg("--build").arg(&build));
    // The build tree's rpath finds the installed library: no LD_LIBRARY_PATH.
    checked_run(&build.join("app"), "every_primitive", None);
    checked_run(&build.join("app_static"), "every_primitive", None);
    checked_run(&build.join("pool"), "cpp_worker_pool", None);
    let needed = cbuild::run(Command::new("readelf").arg("-d").arg(build.join("app")));
    assert!(
        needed.contains(&format!("Shared library: [{}]", soname())),
        "{needed}"
    );

    // The version file: a newer minor (a different ABI while 0.x) or another major is refused.
    for wanted in ["0.2", "1.0"] {
        let p = project.join(format!("wants-{wanted}"));
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(
            p.join("CMakeLists.txt"),
            format!(
                "cmake_minimum_required(VERSION 3.16)\nproject(v C)\n\
                 find_package(rthread {wanted} REQUIRED)\n"
            ),
        )
        .unwrap();
        let out = Command::new("cmake")
            .arg("-S")
            .arg(&p)
            .arg("-B")
            .arg(p.join("build"))
            .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "find_package(rthread {wanted}) passed"
        );
        assert!(err.contains(&format!("version: {VERSION}")), "{err}");
    }
    Ok(())
}

fn man_finds_pages() -> Outcome {
    if !has("man") {
        return Err("man is not installed".into());
    }
    let prefix = prefix();
    let path = cbuild::run(
        Command::new("man")
            .arg("-M")
            .arg(prefix.join("share/man"))
            .args(["-w", "3", "rt_lock_acquire"]),
    );
    assert_eq!(
        path.trim(),
        prefix
            .join("share/man/man3/rt_lock_acquire.3")
            .to_str()
            .unwrap()
    );
    Ok(())
}
