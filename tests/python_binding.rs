//! The Python binding (`bindings/python/rthread.py`, ctypes) and its unittest suite, run with
//! `python3 -m unittest` against the freshly built library. Skipped, with a message, when
//! there is no `python3`.

#[path = "support/cbuild.rs"]
mod cbuild;

use std::process::Command;

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
