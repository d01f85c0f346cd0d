//! The FFI glue: registration with epan, the keys preference, init/cleanup, and the
//! postdissector. No protocol logic lives here: analysis is analyzer-core, the decisions about
//! what to show are in [`crate::render`] and the per-capture state in [`crate::session`].

use crate::render::{self, ExpertGroup, Placement, Sources, WsValue};
use crate::session::{DataSourceCache, Session, Stored};
use crate::ws;
use analyzer_core::analysis::FrameRecord;
use analyzer_core::capture::{LinkType, RawFrame};
use analyzer_core::dissect::{Node, dissect};
use analyzer_core::fields::{self, Base, FieldType};
use analyzer_core::finding::{Span, SpanSource};
use analyzer_core::{FindingKind, Timestamp};
use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_int, c_uint, c_void};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock, TryLockError};

/// Environment variable that makes the dissector panic on every frame (tests the guards).
pub const PANIC_ENV: &str = "KUDOSCOPE_PLUGIN_PANIC";

// ------------------------------------------------------------------ panic boundary

static PANICS: AtomicU32 = AtomicU32::new(0);

/// Writes to stderr, ignoring errors (`eprintln!` panics on a closed stderr, outside any
/// guard, which would abort Wireshark).
fn log(msg: &str) {
    let _ = writeln!(std::io::stderr(), "kudoscope plugin: {msg}");
}

/// Runs `f`; a Rust panic becomes `default` (unwinding out of `extern "C"` would abort).
fn guard<R>(default: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            PANICS.fetch_add(1, Relaxed);
            default
        }
    }
}

/// Our own panic hook (a cdylib has its own copy of std, so this affects only this plugin):
/// one line per panic for the first few, then silence.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let n = PANICS.load(Relaxed);
        if n < 3 {
            let what = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            log(&format!(
                "internal error caught at the plugin boundary ({at}: {what}); frame left unannotated"
            ));
        } else if n == 3 {
            log("further internal errors are not reported");
        }
    }));
}

// ------------------------------------------------------------------ registration state

static PROTO: AtomicI32 = AtomicI32::new(-1);
static ETT_TOP: AtomicI32 = AtomicI32::new(-1);
static ETT_TEXT: AtomicI32 = AtomicI32::new(-1);
static HANDLE: AtomicPtr<c_void> = AtomicPtr::new(null_mut());
/// `const char *` owned by Wireshark's preference code (`prefs_register_filename_preference`).
static KEYS_PREF: AtomicPtr<c_char> = AtomicPtr::new(null_mut());
static PANIC_TEST: AtomicBool = AtomicBool::new(false);

/// Everything registered once, referenced by the dissector.
struct Registered {
    /// Per registry field ([`fields::all`] index): its hf id slot (Wireshark writes the id).
    hf: Vec<Option<&'static AtomicI32>>,
    /// Per registry field: subtree index when the field node has children / when a text node's
    /// first field is this one.
    ett_field: Vec<&'static AtomicI32>,
    ett_text: Vec<&'static AtomicI32>,
    /// `expert_field`s: `[kind][severity slot]`, then the fallback kind, then the keys note.
    experts: *mut ws::expert_field,
    expert_count: usize,
    kind_slot: HashMap<&'static str, usize>,
    fallback_kind: usize,
    keys_expert: usize,
}

// SAFETY: the raw pointer is to leaked, never-freed memory that epan writes during registration
// only; dissection is single-threaded in Wireshark 4.0.
unsafe impl Send for Registered {}
unsafe impl Sync for Registered {}

static REG: OnceLock<Registered> = OnceLock::new();
/// WTAP_ENCAP_* -> LINKTYPE_* for the link types analyzer-core decodes.
static ENCAPS: OnceLock<HashMap<c_int, u32>> = OnceLock::new();
/// The analysis of the open capture (created lazily on its first frame).
static SESSION: Mutex<Option<Session>> = Mutex::new(None);

fn leak_cstr(s: &str) -> *const c_char {
    Box::leak(render::c_string(s).into_boxed_c_str()).as_ptr()
}

fn leak_atomic() -> &'static AtomicI32 {
    Box::leak(Box::new(AtomicI32::new(-1)))
}

static PLUGIN: ws::proto_plugin = ws::proto_plugin {
    register_protoinfo: Some(register_protoinfo),
    register_handoff: Some(register_handoff),
};

