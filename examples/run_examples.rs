//! Builds the C and C++ programs in `examples/` against the freshly built `librthread.so`, runs
//! each, prints what it printed, and checks it (the same checks as the C suite).
//!
//!     cargo run --example run_examples            # all of them
//!     cargo run --example run_examples -- seed002 # those whose name contains "seed002"

#[path = "../tests/support/cbuild.rs"]
mod cbuild;
#[path = "../tests/support/examples.rs"]
mod examples;

fn main() {
    let filters: Vec<String> = std::env::args().skip(1).collect();
    let lib_dir = cbuild::lib_dir();
    let out_dir = cbuild::scratch_dir("examples");
    let mut failed = 0;
    let dir = cbuild::root().join("examples");
    let c_programs = cbuild::c_files(&dir).into_iter().map(|src| {
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        (name, false, vec![src])
    });
    let cpp_programs = cbuild::cpp_programs(&dir)
        .into_iter()
        .map(|(name, srcs)| (name, true, srcs));
    for (name, is_cpp, sources) in c_programs.chain(cpp_programs) {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let src = &sources[0];
        println!(
            "== {name} ({})",
            src.strip_prefix(cbuild::root()).unwrap_or(src).display()
        );
        let exe = out_dir.join(&name);
        let inputs: Vec<&std::path::Path> = sources.iter().map(|p| p.as_path()).collect();
        let built = if is_cpp {
            cbuild::compile_cxx(&inputs, &exe, &lib_dir, &[])
        } else {
            cbuild::compile_c(&inputs, &exe, &lib_dir, &[])
        };
        if let Err(e) = built {
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
