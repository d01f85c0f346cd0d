//! Helpers for the tshark integration tests: locating the built plugin, installing it for an
//! unprivileged tshark, running tshark, and writing small OSCORE captures.

#![allow(dead_code)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Repository root (plugin-c-abi/..).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The plugin shared object cargo built for this test run: `$KUDOSCOPE_PLUGIN_SO` if set,
/// else `libkudoscope_wireshark.so` next to this test executable (`<target>/<profile>/deps/`,
/// where `cargo test` builds the cdylib together with the rlib the test links; only
/// `cargo build` copies it up to `<target>/<profile>/`, which is the fallback). This follows
/// `CARGO_TARGET_DIR`, `--release` and `--profile`.
pub fn plugin_so() -> PathBuf {
    if let Some(p) = std::env::var_os("KUDOSCOPE_PLUGIN_SO") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("<target>/<profile>/deps");
    let candidates = [deps.join("libkudoscope_wireshark.so"), deps.join("../libkudoscope_wireshark.so")];
    candidates.iter().find(|p| p.is_file()).cloned().unwrap_or_else(|| {
        panic!(
            "libkudoscope_wireshark.so not found in {} or its parent: run the tests through cargo \
             (`cargo test -p plugin-c-abi`) or set KUDOSCOPE_PLUGIN_SO",
            deps.display()
        )
    })
}

