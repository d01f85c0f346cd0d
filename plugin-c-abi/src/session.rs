//! Per-capture analysis state, independent of Wireshark (unit-testable in plain Rust).
//!
//! Wireshark dissects every frame once in order (the first pass, `fd->visited == false`) and
//! later again in any order (GUI clicks, filters, `tshark -2`). The session runs
//! analyzer-core on the first pass only and keeps a compact per-frame result, keyed by frame
//! number, that later passes render from.

use analyzer_core::analysis::{Analyzer, AnalyzerConfig, CoapRecord, FrameRecord};
use analyzer_core::capture::{LinkType, RawFrame};
use analyzer_core::coap::message::Message;
use analyzer_core::finding::SpanSource;
use analyzer_core::keys::KeySet;
use analyzer_core::net::Endpoint;
use analyzer_core::oscore::option::OscoreOption;
use analyzer_core::oscore::store::ContextStore;
use analyzer_core::time::Nanos;
use analyzer_core::timeline::FrameEvent;
use analyzer_core::{Finding, Timestamp};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// What became of the keys preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysStatus {
    /// The preference is empty: protected messages are parsed, not opened.
    NotConfigured,
    Loaded {
        path: String,
        contexts: usize,
        warnings: Vec<String>,
    },
    /// The file could not be read or parsed (the message never contains a secret).
    Failed {
        path: String,
        error: String,
    },
}

impl KeysStatus {
    /// One line for the expert info / stderr.
    pub fn describe(&self) -> String {
        match self {
            KeysStatus::NotConfigured => "no keys file configured (preference kudoscope.keys)".into(),
            KeysStatus::Loaded { path, contexts, .. } => format!("{contexts} OSCORE context(s) from {path}"),
            KeysStatus::Failed { path, error } => {
                format!("keys file {path} not used: {error}; OSCORE messages are not decrypted")
            }
        }
    }
}

/// Loads the keys file named by the preference (any format `kudoscope --keys` reads).
pub fn load_keys(path: Option<&str>) -> (ContextStore, KeysStatus) {
    let Some(path) = path.map(str::trim).filter(|p| !p.is_empty()) else {
        return (ContextStore::new(), KeysStatus::NotConfigured);
    };
    let failed = |error: String| (ContextStore::new(), KeysStatus::Failed { path: path.to_string(), error });
    let set = match KeySet::load(&[PathBuf::from(path)]) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string()),
    };
    let warnings = set.warnings().iter().map(|w| w.to_string()).collect();
    match ContextStore::load(set.contexts()) {
        Ok(store) => {
            let contexts = set.contexts().len();
            (store, KeysStatus::Loaded { path: path.to_string(), contexts, warnings })
        }
        Err(e) => failed(e.to_string()),
    }
}

/// The stored result of one frame: what [`analyzer_core::dissect::dissect`] needs from the
/// frame's [`FrameRecord`], minus what can be read again from the frame bytes or is shown by
/// Wireshark itself (see [`Stored::new`]); [`Stored::record`] rebuilds the record.
///
/// Also holds the frame's [`DataSourceCache`].
#[derive(Debug)]
pub struct Stored {
    pub number: u64,
    pub ts: Timestamp,
    pub rel_time: Nanos,
    pub link_type: LinkType,
    pub cap_len: usize,
    pub orig_len: u32,
    pub src: Option<Endpoint>,
    pub dst: Option<Endpoint>,
    /// Only when the CoAP message lives in a reassembled datagram.
    pub reassembled_from: Vec<u64>,
    pub reassembled_bytes: Option<Vec<u8>>,
    /// The CoAP record with its outer message emptied (re-parsed from the frame bytes by
    /// [`Stored::record`]); boxed, so frames without CoAP stay small.
    pub coap: Option<Box<CoapRecord>>,
    /// Length of the outer CoAP message at `coap.offset` in its data source.
    pub message_len: usize,
    pub findings: Vec<Finding>,
    /// Key-management procedure events (KUDOS, ID update) this frame caused.
    pub events: Vec<FrameEvent>,
    pub cache: DataSourceCache,
}

/// Addresses of the data-source copies the plugin made in Wireshark's file scope for one
/// frame (0 = not made yet): made on first display, reused on later ones.
#[derive(Debug, Default)]
pub struct DataSourceCache {
    pub decrypted: AtomicUsize,
    pub reassembled: AtomicUsize,
}

