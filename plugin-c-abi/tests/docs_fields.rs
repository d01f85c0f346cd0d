//! docs/wireshark-plugin.md lists every `kudoscope.*` field and expert info the plugin
//! registers (generated from analyzer-core's field registry and `FindingKind::ALL`). When a
//! field or finding kind is added, regenerate the section and review the diff:
//! `KUDOSCOPE_BLESS=1 cargo test -p plugin-c-abi --test docs_fields`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use analyzer_core::FindingKind;
use analyzer_core::fields::{self, Base, FieldType};
use kudoscope_wireshark::render::{self, ExpertGroup};
use std::fmt::Write;
use std::path::Path;

const BEGIN: &str =
    "<!-- generated:fields:begin (KUDOSCOPE_BLESS=1 cargo test -p plugin-c-abi --test docs_fields) -->";
const END: &str = "<!-- generated:fields:end -->";

fn ft(ty: FieldType, base: Base) -> String {
    let t = match ty {
        FieldType::U8 => "FT_UINT8",
        FieldType::U16 => "FT_UINT16",
        FieldType::U32 => "FT_UINT32",
        FieldType::U64 => "FT_UINT64",
        FieldType::FrameNum => "FT_FRAMENUM",
        FieldType::I64 => "FT_INT64",
        FieldType::Bool => "FT_BOOLEAN",
        FieldType::Bytes => "FT_BYTES",
        FieldType::Str => "FT_STRING",
    };
    match (ty, base) {
        (FieldType::U8 | FieldType::U16 | FieldType::U32 | FieldType::U64, Base::Hex) => format!("{t} (hex)"),
        _ => t.to_string(),
    }
}

fn generated() -> String {
    let mut s = String::new();
    s.push_str("| Field | Type | Title | Description |\n|---|---|---|---|\n");
    for f in fields::all().iter().filter(|f| f.group().is_application()) {
        let _ = writeln!(
            s,
            "| `kudoscope.{}` | {} | {} | {} |",
            f.name,
            ft(f.ty, f.base),
            f.title.replace('|', "\\|"),
            f.description.replace('|', "\\|")
        );
    }
    s.push_str(
        "\nExpert infos: `kudoscope.expert.<kind>.<chat|note|warn|error>` for each finding kind (the\n",
    );
    s.push_str(
        "severity suffix follows the finding's severity), plus `kudoscope.expert.other.*` for kinds\n",
    );
    s.push_str("newer than the plugin and `kudoscope.expert.keys_not_loaded`.\n\n");
    s.push_str("| Finding kind | Expert group |\n|---|---|\n");
    for k in FindingKind::ALL {
        let g = match render::expert_group(k.as_str()) {
            ExpertGroup::Malformed => "Malformed",
            ExpertGroup::Sequence => "Sequence",
            ExpertGroup::Checksum => "Checksum",
            ExpertGroup::Security => "Security",
            ExpertGroup::Protocol => "Protocol",
        };
        let _ = writeln!(s, "| `{}` | {g} |", k.as_str());
    }
    s
}

#[test]
fn docs_list_every_field_and_expert_info() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/wireshark-plugin.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("{} lacks the markers {BEGIN:?} / {END:?}", path.display());
    };
    let current = &doc[b + BEGIN.len()..e];
    let want = format!("\n{}", generated());
    if current != want {
        if std::env::var_os("KUDOSCOPE_BLESS").is_some_and(|v| v == "1") {
            let new = format!("{}{BEGIN}{want}{}", &doc[..b], &doc[e..]);
            std::fs::write(&path, new).unwrap();
        } else {
            panic!(
                "docs/wireshark-plugin.md is out of date with the field registry: run\n  \
                 KUDOSCOPE_BLESS=1 cargo test -p plugin-c-abi --test docs_fields\nand review the diff"
            );
        }
    }
}
