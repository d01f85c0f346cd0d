//! Byte input with an offset, and checked little/big-endian field reads.
//!
//! Reads never fail on a short input by themselves: they report how many bytes were present,
//! and the format readers turn a short count into a located `Truncated` error (or a clean end
//! of file when zero bytes were present at a record boundary).

use std::io::{self, Read};

/// Largest step by which a record buffer grows while it is filled. A record header that claims
/// a huge length in a cut file then costs no more memory than the bytes really present (plus
/// one step).
const GROW_STEP: usize = 1 << 20;

pub(crate) struct Input<R> {
    inner: R,
    /// Bytes consumed from the start of the file.
    offset: u64,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(inner: R) -> Self {
        Input { inner, offset: 0 }
    }

    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Fills `buf` as far as the input allows. Returns the number of bytes read; it is less than
    /// `buf.len()` only at the end of the input.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while let Some(rest) = buf.get_mut(n..) {
            if rest.is_empty() {
                break;
            }
            match self.inner.read(rest) {
                Ok(0) => break,
                Ok(k) => {
                    n += k;
                    self.offset += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }

    /// Appends up to `len` bytes to `out`, growing it by at most [`GROW_STEP`] at a time.
    /// Returns the number of bytes appended (less than `len` only at the end of the input);
    /// `out` holds exactly the bytes read afterwards.
    pub(crate) fn append(&mut self, out: &mut Vec<u8>, len: usize) -> io::Result<usize> {
        let mut done = 0;
        while done < len {
            let step = (len - done).min(GROW_STEP);
            let start = out.len();
            out.resize(start + step, 0);
            let got = match out.get_mut(start..) {
                Some(dst) => self.fill(dst),
                None => Ok(0),
            };
            let got = match got {
                Ok(g) => g,
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            };
            out.truncate(start + got);
            done += got;
            if got < step {
                break;
            }
        }
        Ok(done)
    }

    /// Reads and discards up to `len` bytes. Returns the number skipped (less than `len` only at
    /// the end of the input).
    pub(crate) fn skip(&mut self, len: u64) -> io::Result<u64> {
        let mut buf = [0u8; 4096];
        let mut done = 0u64;
        while done < len {
            let step = usize::try_from((len - done).min(buf.len() as u64)).unwrap_or(buf.len());
            let Some(dst) = buf.get_mut(..step) else { break };
            let got = self.fill(dst)?;
            done += got as u64;
            if got < step {
                break;
            }
        }
        Ok(done)
    }
}

/// Byte order of the fields of a pcap file or of a pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    pub(crate) fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        }
    }

    pub(crate) fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }

    pub(crate) fn i64(self, b: [u8; 8]) -> i64 {
        match self {
            Endian::Little => i64::from_le_bytes(b),
            Endian::Big => i64::from_be_bytes(b),
        }
    }

    /// The `u16` at `at` in `buf`, `None` when it does not fit.
    pub(crate) fn u16_at(self, buf: &[u8], at: usize) -> Option<u16> {
        Some(self.u16(array_at(buf, at)?))
    }

    /// The `u32` at `at` in `buf`, `None` when it does not fit.
    pub(crate) fn u32_at(self, buf: &[u8], at: usize) -> Option<u32> {
        Some(self.u32(array_at(buf, at)?))
    }

    /// The `i64` at `at` in `buf`, `None` when it does not fit.
    pub(crate) fn i64_at(self, buf: &[u8], at: usize) -> Option<i64> {
        Some(self.i64(array_at(buf, at)?))
    }
}

/// `N` bytes at `at` in `buf`, `None` when they do not fit.
pub(crate) fn array_at<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// `len` rounded up to a multiple of 4 (pcapng padding), `None` on overflow.
pub(crate) fn pad4(len: usize) -> Option<usize> {
    len.checked_add(3).map(|l| l & !3)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per call and interrupts every other call: `fill`,
    /// `append` and `skip` must still read everything and count the offset exactly.
    struct Trickle<'a> {
        data: &'a [u8],
        pos: usize,
        interrupt: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "again"));
            }
            if self.pos >= self.data.len() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.data[self.pos];
            self.pos += 1;
            Ok(1)
        }
    }

    #[test]
    fn fill_append_skip_count_bytes_and_stop_at_eof() {
        let data: Vec<u8> = (0u8..20).collect();
        let mut input = Input::new(Trickle { data: &data, pos: 0, interrupt: false });
        let mut four = [0u8; 4];
        assert_eq!(input.fill(&mut four).unwrap(), 4);
        assert_eq!(four, [0, 1, 2, 3]);
        assert_eq!(input.skip(6).unwrap(), 6);
        let mut out = vec![0xee];
        assert_eq!(input.append(&mut out, 5).unwrap(), 5);
        assert_eq!(out, [0xee, 10, 11, 12, 13, 14]);
        assert_eq!(input.offset(), 15);
        // Only 5 bytes left: short counts, exact buffer contents.
        assert_eq!(input.append(&mut out, 100).unwrap(), 5);
        assert_eq!(out, [0xee, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
        assert_eq!(input.skip(100).unwrap(), 0);
        assert_eq!(input.fill(&mut four).unwrap(), 0);
        assert_eq!(input.offset(), 20);
    }

    #[test]
    fn endian_reads_are_checked() {
        let b = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
        assert_eq!(Endian::Little.u32_at(&b, 0), Some(0x0403_0201));
        assert_eq!(Endian::Big.u32_at(&b, 4), Some(0x0506_0708));
        assert_eq!(Endian::Big.u16_at(&b, 6), Some(0x0708));
        assert_eq!(Endian::Big.u32_at(&b, 5), None);
        assert_eq!(Endian::Little.u16_at(&b, usize::MAX), None);
        assert_eq!(Endian::Big.i64_at(&b, 0), Some(0x0102_0304_0506_0708));
        assert_eq!(pad4(0), Some(0));
        assert_eq!(pad4(5), Some(8));
        assert_eq!(pad4(8), Some(8));
        assert_eq!(pad4(usize::MAX), None);
    }
}
