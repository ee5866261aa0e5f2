//! Virtual drive benchmark: `cargo run --release -p engine --example drive_bench [FILES]`.
//!
//! Builds a synthetic venv of FILES files (default 5,000: 50 packages of
//! 100 files in 10 subfolders, each with a RECORD as pip writes it; no
//! network), then times
//! `fs.link {venv}` three ways, each on its own venv in one temp home:
//! (a) the first venv: every package goes into `drives/pip`;
//! (b) a second venv with the same packages: each file is swapped for the
//!     drive's identical copy;
//! (c) (a) again: everything is linked already.
//! The target is (a) ≤ 1 s. Prints the times; asserts nothing.

use std::path::Path;
use std::time::Instant;

use engine::drive::{link_venv, VenvRequest};

fn main() {
    let files: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let home = tempfile::tempdir().expect("tempdir");
    let root = home.path().join("drive");
    let per_package = 100;
    let packages = files.div_ceil(per_package);
    let venv = |app: &str| home.path().join("api").join(app).join("env");
    for app in ["first", "second"] {
        build_venv(&venv(app), packages, per_package);
    }
    let time = |app: &str| {
        let v = venv(app);
        let req = VenvRequest {
            root: &root,
            venv: &v,
            app_dir: v.parent().expect("app dir"),
            uv_cache: None,
        };
        let t = Instant::now();
        let out = link_venv(&req).expect("link").expect("a venv");
        let secs = t.elapsed().as_secs_f64();
        (secs, out)
    };
    let (a, out_a) = time("first");
    let (b, out_b) = time("second");
    let (c, out_c) = time("first");
    println!("venv of {files} files in {packages} packages:");
    println!(
        "(a) first venv, all stored:        {a:.3}s  ({} packages stored)",
        out_a.moved.len()
    );
    println!(
        "(b) second venv, identical copies: {b:.3}s  ({} packages reused)",
        out_b.reused.len()
    );
    println!(
        "(c) first venv again, nothing to do: {c:.3}s  ({} already linked)",
        out_c.unchanged.len()
    );
    let verdict = if a <= 1.0 { "yes" } else { "NO" };
    println!("(a) within 1 s: {verdict}");
}

/// `packages` packages of `per` files each (a dist-info among them).
fn build_venv(venv: &Path, packages: usize, per: usize) {
    let site = venv.join("lib/python3.11/site-packages");
    for p in 0..packages {
        let (name, di) = (format!("pkg{p}"), format!("pkg{p}-1.0.dist-info"));
        let mut record = String::new();
        let mut put = |rel: String, text: String| {
            let path = site.join(&rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, &text).expect("write");
            record.push_str(&format!("{rel},sha256=h{p}x{},{}\n", rel.len(), text.len()));
        };
        put(
            format!("{di}/METADATA"),
            format!("Name: {name}\nVersion: 1.0\n"),
        );
        for f in 0..per - 2 {
            put(
                format!("{name}/sub{}/m{f}.py", f % 10),
                format!("VALUE = {f}\n# {}\n", "x".repeat(200)),
            );
        }
        record.push_str(&format!("{di}/RECORD,,\n"));
        std::fs::write(site.join(&di).join("RECORD"), record).expect("record");
    }
}
