//! AMD GPUs from `rocm-smi --json`, for machines without `nvidia-smi`.
//! Pinokio reads them through `systeminformation`; `rocm-smi` is what a
//! ROCm machine (the only kind of AMD machine launchers install for) has.

use serde_json::Value;

use super::{smi_output, Gpu};

/// What one `rocm-smi` call tells: the cards, the driver, the `gfx` target.
#[derive(Debug, Default)]
pub struct AmdProbe {
    pub gpus: Vec<Gpu>,
    pub driver: Option<String>,
    pub target: Option<String>,
}

/// Reads the cards; empty when `rocm-smi` is missing or says nothing usable.
pub fn gpus() -> AmdProbe {
    let args = [
        "--showproductname",
        "--showmeminfo",
        "vram",
        "--showdriverversion",
        "--json",
    ];
    smi_output("rocm-smi", &args)
        .and_then(|out| serde_json::from_str::<Value>(&out).ok())
        .map(|v| parse(&v))
        .unwrap_or_default()
}

/// `{"card0": {"Card series": …, "VRAM Total Memory (B)": …, "GFX Version":
/// …}, "system": {"Driver version": …}}`: the shape `rocm-smi --json` prints
/// (cards sorted by their number).
pub fn parse(v: &Value) -> AmdProbe {
    let Some(obj) = v.as_object() else {
        return AmdProbe::default();
    };
    let text = |o: &Value, keys: &[&str]| {
        keys.iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "N/A")
            .map(String::from)
    };
    let mut cards: Vec<(u32, &Value)> = obj
        .iter()
        .filter_map(|(k, c)| Some((k.strip_prefix("card")?.parse().ok()?, c)))
        .collect();
    cards.sort_by_key(|(n, _)| *n);
    // The target of the card Pinokio selects: the one with the most VRAM.
    let mut target: Option<(u64, String)> = None;
    let gpus = cards
        .iter()
        .map(|(_, c)| {
            let gfx = text(c, &["GFX Version", "gfx_version"]).map(|s| s.to_lowercase());
            let bytes: u64 = text(c, &["VRAM Total Memory (B)"])
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if let Some(g) = gfx.filter(|_| target.as_ref().is_none_or(|(v, _)| bytes > *v)) {
                target = Some((bytes, g));
            }
            Gpu {
                vendor: "amd".into(),
                model: text(c, &["Card series", "Card model", "Card SKU"])
                    .unwrap_or_else(|| "AMD Radeon".into()),
                vram: bytes / (1024 * 1024),
            }
        })
        .collect();
    let driver = obj
        .get("system")
        .and_then(|s| text(s, &["Driver version", "driver_version"]));
    AmdProbe {
        gpus,
        driver,
        target: target.map(|(_, g)| g),
    }
}