pub fn register() {
    guard((), || {
        install_panic_hook();
        // SAFETY: PLUGIN is 'static, as proto_register_plugin requires.
        unsafe { ws::proto_register_plugin(&PLUGIN) };
    });
}

fn hf_entry(
    p_id: &'static AtomicI32,
    name: *const c_char,
    abbrev: *const c_char,
    type_: c_int,
    display: c_int,
    blurb: *const c_char,
) -> ws::hf_register_info {
    ws::hf_register_info {
        p_id: p_id.as_ptr(),
        hfinfo: ws::header_field_info {
            name,
            abbrev,
            type_,
            display,
            strings: null(),
            bitmask: 0,
            blurb,
            id: -1,
            parent: 0,
            ref_type: ws::HF_REF_TYPE_NONE,
            same_name_prev_id: -1,
            same_name_next: null_mut(),
        },
    }
}

fn ft_of(ty: FieldType, base: Base) -> (c_int, c_int) {
    let int_base = if base == Base::Hex { ws::BASE_HEX } else { ws::BASE_DEC };
    match ty {
        FieldType::U8 => (ws::FT_UINT8, int_base),
        FieldType::U16 => (ws::FT_UINT16, int_base),
        FieldType::U32 => (ws::FT_UINT32, int_base),
        FieldType::U64 => (ws::FT_UINT64, int_base),
        FieldType::FrameNum => (ws::FT_FRAMENUM, ws::BASE_NONE),
        FieldType::I64 => (ws::FT_INT64, ws::BASE_DEC),
        FieldType::Bool => (ws::FT_BOOLEAN, ws::BASE_NONE),
        FieldType::Bytes => (ws::FT_BYTES, ws::BASE_NONE),
        FieldType::Str => (ws::FT_STRING, ws::BASE_NONE),
    }
}

fn expert_group_value(g: ExpertGroup) -> c_int {
    match g {
        ExpertGroup::Malformed => ws::PI_MALFORMED,
        ExpertGroup::Sequence => ws::PI_SEQUENCE,
        ExpertGroup::Checksum => ws::PI_CHECKSUM,
        ExpertGroup::Security => ws::PI_SECURITY,
        ExpertGroup::Protocol => ws::PI_PROTOCOL,
    }
}

const SEVERITY_VALUES: [c_int; 4] = [ws::PI_CHAT, ws::PI_NOTE, ws::PI_WARN, ws::PI_ERROR];

fn ei_entry(
    ids: *mut ws::expert_field,
    name: &str,
    group: c_int,
    severity: c_int,
    summary: &str,
) -> ws::ei_register_info {
    ws::ei_register_info {
        ids,
        eiinfo: ws::expert_field_info {
            name: leak_cstr(name),
            group,
            severity,
            summary: leak_cstr(summary),
            id: 0,
            protocol: null(),
            orig_severity: 0,
            hf_info: hf_entry(leak_atomic(), null(), null(), ws::FT_NONE, ws::BASE_NONE, null()),
        },
    }
}

unsafe extern "C" fn register_protoinfo() {
    guard((), || {
        // SAFETY: registration calls with 'static (leaked) arrays and strings, as epan keeps
        // pointers into them.
        unsafe { register_protoinfo_inner() }
    });
}

