//! The crate's structure, as src/lib.rs states it: every file uses only modules of lower layers
//! (or its own), and no two files use each other. A look at the `crate::` and `super::` paths
//! of every file in src/ (tests left out), resolved to the file that defines them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom up, as src/lib.rs states them. Modules on one line share a layer and may
/// not use each other.
const LAYERS: &[&[&str]] = &[
    &["status"],
    &["memory"],
    &["time"],
    &["wait"],
    &["debug"],
    &["sync"],
    &["queue", "thread"],
    &["futures"],
    &["ffi"],
];

fn layer(top: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&top))
}

type Module = Vec<String>;

/// Every .rs file under `dir`, with its module path (src/a/b.rs and src/a/b/mod.rs are a::b).
fn modules(dir: &Path, src: &Path, out: &mut BTreeMap<Module, PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            modules(&path, src, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut m: Module = rel
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if m.last().is_some_and(|s| s == "mod") || m == ["lib"] {
                m.pop();
            }
            out.insert(m, path);
        }
    }
}

/// The code of a file without its comments and its inline test module (by convention at the
/// end: a `#[cfg(test)]` or `#[cfg(all(test` module with a body), nor test-only files. A test
/// module in a file of its own (`mod tests;`) ends nothing: the code after it is read.
fn code(path: &Path) -> String {
    if path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .ends_with("tests.rs")
    {
        return String::new();
    }
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if line.starts_with("#[cfg(test)]") || line.starts_with("#[cfg(all(test") {
            let item = lines[i + 1..].iter().find(|l| !l.starts_with("#["));
            if item.is_some_and(|l| l.starts_with("mod ") && l.trim_end().ends_with('{')) {
                break;
            }
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths that start with `crate::` or `super::` in `code`, as segment lists, with the
/// items of `{…}` groups expanded (one level, which is all rustfmt'd `use` lines need here).
fn paths(code: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for root in ["crate", "super"] {
        let pat = format!("{root}::");
        let mut from = 0;
        while let Some(i) = code[from..].find(&pat) {
            let start = from + i;
            from = start + pat.len();
            if start > 0 && code[..start].ends_with(|c: char| is_ident(c) || c == ':') {
                continue;
            }
            let rest = &code[from..];
            let mut segs = Vec::new();
            let mut r = rest;
            loop {
                let end = r.find(|c: char| !is_ident(c)).unwrap_or(r.len());
                if end == 0 {
                    break;
                }
                segs.push(r[..end].to_string());
                r = &r[end..];
                if let Some(next) = r.strip_prefix("::") {
                    r = next;
                } else {
                    break;
                }
            }
            if let Some(group) = r.strip_prefix('{') {
                let close = group.find('}').unwrap_or(group.len());
                for item in group[..close].split(',') {
                    let item = item.split(" as ").next().unwrap().trim();
                    if item.is_empty() || item == "self" {
                        continue;
                    }
                    let mut s = segs.clone();
                    s.extend(item.split("::").map(|x| x.trim().to_string()));
                    out.push((root.to_string(), s));
                }
            }
            out.push((root.to_string(), segs));
        }
    }
    out
}

/// The file-level dependencies of every module.
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    modules(&src, &src, &mut files);
    let resolve = |p: &[String]| -> Option<Module> {
        (0..=p.len())
            .rev()
            .map(|n| p[..n].to_vec())
            .find(|m| files.contains_key(m))
    };
    let mut deps = BTreeMap::new();
    for (m, path) in &files {
        // The module `super` names: the parent of the file's module (src/a/b.rs and
        // src/a/b/mod.rs alike are a::b, whose parent is a).
        let parent: Module = m[..m.len().saturating_sub(1)].to_vec();
        let mut set = BTreeSet::new();
        for (root, mut segs) in paths(&code(path)) {
            let mut base = if root == "crate" {
                Vec::new()
            } else {
                parent.clone()
            };
            while segs.first().is_some_and(|s| s == "super") {
                segs.remove(0);
                base.pop();
            }
            base.extend(segs);
            if let Some(t) = resolve(&base) {
                if &t != m {
                    set.insert(t);
                }
            }
        }
        deps.insert(m.clone(), set);
    }
    deps
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("::")
    }
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let deps = graph();
    let mut wrong = Vec::new();
    for (m, ds) in &deps {
        let Some(top) = m.first() else { continue };
        let mine = layer(top).unwrap_or_else(|| panic!("{top} is in no layer: add it to LAYERS"));
        for d in ds {
            let Some(dtop) = d.first() else { continue };
            if dtop == top {
                continue;
            }
            let theirs = layer(dtop).unwrap_or_else(|| panic!("{dtop} is in no layer"));
            if theirs >= mine {
                wrong.push(format!("{} uses {}", name(m), name(d)));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "uses against the layer order:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_files_use_each_other() {
    let deps = graph();
    let mut circles = BTreeSet::new();
    for (a, ds) in &deps {
        for b in ds {
            // A module's declarations and re-exports of its own children are not uses.
            if b.starts_with(a) || a.starts_with(b) {
                continue;
            }
            if deps.get(b).is_some_and(|bd| bd.contains(a)) {
                let (x, y) = if a < b { (a, b) } else { (b, a) };
                circles.insert(format!("{} <-> {}", name(x), name(y)));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "files that use each other:\n{}",
        circles.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_checker_sees_uses() {
    // The scan must find what it looks for, or the tests above would pass vacuously.
    let deps = graph();
    let m = |s: &str| s.split("::").map(String::from).collect::<Module>();
    assert!(deps[&m("sync::lock")].contains(&m("wait")));
    assert!(deps[&m("thread::registry")].contains(&m("thread::object")));
    assert!(deps[&m("ffi::lock")].contains(&m("ffi::boundary")));
    // queue/ring.rs declares its test module (`mod tests;`) before its `use` lines.
    assert!(deps[&m("queue::ring")].contains(&m("queue")));
}
