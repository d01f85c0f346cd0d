//! `--keys` loading, `keys list` and `keys export`.

use crate::cli::{AnalysisArgs, ExportFormat, Format, KeysExportArgs, KeysListArgs};
use crate::{Failure, Outcome, analyse};
use analyzer_core::hex;
use analyzer_core::keys::PeerSlot;
use analyzer_core::keys::{self, KeySet};
use analyzer_core::oscore::store::{ContextStore, KeyUsage, Origin, StoredContext};
use serde::Serialize;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The keys files to use for `capture`: `--keys`, else the default keys file next to it.
fn key_paths(capture: Option<&Path>, explicit: &[PathBuf], no_default: bool) -> Vec<PathBuf> {
    if !explicit.is_empty() {
        return explicit.to_vec();
    }
    if no_default {
        return Vec::new();
    }
    capture.and_then(keys::find_default_keys).into_iter().collect()
}

fn load(paths: &[PathBuf]) -> Result<KeySet, Failure> {
    let set = KeySet::load(paths).map_err(|e| Failure::Capture(e.to_string()))?;
    let mut err = io::stderr().lock();
    for w in set.warnings() {
        let _ = writeln!(err, "kudoscope: warning: {w}");
    }
    Ok(set)
}

/// The context store for analysing `capture`.
pub fn context_store(capture: &Path, args: &AnalysisArgs) -> Result<ContextStore, Failure> {
    let paths = key_paths(Some(capture), &args.keys, args.no_default_keys);
    if paths.is_empty() {
        return Ok(ContextStore::new());
    }
    let set = load(&paths)?;
    ContextStore::load(set.contexts()).map_err(|e| Failure::Capture(e.to_string()))
}

#[derive(Serialize)]
struct KeyUsageJson {
    q: u64,
    v: u64,
    first_frame: Option<u64>,
    last_frame: Option<u64>,
}

#[derive(Serialize)]
struct PeerJson {
    role: &'static str,
    sender_id: String,
    key_usage: KeyUsageJson,
}

#[derive(Serialize)]
struct ContextJson<'a> {
    name: &'a str,
    generation: &'a str,
    parent: Option<&'a str>,
    origin: String,
    bootstrap: bool,
    aead: &'static str,
    hkdf: &'static str,
    id_context: Option<String>,
    master_salt: String,
    /// The master secret when --show-secrets, else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    master_secret: Option<String>,
    master_secret_fingerprint: String,
    peers: [PeerJson; 2],
    limits: LimitsJson,
    opened: u64,
    retired_at: Option<u64>,
}

#[derive(Serialize)]
struct LimitsJson {
    q: u64,
    v: u64,
    l_bytes: u64,
}

fn usage_json(u: &KeyUsage) -> KeyUsageJson {
    KeyUsageJson { q: u.q, v: u.v, first_frame: u.first_frame, last_frame: u.last_frame }
}

fn origin_text(o: &Origin) -> String {
    match o {
        Origin::Loaded { source } => format!("loaded from {source}"),
        Origin::Derived { how, frame } => format!("{how} at frame {frame}"),
    }
}

fn context_json<'a>(store: &'a ContextStore, c: &'a StoredContext, show_secrets: bool) -> ContextJson<'a> {
    let p = c.params();
    let peer = |slot: PeerSlot| PeerJson {
        role: c.slot_names.get(slot),
        sender_id: hex::encode(c.sender_id(slot)),
        key_usage: usage_json(c.usage.get(slot)),
    };
    ContextJson {
        name: &c.name,
        generation: &c.label,
        parent: c.parent.and_then(|id| store.get(id)).map(|p| &*p.name),
        origin: origin_text(&c.origin),
        bootstrap: c.bootstrap,
        aead: p.aead.name(),
        hkdf: p.hkdf.name(),
        id_context: p.id_context.as_deref().map(hex::encode),
        master_salt: hex::encode(&p.master_salt),
        master_secret: show_secrets.then(|| hex::encode(c.master_secret().expose())),
        master_secret_fingerprint: c.master_secret().fingerprint(),
        peers: [peer(PeerSlot::A), peer(PeerSlot::B)],
        limits: LimitsJson { q: c.limits.q, v: c.limits.v, l_bytes: c.limits.l_bytes },
        opened: c.opened,
        retired_at: c.retired_at,
    }
}

pub fn run_list(args: &KeysListArgs) -> Result<(), Failure> {
    let Outcome { analyzer, .. } = analyse(&args.capture, &args.analysis, None, |_| Ok(()))?;
    let store = analyzer.engine().store();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if store.is_empty() {
        writeln!(
            io::stderr(),
            "kudoscope: no OSCORE keys for {} (give --keys, or put {}.keys.toml next to it)",
            args.capture.display(),
            args.capture.display()
        )?;
    }
    for c in store.iter() {
        let j = context_json(store, c, args.show_secrets);
        match args.format {
            Format::Json => {
                serde_json::to_writer(&mut out, &j).map_err(io::Error::from)?;
                writeln!(out)?;
            }
            Format::Text => write_context_text(&mut out, &j)?,
        }
    }
    out.flush()?;
    Ok(())
}

fn write_context_text(out: &mut impl Write, j: &ContextJson<'_>) -> io::Result<()> {
    writeln!(out, "{} [{}]{}", j.name, j.generation, if j.bootstrap { " (KUDOS bootstrap)" } else { "" })?;
    writeln!(out, "  origin:        {}", j.origin)?;
    if let Some(p) = j.parent {
        writeln!(out, "  parent:        {p}")?;
    }
    writeln!(out, "  algorithms:    {}, {}", j.aead, j.hkdf)?;
    writeln!(out, "  id context:    {}", j.id_context.as_deref().map_or("(absent)".into(), show))?;
    writeln!(out, "  master salt:   {}", show(&j.master_salt))?;
    match &j.master_secret {
        Some(s) => writeln!(out, "  master secret: {s}")?,
        None => writeln!(
            out,
            "  master secret: fingerprint {} (--show-secrets to print)",
            j.master_secret_fingerprint
        )?,
    }
    for p in &j.peers {
        writeln!(
            out,
            "  {:<7} sender id {:<16} key used q={} (limit {}), failed v={} (limit {})",
            p.role,
            show(&p.sender_id),
            p.key_usage.q,
            j.limits.q,
            p.key_usage.v,
            j.limits.v
        )?;
    }
    writeln!(out, "  opened:        {} messages", j.opened)?;
    if let Some(f) = j.retired_at {
        writeln!(out, "  retired at:    frame {f}")?;
    }
    writeln!(out)
}

fn show(hex: &str) -> String {
    if hex.is_empty() { "(empty)".into() } else { hex.to_string() }
}

pub fn run_export(args: &KeysExportArgs) -> Result<(), Failure> {
    let paths = key_paths(args.capture.as_deref(), &args.keys, false);
    if paths.is_empty() {
        return Err(Failure::Capture(match &args.capture {
            Some(c) => format!("no keys file found next to {} (give --keys)", c.display()),
            None => "nothing to export: give --keys PATH or a CAPTURE with a keys file next to it".into(),
        }));
    }
    let set = load(&paths)?;
    let text = match args.format {
        ExportFormat::WiresharkUat => {
            let export = keys::export_wireshark_uat(&set).map_err(|e| Failure::Capture(e.to_string()))?;
            let mut err = io::stderr().lock();
            for s in &export.skipped {
                let _ = writeln!(err, "kudoscope: skipped {}: {}", s.name, s.reason);
            }
            export.text
        }
        ExportFormat::Toml => keys::to_toml(set.contexts()),
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
