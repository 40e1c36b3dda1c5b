//! The bad-input matrix, `c-tests/bad_input.c`, covers every function `include/rthread.h`
//! declares: each function `f` has a case `bad_input_f`, listed in `RT_CASES`, whose body calls
//! `f`. A new function in the header fails this test until the matrix checks its bad input.
//!
//! The checker is tested too: against copies of the matrix with a function's calls, or a case,
//! taken out, and against small sources where a name appears only in a comment, a string or a
//! longer name.

#[path = "support/declarations.rs"]
mod declarations;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

const MATRIX: &str = "c-tests/bad_input.c";

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// The functions the committed header declares.
fn header_functions() -> Vec<String> {
    declarations::declared_functions(&read("include/rthread.h"))
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// C source with its comments removed and its string and character literals emptied (the
/// quotes stay), so that a name in a comment or a message is no call. Lengths change; only
/// the code's tokens matter here.
fn code_only(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut star = false;
                for c in chars.by_ref() {
                    if star && c == '/' {
                        break;
                    }
                    star = c == '*';
                }
                out.push(' ');
            }
            '"' | '\'' => {
                out.push(c);
                let mut escaped = false;
                for d in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if d == '\\' {
                        escaped = true;
                    } else if d == c {
                        break;
                    }
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifiers of `code` with the byte offset just past each.
fn identifiers(code: &str) -> impl Iterator<Item = (&str, usize)> {
    let mut start = None;
    code.char_indices()
        .chain(std::iter::once((code.len(), ' ')))
        .filter_map(move |(i, c)| match (start, is_ident(c)) {
            (None, true) => {
                start = Some(i);
                None
            }
            (Some(s), false) => {
                start = None;
                let word = &code[s..i];
                (!word.starts_with(|c: char| c.is_ascii_digit())).then_some((word, i))
            }
            _ => None,
        })
}

/// Whether `code` (comments and literals removed) calls `name`: the identifier itself, not a
/// part of a longer one, followed by `(`.
fn calls(code: &str, name: &str) -> bool {
    identifiers(code).any(|(word, end)| word == name && code[end..].trim_start().starts_with('('))
}

/// The cases `code` defines (`name(void) { body }`, `name` starting with `bad_input_`), each
/// with its body, and the names listed with `RT_CASE(name)`.
fn cases(code: &str) -> (HashMap<String, String>, HashSet<String>) {
    let mut bodies = HashMap::new();
    let mut listed = HashSet::new();
    let mut previous = "";
    for (word, end) in identifiers(code) {
        let rest = code[end..].trim_start();
        if previous == "RT_CASE" {
            listed.insert(word.to_string());
        } else if word.starts_with("bad_input_") {
            if let Some(after) = rest.strip_prefix("(void)") {
                if let Some(body) = after.trim_start().strip_prefix('{') {
                    bodies.insert(word.to_string(), braced(body).to_string());
                }
            }
        }
        previous = word;
    }
    (bodies, listed)
}

/// `s` up to the `}` that closes the `{` just before it (all of `s` if none does).
fn braced(s: &str) -> &str {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &s[..i];
                }
            }
            _ => {}
        }
    }
    s
}

/// What the matrix `src` lacks for each of `functions`, one line per missing function.
fn missing(functions: &[String], src: &str) -> Vec<String> {
    let code = code_only(src);
    let (bodies, listed) = cases(&code);
    let mut out = Vec::new();
    for f in functions {
        let case = format!("bad_input_{f}");
        let problem = match bodies.get(&case) {
            None => format!("{f}: no case {case}(void)"),
            Some(body) if !calls(body, f) => format!("{f}: {case} does not call {f}"),
            Some(_) if !listed.contains(&case) => format!("{f}: RT_CASES does not list {case}"),
            Some(_) => continue,
        };
        out.push(problem);
    }
    out
}

/// `src` with every call of `name` renamed, so that nothing calls `name` any more.
fn without_calls(src: &str, name: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut last = 0;
    for (word, end) in identifiers(src) {
        if word == name && src[end..].trim_start().starts_with('(') {
            out.push_str(&src[last..end]);
            out.push_str("_taken_out");
            last = end;
        }
    }
    out.push_str(&src[last..]);
    out
}

