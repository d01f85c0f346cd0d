//! The capture reader on the two real captures (d01 aiocoap, d02 libcoap; each recorded as
//! .pcap by tcpdump and .pcapng by dumpcap at the same time), cross-checked against
//! pcap-parser 0.17 and against tshark 4.0.17's view of every frame, and on a set of corrupted
//! copies, each of which must give one exact, located error.
//!
//! tests/data/capture/*.tshark.tsv were made with
//! `tshark -r FILE -T fields -e frame.number -e frame.time_epoch -e frame.len -e frame.cap_len -e frame.interface_id`.

// Test code throughout: lets clippy apply its in-test allowances (unwrap, indexing) here.
#![cfg(test)]

use analyzer_core::capture::{CaptureError, CaptureFormat, CaptureReader, LinkType, RawFrame};
use analyzer_core::time::Timestamp;
use pcap_parser::pcapng::Block;
use pcap_parser::{PcapBlockOwned, PcapError, create_reader};
use std::path::{Path, PathBuf};

const CAPTURES: &str = "/work/shared/captures";

fn capture(name: &str, ext: &str) -> PathBuf {
    Path::new(CAPTURES).join(name).join(format!("{name}.{ext}"))
}

const D01: &str = "d01_aiocoap_aiocoap";
const D02: &str = "d02_libcoap_libcoap";

/// All frames, or the frames before an error plus the error. Checks that nothing follows it.
fn read_bytes(bytes: &[u8]) -> Result<(Vec<RawFrame>, Option<CaptureError>), CaptureError> {
    let mut r = CaptureReader::new(bytes)?;
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame() {
        match f {
            Ok(f) => frames.push(f),
            Err(e) => {
                assert!(r.next_frame().is_none(), "a frame after the error {e}");
                return Ok((frames, Some(e)));
            }
        }
    }
    Ok((frames, None))
}

fn read_path(path: &Path) -> (CaptureFormat, Vec<RawFrame>) {
    let mut r = CaptureReader::open(path).unwrap();
    let format = r.format();
    let frames: Vec<RawFrame> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
    (format, frames)
}

/// One frame as pcap-parser sees it.
#[derive(Debug, PartialEq, Eq)]
struct Oracle {
    offset: u64,
    ts: Timestamp,
    link: u32,
    iface: u32,
    orig_len: u32,
    data: Vec<u8>,
}

impl Oracle {
    fn of(f: &RawFrame) -> Oracle {
        Oracle {
            offset: f.file_offset,
            ts: f.ts,
            link: f.link_type.0,
            iface: f.interface,
            orig_len: f.orig_len,
            data: f.data.clone(),
        }
    }
}

/// Reads `bytes` with pcap-parser's streaming reader.
fn pcap_parser_frames(bytes: &[u8]) -> Vec<Oracle> {
    let mut reader = create_reader(1 << 16, bytes).unwrap();
    let mut out = Vec::new();
    let mut offset = 0u64;
    let mut legacy = (false, 0u32);
    let mut idbs: Vec<(u32, u64, i64)> = Vec::new();
    loop {
        match reader.next() {
            Ok((len, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy = (h.is_nanosecond_precision(), h.network.0 as u32)
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let nanos = if legacy.0 { b.ts_usec } else { b.ts_usec * 1000 };
                        out.push(Oracle {
                            offset,
                            ts: Timestamp::new(i64::from(b.ts_sec), nanos),
                            link: legacy.1,
                            iface: 0,
                            orig_len: b.origlen,
                            data: b.data.to_vec(),
                        });
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => idbs.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        idbs.push((idb.linktype.0 as u32, idb.ts_resolution().unwrap(), idb.ts_offset()))
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let (link, res, off) = idbs[epb.if_id as usize];
                        let (sec, frac) = epb.decode_ts(off as u64, res);
                        let nanos = (u128::from(frac) * 1_000_000_000 / u128::from(res)) as u32;
                        out.push(Oracle {
                            offset,
                            ts: Timestamp::new(i64::from(sec), nanos),
                            link,
                            iface: epb.if_id,
                            orig_len: epb.origlen,
                            data: epb.data[..epb.caplen as usize].to_vec(),
                        });
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                offset += len as u64;
                reader.consume(len);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().unwrap(),
            Err(e) => panic!("pcap-parser: {e:?}"),
        }
    }
    out
}

/// tshark's line for a frame: number, epoch time, frame.len, frame.cap_len.
fn tshark_rows(file: &str) -> Vec<(u64, Timestamp, u32, usize)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/capture").join(format!("{file}.tshark.tsv"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let (s, n) = c[1].split_once('.').unwrap();
            assert_eq!(n.len(), 9);
            (
                c[0].parse().unwrap(),
                Timestamp::new(s.parse().unwrap(), n.parse().unwrap()),
                c[2].parse().unwrap(),
                c[3].parse().unwrap(),
            )
        })
        .collect()
}

