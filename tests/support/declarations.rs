//! Reading `rthread.h`: the functions it declares, each with the doc comment above it (for
//! `tests/header.rs` and `tests/bad_input_coverage.rs`).

#![allow(dead_code)]

/// The names of the functions `header` declares, each with the comment just above it, in the
/// header's order.
pub fn declared_functions(header: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = header.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        // A declaration starts at column 0; a long one goes on over indented lines (cbindgen
        // wraps at 100 columns), so its first line ends with "," instead of ");".
        if line.starts_with([' ', '#', '*', '/'])
            || line.starts_with("typedef")
            || !(line.ends_with(");") || (line.contains('(') && line.ends_with(',')))
        {
            continue;
        }
        let Some(paren) = line.find('(') else {
            continue;
        };
        let before = &line[..paren];
        let name: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let mut doc = Vec::new();
        let mut j = i;
        while j > 0 && (lines[j - 1].starts_with(" *") || lines[j - 1].starts_with("/**")) {
            j -= 1;
            doc.push(lines[j]);
        }
        doc.reverse();
        out.push((name, doc.join("\n")));
    }
    out
}
