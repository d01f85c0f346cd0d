//! Links libwireshark, libwsutil, libwiretap and glib as `pkg-config --libs wireshark` says
//! (no pkg-config crate: one process call). Fails with a clear message when the Wireshark
//! development files are missing.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_LIBDIR");
    let hint = "kudoscope's Wireshark plugin needs the Wireshark 4.0 development files: \
                install them with `apt-get install libwireshark-dev libglib2.0-dev pkg-config` \
                (Debian/Ubuntu), or leave the plugin out: `cargo build --workspace --exclude plugin-c-abi`";
    let out = match Command::new("pkg-config").args(["--libs-only-L", "--libs-only-l", "wireshark"]).output()
    {
        Ok(o) => o,
        Err(e) => fail(&format!("cannot run pkg-config ({e}). {hint}")),
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        fail(&format!("pkg-config does not know `wireshark`: {}. {hint}", err.trim()));
    }
    let libs = String::from_utf8_lossy(&out.stdout);
    let mut lib_dirs = Vec::new();
    for tok in libs.split_whitespace() {
        if let Some(p) = tok.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={p}");
            lib_dirs.push(p.to_string());
        } else if let Some(l) = tok.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={l}");
        }
    }
    // libwiretap (wtap_pcap_encap_to_wtap_encap) is a dependency of libwireshark that
    // wireshark.pc does not list; it sits in the same directory.
    println!("cargo:rustc-link-lib=dylib=wiretap");

    // The installed version must be the one the compiled-in ABI module describes.
    let version = Command::new("pkg-config")
        .args(["--modversion", "wireshark"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let want = if std::env::var_os("CARGO_FEATURE_WS40").is_some() { "4.0." } else { "" };
    if !want.is_empty() && !version.starts_with(want) {
        fail(&format!(
            "the installed Wireshark development files are version {version}, but this build \
             compiles the {want}x plugin ABI (feature ws40). Build the feature matching your \
             Wireshark (docs/wireshark-plugin.md)."
        ));
    }
    println!("cargo:rustc-env=KUDOSCOPE_WIRESHARK_VERSION={version}");
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    println!("cargo:warning={msg}");
    std::process::exit(1);
}
