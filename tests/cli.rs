//! CLI behaviour on bad input and on the argument surface: one clear stderr line, exit code 2,
//! never a panic or backtrace; frames before damage are still printed.

use std::path::PathBuf;
use std::process::{Command, Output};

fn kudoscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kudoscope"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run kudoscope")
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kudoscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Exit code 2, exactly one line on stderr that contains `needle`, nothing that looks like a
/// panic, and stdout holding `stdout_lines` lines.
fn assert_clean_failure(out: &Output, needle: &str, stdout_lines: usize) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "expected one stderr line, got: {stderr}");
    assert!(stderr.starts_with("kudoscope: "), "{stderr}");
    assert!(stderr.contains(needle), "stderr {stderr:?} should mention {needle:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
    assert_eq!(stdout.lines().count(), stdout_lines, "stdout: {stdout}");
}

#[test]
fn missing_file() {
    let out = kudoscope(&["/nonexistent/capture.pcap"]);
    assert_clean_failure(&out, "/nonexistent/capture.pcap", 0);
}

#[test]
fn zero_length_file() {
    let p = tmp("empty.pcap", b"");
    let out = kudoscope(&[p.to_str().unwrap()]);
    assert_clean_failure(&out, "empty", 0);
}

#[test]
fn not_a_capture() {
    let p = tmp("text.pcap", b"this is not a capture file, just text\n");
    let out = kudoscope(&[p.to_str().unwrap()]);
    assert_clean_failure(&out, "magic", 0);
    let out = kudoscope(&["stats", p.to_str().unwrap()]);
    assert_clean_failure(&out, "magic", 0);
}

#[test]
fn directory_instead_of_file() {
    let out = kudoscope(&["samples"]);
    assert_clean_failure(&out, "samples", 0);
}

/// A classic pcap (µs, little endian, Ethernet) with the given records.
fn pcap(records: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&4u16.to_le_bytes());
    v.extend_from_slice(&0i32.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&65535u32.to_le_bytes());
    v.extend_from_slice(&1u32.to_le_bytes());
    for (i, r) in records.iter().enumerate() {
        v.extend_from_slice(&(1_767_225_600u32 + i as u32).to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&(r.len() as u32).to_le_bytes());
        v.extend_from_slice(&(r.len() as u32).to_le_bytes());
        v.extend_from_slice(r);
    }
    v
}

/// Ethernet + IPv4 + UDP 40000 -> 5683 carrying `coap` (checksums zero: not verified by default).
fn eth_udp(coap: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = 20 + 8 + coap.len();
    f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
    let ulen = 8 + coap.len();
    f.extend_from_slice(&[0x9c, 0x40, 0x16, 0x33, (ulen >> 8) as u8, ulen as u8, 0, 0]);
    f.extend_from_slice(coap);
    f
}

#[test]
fn truncated_capture_prints_frames_then_fails() {
    // GET /temp, then a record cut short.
    let get = eth_udp(&[0x40, 0x01, 0x12, 0x34, 0xb4, b't', b'e', b'm', b'p']);
    let mut bytes = pcap(&[&get, &get]);
    bytes.truncate(bytes.len() - 5);
    let p = tmp("truncated.pcap", &bytes);
    let out = kudoscope(&[p.to_str().unwrap()]);
    assert_clean_failure(&out, "cut short", 1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("CON GET MID=4660 /temp"), "{stdout}");
}

#[test]
fn malformed_coap_is_a_finding_not_an_error() {
    // TKL 9 is a message format error (RFC 7252 §3).
    let bad = eth_udp(&[0x49, 0x01, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let p = tmp("bad-tkl.pcap", &pcap(&[&bad]));
    let out = kudoscope(&["--format", "json", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let line = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["frame"], 1);
    assert_eq!(v["src"], "192.0.2.1:40000");
    assert_eq!(v["dst"], "192.0.2.2:5683");
    assert_eq!(v["coap"]["complete"], false);
    let kinds: Vec<&str> =
        v["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"coap.bad_token_length"), "{kinds:?}");
}

#[test]
fn json_frame_has_the_documented_keys() {
    let get = eth_udp(&[0x42, 0x01, 0x12, 0x34, 0xab, 0xcd, 0xb4, b't', b'e', b'm', b'p']);
    let p = tmp("get.pcap", &pcap(&[&get]));
    let out = kudoscope(&["-T", "json", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["frame"], 1);
    assert_eq!(v["time"], 0.0);
    assert_eq!(v["epoch"], "1767225600.000000000");
    let c = &v["coap"];
    assert_eq!(c["type"], "CON");
    assert_eq!(c["code"], "GET");
    assert_eq!(c["mid"], 0x1234);
    assert_eq!(c["token"], "abcd");
    assert_eq!(c["payload_len"], 0);
    assert_eq!(c["options"][0]["number"], 11);
    assert_eq!(c["options"][0]["name"], "Uri-Path");
    assert_eq!(c["options"][0]["value"], "temp");
    assert_eq!(c["uri"], "/temp");
    assert_eq!(c["exchange"]["role"], "request");
    assert_eq!(v["findings"], serde_json::json!([]));
}

#[test]
fn broken_pipe_is_quiet() {
    let get = eth_udp(&[0x40, 0x01, 0x12, 0x34, 0xb4, b't', b'e', b'm', b'p']);
    let many: Vec<&[u8]> = std::iter::repeat_n(get.as_slice(), 20_000).collect();
    let p = tmp("many.pcap", &pcap(&many));
    let mut child = Command::new(env!("CARGO_BIN_EXE_kudoscope"))
        .arg(&p)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe.
    {
        use std::io::{BufRead, BufReader};
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.contains("GET"));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn help_describes_the_commands() {
    let out = kudoscope(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["stats", "--format", "-V", "--coap-port", "Exit status"] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}
