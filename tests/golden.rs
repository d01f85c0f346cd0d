//! Golden outputs: the CLI run over every sample capture must print exactly what is committed
//! under tests/golden/. Regenerate after an intended change with
//!   UPDATE_GOLDEN=1 cargo test --test golden
//! and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The synthetic OSCORE samples (keys next to each capture): every AEAD, several contexts,
/// the audit findings (nonce reuse, replay, failures, key-usage limits).
const OSCORE_SAMPLES: [&str; 6] = [
    "oscore-algorithms",
    "oscore-multi-context",
    "oscore-nonce-reuse",
    "oscore-replay",
    "oscore-failures",
    "oscore-key-limits",
];

/// The OSCORE ID update samples (samples/idupdate/).
const IDUPDATE_SAMPLES: [&str; 9] = [
    "idupdate-success",
    "idupdate-failure-acks",
    "idupdate-abort-too-long",
    "idupdate-in-kudos",
    "idupdate-migration-careful",
    "idupdate-careless-early-ids",
    "idupdate-careless-old-kid",
    "idupdate-careless-ssn",
    "idupdate-careless-counters",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (golden file name, arguments) for every case. Paths are relative to the repository root so
/// the outputs do not depend on where the checkout lives.
fn cases() -> Vec<(String, Vec<String>)> {
    let mut cases = Vec::new();
    let mut add =
        |name: String, args: &[&str]| cases.push((name, args.iter().map(|a| a.to_string()).collect()));
    // Plain CoAP samples: summary, JSON, full tree, stats.
    for s in ["coap-basic.pcapng", "coap-observe.pcap", "coap-block2.pcapng", "coap-6lowpan.pcap"] {
        let stem = s.split('.').next().unwrap_or(s);
        let path = format!("samples/{s}");
        add(format!("{stem}.txt"), &[&path]);
        add(format!("{stem}.jsonl"), &["--format", "json", &path]);
        add(format!("{stem}.verbose.txt"), &["-V", &path]);
        add(format!("{stem}.stats.txt"), &["stats", &path]);
    }
    add("coap-6lowpan-nofcs.txt".into(), &["samples/coap-6lowpan-nofcs.pcap"]);
    // Every link type carries the same exchange.
    for s in [
        "ethernet.pcap",
        "ethernet-vlan.pcap",
        "ethernet-qinq.pcap",
        "sll.pcap",
        "sll2.pcap",
        "null.pcap",
        "loop.pcap",
        "raw.pcap",
        "ipv4.pcap",
        "ipv6-exthdrs.pcap",
        "ipv4-fragmented.pcap",
        "ipv6-fragmented.pcap",
        "pcap-be-ns.pcap",
        "pcapng-two-sections.pcapng",
    ] {
        let stem = s.split('.').next().unwrap_or(s);
        add(format!("linktypes/{stem}.txt"), &[&format!("samples/linktypes/{s}")]);
    }
    // Damaged layers become findings (the capture itself is readable).
    add("corrupt/bad-layers.txt".into(), &["samples/corrupt/bad-layers.pcap"]);
    add("corrupt/bad-layers.jsonl".into(), &["--format", "json", "samples/corrupt/bad-layers.pcap"]);
    add("corrupt/linktype-147.txt".into(), &["samples/corrupt/linktype-147.pcap"]);
    // Real OSCORE captures, decrypted with the keys found next to them.
    for (dir, cap) in [
        ("d01_aiocoap_aiocoap", "d01_aiocoap_aiocoap.pcapng"),
        ("d02_libcoap_libcoap", "d02_libcoap_libcoap.pcapng"),
    ] {
        let path = format!("samples/real/{dir}/{cap}");
        let stem = &dir[..3];
        add(format!("real/{stem}.txt"), &[&path]);
        add(format!("real/{stem}.jsonl"), &["--format", "json", &path]);
        add(format!("real/{stem}.stats.txt"), &["stats", &path]);
        add(format!("real/{stem}.keys.txt"), &["keys", "list", &path]);
    }
    add(
        "real/d01.verbose.txt".into(),
        &["-V", "samples/real/d01_aiocoap_aiocoap/d01_aiocoap_aiocoap.pcapng"],
    );
    // Synthetic OSCORE samples (keys next to each capture): every AEAD, several contexts, the
    // audit findings (nonce reuse, replay, failures, key-usage limits).
    for s in OSCORE_SAMPLES {
        let path = format!("samples/{s}.pcapng");
        add(format!("oscore/{s}.txt"), &[&path]);
        add(format!("oscore/{s}.jsonl"), &["--format", "json", &path]);
        add(format!("oscore/{s}.stats.txt"), &["stats", &path]);
        add(format!("oscore/{s}.keys.txt"), &["keys", "list", &path]);
    }
    add("oscore/oscore-failures.verbose.txt".into(), &["-V", "samples/oscore-failures.pcapng"]);
    // KUDOS samples (samples/kudos/): summary and timeline ladder of every flow, JSON of the
    // basic flow and of the violations, stats of the 100 executions.
    for s in [
        "kudos-fs-request",
        "kudos-fs-response",
        "kudos-both-initiate",
        "kudos-lost-convergent",
        "kudos-twice",
        "kudos-no-fs",
        "kudos-lost-final-response",
        "kudos-observe",
        "kudos-retention",
        "kudos-no-length-prefixes",
        "kudos-violations",
        "kudos-downgrade",
        "kudos-unexpected-convergent",
        "kudos-100",
    ] {
        let path = format!("samples/kudos/{s}.pcapng");
        if s != "kudos-100" {
            add(format!("kudos/{s}.txt"), &[&path]);
        }
        add(format!("kudos/{s}.timeline.txt"), &["timeline", &path]);
    }
    for s in ["kudos-fs-request", "kudos-violations"] {
        let path = format!("samples/kudos/{s}.pcapng");
        add(format!("kudos/{s}.jsonl"), &["--format", "json", &path]);
        add(format!("kudos/{s}.timeline.json"), &["timeline", "--format", "json", &path]);
    }
    add("kudos/kudos-100.stats.txt".into(), &["stats", "samples/kudos/kudos-100.pcapng"]);
    add("kudos/kudos-observe.keys.txt".into(), &["keys", "list", "samples/kudos/kudos-observe.pcapng"]);
    // OSCORE ID update samples (samples/idupdate/): summaries; JSON with the inner
    // Recipient-ID / Recipient-ID-Ack options of the stand-alone run; the timeline of the run
    // inside KUDOS.
    for s in IDUPDATE_SAMPLES {
        add(format!("idupdate/{s}.txt"), &[&format!("samples/idupdate/{s}.pcapng")]);
    }
    add(
        "idupdate/idupdate-success.jsonl".into(),
        &["--format", "json", "samples/idupdate/idupdate-success.pcapng"],
    );
    add(
        "idupdate/idupdate-in-kudos.timeline.txt".into(),
        &["timeline", "samples/idupdate/idupdate-in-kudos.pcapng"],
    );
    // `kudoscope audit` (docs/audit.md): privacy items per boundary, observer's view, findings.
    for s in OSCORE_SAMPLES {
        let path = format!("samples/{s}.pcapng");
        add(format!("audit/{s}.txt"), &["audit", &path]);
        add(format!("audit/{s}.json"), &["audit", "--format", "json", &path]);
    }
    for (dir, stem) in [("d01_aiocoap_aiocoap", "d01"), ("d02_libcoap_libcoap", "d02")] {
        let path = format!("samples/real/{dir}/{dir}.pcapng");
        add(format!("audit/real-{stem}.txt"), &["audit", &path]);
    }
    add("audit/coap-basic.txt".into(), &["audit", "samples/coap-basic.pcapng"]);
    // The ID-update captures: privacy items per ID change and migration.
    {
        for s in IDUPDATE_SAMPLES {
            let path = format!("samples/idupdate/{s}.pcapng");
            add(format!("audit/idupdate/{s}.txt"), &["audit", &path]);
            add(format!("audit/idupdate/{s}.json"), &["audit", "--format", "json", &path]);
        }
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
