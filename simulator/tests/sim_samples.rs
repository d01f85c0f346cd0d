//! The committed samples/ must be exactly what the generator writes, and an independent
//! dissector (tshark 4.0.17) must see in every valid sample what the scenario scripts say
//! they wrote.

use kudoscope_sim::samples::{self, Expect, SampleFile};
use kudoscope_sim::scenario::Sent;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("samples")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kudoscope-sim-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// All files under `dir`, as '/'-separated relative paths.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn regenerated_samples_are_byte_identical_to_committed() {
    let out = temp_dir("regen");
    let st = Command::new(env!("CARGO_BIN_EXE_kudoscope-sim"))
        .args(["samples", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success(), "kudoscope-sim samples failed: {}", String::from_utf8_lossy(&st.stderr));
    let generated = tree(&out);
    let mut committed = tree(&samples_dir());
    committed.remove("README.md");
    // samples/real/ holds captures of real peers, not simulator output.
    committed.retain(|name, _| !name.starts_with("real/"));
    let gen_names: Vec<&String> = generated.keys().collect();
    let com_names: Vec<&String> = committed.keys().collect();
    assert_eq!(
        gen_names, com_names,
        "samples/ and the generator disagree on the file set; run `cargo run -p kudoscope-sim -- samples`"
    );
    for (name, bytes) in &generated {
        assert!(
            committed[name] == *bytes,
            "samples/{name} differs from what the generator writes ({} vs {} bytes); run `cargo run -p kudoscope-sim -- samples`",
            committed[name].len(),
            bytes.len()
        );
    }
    // And a second run in-process gives the same bytes again (no clock, no randomness).
    for f in samples::all() {
        assert_eq!(generated[&f.path], f.bytes, "{} not deterministic", f.path);
    }
    assert_eq!(
        generated.len(),
        86,
        "34 captures + 6 keys files, 14 KUDOS and 9 ID update captures with their keys"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn help_describes_subcommands() {
    let o = Command::new(env!("CARGO_BIN_EXE_kudoscope-sim")).arg("--help").output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in
        ["samples [--out DIR]", "list [FILE...]", "big --messages N --out FILE", "2026-01-01T00:00:00Z"]
    {
        assert!(text.contains(needle), "--help lacks {needle:?}:\n{text}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_kudoscope-sim")).arg("bogus").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Captures too long to paste into the README appendix: only their first line is there (the
/// whole listing: `cargo run -p kudoscope-sim -- list PATH`).
const LONG_LISTINGS: &[&str] = &["kudos/kudos-100.pcapng"];

#[test]
fn readme_lists_every_sample() {
    let readme = std::fs::read_to_string(samples_dir().join("README.md")).expect("samples/README.md");
    for f in samples::all() {
        assert!(readme.contains(&format!("`{}`", f.path)), "samples/README.md does not describe {}", f.path);
        if LONG_LISTINGS.contains(&f.path.as_str()) {
            let first = f.listing().lines().take(3).collect::<Vec<_>>().join("\n");
            assert!(readme.contains(&first), "samples/README.md appendix lacks the head of {}", f.path);
            continue;
        }
        assert!(
            readme.contains(&f.listing()),
            "samples/README.md appendix is stale for {}: paste `cargo run -p kudoscope-sim -- list` output",
            f.path
        );
    }
}

// ---- tshark cross-checks -----------------------------------------------------------------

/// tshark (`KUDOSCOPE_TSHARK` if set, else /usr/bin/tshark or `tshark` on PATH), or `None`
/// when it is missing and KUDOSCOPE_SKIP_TSHARK=1. Panics with a clear message otherwise.
fn tshark() -> Option<PathBuf> {
    let skip = std::env::var("KUDOSCOPE_SKIP_TSHARK").is_ok_and(|v| v == "1");
    let candidates = match std::env::var_os("KUDOSCOPE_TSHARK") {
        Some(p) => vec![PathBuf::from(p)],
        None => vec![PathBuf::from("/usr/bin/tshark"), PathBuf::from("tshark")],
    };
    for c in &candidates {
        if Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Some(c.clone());
        }
    }
    if skip {
        println!("skipped: tshark not found ({candidates:?}) and KUDOSCOPE_SKIP_TSHARK=1");
        return None;
    }
    panic!(
        "tshark is required for this cross-check but was not found (tried {candidates:?}). \
         Install Wireshark's tshark 4.0.17 (Debian: apt-get install tshark) or set KUDOSCOPE_SKIP_TSHARK=1 to skip."
    );
}

/// Runs tshark with `-T fields` and returns one row per frame (fields tab-separated,
/// repeated occurrences comma-separated), plus stderr.
fn fields(tshark: &Path, file: &Path, fields: &[&str], extra: &[String]) -> (Vec<Vec<String>>, String) {
    let mut cmd = Command::new(tshark);
    cmd.arg("-r").arg(file).args(["-n", "-T", "fields", "-E", "occurrence=a"]);
    cmd.args(["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]);
    cmd.args(extra);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let o = cmd.output().unwrap();
    let rows = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect::<Vec<String>>())
        .collect();
    (rows, String::from_utf8_lossy(&o.stderr).into_owned())
}

const F: &[&str] = &[
    "frame.number",
    "frame.time_epoch",
    "coap.type",
    "coap.mid",
    "coap.code",
    "coap.token",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "udp.srcport",
    "udp.dstport",
    "udp.checksum.status",
    "ip.checksum.status",
    "wpan.fcs_ok",
    "frame.cap_len",
    "frame.len",
];

fn epoch(ts_ns: u64) -> String {
    format!("{}.{:09}", ts_ns / 1_000_000_000, ts_ns % 1_000_000_000)
}

/// Per-file extra expectations: (field, value per frame).
fn extras(path: &str) -> Vec<(&'static str, Vec<&'static str>)> {
    match path {
        "linktypes/ethernet-vlan.pcap" => {
            vec![("vlan.id", vec!["10", "10"]), ("vlan.priority", vec!["3", "3"])]
        }
        "linktypes/ethernet-qinq.pcap" => {
            vec![("ieee8021ad.id", vec!["100", "100"]), ("vlan.id", vec!["10", "10"])]
        }
        "linktypes/sll.pcap" => {
            vec![("sll.pkttype", vec!["4", "0"]), ("sll.etype", vec!["0x0800", "0x0800"])]
        }
        "linktypes/sll2.pcap" => vec![("sll.pkttype", vec!["4", "0"]), ("sll.ifindex", vec!["2", "2"])],
        "linktypes/null.pcap" | "linktypes/loop.pcap" => vec![("null.family", vec!["2", "2"])],
        "linktypes/ipv4-fragmented.pcap" => vec![
            // ip.frag_offset is shown in 8-byte units: 552-byte fragments.
            ("ip.frag_offset", vec!["0", "0", "69", "138"]),
            ("ip.flags.mf", vec!["0", "1", "1", "0"]),
        ],
        "linktypes/ipv6-fragmented.pcap" => vec![
            ("ipv6.fraghdr.offset", vec!["", "0", "153"]),
            ("ipv6.fraghdr.more", vec!["", "1", "0"]),
            ("ipv6.hopopts.nxt", vec!["60", "44", "44"]),
            ("ipv6.fraghdr.nxt", vec!["", "60", "60"]),
            ("ipv6.dstopts.nxt", vec!["17", "", "17"]),
        ],
        "linktypes/ipv6-exthdrs.pcap" => vec![
            ("ipv6.nxt", vec!["0", "0"]),
            ("ipv6.hopopts.nxt", vec!["60", "60"]),
            ("ipv6.dstopts.nxt", vec!["17", "17"]),
        ],
        "linktypes/pcapng-two-sections.pcapng" => {
            vec![("frame.interface_id", vec!["1", "1"]), ("frame.encap_type", vec!["129", "1"])]
        }
        "coap-6lowpan.pcap" | "coap-6lowpan-nofcs.pcap" => vec![
            ("6lowpan.frag.offset", vec!["", "", "", "", "136", "232", "", ""]),
            ("6lowpan.frag.size", vec!["", "", "", "258", "258", "258", "", ""]),
            ("wpan.src16", vec!["", "", "", "", "", "", "0x0001", "0x0002"]),
            (
                "wpan.src64",
                vec![
                    "00:12:4b:00:00:00:00:01",
                    "00:12:4b:00:00:00:00:02",
                    "00:12:4b:00:00:00:00:01",
                    "00:12:4b:00:00:00:00:02",
                    "00:12:4b:00:00:00:00:02",
                    "00:12:4b:00:00:00:00:02",
                    "",
                    "",
                ],
            ),
            ("6lowpan.nhc.udp.ports", vec!["2", "1", "2", "1", "", "", "2", "1"]),
        ],
        "coap-basic.pcapng" => vec![],
        _ => vec![],
    }
}

fn check_valid(
    tshark: &Path,
    dir: &Path,
    f: &SampleFile,
    frames: u64,
    log: &[Sent],
    extra_args: &[String],
) -> Vec<String> {
    let file = dir.join(&f.path);
    let (rows, stderr) = fields(tshark, &file, F, extra_args);
    let mut errs = Vec::new();
    let mut e = |m: String| errs.push(format!("{}: {m}", f.path));
    if !stderr.lines().all(|l| l.contains("Running as user")) {
        e(format!("tshark stderr: {stderr}"));
    }
    if rows.len() as u64 != frames {
        e(format!("tshark shows {} frames, the script wrote {frames}", rows.len()));
    }
    let by_frame: BTreeMap<u64, &Sent> = log.iter().map(|s| (s.frame, s)).collect();
    let with_fcs = f.link_type == 195;
    for r in &rows {
        let get = |i: usize| r.get(i).map(String::as_str).unwrap_or("");
        let n: u64 = get(0).parse().unwrap();
        if with_fcs && get(14) != "1" {
            e(format!("frame {n}: wpan.fcs_ok = {:?}", get(14)));
        }
        if !get(13).is_empty() && get(13).split(',').any(|v| v != "1") {
            e(format!("frame {n}: ip.checksum.status = {:?} (want 1 = good)", get(13)));
        }
        let Some(s) = by_frame.get(&n) else {
            if !get(3).is_empty() {
                e(format!(
                    "frame {n}: tshark shows CoAP MID {} where the script wrote only a fragment",
                    get(3)
                ));
            }
            continue;
        };
        let m = s.msg.as_ref().expect("valid samples log CoAP messages");
        // A frame the snap length cut: tshark cannot verify its UDP checksum (2 = unverified).
        let cut = get(15) != get(16);
        let want = [
            ("frame.time_epoch", 1, epoch(s.ts_ns)),
            ("coap.type", 2, (m.ty as u8).to_string()),
            ("coap.mid", 3, m.mid.to_string()),
            ("coap.code", 4, m.code.to_string()),
            ("coap.token", 5, kudoscope_sim::scenario::hex(&m.token)),
            ("udp.srcport", 10, s.sport.to_string()),
            ("udp.dstport", 11, s.dport.to_string()),
            ("udp.checksum.status", 12, if cut { "2" } else { "1" }.to_string()),
        ];
        for (name, i, v) in want {
            if get(i) != v {
                e(format!("frame {n}: {name} = {:?}, script wrote {v:?} ({})", get(i), s.note));
            }
        }
        let (si, di) = match s.src {
            IpAddr::V4(_) => (6, 7),
            IpAddr::V6(_) => (8, 9),
        };
        if get(si) != s.src.to_string() || get(di) != s.dst.to_string() {
            e(format!(
                "frame {n}: addresses {} -> {}, script wrote {} -> {}",
                get(si),
                get(di),
                s.src,
                s.dst
            ));
        }
    }
    let ex = extras(&f.path);
    if !ex.is_empty() {
        let names: Vec<&str> = ex.iter().map(|(n, _)| *n).collect();
        let (rows, _) = fields(tshark, &file, &names, extra_args);
        for (col, (name, want)) in ex.iter().enumerate() {
            let got: Vec<&str> = rows.iter().map(|r| r.get(col).map(String::as_str).unwrap_or("")).collect();
            if got != *want {
                e(format!("{name}: tshark {got:?}, expected {want:?}"));
            }
        }
    }
    errs
}

#[test]
fn tshark_sees_what_the_scenarios_wrote() {
    let Some(tshark) = tshark() else { return };
    let dir = temp_dir("tshark");
    samples::write_all(&dir).unwrap();
    let mut errs = Vec::new();
    let mut checked = 0;
    for f in samples::all() {
        if let Expect::Valid { frames, log, tshark_args } = &f.expect {
            let mut e = check_valid(&tshark, &dir, &f, *frames, log, tshark_args);
            errs.append(&mut e);
            checked += 1;
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(checked, 48, "valid samples checked");
    assert!(errs.is_empty(), "tshark disagrees with the scenarios:\n{}", errs.join("\n"));
}

#[test]
fn tshark_sees_the_corrupt_set_broken() {
    let Some(tshark) = tshark() else { return };
    let dir = temp_dir("corrupt");
    samples::write_all(&dir).unwrap();
    let run = |name: &str, fl: &[&str]| fields(&tshark, &dir.join(name), fl, &[]);

    // Capture-level damage: what tshark 4.0.17 says (README quotes these).
    let cases = [
        ("corrupt/bad-magic.pcap", "isn't a capture file in a format TShark understands", 0),
        ("corrupt/truncated-record.pcap", "cut short in the middle of a packet", 1),
        ("corrupt/truncated-block.pcapng", "cut short in the middle of a packet", 1),
        (
            "corrupt/block-trailer-mismatch.pcapng",
            "total block lengths (first 1484 and second 1492) don't match",
            1,
        ),
        ("corrupt/caplen-too-large.pcap", "bigger than maximum of 262144", 2),
    ];
    for (name, msg, n) in cases {
        let (rows, stderr) = run(name, &["frame.number"]);
        assert!(stderr.contains(msg), "{name}: tshark stderr {stderr:?} lacks {msg:?}");
        assert_eq!(rows.len(), n, "{name}: frames before the damage");
    }
    let (rows, _) = run("corrupt/empty.pcap", &["frame.number"]);
    assert!(rows.is_empty());
    assert_eq!(std::fs::metadata(dir.join("corrupt/empty.pcap")).unwrap().len(), 0);

    let (rows, _) = run("corrupt/linktype-147.pcap", &["frame.number", "_ws.expert.message"]);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r[1].contains("DLT=147")), "{rows:?}");

    // Layer damage in bad-layers.pcap, frame by frame.
    let (rows, _) =
        run("corrupt/bad-layers.pcap", &["frame.number", "frame.len", "_ws.expert.message", "coap.mid"]);
    assert_eq!(rows.len(), 9);
    let msg = |n: usize| rows[n - 1][2].clone();
    assert_eq!(rows[0][3], rows[8][3], "frames 1 and 9 are the valid exchange");
    assert_eq!(rows[1][1], "10");
    assert!(msg(2).contains("Malformed"), "{}", msg(2));
    assert!(msg(3).contains("Bogus IP header length (12, must be at least 20)"), "{}", msg(3));
    assert!(msg(4).contains("Bad length value 200 > IP payload length"), "{}", msg(4));
    assert!(msg(6).contains("option length isn't 15"), "{}", msg(6));
    assert!(msg(7).contains("option longer than the package"), "{}", msg(7));
    std::fs::remove_dir_all(&dir).unwrap();
}