fn check_real_capture(name: &str, count: usize) {
    let (pcap_format, pcap) = read_path(&capture(name, "pcap"));
    let (ng_format, ng) = read_path(&capture(name, "pcapng"));
    assert_eq!(pcap_format, CaptureFormat::Pcap { big_endian: false, nanos: false });
    assert_eq!(ng_format, CaptureFormat::PcapNg);
    assert_eq!(pcap.len(), count);
    assert_eq!(ng.len(), count);
    for (a, b) in pcap.iter().zip(&ng) {
        assert_eq!(a.number, b.number);
        assert_eq!(a.data, b.data, "frame {}", a.number);
        assert_eq!(a.orig_len, b.orig_len);
        assert_eq!((a.link_type, b.link_type), (LinkType::ETHERNET, LinkType::ETHERNET));
        assert_eq!((a.interface, b.interface), (0, 0));
        let d = b.ts.nanos_since(a.ts);
        assert!((0..1000).contains(&d), "frame {}: {} vs {} ({d} ns)", a.number, a.ts, b.ts);
        assert_eq!(a.ts.nanos % 1000, 0, "µs file");
    }
    assert_eq!(pcap.iter().map(|f| f.number).collect::<Vec<_>>(), (1..=count as u64).collect::<Vec<_>>());
    // pcap-parser, independently: offsets, timestamps, lengths, bytes, link types.
    for (ext, frames) in [("pcap", &pcap), ("pcapng", &ng)] {
        let bytes = std::fs::read(capture(name, ext)).unwrap();
        let ours: Vec<Oracle> = frames.iter().map(Oracle::of).collect();
        assert_eq!(ours, pcap_parser_frames(&bytes), "{name}.{ext}");
        // tshark 4.0.17: number, epoch time to the nanosecond, frame.len, frame.cap_len.
        let rows = tshark_rows(&format!("{name}.{ext}"));
        let ours: Vec<_> = frames.iter().map(|f| (f.number, f.ts, f.orig_len, f.data.len())).collect();
        assert_eq!(ours, rows, "{name}.{ext} vs tshark");
    }
}

#[test]
fn d01_pcap_and_pcapng_agree_with_each_other_pcap_parser_and_tshark() {
    check_real_capture(D01, 26);
}

#[test]
fn d02_pcap_and_pcapng_agree_with_each_other_pcap_parser_and_tshark() {
    check_real_capture(D02, 66);
}

#[test]
fn interface_info_of_the_real_captures() {
    let r = CaptureReader::open(&capture(D01, "pcap")).unwrap();
    let i = &r.interfaces()[0];
    assert_eq!((i.link_type, i.snaplen, i.fcs_bits), (LinkType::ETHERNET, 262_144, None));
    let mut r = CaptureReader::open(&capture(D01, "pcapng")).unwrap();
    assert!(r.next_frame().unwrap().is_ok());
    let i = &r.interfaces()[0];
    assert_eq!((i.link_type, i.snaplen, i.name.as_deref()), (LinkType::ETHERNET, 262_144, Some("lo")));
    assert_eq!(i.ts_resolution, analyzer_core::capture::TsResolution::NANOS);
    // dumpcap writes an interface statistics block at the end, which is skipped.
    for _ in r.by_ref() {}
    assert_eq!(r.stats().frames, 26);
    assert!(r.stats().skipped_blocks >= 1, "{:?}", r.stats());
}

// ---- corrupted copies ----

fn real(name: &str, ext: &str) -> (Vec<u8>, Vec<RawFrame>) {
    let bytes = std::fs::read(capture(name, ext)).unwrap();
    let (frames, err) = read_bytes(&bytes).unwrap();
    assert!(err.is_none());
    (bytes, frames)
}

#[test]
fn truncated_mid_record_delivers_the_frames_before_it() {
    for ext in ["pcap", "pcapng"] {
        let (bytes, all) = real(D01, ext);
        let tenth = &all[9];
        let cut = tenth.file_offset as usize + 20;
        let (frames, err) = read_bytes(&bytes[..cut]).unwrap();
        assert_eq!(frames, all[..9], "{ext}");
        let err = err.unwrap();
        match &err {
            CaptureError::Truncated { offset, frame: Some(10), needed, available: 20, .. } => {
                assert_eq!(*offset, tenth.file_offset);
                // Frame 11's record follows directly in both files.
                assert_eq!(*needed, all[10].file_offset - tenth.file_offset, "{err}");
            }
            e => panic!("{ext}: {e:?}"),
        }
        assert!(err.to_string().starts_with("file cut short: "), "{err}");
    }
}

