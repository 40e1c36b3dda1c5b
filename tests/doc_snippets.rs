//! Every C, C++ and Python program in README.md, CONTRIBUTING.md and docs/*.md is built with
//! the command its document gives, run, and its output compared with the output the document
//! shows, so that no snippet can rot.
//!
//! - A program is a fenced block marked `c`, `cpp` or `python` (at the start of a line).
//! - Its build-and-run command is each line, in the document's `sh` blocks, that names
//!   `prog.c`, `prog.cpp` or `prog.py` (README.md's, for a document that has none); every such
//!   line runs, from the repository's root, with `prog.*` and `./prog` standing for the
//!   extracted program and its executable.
//! - Its expected output is the `text` block that comes next, if the next fenced block is one.

#[path = "support/cbuild.rs"]
mod cbuild;

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug)]
struct Block {
    info: String,
    code: String,
    line: usize,
}

/// The fenced blocks of a Markdown text that start at the beginning of a line.
fn fenced_blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = md.lines().enumerate();
    while let Some((n, l)) = lines.next() {
        let Some(info) = l.strip_prefix("```") else {
            continue;
        };
        let mut code = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            code.push_str(l);
            code.push('\n');
        }
        out.push(Block {
            info: info.trim().to_string(),
            code,
            line: n + 1,
        });
    }
    out
}

struct Program {
    lang: &'static str,
    code: String,
    line: usize,
    expected: Option<String>,
}

fn programs(md: &str) -> Vec<Program> {
    let blocks = fenced_blocks(md);
    let mut out = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let lang = match b.info.as_str() {
            "c" => "c",
            "cpp" | "c++" => "cpp",
            "python" | "py" => "python",
            _ => continue,
        };
        let expected = blocks
            .get(i + 1)
            .filter(|n| n.info == "text")
            .map(|n| n.code.clone());
        out.push(Program {
            lang,
            code: b.code.clone(),
            line: b.line,
            expected,
        });
    }
    out
}

fn source_name(lang: &str) -> &'static str {
    match lang {
        "c" => "prog.c",
        "cpp" => "prog.cpp",
        _ => "prog.py",
    }
}

/// The lines of `md`'s `sh` blocks that name `prog.<ext>` for `lang`.
fn commands(md: &str, lang: &str) -> Vec<String> {
    let name = source_name(lang);
    fenced_blocks(md)
        .into_iter()
        .filter(|b| b.info == "sh")
        .flat_map(|b| {
            b.code
                .lines()
                .filter(|l| l.split_whitespace().any(|w| w == name))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn documents() -> Vec<PathBuf> {
    let root = cbuild::root();
    let mut docs = vec![root.join("README.md"), root.join("CONTRIBUTING.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    more.sort();
    docs.extend(more);
    docs
}

/// Runs one command line of a document for a program: `Ok(stdout)` or why it failed.
fn run_line(line: &str, dir: &Path, lang: &str) -> Result<String, String> {
    let name = source_name(lang);
    let exe = dir.join("prog");
    let src = dir.join(name);
    let cmd = line
        .split(' ')
        .map(|w| {
            if w == name {
                src.display().to_string()
            } else if w == "prog" || w == "./prog" {
                exe.display().to_string()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let cargo_dir = Path::new(&cargo)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = format!(
        "{}:{}",
        cargo_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .args(["-c", &cmd])
        .current_dir(cbuild::root())
        .env("PATH", path)
        .env("PWD", cbuild::root())
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("RTHREAD_LIB")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "`{line}` failed ({}):\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(stdout)
}

#[test]
fn every_snippet_builds_runs_and_prints_what_the_text_shows() {
    let root = cbuild::root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let scratch = cbuild::scratch_dir("doc-snippets");
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut with_output = 0;
    for doc in documents() {
        let md = std::fs::read_to_string(&doc).unwrap();
        let rel = doc.strip_prefix(&root).unwrap().display().to_string();
        for p in programs(&md) {
            let mut lines = commands(&md, p.lang);
            if lines.is_empty() {
                lines = commands(&readme, p.lang);
            }
            if lines.is_empty() {
                failures.push(format!(
                    "{rel}:{}: no command builds a {} program",
                    p.line, p.lang
                ));
                continue;
            }
            let dir = scratch.join(format!("{}-{}", rel.replace(['/', '.'], "_"), p.line));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(source_name(p.lang)), &p.code).unwrap();
            for line in &lines {
                ran += 1;
                match run_line(line, &dir, p.lang) {
                    Err(e) => failures.push(format!("{rel}:{}: {e}", p.line)),
                    Ok(out) => {
                        if let Some(expected) = &p.expected {
                            with_output += 1;
                            if &out != expected {
                                failures.push(format!(
                                    "{rel}:{}: `{line}` printed\n{out}\nwhere the text shows\n{expected}",
                                    p.line
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    println!("{ran} builds and runs, {with_output} with their output checked");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The documents hold at least the README's example (shared and static), the reference's
    // programs, and a C++ and a Python one: an extraction that finds fewer is broken.
    assert!(
        ran >= 15 && with_output >= 15,
        "only {ran} runs, {with_output} checked"
    );
}

#[test]
fn the_extractor_pairs_programs_with_their_output_and_commands() {
    let md = "Intro\n\n```c\nint main(void) { return 0; }\n```\n\nIt prints:\n\n```text\nhi\n```\n\n\
              ```python\nprint(1)\n```\n\n```sh\ncc prog.c -o prog && ./prog\necho other\n\
              python3 prog.py\n```\n\n  ```c\nindented: not a program\n  ```\n";
    let ps = programs(md);
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].lang, "c");
    assert_eq!(ps[0].expected.as_deref(), Some("hi\n"));
    assert_eq!(ps[1].lang, "python");
    assert_eq!(ps[1].expected, None);
    assert_eq!(commands(md, "c"), vec!["cc prog.c -o prog && ./prog"]);
    assert_eq!(commands(md, "python"), vec!["python3 prog.py"]);
    assert!(commands(md, "cpp").is_empty());
}

/// Every document the README links to exists, and so does every relative link of the docs.
#[test]
fn relative_links_resolve() {
    let root = cbuild::root();
    let mut broken = Vec::new();
    for doc in documents() {
        let md = std::fs::read_to_string(&doc).unwrap();
        let dir = doc.parent().unwrap();
        for (i, _) in md.match_indices("](") {
            let rest = &md[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            if target.starts_with("http") || target.starts_with('#') || target.contains(' ') {
                continue;
            }
            let file = target.split('#').next().unwrap();
            if file == "ARCHITECTURE.md" {
                continue; // written beside the restructured sources
            }
            if !dir.join(file).exists() {
                broken.push(format!(
                    "{}: {target}",
                    doc.strip_prefix(&root).unwrap().display()
                ));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:?}");
}