#[test]
fn the_matrix_checks_every_function_of_the_header() {
    let functions = header_functions();
    assert!(
        functions.len() >= 90,
        "the header parser found only {functions:?}"
    );
    let missing = missing(&functions, &read(MATRIX));
    assert!(
        missing.is_empty(),
        "{MATRIX} does not check the bad input of {} function(s) of include/rthread.h:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn a_function_that_is_not_called_is_reported() {
    let functions = header_functions();
    let matrix = read(MATRIX);
    for f in &functions {
        let copy = without_calls(&matrix, f);
        assert!(!calls(&code_only(&copy), f), "{f} is still called");
        assert_eq!(
            missing(&functions, &copy),
            [format!("{f}: bad_input_{f} does not call {f}")],
            "with every call of {f} taken out"
        );
    }
}

#[test]
fn a_case_that_is_missing_or_unlisted_is_reported() {
    let functions = header_functions();
    let matrix = read(MATRIX);
    let unlisted = matrix.replace(
        "RT_CASE(bad_input_rt_lock_acquire),",
        "/* RT_CASE(bad_input_rt_lock_acquire), */",
    );
    assert_ne!(unlisted, matrix);
    assert_eq!(
        missing(&functions, &unlisted),
        ["rt_lock_acquire: RT_CASES does not list bad_input_rt_lock_acquire"]
    );
    let renamed = matrix.replace("bad_input_rt_queue_join(", "bad_input_rt_queue_join_all(");
    assert_ne!(renamed, matrix);
    assert_eq!(
        missing(&functions, &renamed),
        ["rt_queue_join: no case bad_input_rt_queue_join(void)"]
    );
}

#[test]
fn comments_strings_and_longer_names_are_no_calls() {
    let functions: Vec<String> = ["rt_queue_join", "rt_lock_new", "rt_event_set"]
        .map(String::from)
        .to_vec();
    let src = r#"
        static void bad_input_rt_queue_join(void) {
            /* rt_queue_join(q) */ // rt_queue_join(q)
            CHECK(strcmp(msg, "rt_queue_join(q)") == 0 && c == '(');
            rt_queue_join_timeout(q, 0.0); my_rt_queue_join(q); rt_queue_join;
        }
        static void bad_input_rt_lock_new(void) { if (x) { y(); } rt_lock_new (NULL); }
        static void bad_input_rt_event_set(void) { { } }
        static void helper(void) { rt_event_set(e); }
        RT_CASES(RT_CASE(bad_input_rt_queue_join), RT_CASE(bad_input_rt_lock_new),
                 RT_CASE(bad_input_rt_event_set))
    "#;
    assert_eq!(
        missing(&functions, src),
        [
            "rt_queue_join: bad_input_rt_queue_join does not call rt_queue_join",
            "rt_event_set: bad_input_rt_event_set does not call rt_event_set",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The allocation-failure harness, `c-tests/alloc/failing_allocations.c`, covers every function of
// the header too: each function `f` that can allocate is the subject of a case `alloc_f` (listed
// in `RT_CASES`; the file calls `f`); every other one is named in the harness's
// `allocation_free` list and called by its case `allocation_free_functions_allocate_nothing`,
// which checks that it makes no allocation; or it is named in `not_covered`, with the reason. A
// new function in the header fails this test until the harness says which it is.

const ALLOC_HARNESS: &str = "c-tests/alloc/failing_allocations.c";
const NO_ALLOC_CASE: &str = "allocation_free_functions_allocate_nothing";

/// The first string of every item of the C array `name` in `src` (`name[] = { "a", "b" }` or
/// `name[][2] = { {"a", "why"}, ... }`).
fn listed_names(src: &str, name: &str) -> Vec<String> {
    let Some(start) = src.find(&format!("{name}[]")) else {
        return Vec::new();
    };
    let rest = &src[start..];
    let open = rest.find('{').expect("array initialiser");
    let body = braced(&rest[open + 1..]);
    let mut out = Vec::new();
    let mut depth = 0;
    let mut expect_first = true;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' => {
                depth += 1;
                expect_first = true;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => expect_first = true,
            '"' => {
                let end = body[i + 1..].find('"').expect("closed string") + i + 1;
                if expect_first {
                    out.push(body[i + 1..end].to_string());
                    expect_first = false;
                }
                while chars.peek().is_some_and(|&(j, _)| j <= end) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    out
}

/// The body of the function `name(void) { ... }` in `code`, if it is defined there.
fn body_of<'a>(code: &'a str, name: &str) -> Option<&'a str> {
    identifiers(code).find_map(|(word, end)| {
        let rest = code[end..].trim_start();
        (word == name)
            .then(|| rest.strip_prefix("(void)"))
            .flatten()
            .and_then(|after| after.trim_start().strip_prefix('{'))
            .map(braced)
    })
}

/// What the harness `src` lacks for each of `functions`, one line per problem.
fn alloc_missing(functions: &[String], src: &str) -> Vec<String> {
    let code = code_only(src);
    let (_, listed) = cases(&code);
    let free = listed_names(src, "allocation_free");
    let not_covered = listed_names(src, "not_covered");
    let no_alloc_body = body_of(&code, NO_ALLOC_CASE).unwrap_or("");
    let mut out = Vec::new();
    for f in functions {
        let case = format!("alloc_{f}");
        let has_case = listed.contains(&case);
        let is_free = free.contains(f);
        let problem = if has_case && is_free {
            format!("{f}: both a case {case} and listed as allocation-free")
        } else if has_case {
            if calls(&code, f) {
                continue;
            }
            format!("{f}: {case} is listed but nothing calls {f}")
        } else if is_free {
            if calls(no_alloc_body, f) {
                continue;
            }
            format!("{f}: listed as allocation-free but {NO_ALLOC_CASE} does not call it")
        } else if not_covered.contains(f) {
            continue;
        } else {
            format!("{f}: no case {case}, and not listed in allocation_free or not_covered")
        };
        out.push(problem);
    }
    for f in free.iter().chain(&not_covered) {
        if !functions.contains(f) {
            out.push(format!("{f}: listed, but not a function of the header"));
        }
    }
    out
}

#[test]
fn the_allocation_failure_harness_covers_every_function_of_the_header() {
    let functions = header_functions();
    let missing = alloc_missing(&functions, &read(ALLOC_HARNESS));
    assert!(
        missing.is_empty(),
        "{ALLOC_HARNESS} does not cover {} function(s) of include/rthread.h:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
    // Most functions allocate nothing; the harness proves it for each of them.
    let free = listed_names(&read(ALLOC_HARNESS), "allocation_free");
    assert!(free.len() >= 50, "allocation_free lists only {free:?}");
}

#[test]
fn a_function_the_harness_forgets_is_reported() {
    let functions = header_functions();
    let harness = read(ALLOC_HARNESS);
    // An allocating function whose case is not listed.
    let unlisted = harness.replace("RT_CASE(alloc_rt_queue_put),", "");
    assert_ne!(unlisted, harness);
    assert_eq!(
        alloc_missing(&functions, &unlisted),
        [
            "rt_queue_put: no case alloc_rt_queue_put, and not listed in allocation_free or not_covered"
        ]
    );
    // An allocation-free function taken off the list.
    let dropped = harness.replace("\"rt_event_clear\", ", "");
    assert_ne!(dropped, harness);
    assert_eq!(
        alloc_missing(&functions, &dropped),
        [
            "rt_event_clear: no case alloc_rt_event_clear, and not listed in allocation_free or not_covered"
        ]
    );
    // Listed as allocation-free, but never checked.
    let unchecked = harness.replace("NO_ALLOC(rt_event_clear(e));", "");
    assert_ne!(unchecked, harness);
    assert_eq!(
        alloc_missing(&functions, &unchecked),
        [format!(
            "rt_event_clear: listed as allocation-free but {NO_ALLOC_CASE} does not call it"
        )]
    );
    // A function of the header that the harness does not know at all.
    let mut more = functions.clone();
    more.push("rt_not_a_function".to_string());
    assert_eq!(
        alloc_missing(&more, &harness),
        [
            "rt_not_a_function: no case alloc_rt_not_a_function, and not listed in allocation_free or not_covered"
        ]
    );
}
