//! The Python binding (`bindings/python/rthread.py`, ctypes) and its unittest suite, run with
//! `python3 -m unittest` against the freshly built library. Reported as ignored, with the
//! reason, when there is no `python3`. The concurrent.futures binding (`rthread_futures.py`) runs its own
//! suite the same way, and CPython's own thread-pool tests of concurrent.futures under Python
//! 3.13 (`$PYTHON313`, else `python3.13`), when that Python and its test package are there.

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/skippable.rs"]
mod skippable;

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

fn futures_binding_unittest_suite() -> skippable::Outcome {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let Some((ok, report)) = run_python(&python, &["-m", "unittest", "-v", "test_rthread_futures"])
    else {
        return Err(format!(
            "no {python} to run bindings/python/test_rthread_futures.py"
        ));
    };
    println!("{}", summary(&report));
    assert!(ok, "the futures binding's suite failed:\n{report}");
    Ok(())
}

/// CPython's Lib/test/test_concurrent_futures/ thread-pool tests against the binding: every
/// test passes or is skipped with the CPython internal it needs (cpython_futures_tests.py).
fn cpython_concurrent_futures_thread_pool_tests() -> skippable::Outcome {
    let python = std::env::var("PYTHON313").unwrap_or_else(|_| "python3.13".to_string());
    let has_tests = Command::new(&python)
        .args(["-c", "import test.test_concurrent_futures.test_thread_pool"])
        .env("PYENV_VERSION", "3.13.0:system")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_tests {
        return Err(format!(
            "no {python} with CPython's test_concurrent_futures package"
        ));
    }
    let (ok, report) = run_python(&python, &["cpython_futures_tests.py", "-v"]).expect("runs");
    println!("{}", summary(&report));
    assert!(ok, "CPython's concurrent.futures tests failed:\n{report}");
    assert!(report.contains("0 failed"), "{report}");
    Ok(())
}

fn python_binding_unittest_suite() -> skippable::Outcome {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let version = Command::new(&python).arg("--version").output();
    let Some(version) = version.ok().filter(|o| o.status.success()) else {
        return Err(format!(
            "no {python} to run bindings/python/test_rthread.py"
        ));
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
    println!("{}", summary(&report));
    assert!(out.status.success(), "the Python suite failed:\n{report}");
    Ok(())
}

/// CPython's own Lib/test/lock_tests.py and Lib/test/test_queue.py against the binding
/// (`bindings/python/cpython_threading_tests.py`): every test passes or is skipped with the
/// CPython internal or documented difference it needs.
fn cpython_lock_tests_and_test_queue() -> skippable::Outcome {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let has_tests = Command::new(&python)
        .args(["-c", "import test.lock_tests, test.test_queue"])
        .env("PYENV_VERSION", "3.13.0:system")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_tests {
        return Err(format!(
            "no {python} with CPython's test package (lock_tests, test_queue)"
        ));
    }
    let (ok, report) = run_python(&python, &["cpython_threading_tests.py", "-v"]).expect("runs");
    println!("{}", summary(&report));
    assert!(ok, "CPython's lock and queue tests failed:\n{report}");
    assert!(report.contains(" 0 failed"), "{report}");
    let passed: usize = report
        .split("CPython tests: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a count of passed tests");
    assert!(passed >= 90, "{report}");
    Ok(())
}

/// `pip install ./bindings/python` into a fresh virtual environment, offline (the build
/// backend is in the directory), then the installed module, used from elsewhere, finds the
/// library each documented way: RTHREAD_LIB (a file or a directory), the system's search
/// (LD_LIBRARY_PATH here), and otherwise says how to point it at the library.
fn pip_install_in_a_fresh_virtual_environment() -> skippable::Outcome {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let has_venv = Command::new(&python)
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_venv {
        return Err(format!(
            "{python} has no venv/ensurepip for a fresh virtual environment"
        ));
    }
    let scratch = cbuild::scratch_dir("pip-install");
    let venv = scratch.join("venv");
    let _ = std::fs::remove_dir_all(&venv);
    let ok = |cmd: &mut Command| {
        let out = cmd.output().expect("runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (made, text) = ok(Command::new(&python).args(["-m", "venv"]).arg(&venv));
    assert!(made, "{text}");
    let vpy = venv.join("bin/python");
    let (installed, text) = ok(Command::new(&vpy)
        .args(["-m", "pip", "install", "--no-index", "--no-cache-dir", "-q"])
        .arg(cbuild::root().join("bindings/python")));
    assert!(installed, "pip install failed:\n{text}");

    let lib_dir = cbuild::lib_dir();
    let lib = lib_dir.join(cbuild::shared_lib_name());
    let program = "import rthread, rthread_futures\n\
                   assert rthread.__file__.startswith(__import__('sys').prefix), rthread.__file__\n\
                   l = rthread.Lock(); assert l.acquire(); l.release()\n\
                   print('ok', rthread.version())";
    let use_it = |env: &[(&str, &std::path::Path)]| {
        let mut cmd = Command::new(&vpy);
        cmd.args(["-c", program])
            .current_dir(&scratch)
            .env_remove("RTHREAD_LIB")
            .env_remove("LD_LIBRARY_PATH")
            .env_remove("PYTHONPATH");
        for (k, v) in env {
            cmd.env(k, v);
        }
        ok(&mut cmd)
    };
    let expected = format!("ok {}", env!("CARGO_PKG_VERSION"));
    for (how, env) in [
        ("RTHREAD_LIB=file", vec![("RTHREAD_LIB", lib.as_path())]),
        ("RTHREAD_LIB=dir", vec![("RTHREAD_LIB", lib_dir.as_path())]),
        (
            "LD_LIBRARY_PATH",
            vec![("LD_LIBRARY_PATH", lib_dir.as_path())],
        ),
    ] {
        let (ran, text) = use_it(&env);
        assert!(ran && text.contains(&expected), "{how}:\n{text}");
    }
    let (ran, text) = use_it(&[]);
    assert!(
        !ran && text.contains("ImportError") && text.contains("RTHREAD_LIB"),
        "{text}"
    );
    Ok(())
}

/// The last lines of a suite's report (its counts), for the log; the whole report goes into the
/// failure message.
fn summary(report: &str) -> String {
    let lines: Vec<&str> = report
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &lines[lines.len().saturating_sub(2)..];
    format!("    ({})", tail.join(" | "))
}

fn main() {
    skippable::main(&[
        (
            "futures_binding_unittest_suite",
            futures_binding_unittest_suite,
        ),
        (
            "cpython_concurrent_futures_thread_pool_tests",
            cpython_concurrent_futures_thread_pool_tests,
        ),
        (
            "python_binding_unittest_suite",
            python_binding_unittest_suite,
        ),
        (
            "cpython_lock_tests_and_test_queue",
            cpython_lock_tests_and_test_queue,
        ),
        (
            "pip_install_in_a_fresh_virtual_environment",
            pip_install_in_a_fresh_virtual_environment,
        ),
    ]);
}