unsafe fn register_protoinfo_inner() {
    // SAFETY (whole fn): epan registration API called during proto_init with leaked data.
    unsafe {
        let proto = ws::proto_register_protocol(
            c"kudoscope: OSCORE / KUDOS / ID-update analysis".as_ptr(),
            c"kudoscope".as_ptr(),
            c"kudoscope".as_ptr(),
        );
        PROTO.store(proto, Relaxed);

        // Header fields: kudoscope.<name> for every application-level registry entry.
        let all = fields::all();
        let mut hf_slots = Vec::with_capacity(all.len());
        let mut hfs = Vec::with_capacity(all.len());
        for f in all {
            if !f.group().is_application() {
                hf_slots.push(None);
                continue;
            }
            let slot = leak_atomic();
            let (ft, display) = ft_of(f.ty, f.base);
            hfs.push(hf_entry(
                slot,
                leak_cstr(&f.title),
                leak_cstr(&format!("kudoscope.{}", f.name)),
                ft,
                display,
                leak_cstr(&f.description),
            ));
            hf_slots.push(Some(slot));
        }
        let hfs: &'static mut [ws::hf_register_info] = Box::leak(hfs.into_boxed_slice());
        ws::proto_register_field_array(proto, hfs.as_mut_ptr(), c_int::try_from(hfs.len()).unwrap_or(0));

        // Subtrees.
        let ett_field: Vec<&'static AtomicI32> = all.iter().map(|_| leak_atomic()).collect();
        let ett_text: Vec<&'static AtomicI32> = all.iter().map(|_| leak_atomic()).collect();
        let mut ett_ptrs: Vec<*mut c_int> = vec![ETT_TOP.as_ptr(), ETT_TEXT.as_ptr()];
        ett_ptrs.extend(ett_field.iter().chain(ett_text.iter()).map(|a| a.as_ptr()));
        let ett_ptrs: &'static [*mut c_int] = Box::leak(ett_ptrs.into_boxed_slice());
        ws::proto_register_subtree_array(ett_ptrs.as_ptr(), c_int::try_from(ett_ptrs.len()).unwrap_or(0));

        // Expert infos: one per finding kind and Wireshark severity, a fallback kind for kinds
        // added to analyzer-core after FindingKind::ALL was last updated, and the keys note.
        let kinds = FindingKind::ALL;
        let n_slots = (kinds.len() + 1) * 4 + 1;
        let experts: &'static mut [ws::expert_field] =
            Box::leak((0..n_slots).map(|_| ws::expert_field { ei: -1, hf: -1 }).collect());
        let base = experts.as_mut_ptr();
        let mut eis = Vec::with_capacity(n_slots);
        let mut kind_slot = HashMap::new();
        let kind_names = kinds.iter().map(|k| k.as_str()).chain(std::iter::once("other"));
        for (i, kind) in kind_names.enumerate() {
            kind_slot.insert(kind, i);
            let group = expert_group_value(render::expert_group(kind));
            for (s, (sev, value)) in render::EXPERT_SEVERITIES.iter().zip(SEVERITY_VALUES).enumerate() {
                let idx = i * 4 + s;
                eis.push(ei_entry(
                    base.add(idx),
                    &format!("kudoscope.expert.{kind}.{sev}"),
                    group,
                    value,
                    &format!("kudoscope finding {kind}"),
                ));
            }
        }
        let fallback_kind = kinds.len();
        let keys_expert = n_slots - 1;
        eis.push(ei_entry(
            base.add(keys_expert),
            "kudoscope.expert.keys_not_loaded",
            ws::PI_DECRYPTION,
            ws::PI_WARN,
            "kudoscope: the keys file could not be loaded",
        ));
        let eis: &'static mut [ws::ei_register_info] = Box::leak(eis.into_boxed_slice());
        let module = ws::expert_register_protocol(proto);
        ws::expert_register_field_array(module, eis.as_mut_ptr(), c_int::try_from(eis.len()).unwrap_or(0));

        let _ = REG.set(Registered {
            hf: hf_slots,
            ett_field,
            ett_text,
            experts: base,
            expert_count: n_slots,
            kind_slot,
            fallback_kind,
            keys_expert,
        });

        // Preference kudoscope.keys; changing it redissects, and the init routine starts a
        // new analysis with the new keys.
        let prefs = ws::prefs_register_protocol(proto, Some(prefs_applied));
        ws::prefs_register_filename_preference(
            prefs,
            c"keys".as_ptr(),
            c"OSCORE keys file".as_ptr(),
            c"Keys file in any format `kudoscope --keys` reads: kudoscope TOML, a Wireshark oscore_contexts \
              file or profile directory, an aiocoap security-context directory, a libcoap oscore_conf \
              file. Empty: OSCORE messages are parsed but not decrypted."
                .as_ptr(),
            KEYS_PREF.as_ptr().cast::<*const c_char>(),
            0,
        );
        ws::register_init_routine(init_routine);
        ws::register_cleanup_routine(cleanup_routine);
    }
}

unsafe extern "C" fn register_handoff() {
    guard((), || {
        // SAFETY: epan handoff API with our registered protocol id and a 'static fn.
        unsafe {
            let h = ws::create_dissector_handle(dissect_kudoscope, PROTO.load(Relaxed));
            HANDLE.store(h, Relaxed);
            ws::register_postdissector(h);
        }
        let _ = ENCAPS.set(encap_map());
    });
}