impl DataSourceCache {
    /// The slot for `which` (none for the frame itself).
    pub fn slot(&self, which: SpanSource) -> Option<&AtomicUsize> {
        match which {
            SpanSource::Decrypted => Some(&self.decrypted),
            SpanSource::Reassembled => Some(&self.reassembled),
            SpanSource::Frame => None,
        }
    }
}

/// An empty message (the placeholder for the outer message until it is parsed again).
fn hollow_message() -> Message {
    let mut m = Message::parse(&[]);
    m.findings = Vec::new();
    m
}

impl Stored {
    /// Keeps what `dissect` shows from the CoAP layer up: the link/network/transport layer
    /// lists are dropped (Wireshark dissects those itself), as is the reassembled datagram
    /// unless the CoAP message lives in it; the outer message bytes are dropped (the frame has
    /// them); per-layer finding copies are dropped (`findings` holds them all, relocated), and
    /// so is the plaintext copy (the inner message holds the same bytes) and the parsed OSCORE
    /// option (parsed again from the message).
    pub fn new(r: FrameRecord) -> Stored {
        Stored::with_cache(r, DataSourceCache::default())
    }

    /// [`Stored::new`], keeping data-source copies already made for this frame.
    pub fn with_cache(r: FrameRecord, cache: DataSourceCache) -> Stored {
        let FrameRecord {
            number,
            ts,
            rel_time,
            link_type,
            cap_len,
            orig_len,
            layers: _,
            reassembled_layers: _,
            reassembled_from,
            reassembled_bytes,
            src,
            dst,
            coap,
            mut findings,
            earlier_findings: _,
            events,
        } = r;
        let in_reassembled = coap.as_ref().is_some_and(|c| c.source == SpanSource::Reassembled);
        let (reassembled_from, reassembled_bytes) =
            if in_reassembled { (reassembled_from, reassembled_bytes) } else { (Vec::new(), None) };
        let mut message_len = 0;
        let coap = coap.map(|mut c| {
            message_len = c.message.bytes.len();
            c.message = hollow_message();
            c.exchange.findings = Vec::new();
            if let Some(o) = &mut c.oscore {
                o.findings = Vec::new();
                // The option is parsed again from the message (OscoreOption::parse of the
                // bytes at option_range, as the engine does).
                if o.option_range.is_some() {
                    o.option = None;
                }
                if let Some(inner) = &mut o.inner {
                    inner.findings = Vec::new();
                }
                if let Some(x) = &mut o.inner_exchange {
                    x.findings = Vec::new();
                }
            }
            c
        });
        findings.shrink_to_fit();
        Stored {
            number,
            ts,
            rel_time,
            link_type,
            cap_len,
            orig_len,
            src,
            dst,
            reassembled_from,
            reassembled_bytes,
            coap,
            message_len,
            findings,
            events,
            cache,
        }
    }

    /// Where the outer CoAP message lies: its data source and byte range there.
    pub fn message_range(&self) -> Option<(SpanSource, Range<usize>)> {
        let c = self.coap.as_ref()?;
        Some((c.source, c.offset..c.offset.checked_add(self.message_len)?))
    }

    /// The bytes of the outer message, taken from the frame (`frame`) or the stored
    /// reassembled datagram.
    pub fn message_bytes<'a>(&'a self, frame: &'a [u8]) -> Option<&'a [u8]> {
        let (source, range) = self.message_range()?;
        match source {
            SpanSource::Frame => frame.get(range),
            SpanSource::Reassembled => self.reassembled_bytes.as_ref()?.get(range),
            SpanSource::Decrypted => None,
        }
    }

    /// The record for [`analyzer_core::dissect::dissect`]: the outer message is parsed again
    /// from `message` (its bytes, see [`Stored::message_bytes`]; `None` leaves it empty).
    pub fn record(&self, message: Option<&[u8]>) -> FrameRecord {
        let coap = self.coap.as_ref().map(|c| {
            let mut c = c.clone();
            if let Some(bytes) = message {
                c.message = Message::parse(bytes);
                c.message.findings = Vec::new();
                if let Some(o) = &mut c.oscore
                    && o.option.is_none()
                    && let Some(value) = o.option_range.as_ref().and_then(|r| c.message.bytes.get(r.clone()))
                {
                    o.option = Some(OscoreOption::parse(value));
                }
            }
            c
        });
        FrameRecord {
            number: self.number,
            ts: self.ts,
            rel_time: self.rel_time,
            link_type: self.link_type,
            cap_len: self.cap_len,
            orig_len: self.orig_len,
            layers: Vec::new(),
            reassembled_layers: Vec::new(),
            reassembled_from: self.reassembled_from.clone(),
            reassembled_bytes: self.reassembled_bytes.clone(),
            src: self.src,
            dst: self.dst,
            coap,
            findings: self.findings.clone(),
            earlier_findings: Vec::new(),
            events: self.events.clone(),
        }
    }

