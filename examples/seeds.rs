//! Builds the C programs in `examples/` against the freshly built `librthread.so`, runs each,
//! prints what it printed, and checks it (the same checks as the C suite).
//!
//!     cargo run --example seeds            # all of them
//!     cargo run --example seeds -- seed002 # those whose name contains "seed002"

#[path = "../tests/support/cbuild.rs"]
mod cbuild;
#[path = "../tests/support/examples.rs"]
mod examples;

fn main() {
    let filters: Vec<String> = std::env::args().skip(1).collect();
    let lib_dir = cbuild::lib_dir();
    let out_dir = cbuild::scratch_dir("examples");
    let mut failed = 0;
    for src in cbuild::c_files(&cbuild::root().join("examples")) {
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        println!(
            "== {name} ({})",
            src.strip_prefix(cbuild::root()).unwrap_or(&src).display()
        );
        let exe = out_dir.join(&name);
        if let Err(e) = cbuild::compile_c(&[&src], &exe, &lib_dir, &[]) {
            println!("compile error:\n{e}");
            failed += 1;
            continue;
        }
        let out = cbuild::command(&exe, &lib_dir)
            .output()
            .expect("the example runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        print!("{stdout}");
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        let verdict = if !out.status.success() {
            Err(format!("exit status {}", out.status))
        } else {
            examples::check(&name, &stdout)
        };
        match verdict {
            Ok(()) => println!("-- {name}: ok\n"),
            Err(e) => {
                println!("-- {name}: FAILED: {e}\n");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        std::process::exit(1);
    }
}
