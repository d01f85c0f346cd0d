//! Helpers shared by the root package's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the kudoscope binary from the repository root.
pub fn kudoscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kudoscope"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run kudoscope")
}

/// tshark, or `None` when it is missing and KUDOSCOPE_SKIP_TSHARK=1 (then the caller skips).
/// A missing tshark otherwise fails the test: CI installs it (scripts/install-test-deps).
pub fn tshark() -> Option<PathBuf> {
    let path = std::env::var_os("KUDOSCOPE_TSHARK").map(PathBuf::from).unwrap_or_else(|| "tshark".into());
    if Command::new(&path).arg("--version").output().is_ok_and(|o| o.status.success()) {
        return Some(path);
    }
    if std::env::var("KUDOSCOPE_SKIP_TSHARK").is_ok_and(|v| v == "1") {
        println!("SKIPPED: tshark not found and KUDOSCOPE_SKIP_TSHARK=1");
        return None;
    }
    panic!("tshark not found: install it (scripts/install-test-deps) or set KUDOSCOPE_SKIP_TSHARK=1");
}

/// A fresh temporary directory for one test.
pub fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kudoscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `tshark -n -r FILE <args>` with `WIRESHARK_CONFIG_DIR=config` (when given); stdout lines.
pub fn tshark_lines(tshark: &Path, config: Option<&Path>, file: &Path, args: &[&str]) -> Vec<String> {
    let mut cmd = Command::new(tshark);
    if let Some(c) = config {
        cmd.env("WIRESHARK_CONFIG_DIR", c);
    }
    let out = cmd.arg("-n").arg("-r").arg(file).args(args).output().expect("run tshark");
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
}