    /// The decrypted plaintext (the inner message's bytes), if any.
    pub fn plaintext(&self) -> Option<&[u8]> {
        self.coap.as_ref()?.oscore.as_ref()?.plaintext()
    }
}

/// Whether the plugin shows anything for a record.
pub fn touched(r: &FrameRecord) -> bool {
    r.coap.is_some() || !r.findings.is_empty() || !r.events.is_empty()
}

/// One capture's analysis.
#[derive(Debug)]
pub struct Session {
    analyzer: Analyzer,
    /// Index = frame number - 1; `None` for frames the analysis did not touch.
    frames: Vec<Option<Arc<Stored>>>,
    /// The highest frame number analysed (frames arrive in order on the first pass).
    last: u64,
    keys: KeysStatus,
    /// Whether the keys status was reported (expert info on the first annotated frame).
    keys_reported: bool,
}

impl Session {
    pub fn new(keys_path: Option<&str>) -> Session {
        let (store, keys) = load_keys(keys_path);
        Session {
            analyzer: Analyzer::with_contexts(AnalyzerConfig::default(), store),
            frames: Vec::new(),
            last: 0,
            keys,
            keys_reported: false,
        }
    }

    pub fn keys(&self) -> &KeysStatus {
        &self.keys
    }

    /// The keys status to report once (on the first frame the plugin annotates), when it is
    /// worth a note: a file that failed to load.
    pub fn take_keys_report(&mut self) -> Option<String> {
        if self.keys_reported {
            return None;
        }
        self.keys_reported = true;
        match &self.keys {
            KeysStatus::Failed { .. } => Some(self.keys.describe()),
            _ => None,
        }
    }

    /// Analyses `frame` if it is the next one in capture order (the first pass) and returns its
    /// full record when the plugin shows something for it; frames at or below the last
    /// analysed number are not analysed again (`None`). The caller stores the record with
    /// [`Session::store`] (after showing it, so the first pass needs no rebuild).
    pub fn analyze(&mut self, frame: &RawFrame) -> Option<FrameRecord> {
        if frame.number <= self.last {
            return None;
        }
        self.last = frame.number;
        let mut record = self.analyzer.process(frame);
        // Findings about earlier frames (e.g. a reassembly given up) go to those frames,
        // where later passes (GUI) show them.
        for (n, f) in std::mem::take(&mut record.earlier_findings) {
            self.attach_late(n, f);
        }
        touched(&record).then_some(record)
    }

    /// Keeps the result of an analysed frame for later passes.
    pub fn store(&mut self, stored: Stored) {
        let number = stored.number;
        self.put(number, stored);
    }

    /// [`Session::analyze`] + [`Session::store`], then the stored result of `frame`.
    pub fn process(&mut self, frame: &RawFrame) -> Option<Arc<Stored>> {
        if let Some(record) = self.analyze(frame) {
            self.store(Stored::new(record));
        }
        self.get(frame.number)
    }

    fn slot(&mut self, number: u64) -> Option<&mut Option<Arc<Stored>>> {
        let idx = usize::try_from(number.checked_sub(1)?).ok()?;
        if self.frames.len() <= idx {
            self.frames.resize(idx.checked_add(1)?, None);
        }
        self.frames.get_mut(idx)
    }

    fn put(&mut self, number: u64, stored: Stored) {
        if let Some(slot) = self.slot(number) {
            *slot = Some(Arc::new(stored));
        }
    }

    /// Adds a finding learned later to a stored frame (frames without a stored result keep
    /// none: the plugin never showed them).
    fn attach_late(&mut self, number: u64, finding: Finding) {
        let Some(Some(stored)) = self.slot(number) else { return };
        if let Some(s) = Arc::get_mut(stored) {
            s.findings.push(finding);
        }
    }

