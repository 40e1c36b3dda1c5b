//! Man pages (section 3) from the header's doc comments: one page per declared function, and
//! `rthread(3)` for the API conventions. `tests/man.rs` keeps the committed pages (`man/man3/`)
//! in sync; `RTHREAD_BLESS=1 cargo test --test man` rewrites them.

#![allow(dead_code)]

/// A page: its file name (`rt_lock_new.3`) and its roff text.
pub struct Page {
    pub file: String,
    pub text: String,
}

/// The doc comment's text, without the comment markers, as lines.
fn comment_lines(doc: &str) -> Vec<String> {
    doc.lines()
        .map(|l| {
            let l = l.trim_end();
            let l = l.strip_prefix("/**").unwrap_or(l);
            let l = l.strip_suffix("*/").unwrap_or(l);
            let l = l.trim_start();
            let l = l.strip_prefix('*').unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l).trim_end().to_string()
        })
        .collect()
}

/// Escapes text for roff and turns `code` into bold.
fn roff(text: &str) -> String {
    let mut out = String::new();
    let mut bold = false;
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '`' => {
                out.push_str(if bold { "\\fR" } else { "\\fB" });
                bold = !bold;
            }
            '-' => out.push_str("\\-"),
            c if !c.is_ascii() => out.push_str(&format!("\\[u{:04X}]", c as u32)),
            _ => out.push(c),
        }
    }
    if bold {
        out.push_str("\\fR");
    }
    // A line starting with . or ' would be a request.
    if out.starts_with('.') || out.starts_with('\'') {
        out.insert_str(0, "\\&");
    }
    out
}

/// The paragraphs of a comment as roff (blank lines become `.PP`; list items stay lines).
fn body(lines: &[String]) -> String {
    let mut out = String::new();
    let mut first = true;
    let mut pending_pp = false;
    for l in lines {
        if l.is_empty() {
            pending_pp = !first;
            continue;
        }
        if pending_pp {
            out.push_str(".PP\n");
            pending_pp = false;
        }
        if l.starts_with("- ") {
            out.push_str(".br\n");
        }
        out.push_str(&roff(l));
        out.push('\n');
        first = false;
    }
    out
}

/// The first sentence, plain, for NAME.
fn summary(lines: &[String]) -> String {
    let mut text = String::new();
    for l in lines.iter().skip_while(|l| l.is_empty()) {
        if l.is_empty() {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(l);
    }
    let end = text
        .match_indices(". ")
        .map(|(i, _)| i)
        .next()
        .unwrap_or(text.len());
    let first = text[..end].trim_end_matches('.').replace('`', "");
    roff(&first)
}

/// The declaration of `name` in `header`, on one line.
fn prototype(header: &str, name: &str) -> String {
    let start = header
        .lines()
        .position(|l| {
            !l.starts_with([' ', '*', '/', '#'])
                && l.contains(&format!(" {name}("))
                && !l.starts_with("typedef")
        })
        .or_else(|| {
            header
                .lines()
                .position(|l| l.contains(&format!("*{name}(")))
        })
        .unwrap_or_else(|| panic!("no declaration of {name}"));
    let mut proto = String::new();
    for l in header.lines().skip(start) {
        if !proto.is_empty() {
            proto.push(' ');
        }
        proto.push_str(l.trim());
        if l.trim_end().ends_with(';') {
            break;
        }
    }
    proto
}

const SOURCE: &str = concat!("rthread ", env!("CARGO_PKG_VERSION"));

/// Every page for `header`: one per function in `functions` (name, doc comment), and rthread.3.
pub fn pages(header: &str, functions: &[(String, String)]) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut names: Vec<&str> = functions.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    for (name, doc) in functions {
        let lines = comment_lines(doc);
        let proto = prototype(header, name);
        let related: Vec<&str> = {
            // The noun: rt_lock for rt_lock_acquire; none for rt_once or rt_version.
            let parts: Vec<&str> = name.splitn(3, '_').collect();
            let stem = if parts.len() == 3 {
                format!("{}_{}", parts[0], parts[1])
            } else {
                name.to_string()
            };
            let stem = stem.as_str();
            names
                .iter()
                .copied()
                .filter(|n| *n != name && n.starts_with(stem) && n[stem.len()..].starts_with('_'))
                .take(12)
                .collect()
        };
        let mut text = format!(
            ".\\\" Generated from include/rthread.h by tests/support/man.rs: do not edit.\n\
             .TH {} 3 \"\" \"{SOURCE}\" \"rthread Library Functions\"\n\
             .SH NAME\n{} \\- {}\n\
             .SH SYNOPSIS\n.nf\n.B #include <rthread.h>\n.PP\n{}\n.fi\n.PP\n\
             Link with \\fI\\-lrthread\\fR.\n\
             .SH DESCRIPTION\n{}",
            name.to_uppercase(),
            roff(name),
            summary(&lines),
            roff(&proto),
            body(&lines),
        );
        text.push_str(".SH SEE ALSO\n");
        let mut see: Vec<String> = related.iter().map(|n| format!(".BR {n} (3),")).collect();
        see.push(".BR rthread (3)".to_string());
        text.push_str(&see.join("\n"));
        text.push('\n');
        pages.push(Page {
            file: format!("{name}.3"),
            text,
        });
    }
    // rthread.3: the header's opening comment (the API conventions) and the list of functions.
    let intro: Vec<String> = header
        .lines()
        .skip_while(|l| !l.starts_with("/*"))
        .skip(1)
        .take_while(|l| !l.starts_with(" */"))
        .map(|l| l.strip_prefix(" *").unwrap_or(l).trim().to_string())
        .collect();
    let mut text = format!(
        ".\\\" Generated from include/rthread.h by tests/support/man.rs: do not edit.\n\
         .TH RTHREAD 3 \"\" \"{SOURCE}\" \"rthread Library Functions\"\n\
         .SH NAME\nrthread \\- Python's threading model (_thread, threading, queue, \
         concurrent.futures) as a C library\n\
         .SH SYNOPSIS\n.nf\n.B #include <rthread.h>\n.fi\n.PP\n\
         Link with \\fI\\-lrthread\\fR, or \\fIpkg\\-config \\-\\-cflags \\-\\-libs rthread\\fR, \
         or CMake's \\fIfind_package(rthread)\\fR and the target \\fIrthread::rthread\\fR.\n\
         .SH DESCRIPTION\n{}",
        body(&intro)
    );
    text.push_str(".SH FUNCTIONS\n");
    for n in &names {
        text.push_str(&format!(".BR {n} (3)\n.br\n"));
    }
    text.push_str(".SH SEE ALSO\nThe guides in the rthread documentation directory (docs/).\n");
    pages.push(Page {
        file: "rthread.3".to_string(),
        text,
    });
    pages
}
