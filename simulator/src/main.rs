//! `kudoscope-sim`: writes the sample captures.

use std::path::PathBuf;
use std::process::ExitCode;

const HELP: &str = "\
kudoscope-sim: deterministic CoAP peer simulator that writes kudoscope's sample captures

USAGE:
    kudoscope-sim samples [--out DIR]   write every sample capture under DIR
                                        (default: the workspace's samples/ directory);
                                        byte-identical on every run
    kudoscope-sim list [FILE...]        print each sample's frames as the scenario script
                                        wrote them (frame numbers, type, code, MID, token,
                                        note); only the named files when given, e.g.
                                        `list coap-basic.pcapng`
    kudoscope-sim big --messages N --out FILE [--clients C] [--seed S]
                      [--kudos-every K | --plain]
                                        a large OSCORE capture for benchmarks: N CoAP
                                        messages (request/response pairs, C clients, default
                                        4, one server, AES-CCM-16-64-128, 40-120 bytes each),
                                        streamed to FILE (pcapng) with constant memory; the
                                        keys go to FILE.keys.toml. --kudos-every K (K >= 4):
                                        each association runs a KUDOS execution (forward
                                        flow, FS) every K of its messages. --plain: the same
                                        traffic as unprotected CoAP, no keys file
    kudoscope-sim --help | -h | help    this text

Samples: coap-basic.pcapng, coap-observe.pcap, coap-block2.pcapng, coap-6lowpan.pcap,
coap-6lowpan-nofcs.pcap, linktypes/*, corrupt/*, oscore-*.pcapng, kudos/kudos-*.pcapng and
idupdate/idupdate-*.pcapng, each protected capture with its <capture>.keys.toml (see
samples/README.md).
Timestamps start at 2026-01-01T00:00:00Z; MIDs, tokens and ports come from fixed seeds.
";

fn default_out() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("samples")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            print!("{HELP}");
            if args.is_empty() { ExitCode::from(2) } else { ExitCode::SUCCESS }
        }
        Some("samples") => {
            let mut out = default_out();
            let mut rest = args[1..].iter();
            while let Some(a) = rest.next() {
                match (a.as_str(), rest.next()) {
                    ("--out" | "-o", Some(dir)) => out = PathBuf::from(dir),
                    _ => {
                        eprintln!("kudoscope-sim samples: unexpected argument {a:?} (try --help)");
                        return ExitCode::from(2);
                    }
                }
            }
            match kudoscope_sim::samples::write_all(&out) {
                Ok(files) => {
                    for (p, n) in &files {
                        println!("{n:>7}  {}", out.join(p).display());
                    }
                    println!("{} files written", files.len());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kudoscope-sim: cannot write samples under {}: {e}", out.display());
                    ExitCode::FAILURE
                }
            }
        }
        Some("list") => {
            let wanted = &args[1..];
            for f in kudoscope_sim::samples::all() {
                if !wanted.is_empty() && !wanted.contains(&f.path) {
                    continue;
                }
                print!("{}", f.listing());
            }
            ExitCode::SUCCESS
        }
        Some("big") => big(&args[1..]),
        Some(other) => {
            eprintln!("kudoscope-sim: unknown command {other:?}\n\n{HELP}");
            ExitCode::from(2)
        }
    }
}

fn big(args: &[String]) -> ExitCode {
    let mut cfg = kudoscope_sim::big::BigConfig::default();
    let mut out = None;
    let mut messages = None;
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        if a == "--plain" {
            cfg.plain = true;
            continue;
        }
        let value = rest.next();
        let parsed = match (a.as_str(), value) {
            ("--messages" | "-n", Some(v)) => v.parse().map(|n| messages = Some(n)).is_ok(),
            ("--out" | "-o", Some(v)) => {
                out = Some(PathBuf::from(v));
                true
            }
            ("--clients", Some(v)) => {
                v.parse().ok().filter(|c| (1..=200).contains(c)).map(|c| cfg.clients = c).is_some()
            }
            ("--seed", Some(v)) => v.parse().map(|s| cfg.seed = s).is_ok(),
            ("--kudos-every", Some(v)) => {
                v.parse().ok().filter(|k| *k >= 4).map(|k| cfg.kudos_every = Some(k)).is_some()
            }
            _ => false,
        };
        if !parsed {
            eprintln!("kudoscope-sim big: bad argument {a:?} {value:?} (try --help)");
            return ExitCode::from(2);
        }
    }
    let (Some(n), Some(out)) = (messages, out) else {
        eprintln!("kudoscope-sim big: --messages N and --out FILE are required (try --help)");
        return ExitCode::from(2);
    };
    if cfg.plain && cfg.kudos_every.is_some() {
        eprintln!("kudoscope-sim big: --kudos-every needs OSCORE, not --plain");
        return ExitCode::from(2);
    }
    cfg.messages = n;
    let t = std::time::Instant::now();
    match kudoscope_sim::big::write(&cfg, &out) {
        Ok(s) => {
            println!(
                "{} messages, {} frames, {} bytes (CoAP {}-{} bytes), {} KUDOS executions in {:.2} s\n  capture: {}\n  keys:    {}",
                s.messages,
                s.frames,
                s.bytes,
                s.coap_len.0,
                s.coap_len.1,
                s.kudos,
                t.elapsed().as_secs_f64(),
                s.capture.display(),
                if cfg.plain { "none (--plain)".to_string() } else { s.keys.display().to_string() }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kudoscope-sim big: cannot write {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}
