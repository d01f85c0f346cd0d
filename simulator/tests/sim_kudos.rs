//! The KUDOS (samples/kudos/) and OSCORE ID update (samples/idupdate/) samples through the
//! kudoscope CLI:
//!
//! * `kudoscope --format json CAPTURE`, frame by frame: status, context name and generation
//!   (`g0`, `g1`..., `gN-tempM` for CTX_TEMP), inner code, nonce, KUDOS x byte, the exact OSCORE
//!   and KUDOS finding kinds, and the inner Recipient-ID (24) / Recipient-ID-Ack (32) options;
//! * `kudoscope timeline --format json CAPTURE`: the procedures (count per kind, outcome,
//!   initiator, request/response-initiated, mode, observations preserved, both initiated, the
//!   frames and x bytes of their messages, the generations derived).
//!
//! Where kudoscope disagrees with what the scenario intended today, the frame or procedure is
//! listed in [`KNOWN_FRAMES`] / [`KNOWN_PROCEDURES`] with a summary of what kudoscope reports
//! instead and the reading of the draft behind the intent. The test fails when such a report
//! changes (agreement included), so whoever changes the analyzer moves the entry.
//!
//! The independent decryption of every message of these samples is in sim_oscore.rs.

mod common;

use common::*;
use kudoscope_sim::oscore_samples::{FrameExpect, OscoreInfo, ProcExpect, code_name};
use kudoscope_sim::samples::{self, Expect, SampleFile};
use serde_json::Value;
use std::collections::BTreeMap;

/// (capture, frame, what kudoscope reports instead (see [`summary`]), why the intent differs).
#[rustfmt::skip]
const KNOWN_FRAMES: &[(&str, u64, &str, &str)] = &[];

/// (capture, procedure number in the intended list (1-based; 0 = procedures kudoscope shows
/// beyond the intended ones), what the timeline shows instead (see [`proc_summary`]), why).
#[rustfmt::skip]
const KNOWN_PROCEDURES: &[(&str, usize, &str, &str)] = &[];

fn procedure_samples() -> Vec<(SampleFile, OscoreInfo)> {
    oscore_samples().into_iter().filter(|(_, o)| o.procedures.is_some()).collect()
}

/// What kudoscope says about one frame.
#[derive(Debug, PartialEq)]
struct Seen {
    status: Option<String>,
    context: Option<String>,
    generation: Option<String>,
    inner: Option<String>,
    nonce: Option<String>,
    x: Option<u8>,
    oscore_kinds: Vec<String>,
    kudos_kinds: Vec<String>,
    inner_options: Vec<(u16, String)>,
}

