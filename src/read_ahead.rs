//! Reading the capture file on a second thread.
//!
//! Copying the file's bytes out of the kernel's page cache is the largest single cost of
//! `kudoscope stats` on plain CoAP after the analysis itself (perf: 10-14 % in `read`). A
//! thread does the reads, one chunk at a time, while the analysis thread parses records out of
//! the chunk before. Only raw bytes cross: the capture formats, the analysis and the output all
//! stay on one thread, in file order, so results are unchanged.
//!
//! Memory is bounded: at most `IN_FLIGHT` chunks wait, and emptied chunks go back to the
//! reading thread to be filled again, so no buffer is allocated per chunk. When the reader is
//! dropped early (a frame limit, a damaged record, `| head`), the thread's next send fails and
//! it ends. A read error is passed on once, at the position it happened, then reads return end
//! of file. When no thread can be started the file is read on the caller's thread.

use std::io::{self, BufReader, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

/// Bytes per chunk.
const CHUNK: usize = 1 << 18;
/// Filled chunks waiting for the analysis.
const IN_FLIGHT: usize = 2;

/// A `Read` whose bytes were read by another thread.
pub(crate) enum ReadAhead<R> {
    Threaded {
        filled: Receiver<io::Result<Vec<u8>>>,
        emptied: SyncSender<Vec<u8>>,
        current: Vec<u8>,
        pos: usize,
        done: bool,
    },
    /// No thread: plain buffered reads.
    Inline(BufReader<R>),
}

impl<R: Read + Send + 'static> ReadAhead<R> {
    pub(crate) fn new(inner: R) -> Self {
        let (to_reader, filled) = sync_channel(IN_FLIGHT);
        let (emptied, from_reader) = sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
        // The thread takes the source out of this slot; if it does not start, it is still there.
        let slot = Arc::new(Mutex::new(Some(inner)));
        let theirs = Arc::clone(&slot);
        let started = std::thread::Builder::new().name("kudoscope-read".into()).spawn(move || {
            let Some(mut inner) = theirs.lock().unwrap_or_else(PoisonError::into_inner).take() else {
                return;
            };
            loop {
                let mut chunk = from_reader.try_recv().unwrap_or_default();
                chunk.clear();
                // On an error, the bytes read before it are in `chunk`: they go first.
                let got = (&mut inner).take(CHUNK as u64).read_to_end(&mut chunk);
                let sent = match got {
                    Ok(n) => to_reader.send(Ok(chunk)).is_ok() && n > 0,
                    Err(e) => {
                        if !chunk.is_empty() {
                            let _ = to_reader.send(Ok(chunk));
                        }
                        let _ = to_reader.send(Err(e));
                        false
                    }
                };
                if !sent {
                    break;
                }
            }
        });
        let threaded = ReadAhead::Threaded { filled, emptied, current: Vec::new(), pos: 0, done: false };
        if started.is_ok() {
            return threaded;
        }
        match slot.lock().unwrap_or_else(PoisonError::into_inner).take() {
            Some(inner) => ReadAhead::Inline(BufReader::with_capacity(1 << 16, inner)),
            // Unreachable: a thread that did not start took nothing. Its channel reads as
            // the end of the file.
            None => threaded,
        }
    }
}

impl<R: Read> Read for ReadAhead<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let (filled, emptied, current, pos, done) = match self {
            ReadAhead::Inline(r) => return r.read(out),
            ReadAhead::Threaded { filled, emptied, current, pos, done } => {
                (filled, emptied, current, pos, done)
            }
        };
        while *pos >= current.len() {
            if *done {
                return Ok(0);
            }
            match filled.recv() {
                Ok(Ok(chunk)) if !chunk.is_empty() => {
                    let old = std::mem::replace(current, chunk);
                    let _ = emptied.try_send(old);
                    *pos = 0;
                }
                Ok(Err(e)) => {
                    *done = true;
                    return Err(e);
                }
                // End of file, or the thread is gone.
                Ok(Ok(_)) | Err(_) => *done = true,
            }
        }
        let rest = current.get(*pos..).unwrap_or_default();
        let n = rest.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        *pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that yields `data` in reads of at most `step` bytes, then fails if asked to.
    struct Source {
        data: Vec<u8>,
        pos: usize,
        step: usize,
        fail_at_end: bool,
    }

    impl Read for Source {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let rest = self.data.get(self.pos..).unwrap_or_default();
            if rest.is_empty() && self.fail_at_end {
                return Err(io::Error::other("disk on fire"));
            }
            let n = rest.len().min(out.len()).min(self.step);
            out[..n].copy_from_slice(&rest[..n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 + i / 997) as u8).collect()
    }

    #[test]
    fn bytes_arrive_whole_and_in_order_across_chunks() {
        let d = data(3 * CHUNK + 12_345);
        for (step, want) in [(usize::MAX, 7), (4096, 65_536), (1, 1_000_003)] {
            let mut r = ReadAhead::new(Source { data: d.clone(), pos: 0, step, fail_at_end: false });
            let mut got = Vec::new();
            let mut buf = vec![0; want];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got.len(), d.len(), "step {step}");
            assert!(got == d, "step {step}");
            assert_eq!(r.read(&mut buf).unwrap(), 0, "stays at the end");
        }
    }

    #[test]
    fn an_error_comes_after_the_bytes_before_it_then_the_end() {
        let d = data(CHUNK + 10);
        let mut r = ReadAhead::new(Source { data: d.clone(), pos: 0, step: 5000, fail_at_end: true });
        let mut got = Vec::new();
        let err = loop {
            let mut buf = [0; 777];
            match r.read(&mut buf) {
                Ok(0) => panic!("end before the error"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert!(got == d);
        assert_eq!(err.to_string(), "disk on fire");
        assert_eq!(r.read(&mut [0; 8]).unwrap(), 0);
    }

    #[test]
    fn dropping_early_ends_the_thread() {
        /// A source that says how far it was read, and when the reading thread let go of it.
        struct Watched(Source, Arc<std::sync::atomic::AtomicUsize>, std::sync::mpsc::Sender<()>);
        impl Read for Watched {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.read(out)?;
                self.1.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
                Ok(n)
            }
        }
        impl Drop for Watched {
            fn drop(&mut self) {
                let _ = self.2.send(());
            }
        }
        let total = 8 * CHUNK;
        let read = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (dropped, released) = std::sync::mpsc::channel();
        let source = Source { data: data(total), pos: 0, step: usize::MAX, fail_at_end: false };
        let mut r = ReadAhead::new(Watched(source, Arc::clone(&read), dropped));
        let mut buf = [0; 100];
        assert_eq!(r.read(&mut buf).unwrap(), 100);
        drop(r);
        // The thread, blocked on a full channel, ends (and drops the source) once the reader
        // is gone, without reading the rest of the file.
        assert!(released.recv_timeout(std::time::Duration::from_secs(20)).is_ok(), "thread still running");
        let n = read.load(std::sync::atomic::Ordering::SeqCst);
        assert!(n <= (IN_FLIGHT + 2) * CHUNK && n < total, "read {n} of {total} bytes");
    }
}