    /// The stored result of frame `number`.
    pub fn get(&self, number: u64) -> Option<Arc<Stored>> {
        let idx = usize::try_from(number.checked_sub(1)?).ok()?;
        self.frames.get(idx)?.clone()
    }

    /// Number of frames with a stored result.
    pub fn stored_frames(&self) -> usize {
        self.frames.iter().filter(|f| f.is_some()).count()
    }

    pub fn last_frame(&self) -> u64 {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render;
    use analyzer_core::capture::CaptureReader;
    use analyzer_core::dissect::{Node, dissect};
    use std::path::Path;

    fn shown(r: &FrameRecord) -> Vec<Node> {
        render::shown_roots(&dissect(r)).cloned().collect()
    }

    fn captures(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        v.sort();
        for p in v {
            if p.is_dir() {
                captures(&p, out);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("pcap" | "pcapng")) {
                out.push(p);
            }
        }
    }

    /// The stored (compacted) result renders exactly what the full record renders, for every
    /// frame of every sample capture: nothing the plugin shows is lost by compaction.
    #[test]
    fn stored_results_render_like_the_full_records() {
        let mut files = Vec::new();
        captures(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples"), &mut files);
        let (mut frames, mut stored_frames) = (0, 0);
        let mut decrypted_in = std::collections::BTreeMap::<String, usize>::new();
        for path in &files {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let keys = analyzer_core::keys::find_default_keys(path);
            let keys = keys.as_ref().map(|k| k.to_str().unwrap());
            let mut session = Session::new(keys);
            let (store, _) = load_keys(keys);
            let mut reference = Analyzer::with_contexts(AnalyzerConfig::default(), store);
            let Ok(mut reader) = CaptureReader::open(path) else { continue };
            while let Some(Ok(f)) = reader.next_frame() {
                frames += 1;
                let full = reference.process(&f);
                let stored = session.process(&f);
                assert_eq!(stored.is_some(), touched(&full), "{} #{}", path.display(), f.number);
                let Some(stored) = stored else { continue };
                stored_frames += 1;
                let rebuilt = stored.record(stored.message_bytes(&f.data));
                assert_eq!(shown(&rebuilt), shown(&full), "{} #{}", path.display(), f.number);
                assert_eq!(
                    render::info_summary(stored.coap.as_deref(), &stored.findings),
                    render::info_summary(full.coap.as_deref(), &full.findings)
                );
                assert_eq!(render::item_summary(&rebuilt), render::item_summary(&full));
                if stored.plaintext().is_some() {
                    *decrypted_in.entry(name.clone()).or_default() += 1;
                }
                // A later pass (frame already analysed) gets the same stored result.
                assert!(Arc::ptr_eq(&session.process(&f).unwrap(), &stored));
            }
        }
        assert!(frames > 250 && stored_frames > 200, "{frames} frames, {stored_frames} stored");
        // The real captures decrypt entirely with their default keys (README listings).
        for (file, n) in [
            ("d01_aiocoap_aiocoap.pcap", 26),
            ("d01_aiocoap_aiocoap.pcapng", 26),
            ("d02_libcoap_libcoap.pcap", 36),
            ("d02_libcoap_libcoap.pcapng", 36),
        ] {
            assert_eq!(decrypted_in.get(file), Some(&n), "{file}");
        }
    }

    #[test]
    fn keys_status() {
        assert_eq!(load_keys(None).1, KeysStatus::NotConfigured);
        assert_eq!(load_keys(Some("  ")).1, KeysStatus::NotConfigured);
        let (_, st) = load_keys(Some("/nonexistent/k.toml"));
        assert!(matches!(&st, KeysStatus::Failed { path, .. } if path == "/nonexistent/k.toml"), "{st:?}");
        assert!(st.describe().contains("not used"));
        let d01 = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../samples/real/d01_aiocoap_aiocoap/d01_aiocoap_aiocoap.keys.toml"
        );
        let (_, st) = load_keys(Some(d01));
        assert!(matches!(st, KeysStatus::Loaded { contexts: 1, .. }), "{st:?}");
        let mut s = Session::new(Some("/nonexistent/k.toml"));
        assert!(s.take_keys_report().is_some());
        assert!(s.take_keys_report().is_none(), "reported once");
    }
}