fn seen(j: &Value) -> Seen {
    let o = &j["oscore"];
    let s = |v: &Value| v.as_str().map(str::to_string);
    let findings = j["findings"].as_array().unwrap();
    let kinds = |layer: &str| -> Vec<String> {
        let mut k: Vec<String> = findings
            .iter()
            .filter(|f| f["layer"] == layer)
            .map(|f| f["kind"].as_str().unwrap().to_string())
            .collect();
        k.sort();
        k
    };
    Seen {
        status: s(&o["status"]),
        context: s(&o["context"]["name"]),
        generation: s(&o["context"]["generation"]),
        inner: s(&o["inner"]["code"]),
        nonce: s(&o["nonce"]),
        x: o["kudos"]["x"].as_u64().map(|x| x as u8),
        oscore_kinds: kinds("oscore"),
        kudos_kinds: kinds("kudos"),
        inner_options: o["inner"]["options"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|op| {
                        (op["number"].as_u64().unwrap() as u16, op["raw"].as_str().unwrap().to_string())
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// One line: `status context generation x=.. [findings]`.
fn summary(s: &Seen) -> String {
    let mut out = s.status.clone().unwrap_or_else(|| "-".into());
    if let Some(c) = &s.context {
        out.push_str(&format!(" {c}"));
    }
    if let Some(x) = s.x {
        out.push_str(&format!(" x={x:02x}"));
    }
    let k: Vec<&str> = s.oscore_kinds.iter().chain(&s.kudos_kinds).map(String::as_str).collect();
    if !k.is_empty() {
        out.push_str(&format!(" [{}]", k.join(", ")));
    }
    out
}

fn code_label_matches(label: &str, c: u8) -> bool {
    let name = code_name(c);
    if c < 0x20 { label == name } else { label.starts_with(&name) }
}

/// Does kudoscope's generation label match the intended one (`-temp` = any `-tempN`)?
fn generation_matches(got: &str, want: &str) -> bool {
    match want.strip_suffix("-temp") {
        Some(base) => got.strip_prefix(&format!("{base}-temp")).is_some_and(|n| n.parse::<u32>().is_ok()),
        None => got == want,
    }
}

fn check_frame(e: &FrameExpect, nonce: Option<&[u8]>, got: &Seen) -> Vec<String> {
    let mut errs = Vec::new();
    if got.status.as_deref() != e.status {
        errs.push(format!("status {:?}, intended {:?}", got.status, e.status));
        return errs;
    }
    if let Some(root) = &e.context {
        let name = got.context.clone().unwrap_or_default();
        let gen_ok = match (&e.generation, &got.generation) {
            (None, _) => true,
            (Some(w), Some(g)) => generation_matches(g, w),
            (Some(_), None) => false,
        };
        let name_ok = match e.generation.as_deref() {
            Some("g0") => name == *root,
            Some(_) => {
                name.strip_prefix(&format!("{root}/")).is_some_and(|l| Some(l) == got.generation.as_deref())
            }
            None => name == *root || name.starts_with(&format!("{root}/")),
        };
        if !gen_ok || !name_ok {
            errs.push(format!(
                "context {name:?} generation {:?}, intended {root:?} {:?}",
                got.generation, e.generation
            ));
        }
    }
    match (e.inner_code, &got.inner) {
        (None, None) => {}
        (Some(c), Some(l)) if code_label_matches(l, c) => {}
        (c, l) => errs.push(format!("inner code {l:?}, intended {:?}", c.map(code_name))),
    }
    if let (Some(n), Some("decrypted")) = (nonce, e.status)
        && got.nonce.as_deref() != Some(hex(n).as_str())
    {
        errs.push(format!("nonce {:?}, the sender used {}", got.nonce, hex(n)));
    }
    if got.x != e.kudos_x {
        errs.push(format!("x {:?}, intended {:?}", got.x, e.kudos_x));
    }
    let sorted = |v: &[&str]| {
        let mut v: Vec<String> = v.iter().map(|k| k.to_string()).collect();
        v.sort();
        v
    };
    if got.oscore_kinds != sorted(&e.findings) {
        errs.push(format!("OSCORE findings {:?}, intended {:?}", got.oscore_kinds, sorted(&e.findings)));
    }
    if got.kudos_kinds != sorted(&e.kudos_findings) {
        errs.push(format!("KUDOS findings {:?}, intended {:?}", got.kudos_kinds, sorted(&e.kudos_findings)));
    }
    for (n, v) in &e.inner_options {
        if !got.inner_options.contains(&(*n, hex(v))) {
            errs.push(format!("inner option {n} = {} missing from {:?}", hex(v), got.inner_options));
        }
    }
    errs
}

/// A procedure of `timeline --format json`, reduced to what the expectations talk about.
fn proc_summary(p: &Value) -> String {
    let msgs: Vec<String> = p["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| match m["x"]["value"].as_u64() {
            Some(x) => format!("{}:{x:02x}", m["frame"]),
            None => m["frame"].to_string(),
        })
        .collect();
    let derived: Vec<&str> =
        p["derived"].as_array().unwrap().iter().map(|d| d["generation"].as_str().unwrap()).collect();
    format!(
        "{} {} by {} ({}-initiated, {}{}{}) msgs [{}] derived [{}]",
        p["kind"].as_str().unwrap(),
        p["outcome"].as_str().unwrap(),
        p["initiator"].as_str().unwrap(),
        p["initiated_by"].as_str().unwrap(),
        p["mode"].as_str().unwrap(),
        if p["preserve_observations"] == true { ", b=1" } else { "" },
        if p["both_initiated"] == true { ", both" } else { "" },
        msgs.join(" "),
        derived.join(" ")
    )
}

fn expect_summary(e: &ProcExpect) -> String {
    let msgs: Vec<String> = e
        .messages
        .iter()
        .map(|(f, x)| match x {
            Some(x) => format!("{f}:{x:02x}"),
            None => f.to_string(),
        })
        .collect();
    format!(
        "{} {} by {} ({}-initiated, {}{}{}) msgs [{}] derived [{}]",
        e.kind,
        e.outcome,
        e.initiator,
        e.initiated_by,
        e.mode,
        if e.preserve_observations { ", b=1" } else { "" },
        if e.both_initiated { ", both" } else { "" },
        msgs.join(" "),
        e.derived.join(" ")
    )
}

/// Compares an intended procedure with the one kudoscope shows (None: missing).
fn check_proc(e: &ProcExpect, got: Option<&Value>) -> Vec<String> {
    let Some(p) = got else { return vec!["missing from the timeline".into()] };
    let mut errs = Vec::new();
    let field = |k: &str| p[k].as_str().unwrap_or("").to_string();
    for (k, want) in [("outcome", e.outcome), ("initiator", e.initiator), ("initiated_by", e.initiated_by)] {
        if field(k) != want {
            errs.push(format!("{k} {:?}, intended {want:?}", field(k)));
        }
    }
    if e.kind == "kudos" {
        if field("mode") != e.mode {
            errs.push(format!("mode {:?}, intended {:?}", field("mode"), e.mode));
        }
        if p["preserve_observations"].as_bool() != Some(e.preserve_observations)
            || p["both_initiated"].as_bool() != Some(e.both_initiated)
        {
            errs.push(format!(
                "preserve/both {}/{}, intended {}/{}",
                p["preserve_observations"], p["both_initiated"], e.preserve_observations, e.both_initiated
            ));
        }
    }
    let msgs: Vec<(u64, Option<u8>)> = p["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["frame"].as_u64().unwrap(), m["x"]["value"].as_u64().map(|x| x as u8)))
        .collect();
    if msgs != e.messages {
        errs.push(format!("messages {msgs:?}, intended {:?}", e.messages));
    }
    if e.kind == "kudos" {
        let derived: Vec<&str> =
            p["derived"].as_array().unwrap().iter().map(|d| d["generation"].as_str().unwrap()).collect();
        if derived.len() != e.derived.len()
            || derived.iter().zip(&e.derived).any(|(g, w)| !generation_matches(g, w))
        {
            errs.push(format!("derived {derived:?}, intended {:?}", e.derived));
        }
    }
    errs
}

#[test]
fn kudoscope_reports_what_the_kudos_and_id_update_scenarios_intended() {
    let dir = temp_dir("kudos-cli");
    samples::write_all(&dir).unwrap();
    let mut errs = Vec::new();
    let mut paste = Vec::new();
    let (mut frames_checked, mut procs_checked) = (0, 0);
    let mut known_frames_seen = 0;
    let mut known_procs_seen = 0;
    let samples = procedure_samples();
    assert_eq!(samples.len(), 23, "14 KUDOS + 9 ID update captures");
    for (f, o) in &samples {
        let file = dir.join(&f.path);
        assert!(dir.join(&o.keys_path).exists());
        // Frame by frame.
        let out = run_kudoscope(&["--format", "json"], &file);
        let frames: BTreeMap<u64, Value> = out
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|j| (j["frame"].as_u64().unwrap(), j))
            .collect();
        let Expect::Valid { frames: n, .. } = &f.expect else { unreachable!() };
        assert_eq!(frames.len() as u64, *n, "{}: frame count", f.path);
        for e in &o.expects {
            let got = seen(&frames[&e.frame]);
            let nonce =
                o.protected.iter().find(|p| p.frame == e.frame && p.intact).map(|p| p.p.nonce.as_slice());
            let problems = check_frame(e, nonce, &got);
            let now = summary(&got);
            match KNOWN_FRAMES.iter().find(|(p, fr, _, _)| *p == f.path && *fr == e.frame) {
                Some((_, _, reported, _)) => {
                    known_frames_seen += 1;
                    if problems.is_empty() {
                        errs.push(format!(
                            "{} frame {}: kudoscope now reports what was intended: remove it from KNOWN_FRAMES",
                            f.path, e.frame
                        ));
                    } else if now != *reported {
                        errs.push(format!(
                            "{} frame {}: kudoscope reports {now:?}, KNOWN_FRAMES says {reported:?}: {}",
                            f.path,
                            e.frame,
                            problems.join("; ")
                        ));
                    }
                }
                None if !problems.is_empty() => {
                    errs.push(format!("{} frame {}: {}", f.path, e.frame, problems.join("; ")));
                    paste.push(format!("    (\"{}\", {}, \"{now}\", \"\"),", f.path, e.frame));
                }
                None => {}
            }
            frames_checked += 1;
        }
        for (n, j) in &frames {
            if o.expect(*n).is_none() && !j["oscore"].is_null() {
                errs.push(format!("{} frame {n}: unexpected OSCORE record", f.path));
            }
        }
        // The timeline.
        let t: Value =
            serde_json::from_str(&run_kudoscope(&["timeline", "--format", "json"], &file)).unwrap();
        let observed: Vec<&Value> = t["associations"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|a| a["procedures"].as_array().unwrap())
            .collect();
        let intended = o.procedures.as_ref().unwrap();
        let mut used = vec![false; observed.len()];
        let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, e) in intended.iter().enumerate() {
            // The k-th procedure of the same kind.
            let k = by_kind.entry(e.kind).or_default();
            let got =
                observed.iter().enumerate().filter(|(_, p)| p["kind"] == e.kind).nth(*k).map(|(idx, p)| {
                    used[idx] = true;
                    *p
                });
            *k += 1;
            let problems = check_proc(e, got);
            let now = got.map(proc_summary).unwrap_or_else(|| "missing".into());
            match KNOWN_PROCEDURES.iter().find(|(p, n, _, _)| *p == f.path && *n == i + 1) {
                Some((_, _, reported, _)) => {
                    known_procs_seen += 1;
                    if problems.is_empty() {
                        errs.push(format!(
                            "{} procedure {}: the timeline now shows what was intended: remove it from KNOWN_PROCEDURES",
                            f.path,
                            i + 1
                        ));
                    } else if now != *reported {
                        errs.push(format!(
                            "{} procedure {}: timeline shows {now:?}, KNOWN_PROCEDURES says {reported:?}: {}",
                            f.path,
                            i + 1,
                            problems.join("; ")
                        ));
                    }
                }
                None if !problems.is_empty() => {
                    errs.push(format!(
                        "{} procedure {} (intended {}): {}",
                        f.path,
                        i + 1,
                        expect_summary(e),
                        problems.join("; ")
                    ));
                    paste.push(format!("    (\"{}\", {}, \"{now}\", \"\"),", f.path, i + 1));
                }
                None => {}
            }
            procs_checked += 1;
        }
        let extra: Vec<String> =
            observed.iter().zip(&used).filter(|(_, u)| !**u).map(|(p, _)| proc_summary(p)).collect();
        let extra = extra.join(" | ");
        match KNOWN_PROCEDURES.iter().find(|(p, n, _, _)| *p == f.path && *n == 0) {
            Some((_, _, reported, _)) => {
                known_procs_seen += 1;
                if extra != *reported {
                    errs.push(format!(
                        "{}: procedures beyond the intended ones {extra:?}, KNOWN_PROCEDURES says {reported:?}",
                        f.path
                    ));
                }
            }
            None if !extra.is_empty() => {
                errs.push(format!("{}: unintended procedures: {extra}", f.path));
                paste.push(format!("    (\"{}\", 0, \"{extra}\", \"\"),", f.path));
            }
            None => {}
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(known_frames_seen, KNOWN_FRAMES.len(), "every KNOWN_FRAMES entry names a real frame");
    assert_eq!(
        known_procs_seen,
        KNOWN_PROCEDURES.len(),
        "every KNOWN_PROCEDURES entry names a real procedure"
    );
    assert!(
        frames_checked >= 800 && procs_checked >= 120,
        "{frames_checked} frames, {procs_checked} procedures"
    );
    assert!(
        errs.is_empty(),
        "kudoscope disagrees with the scenarios:\n{}\n\nentries:\n{}",
        errs.join("\n"),
        paste.join("\n")
    );
}
