//! A whole capture file: reader (pcap/pcapng) -> analyzer, as the CLI runs it.
#![no_main]

use analyzer_core::analysis::{Analyzer, AnalyzerConfig};
use analyzer_core::capture::CaptureReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::new(data) else { return };
    let mut analyzer = Analyzer::new(AnalyzerConfig::default());
    let mut n = 0;
    while let Some(Ok(frame)) = reader.next_frame() {
        let record = analyzer.process(&frame);
        let _ = analyzer_core::dissect::dissect(&record);
        // As the CLI does: the record's and the frame's buffers serve the next frame.
        analyzer.recycle(record);
        reader.recycle(frame);
        n += 1;
        if n > 10_000 {
            break;
        }
    }
    let _ = analyzer.finish();
});
