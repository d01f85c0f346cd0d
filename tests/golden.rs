//! Golden outputs: the CLI run over every sample capture must print exactly what is committed
//! under tests/golden/. Regenerate after an intended change with
//!   UPDATE_GOLDEN=1 cargo test --test golden
//! and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (golden file name, arguments) for every case. Paths are relative to the repository root so
/// the outputs do not depend on where the checkout lives.
fn cases() -> Vec<(String, Vec<String>)> {
    let mut cases = Vec::new();
    let samples = ["coap-basic.pcapng", "coap-observe.pcap", "coap-block2.pcapng", "coap-6lowpan.pcap"];
    for s in samples {
        let stem = s.split('.').next().unwrap_or(s);
        let path = format!("samples/{s}");
        cases.push((format!("{stem}.txt"), vec![path.clone()]));
        cases.push((format!("{stem}.jsonl"), vec!["--format".into(), "json".into(), path.clone()]));
        cases.push((format!("{stem}.verbose.txt"), vec!["-V".into(), path.clone()]));
        cases.push((format!("{stem}.stats.txt"), vec!["stats".into(), path.clone()]));
    }
    cases
}

fn run(args: &[String]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kudoscope"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run kudoscope");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

fn check(name: &str, actual: &str) -> Option<String> {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = match std::fs::read_to_string(&path) {
        Ok(e) => e,
        Err(e) => return Some(format!("{name}: cannot read golden file {}: {e}", path.display())),
    };
    if expected == actual {
        return None;
    }
    let first_diff = expected
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.lines().count().min(actual.lines().count()));
    Some(format!(
        "{name}: output differs from {} at line {}\n  expected: {:?}\n  actual:   {:?}",
        rel(&path),
        first_diff + 1,
        expected.lines().nth(first_diff),
        actual.lines().nth(first_diff)
    ))
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

#[test]
fn golden_outputs_over_samples() {
    let mut failures = Vec::new();
    for (name, args) in cases() {
        let (code, stdout, stderr) = run(&args);
        if code != 0 {
            failures.push(format!("{name}: exit code {code}, stderr: {stderr}"));
            continue;
        }
        if let Some(f) = check(&name, &stdout) {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{} golden mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn output_is_deterministic() {
    for (_, args) in cases().into_iter().take(8) {
        let a = run(&args);
        let b = run(&args);
        assert_eq!(a, b, "two runs of {args:?} differ");
    }
}
