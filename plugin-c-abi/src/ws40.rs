//! Wireshark 4.0 C ABI (x86_64 / LP64), written by hand from the libwireshark-dev 4.0.17
//! headers and committed. Every size, offset and constant below is printed by
//! `abi-check/abi_check.c` (compiled against the installed headers by `abi-check/run.sh`;
//! expected output in `abi-check/ws40.txt`); the compile-time asserts pin them, and
//! `tests/abi_check.rs` compares [`ABI_TABLE`] with what the C compiler says.
//!
//! Only what the plugin uses is declared. Structures Wireshark owns and that are large or
//! unstable (`packet_info`, `frame_data`, `wtap_rec`, `field_info`) are not mirrored: the
//! plugin reads the few members it needs at verified offsets (see the accessors at the end).
//!
//! Exceptions: many epan functions THROW (a longjmp) on out-of-range offsets or a field type
//! that does not match the `proto_tree_add_*` variant. Callers in this crate only pass ranges
//! checked against `tvb_captured_length` and use the variant matching the registered type.

#![allow(non_camel_case_types, non_upper_case_globals)]

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::mem::{offset_of, size_of};

/// `plugin_want_major` / `plugin_want_minor` of this ABI.
pub const VERSION_MAJOR: c_int = 4;
pub const VERSION_MINOR: c_int = 0;
/// The per-version plugin folder below the plugin directories (`plugins/4.0/epan/`).
pub const PLUGIN_DIR_VERSION: &str = "4.0";

// ------------------------------------------------------------------ opaque types

pub type tvbuff_t = c_void;
pub type packet_info = c_void;
pub type column_info = c_void;
pub type module_t = c_void;
pub type expert_module_t = c_void;
pub type dissector_handle_t = *mut c_void;
pub type wmem_allocator_t = c_void;
pub type proto_tree = proto_node;
pub type proto_item = proto_node;
pub type gboolean = c_int;

pub type dissector_t =
    unsafe extern "C" fn(*mut tvbuff_t, *mut packet_info, *mut proto_tree, *mut c_void) -> c_int;

// ------------------------------------------------------------------ mirrored structures

/// epan/proto.h `struct _header_field_info`.
#[repr(C)]
#[derive(Debug)]
pub struct header_field_info {
    pub name: *const c_char,
    pub abbrev: *const c_char,
    /// `enum ftenum`
    pub type_: c_int,
    pub display: c_int,
    pub strings: *const c_void,
    pub bitmask: u64,
    pub blurb: *const c_char,
    // HFILL: -1, 0, HF_REF_TYPE_NONE, -1, NULL
    pub id: c_int,
    pub parent: c_int,
    pub ref_type: c_int,
    pub same_name_prev_id: c_int,
    pub same_name_next: *mut header_field_info,
}

/// epan/proto.h `hf_register_info`.
#[repr(C)]
#[derive(Debug)]
pub struct hf_register_info {
    pub p_id: *mut c_int,
    pub hfinfo: header_field_info,
}

/// epan/proto.h `proto_plugin`.
#[repr(C)]
#[derive(Debug)]
pub struct proto_plugin {
    pub register_protoinfo: Option<unsafe extern "C" fn()>,
    pub register_handoff: Option<unsafe extern "C" fn()>,
}

/// epan/proto.h `proto_node` (= `proto_tree` = `proto_item`).
#[repr(C)]
#[derive(Debug)]
pub struct proto_node {
    pub first_child: *mut proto_node,
    pub last_child: *mut proto_node,
    pub next: *mut proto_node,
    pub parent: *mut proto_node,
    /// `field_info *`; only its `flags` member is touched (offset [`FIELD_INFO_FLAGS`]).
    pub finfo: *mut c_void,
    pub tree_data: *mut c_void,
}

/// epan/expert.h `expert_field` (`EI_INIT` = `{-1, -1}`).
#[repr(C)]
#[derive(Debug)]
pub struct expert_field {
    pub ei: c_int,
    pub hf: c_int,
}

/// epan/expert.h `expert_field_info`.
#[repr(C)]
#[derive(Debug)]
pub struct expert_field_info {
    pub name: *const c_char,
    pub group: c_int,
    pub severity: c_int,
    pub summary: *const c_char,
    // EXPFILL: 0, NULL, 0, {0, {NULL, NULL, FT_NONE, BASE_NONE, NULL, 0, NULL, HFILL}}
    pub id: c_int,
    pub protocol: *const c_char,
    pub orig_severity: c_int,
    pub hf_info: hf_register_info,
}

