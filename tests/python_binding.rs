//! The Python binding (`bindings/python/rthread.py`, ctypes) and its unittest suite, run with
//! `python3 -m unittest` against the freshly built library. Skipped, with a message, when
//! there is no `python3`. The concurrent.futures binding (`rthread_futures.py`) runs its own
//! suite the same way, and CPython's own thread-pool tests of concurrent.futures under Python
//! 3.13 (`$PYTHON313`, else `python3.13`), when that Python and its test package are there.

#[path = "support/cbuild.rs"]
mod cbuild;

use std::process::Command;

/// Runs `args` with `python` in bindings/python against the fresh library; `None` (skipped)
/// when that Python does not run.
fn run_python(python: &str, args: &[&str]) -> Option<(bool, String)> {
    let version = Command::new(python)
        .arg("--version")
        .env("PYENV_VERSION", "3.13.0:system")
        .output();
    let version = version.ok().filter(|o| o.status.success())?;
    let lib = cbuild::lib_dir().join(cbuild::shared_lib_name());
    let out = Command::new(python)
        .args(args)
        .current_dir(cbuild::root().join("bindings/python"))
        .env("RTHREAD_LIB", &lib)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYENV_VERSION", "3.13.0:system")
        .output()
        .expect("python runs");
    let report = format!(
        "{}{}{}",
        String::from_utf8_lossy(&version.stdout),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), report))
}

#[test]
fn futures_binding_unittest_suite() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let Some((ok, report)) = run_python(&python, &["-m", "unittest", "-v", "test_rthread_futures"])
    else {
        eprintln!("skipped: no {python} to run bindings/python/test_rthread_futures.py");
        return;
    };
    println!("{report}");
    assert!(ok, "the futures binding's suite failed:\n{report}");
}

/// CPython's Lib/test/test_concurrent_futures/ thread-pool tests against the binding: every
/// test passes or is skipped with the CPython internal it needs (cpython_futures_tests.py).
#[test]
fn cpython_concurrent_futures_thread_pool_tests() {
    let python = std::env::var("PYTHON313").unwrap_or_else(|_| "python3.13".to_string());
    let has_tests = Command::new(&python)
        .args(["-c", "import test.test_concurrent_futures.test_thread_pool"])
        .env("PYENV_VERSION", "3.13.0:system")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_tests {
        eprintln!("skipped: no {python} with CPython's test_concurrent_futures package");
        return;
    }
    let (ok, report) = run_python(&python, &["cpython_futures_tests.py", "-v"]).expect("runs");
    println!("{report}");
    assert!(ok, "CPython's concurrent.futures tests failed:\n{report}");
    assert!(report.contains("0 failed"), "{report}");
}

#[test]
fn python_binding_unittest_suite() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let version = Command::new(&python).arg("--version").output();
    let Some(version) = version.ok().filter(|o| o.status.success()) else {
        eprintln!("skipped: no {python} to run bindings/python/test_rthread.py");
        return;
    };
    let lib = cbuild::lib_dir().join(cbuild::shared_lib_name());
    let out = Command::new(&python)
        .args(["-m", "unittest", "-v", "test_rthread"])
        .current_dir(cbuild::root().join("bindings/python"))
        .env("RTHREAD_LIB", &lib)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let report = format!(
        "{}{}{}",
        String::from_utf8_lossy(&version.stdout),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    assert!(out.status.success(), "the Python suite failed:\n{report}");
}
