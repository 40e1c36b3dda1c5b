//! Building C programs against the freshly built `librthread.so`, for the C suite, the header
//! checks and `cargo run --example run_examples`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The crate's root directory.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding `librthread.so` for the running profile: the parent of `deps/`, where
/// cargo puts test and example binaries, or `deps/` itself when its copy is newer. (`cargo
/// build` copies the library up from `deps/`; `cargo test` rebuilds it in `deps/` only, so after
/// a change without `cargo build` the copy above is stale.)
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the running binary has a path");
    let mut dir = exe.parent().expect("binary has a directory").to_path_buf();
    if dir.ends_with("deps") || dir.ends_with("examples") {
        dir.pop();
    }
    let modified = |d: &Path| {
        std::fs::metadata(d.join(shared_lib_name()))
            .and_then(|m| m.modified())
            .ok()
    };
    let deps = dir.join("deps");
    if let Some(in_deps) = modified(&deps) {
        if modified(&dir).is_none_or(|above| in_deps > above) {
            dir = deps;
        }
    }
    let so = dir.join(shared_lib_name());
    assert!(
        so.exists(),
        "{} is missing: build the library first (cargo build)",
        so.display()
    );
    dir
}

pub fn shared_lib_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "librthread.dylib"
    } else {
        "librthread.so"
    }
}

/// The C compiler: `$CC`, else `cc`.
pub fn c_compiler() -> String {
    std::env::var("CC")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "cc".to_string())
}

/// The C++ compiler: `$CXX`, else `c++`.
pub fn cxx_compiler() -> String {
    std::env::var("CXX")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "c++".to_string())
}

/// The strict flags every C file of the project compiles with.
pub const C_FLAGS: &[&str] = &[
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Werror",
    "-g",
];

/// The strict flags every C++ file of the project compiles with.
pub const CXX_FLAGS: &[&str] = &[
    "-std=c++17",
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Werror",
    "-g",
];

/// Compiles `sources` into the executable `out`, linked against librthread in `lib_dir`.
/// `extra` flags come before the sources (e.g. sanitizers). Returns the compiler's stderr on
/// failure.
pub fn compile_c(
    sources: &[&Path],
    out: &Path,
    lib_dir: &Path,
    extra: &[&str],
) -> Result<(), String> {
    link(&c_compiler(), C_FLAGS, sources, out, lib_dir, extra)
}

/// Compiles C++ `sources` (and links C objects among them) into the executable `out`, linked
/// against librthread in `lib_dir`, with [`CXX_FLAGS`]; `cpp-tests/` is on the include path.
pub fn compile_cxx(
    sources: &[&Path],
    out: &Path,
    lib_dir: &Path,
    extra: &[&str],
) -> Result<(), String> {
    let cpp_tests = root().join("cpp-tests");
    let mut flags: Vec<&str> = extra.to_vec();
    let include = format!("-I{}", cpp_tests.display());
    flags.push(&include);
    link(&cxx_compiler(), CXX_FLAGS, sources, out, lib_dir, &flags)
}

/// Compiles one C file into the object `out` (`cc -c`), with [`C_FLAGS`] and `extra`.
pub fn compile_c_object(source: &Path, out: &Path, extra: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new(c_compiler());
    cmd.args(C_FLAGS)
        .args(extra)
        .arg("-I")
        .arg(root().join("include"))
        .arg("-c")
        .arg("-o")
        .arg(out)
        .arg(source);
    run_compiler(cmd)
}

fn link(
    compiler: &str,
    flags: &[&str],
    sources: &[&Path],
    out: &Path,
    lib_dir: &Path,
    extra: &[&str],
) -> Result<(), String> {
    let mut cmd = Command::new(compiler);
    cmd.args(flags)
        .args(extra)
        .arg("-I")
        .arg(root().join("include"))
        .arg("-I")
        .arg(root().join("c-tests"))
        .arg("-o")
        .arg(out)
        .args(sources)
        .arg("-L")
        .arg(lib_dir)
        .arg("-lrthread")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-pthread");
    if cfg!(target_os = "linux") {
        // DT_RPATH rather than DT_RUNPATH: it wins over LD_LIBRARY_PATH, which cargo sets for
        // tests with target/debug first, where a stale copy of the library may lie.
        cmd.arg("-Wl,--disable-new-dtags");
    }
    run_compiler(cmd)
}

fn run_compiler(mut cmd: Command) -> Result<(), String> {
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} failed:\n{}{}",
            cmd,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The `.c` files directly in `dir`, sorted.
pub fn c_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "c"));
    v.sort();
    v
}

/// The C++ programs in `dir`, sorted by name: each `NAME.cpp` directly in it is one program,
/// and each subdirectory holding `.cpp` files is one program of several translation units,
/// named after the subdirectory.
pub fn cpp_programs(dir: &Path) -> Vec<(String, Vec<PathBuf>)> {
    let is_cpp = |p: &Path| p.extension().is_some_and(|e| e == "cpp");
    let entries = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut programs = Vec::new();
    for path in entries(dir) {
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            let units: Vec<PathBuf> = entries(&path).into_iter().filter(|p| is_cpp(p)).collect();
            if !units.is_empty() {
                programs.push((name, units));
            }
        } else if is_cpp(&path) {
            programs.push((name, vec![path]));
        }
    }
    programs.sort();
    programs
}

/// A scratch directory for build products, under cargo's target directory.
pub fn scratch_dir(name: &str) -> PathBuf {
    let base = match option_env!("CARGO_TARGET_TMPDIR") {
        Some(d) => PathBuf::from(d),
        None => lib_dir().join("tmp"),
    };
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).expect("scratch directory can be created");
    dir
}

/// A command that runs a program built by [`compile_c`], with the library path pointing at
/// `lib_dir` only.
pub fn command(program: &Path, lib_dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("LD_LIBRARY_PATH", lib_dir);
    cmd
}

/// Runs `cmd`, panics (with its output) unless it succeeds, and returns its standard output.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `nm -D --defined-only` of the freshly built shared library: one line per defined dynamic
/// symbol (address, kind, name with its version).
pub fn defined_dynamic_symbols() -> String {
    let so = lib_dir().join(shared_lib_name());
    run(Command::new("nm").args(["-D", "--defined-only"]).arg(&so))
}