/// epan/expert.h `ei_register_info`.
#[repr(C)]
#[derive(Debug)]
pub struct ei_register_info {
    pub ids: *mut expert_field,
    pub eiinfo: expert_field_info,
}

/// wsutil/nstime.h `nstime_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nstime_t {
    pub secs: i64,
    pub nsecs: c_int,
}

// ------------------------------------------------------------------ constants

pub const FT_NONE: c_int = 0;
pub const FT_PROTOCOL: c_int = 1;
pub const FT_BOOLEAN: c_int = 2;
pub const FT_UINT8: c_int = 4;
pub const FT_UINT16: c_int = 5;
pub const FT_UINT32: c_int = 7;
pub const FT_UINT64: c_int = 11;
pub const FT_INT64: c_int = 19;
pub const FT_STRING: c_int = 26;
pub const FT_BYTES: c_int = 30;
pub const FT_FRAMENUM: c_int = 35;
pub const BASE_NONE: c_int = 0;
pub const BASE_DEC: c_int = 1;
pub const BASE_HEX: c_int = 2;
pub const HF_REF_TYPE_NONE: c_int = 0;
pub const ENC_NA: c_uint = 0;
pub const COL_INFO: c_int = 28;
pub const FI_GENERATED: u32 = 2;
pub const REC_TYPE_PACKET: c_uint = 0;
pub const PI_CHAT: c_int = 0x0020_0000;
pub const PI_NOTE: c_int = 0x0040_0000;
pub const PI_WARN: c_int = 0x0060_0000;
pub const PI_ERROR: c_int = 0x0080_0000;
pub const PI_CHECKSUM: c_int = 0x0100_0000;
pub const PI_SEQUENCE: c_int = 0x0200_0000;
pub const PI_MALFORMED: c_int = 0x0700_0000;
pub const PI_PROTOCOL: c_int = 0x0900_0000;
pub const PI_SECURITY: c_int = 0x0a00_0000;
pub const PI_DECRYPTION: c_int = 0x0c00_0000;

/// Offsets into structures that are not mirrored.
pub const FIELD_INFO_FLAGS: usize = 28;
/// `tree_data_t.visible` (a `gboolean`): the tree will be shown, so labels matter.
pub const TREE_DATA_VISIBLE: usize = 8;
pub const PINFO_CINFO: usize = 8;
pub const PINFO_NUM: usize = 20;
pub const PINFO_ABS_TS: usize = 24;
pub const PINFO_FD: usize = 56;
pub const PINFO_REC: usize = 72;
pub const FRAME_DATA_NUM: usize = 0;
pub const FRAME_DATA_PKT_LEN: usize = 4;
pub const FRAME_DATA_CAP_LEN: usize = 8;
/// `frame_data.visited` is a bit-field: this byte, this mask.
pub const FRAME_DATA_VISITED_BYTE: usize = 42;
pub const FRAME_DATA_VISITED_MASK: u8 = 8;
pub const WTAP_REC_REC_TYPE: usize = 0;
pub const WTAP_REC_REC_HEADER: usize = 40;
pub const WTAP_REC_PKT_ENCAP: usize = 48;

// ------------------------------------------------------------------ layout pins