/// Effective uid from /proc/self/status (no libc dependency).
fn euid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn make_readable(p: &Path) {
    let mode = if p.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// tshark with and without the plugin, run as an unprivileged user when we are root
/// (Wireshark ignores the personal plugin folder for root).
pub struct Tshark {
    /// World-readable scratch directory of this test process.
    pub work: PathBuf,
    home_plugin: PathBuf,
    home_plain: PathBuf,
    as_nobody: bool,
    pub version: String,
}

static TSHARK: OnceLock<Option<Tshark>> = OnceLock::new();

/// Removes scratch directories of earlier test processes that are gone.
fn sweep_stale(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(pid) = name.strip_prefix("kudoscope-plugin-test-")
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Tshark {
    /// The shared instance; `None` (test skipped) only when tshark is missing and
    /// `KUDOSCOPE_SKIP_TSHARK=1`. A missing tshark otherwise fails the test.
    pub fn get() -> Option<&'static Tshark> {
        TSHARK.get_or_init(Tshark::setup).as_ref()
    }

    fn setup() -> Option<Tshark> {
        let version = match Command::new("tshark").arg("--version").output() {
            Ok(o) if o.status.success() => {
                String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_string()
            }
            other => {
                if std::env::var_os("KUDOSCOPE_SKIP_TSHARK").is_some_and(|v| v == "1") {
                    eprintln!("tshark not available ({other:?}): skipped because KUDOSCOPE_SKIP_TSHARK=1");
                    return None;
                }
                panic!(
                    "tshark is required for the plugin tests (apt-get install tshark libwireshark-dev); \
                     set KUDOSCOPE_SKIP_TSHARK=1 to skip them. Running `tshark --version` gave: {other:?}"
                );
            }
        };
        assert!(
            version.contains("TShark (Wireshark) 4.0."),
            "the plugin is built for Wireshark 4.0, found: {version}"
        );
        let tmp = std::env::temp_dir();
        sweep_stale(&tmp);
        let work = tmp.join(format!("kudoscope-plugin-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        let home_plugin = work.join("home-plugin");
        let home_plain = work.join("home-plain");
        let epan = home_plugin.join(".local/lib/wireshark/plugins/4.0/epan");
        std::fs::create_dir_all(&epan).unwrap();
        std::fs::create_dir_all(&home_plain).unwrap();
        let dst = epan.join("kudoscope.so");
        let so = plugin_so();
        if std::fs::hard_link(&so, &dst).is_err() {
            std::fs::copy(&so, &dst).unwrap();
        }
        for d in [
            work.clone(),
            home_plugin.clone(),
            home_plugin.join(".local"),
            home_plugin.join(".local/lib"),
            home_plugin.join(".local/lib/wireshark"),
            home_plugin.join(".local/lib/wireshark/plugins"),
            home_plugin.join(".local/lib/wireshark/plugins/4.0"),
            epan,
            dst,
            home_plain.clone(),
        ] {
            make_readable(&d);
        }
        Some(Tshark { work, home_plugin, home_plain, as_nobody: euid() == 0, version })
    }

    /// Copies `samples/<rel>` into the scratch directory (world-readable) and returns its path.
    pub fn sample(&self, rel: &str) -> PathBuf {
        let src = repo().join("samples").join(rel);
        let dst = self.work.join("samples").join(rel);
        if !dst.exists() {
            let mut dir = PathBuf::new();
            for c in dst.parent().unwrap().strip_prefix(&self.work).unwrap().components() {
                dir.push(c);
                let full = self.work.join(&dir);
                let _ = std::fs::create_dir(&full);
                make_readable(&full);
            }
            std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
            make_readable(&dst);
        }
        dst
    }

    /// Writes `bytes` to `name` in the scratch directory (world-readable).
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.work.join(name);
        std::fs::write(&p, bytes).unwrap();
        make_readable(&p);
        p
    }

    pub fn command(&self, with_plugin: bool) -> Command {
        self.command_wrapped(with_plugin, &[])
    }

    /// tshark run through `wrapper` (e.g. `["/usr/bin/time", "-f", "%e %M"]`).
    pub fn command_wrapped(&self, with_plugin: bool, wrapper: &[&str]) -> Command {
        let home = if with_plugin { &self.home_plugin } else { &self.home_plain };
        let mut argv: Vec<String> = wrapper.iter().map(|s| s.to_string()).collect();
        if self.as_nobody {
            argv.extend(
                ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env"].map(String::from),
            );
            argv.push(format!("HOME={}", home.display()));
        }
        argv.push("tshark".into());
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        c.env("HOME", home)
            .env_remove("WIRESHARK_PLUGIN_DIR")
            .env_remove("WIRESHARK_CONFIG_DIR")
            .env("LC_ALL", "C");
        c
    }

    /// Runs tshark (with or without the plugin) with `args`.
    pub fn run(&self, with_plugin: bool, args: &[&str]) -> Output {
        self.command(with_plugin).args(args).output().expect("run tshark")
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Rows of `-T fields` output (tab-separated).
pub fn rows(o: &Output) -> Vec<Vec<String>> {
    stdout(o).lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

// ------------------------------------------------------------------ capture writing

/// Ethernet II / IPv4 / UDP around `payload` (RFC 791 header checksum; UDP checksum 0, which
/// IPv4 allows).
pub fn eth_ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + 8 + payload.len()) as u16;
    let mut ip = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0x40, 0, 64, 17, 0, 0];
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let mut sum: u32 = ip.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let ck = !(sum as u16);
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    f.extend_from_slice(&ip);
    let ulen = (8 + payload.len()) as u16;
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&ulen.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// A classic pcap writer (microsecond timestamps, LINKTYPE_ETHERNET).
pub struct Pcap<W: Write> {
    out: W,
}

impl<W: Write> Pcap<W> {
    pub fn new(mut out: W) -> Self {
        let mut h = Vec::new();
        h.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&65535u32.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        out.write_all(&h).unwrap();
        Pcap { out }
    }

    pub fn frame(&mut self, micros: u64, data: &[u8]) {
        let mut h = Vec::with_capacity(16);
        h.extend_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
        h.extend_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
        h.extend_from_slice(&(data.len() as u32).to_le_bytes());
        h.extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.out.write_all(&h).unwrap();
        self.out.write_all(data).unwrap();
    }

    pub fn finish(mut self) -> W {
        self.out.flush().unwrap();
        self.out
    }
}

/// One CoAP message over UDP: `first` = version/type/TKL byte, one OSCORE option (9) with
/// `oscore`, then the payload.
pub fn coap(first: u8, code: u8, mid: u16, token: &[u8], oscore: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut m = vec![first | token.len() as u8, code];
    m.extend_from_slice(&mid.to_be_bytes());
    m.extend_from_slice(token);
    if oscore.len() < 13 {
        m.push(0x90 | oscore.len() as u8);
    } else {
        m.push(0x9d);
        m.push((oscore.len() - 13) as u8);
    }
    m.extend_from_slice(oscore);
    if !payload.is_empty() {
        m.push(0xff);
        m.extend_from_slice(payload);
    }
    m
}

/// A benchmark capture from `kudoscope-sim big` (`messages` OSCORE messages, 4 clients, one
/// server; keys in `<path>.keys.toml`).
pub fn write_big_capture(path: &Path, messages: u64) -> PathBuf {
    let cfg = kudoscope_sim::big::BigConfig { messages, ..Default::default() };
    let summary = kudoscope_sim::big::write(&cfg, path).unwrap();
    assert_eq!(summary.messages, messages);
    summary.keys
}

/// PROTOCOLS.md §3.10: the KUDOS request (d flag, x = 0x07, nonce N1) and response
/// (x = 0x47, nonce N2) protected with the RFC 8613 C.1 context.
pub const KUDOS_REQ: &str =
    "44025d1f000039749c89010007018a278f7faab55affeba8aa1783f5a7ae1e4130301bc3bfb80899bae3e7715af783dc40";
pub const KUDOS_RESP: &str = "64445d1f000039749c8101004725a8991cd700ac01ff2c20888857a8dcacbd";

pub fn kudos_capture() -> Vec<u8> {
    let h = |s: &str| analyzer_core::hex::decode(s).unwrap();
    let mut pcap = Pcap::new(Vec::new());
    pcap.frame(1_000_000, &eth_ipv4_udp([192, 0, 2, 1], [192, 0, 2, 2], 40000, 5683, &h(KUDOS_REQ)));
    pcap.frame(1_002_000, &eth_ipv4_udp([192, 0, 2, 2], [192, 0, 2, 1], 5683, 40000, &h(KUDOS_RESP)));
    pcap.finish()
}