/// WTAP_ENCAP_* of every LINKTYPE_* analyzer-core names (it decodes or reports them).
fn encap_map() -> HashMap<c_int, u32> {
    let mut m = HashMap::new();
    for lt in 0..=u16::MAX as u32 {
        if LinkType(lt).name().is_none() {
            continue;
        }
        let Ok(pcap) = c_int::try_from(lt) else { continue };
        // SAFETY: a pure table lookup in libwiretap.
        let w = unsafe { ws::wtap_pcap_encap_to_wtap_encap(pcap) };
        if w > 0 {
            m.entry(w).or_insert(lt);
        }
    }
    m
}

fn reset_session() {
    let mut s = match SESSION.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    *s = None;
}

unsafe extern "C" fn init_routine() {
    guard((), || {
        PANIC_TEST.store(std::env::var_os(PANIC_ENV).is_some_and(|v| v == "1"), Relaxed);
        reset_session();
    });
}

unsafe extern "C" fn cleanup_routine() {
    guard((), reset_session);
}

unsafe extern "C" fn prefs_applied() {
    guard((), reset_session);
}

fn keys_pref() -> Option<String> {
    let p = KEYS_PREF.load(Relaxed);
    if p.is_null() {
        return None;
    }
    // SAFETY: Wireshark keeps a valid NUL-terminated string (or NULL) in the preference.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

// ------------------------------------------------------------------ the dissector

unsafe extern "C" fn dissect_kudoscope(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _data: *mut c_void,
) -> c_int {
    guard(0, || {
        // SAFETY: the arguments are what epan passes to a postdissector.
        unsafe { dissect_inner(tvb, pinfo, tree) }
    })
}

/// Analyses the frame on the first pass, then shows the stored result.
unsafe fn dissect_inner(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
) -> c_int {
    if PANIC_TEST.load(Relaxed) {
        #[allow(clippy::panic)]
        {
            panic!("{PANIC_ENV}=1: deliberate panic in the dissector");
        }
    }
    let Some(reg) = REG.get() else { return 0 };
    // SAFETY: pinfo is epan's packet_info for this frame.
    let Some(facts) = (unsafe { ws::packet_facts(pinfo) }) else { return 0 };
    if tvb.is_null() {
        return 0;
    }
    // SAFETY: tvb is the frame's tvb.
    let cap = unsafe { ws::tvb_captured_length(tvb) } as usize;

    // Under the lock: analyse (first pass) or look up the stored result. No epan call runs
    // while the lock is held.
    let (fresh, stored, keys_note) = {
        let mut guard = match SESSION.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            // Only if an earlier call was cut short while holding the lock: show nothing
            // rather than wait forever.
            Err(TryLockError::WouldBlock) => return 0,
        };
        let session = guard.get_or_insert_with(|| {
            let s = Session::new(keys_pref().as_deref());
            if let crate::session::KeysStatus::Failed { .. } = s.keys() {
                log(&s.keys().describe());
            }
            s
        });
        let number = u64::from(facts.num);
        let link_type = facts.wtap_encap.and_then(|w| ENCAPS.get()?.get(&w).copied()).map(LinkType);
        let fresh = match (facts.visited, link_type) {
            (false, Some(link_type)) if number > session.last_frame() => {
                let mut data = vec![0u8; cap];
                if cap > 0 {
                    // SAFETY: 0..cap is within the captured length, so tvb_memcpy cannot throw;
                    // data has room for cap bytes.
                    unsafe { ws::tvb_memcpy(tvb, data.as_mut_ptr().cast(), 0, cap) };
                }
                let ts = Timestamp::new(facts.abs_ts.secs, u32::try_from(facts.abs_ts.nsecs).unwrap_or(0));
                let frame = RawFrame {
                    number,
                    ts,
                    link_type,
                    interface: 0,
                    orig_len: facts.pkt_len,
                    data,
                    file_offset: 0,
                };
                session.analyze(&frame)
            }
            _ => None,
        };
        let stored = if fresh.is_some() { None } else { session.get(number) };
        let note = if fresh.is_some() || stored.is_some() { session.take_keys_report() } else { None };
        (fresh, stored, note)
    };

    let (coap, findings) = match (&fresh, &stored) {
        (Some(r), _) => (r.coap.as_ref(), r.findings.as_slice()),
        (None, Some(s)) => (s.coap.as_deref(), s.findings.as_slice()),
        (None, None) => return 0,
    };
    if let Some(info) = render::info_summary(coap, findings)
        && !facts.cinfo.is_null()
    {
        let c = render::c_string(&info);
        // SAFETY: cinfo is this packet's column info; col_append_str copies the string.
        unsafe { ws::col_append_str(facts.cinfo, ws::COL_INFO, c.as_ptr()) };
    }
    // SAFETY: tree is NULL or this packet's tree.
    let shown = !tree.is_null() && unsafe { ws::proto_field_is_referenced(tree, PROTO.load(Relaxed)) } != 0;
    if !shown {
        // No kudoscope items (no tree, or one built for someone else: coloring rules, other
        // filters), but the expert infos still reach the expert tap (GUI Expert Information,
        // `tshark -z expert`) and the Expert column, like Wireshark's own dissectors'.
        for f in findings {
            // SAFETY: pinfo is this packet's; a NULL item is allowed by expert_add_info_format.
            unsafe { raise(pinfo, null_mut(), reg, finding_expert(reg, f), &f.message) };
        }
        if let Some(note) = &keys_note {
            // SAFETY: as above.
            unsafe { raise(pinfo, null_mut(), reg, reg.keys_expert, note) };
        }
    }
    match (fresh, stored) {
        (Some(record), _) => {
            // First pass: show the fresh record, then keep it.
            let cache = DataSourceCache::default();
            if shown {
                // SAFETY: arguments as above; every offset passed to epan is checked in
                // render::place.
                unsafe { show(tvb, pinfo, tree, cap, &record, &cache, reg, keys_note.as_deref()) };
            }
            let stored = Stored::with_cache(record, cache);
            match SESSION.try_lock() {
                Ok(mut g) => g.as_mut().map(|s| s.store(stored)),
                Err(TryLockError::Poisoned(p)) => p.into_inner().as_mut().map(|s| s.store(stored)),
                Err(TryLockError::WouldBlock) => None,
            };
        }
        (None, Some(stored)) if shown => {
            // A later pass: rebuild the record (the outer message from the frame bytes).
            let mut frame = vec![0u8; cap];
            if cap > 0 {
                // SAFETY: 0..cap is within the captured length; frame has room for cap bytes.
                unsafe { ws::tvb_memcpy(tvb, frame.as_mut_ptr().cast(), 0, cap) };
            }
            let record = stored.record(stored.message_bytes(&frame));
            // SAFETY: as above.
            unsafe { show(tvb, pinfo, tree, cap, &record, &stored.cache, reg, keys_note.as_deref()) };
        }
        _ => {}
    }
    c_int::try_from(cap).unwrap_or(c_int::MAX)
}

