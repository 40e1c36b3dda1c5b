//! Every function of the C face that takes a pointer (a handle, an out-pointer, a buffer, a
//! callback) is an `unsafe extern "C" fn`, so that safe Rust cannot call it with a dangling
//! handle. The compile-fail examples in `src/ffi/mod.rs` show the effect on a few functions;
//! this test checks the whole face, so that a new function cannot forget it.

use std::path::Path;

/// The `extern "C"` functions exported from `src`, as (file, name, is unsafe, parameter text).
fn exported(src: &str) -> Vec<(String, bool, String)> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find("extern \"C\" fn rt_") {
        let before = &rest[..at];
        let is_unsafe = before.trim_end().ends_with("unsafe");
        let is_pub = before
            .trim_end()
            .trim_end_matches("unsafe")
            .trim_end()
            .ends_with("pub");
        let after = &rest[at + "extern \"C\" fn ".len()..];
        let name_end = after.find('(').expect("a parameter list");
        let name = after[..name_end].to_string();
        // The parameter list, up to its matching parenthesis.
        let mut depth = 0;
        let mut end = name_end;
        for (i, c) in after[name_end..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = name_end + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        if is_pub {
            out.push((name, is_unsafe, after[name_end + 1..end].to_string()));
        }
        rest = &after[end..];
    }
    out
}

#[test]
fn every_c_function_that_takes_a_pointer_is_unsafe_to_call_from_rust() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
    let mut checked = 0;
    let mut safe_ones = Vec::new();
    let mut wrong = Vec::new();
    // src/ffi and its subdirectories (a module split into files).
    let mut files = Vec::new();
    let mut dirs = vec![dir];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("src/ffi") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    for path in files {
        let src = std::fs::read_to_string(&path).expect("a source file");
        for (name, is_unsafe, params) in exported(&src) {
            checked += 1;
            let takes_pointer = params.contains('*') || params.contains("Option<");
            // The callback types (`rt_thread_fn`, `rt_hook_fn`, …) are aliases of `Option<fn>`.
            let takes_callback = params.contains("_fn")
                || params.contains("_compare")
                || params.contains("_destructor")
                || params.contains("_action");
            if (takes_pointer || takes_callback) && !is_unsafe {
                wrong.push(format!("{name}({params})"));
            }
            if !is_unsafe {
                safe_ones.push(name);
            }
        }
    }
    assert!(
        checked > 80,
        "found only {checked} exported functions: is the scan broken?"
    );
    assert!(
        wrong.is_empty(),
        "these take pointers but are safe to call from Rust: {wrong:#?}"
    );
    // The safe ones take plain values only; they are few, and named here so that a change is
    // seen.
    safe_ones.sort();
    assert_eq!(
        safe_ones,
        [
            "rt_active_count",
            "rt_dump_on_signal",
            "rt_dump_threads",
            "rt_get_debug",
            "rt_get_ident",
            "rt_get_native_id",
            "rt_interrupt_main",
            "rt_interrupt_main_on_signal",
            "rt_last_error",
            "rt_set_debug",
            "rt_set_exit_wait",
            "rt_shutdown",
            "rt_stack_size_get",
            "rt_status_str",
            "rt_thread_count",
            "rt_timeout_max",
            "rt_version",
            "rt_version_str",
        ]
    );
}