const _: () = assert!(size_of::<header_field_info>() == 72);
const _: () = assert!(offset_of!(header_field_info, abbrev) == 8);
const _: () = assert!(offset_of!(header_field_info, type_) == 16);
const _: () = assert!(offset_of!(header_field_info, display) == 20);
const _: () = assert!(offset_of!(header_field_info, strings) == 24);
const _: () = assert!(offset_of!(header_field_info, bitmask) == 32);
const _: () = assert!(offset_of!(header_field_info, blurb) == 40);
const _: () = assert!(offset_of!(header_field_info, id) == 48);
const _: () = assert!(offset_of!(header_field_info, parent) == 52);
const _: () = assert!(offset_of!(header_field_info, ref_type) == 56);
const _: () = assert!(offset_of!(header_field_info, same_name_prev_id) == 60);
const _: () = assert!(offset_of!(header_field_info, same_name_next) == 64);
const _: () = assert!(size_of::<hf_register_info>() == 80);
const _: () = assert!(offset_of!(hf_register_info, hfinfo) == 8);
const _: () = assert!(size_of::<proto_plugin>() == 16);
const _: () = assert!(size_of::<proto_node>() == 48);
const _: () = assert!(offset_of!(proto_node, finfo) == 32);
const _: () = assert!(offset_of!(proto_node, tree_data) == 40);
const _: () = assert!(size_of::<expert_field>() == 8);
const _: () = assert!(size_of::<expert_field_info>() == 128);
const _: () = assert!(offset_of!(expert_field_info, group) == 8);
const _: () = assert!(offset_of!(expert_field_info, severity) == 12);
const _: () = assert!(offset_of!(expert_field_info, summary) == 16);
const _: () = assert!(offset_of!(expert_field_info, id) == 24);
const _: () = assert!(offset_of!(expert_field_info, protocol) == 32);
const _: () = assert!(offset_of!(expert_field_info, orig_severity) == 40);
const _: () = assert!(offset_of!(expert_field_info, hf_info) == 48);
const _: () = assert!(size_of::<ei_register_info>() == 136);
const _: () = assert!(offset_of!(ei_register_info, eiinfo) == 8);
const _: () = assert!(size_of::<nstime_t>() == 16);
const _: () = assert!(offset_of!(nstime_t, nsecs) == 8);

