//! Measures what the app does when it opens a capture, without a window: the worker thread
//! loads (rows, timeline, audit), the "UI" drains messages under the same 8 ms budget per frame
//! (16 ms frames), then a frame far from the start is selected (re-analysed on demand).
//!
//! `cargo run --release -p kudoscope-gui --example load_bench -- CAPTURE [--select N] [--filter EXPR]`
//! Prints the time to the first rows, to the end of the load, and peak RSS (VmHWM).

use kudoscope_gui::app::{App, Command, DRAIN_BUDGET};
use kudoscope_gui::settings::Settings;
use std::time::{Duration, Instant};

fn vm_hwm_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn wait(app: &mut App, worst: &mut Duration) {
    while app.rt.job.is_some() {
        let t = Instant::now();
        app.drain(DRAIN_BUDGET);
        *worst = (*worst).max(t.elapsed());
        std::thread::sleep(Duration::from_millis(16));
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: load_bench CAPTURE [--select N] [--filter EXPR]");
    let (mut select, mut filter) = (None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--select" => select = args.next().and_then(|v| v.parse::<u64>().ok()),
            "--filter" => filter = args.next(),
            "--worker-only" => {
                let t = Instant::now();
                let msgs = kudoscope_gui::loader::run_inline(kudoscope_gui::loader::Job::Load(
                    kudoscope_gui::loader::LoadSpec::new(path.clone().into()),
                ));
                println!(
                    "worker alone (no UI, messages collected): {:.3} s, {} messages",
                    t.elapsed().as_secs_f64(),
                    msgs.len()
                );
                return;
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let mut app = App::new(Settings::default());
    let t0 = Instant::now();
    app.apply(Command::Open(path.into()), None);
    let mut first_rows = None;
    let mut worst = Duration::ZERO;
    while app.rt.job.is_some() {
        let t = Instant::now();
        app.drain(DRAIN_BUDGET);
        worst = worst.max(t.elapsed());
        if first_rows.is_none() && app.rt.capture.as_ref().is_some_and(|c| !c.rows.is_empty()) {
            first_rows = Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(16));
    }
    let loaded = t0.elapsed();
    let c = app.rt.capture.as_ref().expect("capture");
    println!("frames: {}", c.rows.len());
    println!("first rows shown after: {:.3} s", first_rows.unwrap_or_default().as_secs_f64());
    println!("load complete after: {:.3} s (rows, contexts, timeline, audit)", loaded.as_secs_f64());
    println!("longest drain per UI frame: {:.1} ms", worst.as_secs_f64() * 1e3);
    println!(
        "info arena: {:.1} MB, rows: {:.1} MB, cached records: {}",
        c.info.len() as f64 / 1e6,
        (c.rows.len() * std::mem::size_of::<kudoscope_gui::model::Row>()) as f64 / 1e6,
        c.cache.len()
    );
    let tl = app.rt.timeline.as_ref();
    println!(
        "lanes: {}, ticks: {}, executions: {}, findings: {} ({} listed)",
        tl.map_or(0, |t| t.lanes.len()),
        tl.map_or(0, |t| t.lanes.iter().map(|l| l.ticks.len()).sum::<usize>()),
        tl.map_or(0, |t| t.lanes.iter().map(|l| l.lane.procedures.len()).sum::<usize>()),
        c.audit.as_ref().map_or(0, |r| r.summary.iter().map(|s| s.count).sum::<u64>()),
        c.audit.as_ref().map_or(0, |r| r.findings.len()),
    );
    println!("peak RSS after load: {:.0} MB", vm_hwm_mb());
    let t = Instant::now();
    if let Some(c) = app.rt.capture.as_mut() {
        c.toggle_sort(kudoscope_gui::model::Column::Info);
    }
    println!("sort by Info: {:.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    if let Some(c) = app.rt.capture.as_mut() {
        c.set_sort(Some((kudoscope_gui::model::Column::Length, false)));
    }
    println!("sort by Length: {:.3} s", t.elapsed().as_secs_f64());
    if let Some(c) = app.rt.capture.as_mut() {
        c.set_sort(None);
    }
    if let Some(n) = select {
        let t = Instant::now();
        app.apply(Command::Select(n), None);
        wait(&mut app, &mut worst);
        println!(
            "select frame {n} (re-analysis): {:.3} s, detail shown: {}",
            t.elapsed().as_secs_f64(),
            app.rt.detail.as_ref().is_some_and(|d| d.frame == n)
        );
    }
    if let Some(f) = filter {
        let t = Instant::now();
        app.apply(Command::ApplyFilter(f.clone()), None);
        wait(&mut app, &mut worst);
        let c = app.rt.capture.as_ref().expect("capture");
        println!("filter {f:?}: {} matches in {:.3} s", c.visible.len(), t.elapsed().as_secs_f64());
    }
    println!("peak RSS at the end: {:.0} MB", vm_hwm_mb());
}