#[test]
fn bad_magic() {
    let (mut bytes, _) = real(D01, "pcap");
    bytes[..4].copy_from_slice(b"GIF8");
    match CaptureReader::new(&bytes[..]) {
        Err(CaptureError::BadMagic { magic }) => assert_eq!(magic, b"GIF8"),
        e => panic!("{e:?}"),
    }
}

#[test]
fn caplen_larger_than_the_file() {
    let (mut bytes, all) = real(D01, "pcap");
    let last = all.last().unwrap();
    let at = last.file_offset as usize;
    bytes[at + 8..at + 12].copy_from_slice(&200_000u32.to_le_bytes()); // below the snaplen 262144
    let (frames, err) = read_bytes(&bytes).unwrap();
    assert_eq!(frames.len(), 25);
    match err.unwrap() {
        CaptureError::Truncated { offset, frame: Some(26), what, needed: 200_016, available } => {
            assert_eq!(offset, last.file_offset);
            assert_eq!(available as usize, bytes.len() - at);
            assert!(what.contains("caplen larger than the file"));
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn zero_length_file_and_missing_file() {
    let dir = std::env::temp_dir().join(format!("capture_files_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let e = CaptureReader::open(&empty).unwrap_err();
    assert!(matches!(e, CaptureError::Empty), "{e:?}");
    assert_eq!(e.to_string(), "the file is empty (0 bytes): not a pcap or pcapng capture");
    let missing = dir.join("missing.pcap");
    let e = CaptureReader::open(&missing).unwrap_err();
    assert!(matches!(&e, CaptureError::Open { path, .. } if path.ends_with("missing.pcap")), "{e:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The pcapng copy with the leading (`lead`) or trailing length of the block of frame 5 set
/// to `len`; checks the Malformed error at that block.
fn pcapng_block_length(lead: bool, len: u32, needle: &str) {
    let (mut bytes, all) = real(D01, "pcapng");
    let f5 = &all[4];
    let at = f5.file_offset as usize;
    let total = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
    let field = if lead { at + 4 } else { at + total - 4 };
    bytes[field..field + 4].copy_from_slice(&len.to_le_bytes());
    let (frames, err) = read_bytes(&bytes).unwrap();
    assert_eq!(frames, all[..4]);
    match err.unwrap() {
        CaptureError::Malformed { offset, frame: Some(5), what } => {
            assert_eq!(offset, f5.file_offset);
            assert!(what.contains(needle), "{what}");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn pcapng_block_length_not_a_multiple_of_4() {
    pcapng_block_length(true, 118, "total length 118 is not a multiple of 4");
}

#[test]
fn pcapng_trailing_block_length_mismatch() {
    pcapng_block_length(false, 4, "trailing total length 4 differs from the leading");
}

#[test]
fn pcapng_block_length_smaller_than_12() {
    pcapng_block_length(true, 8, "total length 8 is smaller than the minimum of 12");
}

#[test]
fn pcapng_truncated_inside_the_section_header() {
    let (bytes, _) = real(D01, "pcapng");
    let shb_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap());
    assert_eq!(shb_len, 164);
    let e = CaptureReader::new(&bytes[..100]).unwrap_err();
    assert!(
        matches!(
            e,
            CaptureError::Truncated {
                offset: 0,
                frame: None,
                what: "section header block",
                needed: 164,
                available: 100
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "file cut short: section header block at byte 0 needs 164 bytes, only 100 present"
    );
}

/// A reader whose frames are handed back (`recycle`, as the CLI does) reads the same frames:
/// the reused buffer never leaks bytes of an earlier, longer frame into a shorter one.
#[test]
fn recycled_buffers_give_the_same_frames() {
    let files = [capture(D01, "pcap"), capture(D01, "pcapng"), capture(D02, "pcapng")];
    for path in files {
        let (_, plain) = read_path(&path);
        let mut r = CaptureReader::open(&path).unwrap();
        let mut n = 0;
        while let Some(f) = r.next_frame() {
            let f = f.unwrap();
            assert_eq!(f, plain[n], "{} frame {}", path.display(), f.number);
            n += 1;
            r.recycle(f);
        }
        assert_eq!(n, plain.len());
        assert!(
            plain.windows(2).any(|w| w[0].data.len() > w[1].data.len()),
            "a shorter frame follows a longer one"
        );
    }
}