/// Every number above, named as `abi_check.c` prints it (for `tests/abi_check.rs`).
pub const ABI_TABLE: &[(&str, i64)] = &[
    ("WIRESHARK_VERSION_MAJOR", VERSION_MAJOR as i64),
    ("WIRESHARK_VERSION_MINOR", VERSION_MINOR as i64),
    ("sizeof(header_field_info)", size_of::<header_field_info>() as i64),
    ("offsetof(header_field_info,name)", offset_of!(header_field_info, name) as i64),
    ("offsetof(header_field_info,abbrev)", offset_of!(header_field_info, abbrev) as i64),
    ("offsetof(header_field_info,type)", offset_of!(header_field_info, type_) as i64),
    ("offsetof(header_field_info,display)", offset_of!(header_field_info, display) as i64),
    ("offsetof(header_field_info,strings)", offset_of!(header_field_info, strings) as i64),
    ("offsetof(header_field_info,bitmask)", offset_of!(header_field_info, bitmask) as i64),
    ("offsetof(header_field_info,blurb)", offset_of!(header_field_info, blurb) as i64),
    ("offsetof(header_field_info,id)", offset_of!(header_field_info, id) as i64),
    ("offsetof(header_field_info,parent)", offset_of!(header_field_info, parent) as i64),
    ("offsetof(header_field_info,ref_type)", offset_of!(header_field_info, ref_type) as i64),
    (
        "offsetof(header_field_info,same_name_prev_id)",
        offset_of!(header_field_info, same_name_prev_id) as i64,
    ),
    ("offsetof(header_field_info,same_name_next)", offset_of!(header_field_info, same_name_next) as i64),
    ("sizeof(hf_register_info)", size_of::<hf_register_info>() as i64),
    ("offsetof(hf_register_info,hfinfo)", offset_of!(hf_register_info, hfinfo) as i64),
    ("sizeof(proto_plugin)", size_of::<proto_plugin>() as i64),
    ("sizeof(proto_node)", size_of::<proto_node>() as i64),
    ("offsetof(proto_node,finfo)", offset_of!(proto_node, finfo) as i64),
    ("offsetof(proto_node,tree_data)", offset_of!(proto_node, tree_data) as i64),
    ("offsetof(tree_data_t,visible)", TREE_DATA_VISIBLE as i64),
    ("sizeof(field_info)", 96),
    ("offsetof(field_info,flags)", FIELD_INFO_FLAGS as i64),
    ("sizeof(expert_field)", size_of::<expert_field>() as i64),
    ("sizeof(expert_field_info)", size_of::<expert_field_info>() as i64),
    ("offsetof(expert_field_info,group)", offset_of!(expert_field_info, group) as i64),
    ("offsetof(expert_field_info,severity)", offset_of!(expert_field_info, severity) as i64),
    ("offsetof(expert_field_info,summary)", offset_of!(expert_field_info, summary) as i64),
    ("offsetof(expert_field_info,id)", offset_of!(expert_field_info, id) as i64),
    ("offsetof(expert_field_info,protocol)", offset_of!(expert_field_info, protocol) as i64),
    ("offsetof(expert_field_info,orig_severity)", offset_of!(expert_field_info, orig_severity) as i64),
    ("offsetof(expert_field_info,hf_info)", offset_of!(expert_field_info, hf_info) as i64),
    ("sizeof(ei_register_info)", size_of::<ei_register_info>() as i64),
    ("offsetof(ei_register_info,eiinfo)", offset_of!(ei_register_info, eiinfo) as i64),
    ("sizeof(nstime_t)", size_of::<nstime_t>() as i64),
    ("offsetof(nstime_t,nsecs)", offset_of!(nstime_t, nsecs) as i64),
    ("offsetof(packet_info,cinfo)", PINFO_CINFO as i64),
    ("offsetof(packet_info,num)", PINFO_NUM as i64),
    ("offsetof(packet_info,abs_ts)", PINFO_ABS_TS as i64),
    ("offsetof(packet_info,fd)", PINFO_FD as i64),
    ("offsetof(packet_info,rec)", PINFO_REC as i64),
    ("offsetof(frame_data,num)", FRAME_DATA_NUM as i64),
    ("offsetof(frame_data,pkt_len)", FRAME_DATA_PKT_LEN as i64),
    ("offsetof(frame_data,cap_len)", FRAME_DATA_CAP_LEN as i64),
    ("frame_data.visited.byte", FRAME_DATA_VISITED_BYTE as i64),
    ("frame_data.visited.mask", FRAME_DATA_VISITED_MASK as i64),
    ("offsetof(wtap_rec,rec_type)", WTAP_REC_REC_TYPE as i64),
    ("offsetof(wtap_rec,rec_header)", WTAP_REC_REC_HEADER as i64),
    ("offsetof(wtap_rec,rec_header.packet_header.pkt_encap)", WTAP_REC_PKT_ENCAP as i64),
    ("FT_NONE", FT_NONE as i64),
    ("FT_PROTOCOL", FT_PROTOCOL as i64),
    ("FT_BOOLEAN", FT_BOOLEAN as i64),
    ("FT_UINT8", FT_UINT8 as i64),
    ("FT_UINT16", FT_UINT16 as i64),
    ("FT_UINT32", FT_UINT32 as i64),
    ("FT_UINT64", FT_UINT64 as i64),
    ("FT_INT64", FT_INT64 as i64),
    ("FT_STRING", FT_STRING as i64),
    ("FT_BYTES", FT_BYTES as i64),
    ("FT_FRAMENUM", FT_FRAMENUM as i64),
    ("BASE_NONE", BASE_NONE as i64),
    ("BASE_DEC", BASE_DEC as i64),
    ("BASE_HEX", BASE_HEX as i64),
    ("HF_REF_TYPE_NONE", HF_REF_TYPE_NONE as i64),
    ("ENC_NA", ENC_NA as i64),
    ("COL_INFO", COL_INFO as i64),
    ("FI_GENERATED", FI_GENERATED as i64),
    ("REC_TYPE_PACKET", REC_TYPE_PACKET as i64),
    ("PI_CHAT", PI_CHAT as i64),
    ("PI_NOTE", PI_NOTE as i64),
    ("PI_WARN", PI_WARN as i64),
    ("PI_ERROR", PI_ERROR as i64),
    ("PI_CHECKSUM", PI_CHECKSUM as i64),
    ("PI_SEQUENCE", PI_SEQUENCE as i64),
    ("PI_MALFORMED", PI_MALFORMED as i64),
    ("PI_PROTOCOL", PI_PROTOCOL as i64),
    ("PI_SECURITY", PI_SECURITY as i64),
    ("PI_DECRYPTION", PI_DECRYPTION as i64),
];

// ------------------------------------------------------------------ functions