/// The tvbs an item can point into.
struct Tvbs {
    frame: *mut ws::tvbuff_t,
    reassembled: *mut ws::tvbuff_t,
    decrypted: *mut ws::tvbuff_t,
}

impl Tvbs {
    fn of(&self, p: Placement) -> (*mut ws::tvbuff_t, Placement) {
        let t = match p.source {
            SpanSource::Frame => self.frame,
            SpanSource::Reassembled => self.reassembled,
            SpanSource::Decrypted => self.decrypted,
        };
        if t.is_null() { (self.frame, Placement::NONE) } else { (t, p) }
    }
}

/// A data source over `bytes` (copied once per capture into Wireshark's file scope, which
/// outlives every tvb of the file; the copy's address is cached in `cache`).
unsafe fn data_source(
    frame_tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    cache: &DataSourceCache,
    which: SpanSource,
    bytes: &[u8],
    name: &CStr,
) -> *mut ws::tvbuff_t {
    let (Some(cache), Ok(len_u), Ok(len_i)) =
        (cache.slot(which), c_uint::try_from(bytes.len()), c_int::try_from(bytes.len()))
    else {
        return null_mut();
    };
    if bytes.is_empty() {
        return null_mut();
    }
    let mut addr = cache.load(Relaxed);
    if addr == 0 {
        // SAFETY: wmem_memdup copies bytes.len() readable bytes into the file scope.
        let p = unsafe { ws::wmem_memdup(ws::wmem_file_scope(), bytes.as_ptr().cast(), bytes.len()) };
        addr = p as usize;
        cache.store(addr, Relaxed);
    }
    if addr == 0 {
        return null_mut();
    }
    // SAFETY: addr points to len bytes in the file scope; the child tvb only references them.
    unsafe {
        let child = ws::tvb_new_child_real_data(frame_tvb, addr as *const u8, len_u, len_i);
        if !child.is_null() {
            ws::add_new_data_source(pinfo, child, name.as_ptr());
        }
        child
    }
}

