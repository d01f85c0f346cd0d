//! `kudoscope-gui [CAPTURE] [--keys PATH]... [--select N] [--view packets|timeline|keys|audit]`

use kudoscope_gui::{App, Command, View, settings::Settings};
use std::path::PathBuf;

const USAGE: &str =
    "usage: kudoscope-gui [CAPTURE] [--keys PATH]... [--select FRAME] [--view packets|timeline|keys|audit]
  CAPTURE          pcap or pcapng file to open (keys next to it, CAPTURE.keys.toml, are found automatically)
  --keys PATH      OSCORE keys in any format the CLI reads (repeatable)
  --select FRAME   select this frame once loaded
  --view VIEW      start in this view
  --quit-after-load  close the window when the capture is loaded (the load time is printed)
Environment: KUDOSCOPE_RENDERER=glow|wgpu (default glow)";

#[derive(Debug, Default)]
struct Args {
    capture: Option<PathBuf>,
    keys: Vec<PathBuf>,
    select: Option<u64>,
    view: Option<View>,
    quit_after_load: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = std::env::args_os().skip(1);
    while let Some(arg) = it.next() {
        let s = arg.to_string_lossy().to_string();
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match s.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--quit-after-load" => a.quit_after_load = true,
            "-k" | "--keys" => a.keys.push(PathBuf::from(value("--keys")?)),
            "--select" => {
                let v = value("--select")?;
                a.select = Some(
                    v.to_string_lossy().parse().map_err(|_| "--select needs a frame number".to_string())?,
                );
            }
            "--view" => {
                let v = value("--view")?.to_string_lossy().to_lowercase();
                a.view = Some(match v.as_str() {
                    "packets" => View::Packets,
                    "timeline" => View::Timeline,
                    "keys" => View::Keys,
                    "audit" => View::Audit,
                    other => return Err(format!("unknown view {other:?}")),
                });
            }
            _ if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ => {
                if a.capture.is_some() {
                    return Err("only one capture can be opened".into());
                }
                a.capture = Some(PathBuf::from(arg));
            }
        }
    }
    Ok(a)
}

fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("kudoscope-gui: {e}");
            }
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(if e.is_empty() { 0 } else { 2 });
        }
    };
    let renderer = match std::env::var("KUDOSCOPE_RENDERER").as_deref() {
        // GL is the lighter of the two on software renderers (llvmpipe); wgpu on request.
        Ok("wgpu") => eframe::Renderer::Wgpu,
        _ => eframe::Renderer::Glow,
    };
    let options = eframe::NativeOptions {
        renderer,
        viewport: egui::ViewportBuilder::default()
            .with_title("kudoscope")
            .with_inner_size([1280.0, 800.0])
            .with_position([0.0, 0.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let r = eframe::run_native(
        "kudoscope",
        options,
        Box::new(move |cc| {
            let settings = Settings::load(cc.storage);
            cc.egui_ctx.set_theme(settings.theme.preference());
            let mut app = App::new(settings);
            app.cli_keys = args.keys.clone();
            app.rt.select_after_load = args.select;
            app.quit_after_load = args.quit_after_load;
            if let Some(v) = args.view {
                app.rt.view = v;
            }
            if let Some(p) = args.capture.clone() {
                app.apply(Command::Open(p), Some(&cc.egui_ctx));
            }
            Ok(Box::new(app))
        }),
    );
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kudoscope-gui: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