#[link(name = "wireshark")]
unsafe extern "C" {
    pub fn proto_register_plugin(plugin: *const proto_plugin);
    pub fn proto_register_protocol(name: *const c_char, short: *const c_char, filter: *const c_char)
    -> c_int;
    pub fn proto_register_field_array(parent: c_int, hf: *mut hf_register_info, n: c_int);
    pub fn proto_register_subtree_array(indices: *const *mut c_int, n: c_int);
    pub fn proto_field_is_referenced(tree: *mut proto_tree, proto_id: c_int) -> gboolean;
    pub fn create_dissector_handle(d: dissector_t, proto: c_int) -> dissector_handle_t;
    pub fn register_postdissector(h: dissector_handle_t);
    pub fn register_init_routine(f: unsafe extern "C" fn());
    pub fn register_cleanup_routine(f: unsafe extern "C" fn());
    pub fn prefs_register_protocol(id: c_int, apply_cb: Option<unsafe extern "C" fn()>) -> *mut module_t;
    pub fn prefs_register_filename_preference(
        module: *mut module_t,
        name: *const c_char,
        title: *const c_char,
        description: *const c_char,
        var: *mut *const c_char,
        for_writing: gboolean,
    );
    pub fn expert_register_protocol(id: c_int) -> *mut expert_module_t;
    pub fn expert_register_field_array(module: *mut expert_module_t, ei: *mut ei_register_info, n: c_int);
    pub fn expert_add_info_format(
        pinfo: *mut packet_info,
        pi: *mut proto_item,
        ei: *mut expert_field,
        format: *const c_char,
        ...
    );

    pub fn proto_tree_add_item(
        tree: *mut proto_tree,
        hf: c_int,
        tvb: *mut tvbuff_t,
        start: c_int,
        length: c_int,
        encoding: c_uint,
    ) -> *mut proto_item;
    pub fn proto_tree_add_uint(
        tree: *mut proto_tree,
        hf: c_int,
        tvb: *mut tvbuff_t,
        start: c_int,
        length: c_int,
        value: u32,
    ) -> *mut proto_item;
    pub fn proto_tree_add_uint64(
        tree: *mut proto_tree,
        hf: c_int,
        tvb: *mut tvbuff_t,
        start: c_int,
        length: c_int,
        value: u64,
    ) -> *mut proto_item;
    pub fn proto_tree_add_int64(
        tree: *mut proto_tree,
        hf: c_int,
        tvb: *mut tvbuff_t,
        start: c_int,
        length: c_int,
        value: i64,
    ) -> *mut proto_item;
    pub fn proto_tree_add_boolean(
        tree: *mut proto_tree,
        hf: c_int,
        tvb: *mut tvbuff_t,
        start: c_int,
        length: c_int,
        value: u32,
    ) -> *mut proto_item;
    pub fn proto_tree_add_bytes_with_length(
        tree: *mut proto_tree,
        hf: c_int,
        tvb: *mut tvbuff_t,
        start: c_int,
        length: c_int,
        value: *const u8,
        value_len: c_int,
    ) -> *mut proto_item;
    pub fn proto_tree_add_string(
        tree: *mut proto_tree,
        hf: c_int,
        tvb: *mut tvbuff_t,
        start: c_int,
        length: c_int,
        value: *const c_char,
    ) -> *mut proto_item;
    pub fn proto_tree_add_subtree(
        tree: *mut proto_tree,
        tvb: *mut tvbuff_t,
        start: c_int,
        length: c_int,
        ett: c_int,
        item: *mut *mut proto_item,
        text: *const c_char,
    ) -> *mut proto_tree;
    pub fn proto_item_add_subtree(pi: *mut proto_item, ett: c_int) -> *mut proto_tree;
    pub fn proto_item_set_text(pi: *mut proto_item, format: *const c_char, ...);
    pub fn proto_item_append_text(pi: *mut proto_item, format: *const c_char, ...);

    pub fn tvb_captured_length(tvb: *const tvbuff_t) -> c_uint;
    pub fn tvb_memcpy(tvb: *mut tvbuff_t, target: *mut c_void, offset: c_int, length: usize) -> *mut c_void;
    pub fn tvb_new_child_real_data(
        parent: *mut tvbuff_t,
        data: *const u8,
        length: c_uint,
        reported_length: c_int,
    ) -> *mut tvbuff_t;
    pub fn add_new_data_source(pinfo: *mut packet_info, tvb: *mut tvbuff_t, name: *const c_char);
    pub fn col_append_str(cinfo: *mut column_info, col: c_int, s: *const c_char);
    pub fn wmem_file_scope() -> *mut wmem_allocator_t;
}

#[link(name = "wsutil")]
unsafe extern "C" {
    pub fn wmem_memdup(allocator: *mut wmem_allocator_t, source: *const c_void, size: usize) -> *mut c_void;
}

