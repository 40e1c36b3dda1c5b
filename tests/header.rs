//! The generated header: in sync with the committed copy, versioned, documented, compilable on
//! its own as C and C++, and matching what the shared library exports.
//!
//! To refresh `include/rthread.h` after changing the C face: `RTHREAD_BLESS=1 cargo test --test
//! header`.

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/declarations.rs"]
mod declarations;

use std::process::Command;

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/rthread.h"));

fn committed() -> String {
    std::fs::read_to_string(cbuild::root().join("include/rthread.h")).unwrap_or_default()
}

#[test]
fn committed_header_is_in_sync() {
    if std::env::var_os("RTHREAD_BLESS").is_some() {
        std::fs::write(cbuild::root().join("include/rthread.h"), GENERATED).expect("write header");
    }
    assert!(
        committed() == GENERATED,
        "include/rthread.h differs from the header build.rs generates; refresh it with \
         `RTHREAD_BLESS=1 cargo test --test header` and commit it"
    );
}

#[test]
fn header_defines_the_crate_version() {
    for (part, value) in [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define RTHREAD_VERSION_{part} {value}\n");
        assert!(GENERATED.contains(&line), "missing {line:?}");
    }
}

#[test]
fn header_starts_with_the_api_conventions() {
    let head: String = GENERATED.lines().take(5).collect::<Vec<_>>().join("\n");
    assert!(head.contains("API conventions"), "{head}");
    assert!(GENERATED.contains("#ifndef RTHREAD_H") && GENERATED.contains("extern \"C\" {"));
    let includes: Vec<&str> = GENERATED
        .lines()
        .filter(|l| l.starts_with("#include"))
        .collect();
    assert_eq!(
        includes,
        [
            "#include <stdbool.h>",
            "#include <stddef.h>",
            "#include <stdint.h>"
        ]
    );
}

/// The names of the functions the header declares, each with the comment just above it.
fn declared_functions() -> Vec<(String, String)> {
    declarations::declared_functions(GENERATED)
}

#[test]
fn every_function_has_a_doc_comment() {
    let fns = declared_functions();
    assert!(fns.len() >= 10, "found only {fns:?}");
    for (name, doc) in fns {
        assert!(
            doc.len() > 40,
            "{name} has no real doc comment in the header: {doc:?}"
        );
    }
}

#[test]
fn shared_library_exports_exactly_the_declared_functions() {
    let text = cbuild::defined_dynamic_symbols();
    // On Linux every symbol carries the soname as its version (`rt_lock_new@@librthread.so.0.1`,
    // see build.rs and docs/abi.md); the version itself is an absolute symbol (`A`).
    let versioned = cfg!(all(target_os = "linux", target_env = "gnu"))
        && std::env::var_os("RTHREAD_NO_SYMVER").is_none();
    let soname = if env!("CARGO_PKG_VERSION_MAJOR") == "0" {
        format!("librthread.so.0.{}", env!("CARGO_PKG_VERSION_MINOR"))
    } else {
        format!("librthread.so.{}", env!("CARGO_PKG_VERSION_MAJOR"))
    };
    let mut exported: Vec<String> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(kind), Some(name)) = (fields.get(1), fields.get(2)) else {
            continue;
        };
        if *kind == "A" && *name == soname {
            continue;
        }
        match name.split_once('@') {
            Some((bare, version)) => {
                assert_eq!(
                    version.trim_start_matches('@'),
                    soname,
                    "{name}: not the soname's version"
                );
                exported.push(bare.to_string());
            }
            None => {
                assert!(!versioned, "{name} carries no symbol version");
                exported.push(name.to_string());
            }
        }
    }
    exported.sort();
    let stray: Vec<&String> = exported.iter().filter(|s| !s.starts_with("rt_")).collect();
    assert!(
        stray.is_empty(),
        "symbols without the rt_ prefix are exported: {stray:?}"
    );
    let mut declared: Vec<String> = declared_functions().into_iter().map(|(n, _)| n).collect();
    declared.sort();
    assert_eq!(exported, declared, "exports and header declarations differ");
}

fn compile_header_alone(compiler: &str, std: &str, lang: &str, extra: &[&str]) {
    let dir = cbuild::scratch_dir("header");
    let ext = if lang == "c" { "c" } else { "cpp" };
    let src = dir.join(format!("only_header_{}.{ext}", std.replace('+', "x")));
    std::fs::write(
        &src,
        "#include \"rthread.h\"\n#include \"rthread.h\"\nint main(void) { return RT_OK; }\n",
    )
    .expect("write source");
    let out = Command::new(compiler)
        .arg(format!("-std={std}"))
        .args(["-Wall", "-Wextra", "-Werror", "-fsyntax-only"])
        .args(extra)
        .arg("-I")
        .arg(cbuild::root().join("include"))
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "rthread.h does not compile as {std}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_alone_as_c99() {
    compile_header_alone(&cbuild::c_compiler(), "c99", "c", &["-Wpedantic"]);
}

#[test]
fn header_compiles_alone_as_c11() {
    compile_header_alone(&cbuild::c_compiler(), "c11", "c", &["-Wpedantic"]);
}

#[test]
fn header_compiles_alone_as_cxx11() {
    compile_header_alone(&cbuild::cxx_compiler(), "c++11", "c++", &["-Wpedantic"]);
}

#[test]
fn header_compiles_alone_as_cxx17() {
    compile_header_alone(&cbuild::cxx_compiler(), "c++17", "c++", &["-Wpedantic"]);
}
