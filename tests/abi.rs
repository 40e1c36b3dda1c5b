//! The ABI check, `tools/abi-check.sh` (libabigail's abidw and abidiff against the committed
//! `abi/librthread.abi`): the current library passes, and a baseline with a function the
//! library no longer has fails it, as an incompatible change. Reported as ignored, by name,
//! when abigail-tools is not installed (`.ci/run` installs it).

#[path = "support/cbuild.rs"]
mod cbuild;
#[path = "support/skippable.rs"]
mod skippable;

use std::process::Command;

fn main() {
    skippable::main(&[
        ("abi_matches_the_committed_baseline", matches_baseline),
        ("abi_check_fails_on_a_removed_function", fails_on_removed),
    ]);
}

fn tools() -> skippable::Outcome {
    for tool in ["abidw", "abidiff"] {
        if Command::new(tool).arg("--version").output().is_err() {
            return Err(format!("{tool} is not installed (Debian: abigail-tools)"));
        }
    }
    Ok(())
}

fn check(baseline: Option<&std::path::Path>) -> (bool, String) {
    let mut cmd = Command::new("sh");
    cmd.arg(cbuild::root().join("tools/abi-check.sh"));
    if let Some(b) = baseline {
        cmd.arg("--baseline").arg(b);
    }
    if let Ok(cargo) = std::env::var("CARGO") {
        cmd.env("CARGO", cargo);
    }
    let out = cmd.output().expect("sh runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn matches_baseline() -> skippable::Outcome {
    tools()?;
    let (ok, report) = check(None);
    assert!(ok, "{report}");
    Ok(())
}

fn fails_on_removed() -> skippable::Outcome {
    tools()?;
    let baseline = std::fs::read_to_string(cbuild::root().join("abi/librthread.abi")).unwrap();
    assert!(baseline.contains("'rt_version_str'"));
    let tampered = baseline.replace("rt_version_str", "rt_removed_fn");
    let path = cbuild::scratch_dir("abi").join("tampered.abi");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, tampered).unwrap();
    let (ok, report) = check(Some(&path));
    assert!(!ok, "a removed function passed the check:\n{report}");
    assert!(report.contains("INCOMPATIBLE ABI change"), "{report}");
    assert!(report.contains("1 Removed"), "{report}");
    Ok(())
}