#[link(name = "wiretap")]
unsafe extern "C" {
    pub fn wtap_pcap_encap_to_wtap_encap(pcap_encap: c_int) -> c_int;
}

// ------------------------------------------------------------------ accessors for unmirrored structures

/// Reads a `T` at `offset` bytes into the structure at `base`.
///
/// # Safety
/// `base` must point to a live structure of the 4.0 layout that has a `T` at `offset`.
unsafe fn read_at<T: Copy>(base: *const c_void, offset: usize) -> T {
    // SAFETY: the caller guarantees the layout (offsets pinned by abi_check).
    unsafe { base.cast::<u8>().add(offset).cast::<T>().read_unaligned() }
}

/// The per-packet facts the plugin reads from `packet_info` and what it points to.
#[derive(Debug, Clone, Copy)]
pub struct PacketFacts {
    pub num: u32,
    pub abs_ts: nstime_t,
    /// `fd->visited`: the frame was dissected before (a later pass).
    pub visited: bool,
    /// `fd->pkt_len`: the length on the wire.
    pub pkt_len: u32,
    /// `rec->rec_header.packet_header.pkt_encap` for packet records (a WTAP_ENCAP_* value).
    pub wtap_encap: Option<c_int>,
    pub cinfo: *mut column_info,
}

/// Reads [`PacketFacts`] from a `packet_info *` (None when it or its `fd` is NULL).
///
/// # Safety
/// `pinfo` must be NULL or the `packet_info *` Wireshark passed to a dissector.
pub unsafe fn packet_facts(pinfo: *mut packet_info) -> Option<PacketFacts> {
    if pinfo.is_null() {
        return None;
    }
    // SAFETY: pinfo is a live 4.0 packet_info (caller); offsets pinned above.
    unsafe {
        let fd: *const c_void = read_at(pinfo, PINFO_FD);
        if fd.is_null() {
            return None;
        }
        let visited_byte: u8 = read_at(fd, FRAME_DATA_VISITED_BYTE);
        let rec: *const c_void = read_at(pinfo, PINFO_REC);
        let wtap_encap = if rec.is_null() || read_at::<c_uint>(rec, WTAP_REC_REC_TYPE) != REC_TYPE_PACKET {
            None
        } else {
            Some(read_at::<c_int>(rec, WTAP_REC_PKT_ENCAP))
        };
        Some(PacketFacts {
            num: read_at(pinfo, PINFO_NUM),
            abs_ts: read_at(pinfo, PINFO_ABS_TS),
            visited: visited_byte & FRAME_DATA_VISITED_MASK != 0,
            pkt_len: read_at(fd, FRAME_DATA_PKT_LEN),
            wtap_encap,
            cinfo: read_at(pinfo, PINFO_CINFO),
        })
    }
}

/// `PTREE_DATA(tree)->visible`: whether the tree is built for display (labels are shown);
/// false for trees built only for filters or `-T fields`, where epan fakes unreferenced
/// items and ignores labels.
///
/// # Safety
/// `tree` must be NULL or a `proto_tree *` of the current packet.
pub unsafe fn proto_tree_is_visible(tree: *const proto_tree) -> bool {
    if tree.is_null() {
        return false;
    }
    // SAFETY: tree is a live proto_node (caller); tree_data, when set, is its tree_data_t
    // whose gboolean visible sits at TREE_DATA_VISIBLE (pinned by abi_check).
    unsafe {
        let td = (*tree).tree_data;
        !td.is_null() && read_at::<c_int>(td, TREE_DATA_VISIBLE) != 0
    }
}

/// `proto_item_set_generated()` (a static inline in 4.0 proto.h): sets `FI_GENERATED` in
/// `PITEM_FINFO(pi)->flags`.
///
/// # Safety
/// `pi` must be NULL or a `proto_item *` returned by epan for the current packet.
pub unsafe fn proto_item_set_generated(pi: *mut proto_item) {
    if pi.is_null() {
        return;
    }
    // SAFETY: pi is a live proto_node (caller); finfo, when set, is a live field_info whose
    // flags member sits at FIELD_INFO_FLAGS (pinned by abi_check).
    unsafe {
        let fi = (*pi).finfo;
        if !fi.is_null() {
            let flags = fi.cast::<u8>().add(FIELD_INFO_FLAGS).cast::<u32>();
            flags.write_unaligned(flags.read_unaligned() | FI_GENERATED);
        }
    }
}