struct Ctx<'a> {
    pinfo: *mut ws::packet_info,
    tvbs: Tvbs,
    sources: Sources,
    reg: &'a Registered,
    findings: &'a [analyzer_core::Finding],
    /// How many `finding.kind` nodes were shown (their expert info is the n-th finding's).
    findings_shown: usize,
    /// The tree is displayed: item labels matter (otherwise epan ignores them).
    labels: bool,
}

#[allow(clippy::too_many_arguments)]
unsafe fn show(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    cap: usize,
    r: &FrameRecord,
    cache: &DataSourceCache,
    reg: &Registered,
    keys_note: Option<&str>,
) {
    let sources = Sources::of(r, cap);
    // SAFETY (block): epan calls on this packet's tvb/pinfo/tree with checked ranges.
    unsafe {
        let reassembled = match (&r.reassembled_bytes, r.coap.as_ref().map(|c| c.source)) {
            (Some(b), Some(SpanSource::Reassembled)) => data_source(
                tvb,
                pinfo,
                cache,
                SpanSource::Reassembled,
                b,
                c"Reassembled datagram (kudoscope)",
            ),
            _ => null_mut(),
        };
        let plaintext = r.coap.as_ref().and_then(|c| c.oscore.as_ref()).and_then(|o| o.inner.as_ref());
        let decrypted = match plaintext {
            Some(inner) => {
                data_source(tvb, pinfo, cache, SpanSource::Decrypted, &inner.bytes, c"Decrypted OSCORE")
            }
            None => null_mut(),
        };
        let mut ctx = Ctx {
            pinfo,
            tvbs: Tvbs { frame: tvb, reassembled, decrypted },
            sources,
            reg,
            findings: &r.findings,
            findings_shown: 0,
            labels: ws::proto_tree_is_visible(tree),
        };

        // The protocol item spans the CoAP message.
        let top_span = r
            .coap
            .as_ref()
            .map(|c| Span::new(c.source, c.offset..c.offset.saturating_add(c.message.bytes.len())));
        let (ttvb, p) = ctx.tvbs.of(render::place(top_span.as_ref(), &ctx.sources));
        let ti = ws::proto_tree_add_item(tree, PROTO.load(Relaxed), ttvb, p.start, p.len, ws::ENC_NA);
        if ctx.labels {
            let summary = render::c_string(&render::item_summary(r));
            ws::proto_item_append_text(ti, c", %s".as_ptr(), summary.as_ptr());
        }
        let sub = ws::proto_item_add_subtree(ti, ETT_TOP.load(Relaxed));
        if let Some(note) = keys_note {
            expert(&ctx, ti, reg.keys_expert, note);
        }

        let t = dissect(r);
        for root in render::shown_roots(&t) {
            add_node(&mut ctx, sub, root);
        }
        // Findings without a node of their own (should not happen): on the protocol item.
        for f in r.findings.iter().skip(ctx.findings_shown) {
            expert(&ctx, ti, finding_expert(reg, f), &f.message);
        }
    }
}

fn finding_expert(reg: &Registered, f: &analyzer_core::Finding) -> usize {
    let kind = reg.kind_slot.get(f.kind.as_str()).copied().unwrap_or(reg.fallback_kind);
    kind * 4 + render::severity_slot(f.severity)
}

/// Raises expert info `slot` on `item` with `msg`.
unsafe fn expert(ctx: &Ctx<'_>, item: *mut ws::proto_item, slot: usize, msg: &str) {
    // SAFETY: forwarded.
    unsafe { raise(ctx.pinfo, item, ctx.reg, slot, msg) }
}

/// `expert_add_info_format(pinfo, item, &experts[slot], "%s", msg)`.
unsafe fn raise(
    pinfo: *mut ws::packet_info,
    item: *mut ws::proto_item,
    reg: &Registered,
    slot: usize,
    msg: &str,
) {
    if slot >= reg.expert_count {
        return;
    }
    let m = render::c_string(msg);
    // SAFETY: slot < the length of the leaked expert_field array; the format is a constant
    // "%s" with one C string.
    unsafe { ws::expert_add_info_format(pinfo, item, reg.experts.add(slot), c"%s".as_ptr(), m.as_ptr()) };
}

fn first_field_index(n: &Node) -> Option<usize> {
    let mut found = None;
    n.walk(&mut |m, _| {
        if found.is_none() {
            found = m.field.as_deref().and_then(fields::index_of);
        }
    });
    found
}

unsafe fn add_node(ctx: &mut Ctx<'_>, parent: *mut ws::proto_tree, node: &Node) {
    let (tvb, p) = ctx.tvbs.of(render::place(node.span.as_ref(), &ctx.sources));
    let label = if ctx.labels { render::c_string(&node.label) } else { CString::default() };
    let field = node.field.as_deref().and_then(|name| {
        let idx = fields::index_of(name)?;
        let hf = ctx.reg.hf.get(idx).copied().flatten()?.load(Relaxed);
        let value = render::ws_value(fields::all().get(idx)?, node.value.as_ref()?)?;
        Some((idx, hf, value))
    });
    // SAFETY (block): epan calls with a tvb/range validated by render::place and the
    // proto_tree_add_* variant matching the field's registered FT_ type (render::ws_value).
    unsafe {
        let (item, subtree) = match field {
            Some((idx, hf, value)) => {
                let item = match &value {
                    WsValue::Uint32(v) => ws::proto_tree_add_uint(parent, hf, tvb, p.start, p.len, *v),
                    WsValue::Uint64(v) => ws::proto_tree_add_uint64(parent, hf, tvb, p.start, p.len, *v),
                    WsValue::Int64(v) => ws::proto_tree_add_int64(parent, hf, tvb, p.start, p.len, *v),
                    WsValue::Bool(v) => {
                        ws::proto_tree_add_boolean(parent, hf, tvb, p.start, p.len, u32::from(*v))
                    }
                    WsValue::Bytes(b) => ws::proto_tree_add_bytes_with_length(
                        parent,
                        hf,
                        tvb,
                        p.start,
                        p.len,
                        b.as_ptr(),
                        c_int::try_from(b.len()).unwrap_or(0),
                    ),
                    WsValue::Str(s) => ws::proto_tree_add_string(parent, hf, tvb, p.start, p.len, s.as_ptr()),
                };
                if ctx.labels {
                    ws::proto_item_set_text(item, c"%s".as_ptr(), label.as_ptr());
                }
                let subtree = if node.children.is_empty() {
                    null_mut()
                } else {
                    let ett = ctx.reg.ett_field.get(idx).map_or(ETT_TEXT.load(Relaxed), |e| e.load(Relaxed));
                    ws::proto_item_add_subtree(item, ett)
                };
                (item, subtree)
            }
            None => {
                let ett = first_field_index(node)
                    .and_then(|i| ctx.reg.ett_text.get(i))
                    .map_or(ETT_TEXT.load(Relaxed), |e| e.load(Relaxed));
                let mut item: *mut ws::proto_item = null_mut();
                let subtree =
                    ws::proto_tree_add_subtree(parent, tvb, p.start, p.len, ett, &mut item, label.as_ptr());
                (item, subtree)
            }
        };
        if node.generated {
            ws::proto_item_set_generated(item);
        }
        if node.field.as_deref() == Some("finding.kind") {
            if let Some(f) = ctx.findings.get(ctx.findings_shown) {
                expert(ctx, item, finding_expert(ctx.reg, f), &f.message);
            }
            ctx.findings_shown += 1;
        }
        if !subtree.is_null() {
            for c in &node.children {
                add_node(ctx, subtree, c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_types_map_to_valid_wireshark_types() {
        // Integers carry a base, everything else BASE_NONE (Wireshark asserts this at
        // registration: tmp_fld_check_assert).
        for f in fields::all() {
            let (ft, display) = ft_of(f.ty, f.base);
            match ft {
                ws::FT_UINT8 | ws::FT_UINT16 | ws::FT_UINT32 | ws::FT_UINT64 | ws::FT_INT64 => {
                    assert!(display == ws::BASE_DEC || display == ws::BASE_HEX, "{}", f.name)
                }
                _ => assert_eq!(display, ws::BASE_NONE, "{}", f.name),
            }
        }
        assert_eq!(ft_of(FieldType::FrameNum, Base::None), (ws::FT_FRAMENUM, ws::BASE_NONE));
        assert_eq!(ft_of(FieldType::U8, Base::Hex), (ws::FT_UINT8, ws::BASE_HEX));
    }
}
