//! What the benchmarks share: a real `pinokiocloud serve` to measure.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `pinokiocloud serve` on a free port (with `site` when it was built):
/// its process, base URL and admin login token, read from the first two
/// lines it prints.
pub fn spawn_server(home: &Path, site: Option<&Path>) -> (Child, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pinokiocloud"));
    cmd.args(["serve", "--port", "0", "--tunnel", "off", "--home"])
        .arg(home);
    if let Some(site) = site.filter(|s| s.join("pkg").is_dir()) {
        cmd.arg("--site").arg(site);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .last()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    line.clear();
    out.read_line(&mut line).unwrap();
    let token = line.split("?token=").nth(1).unwrap().trim().to_string();
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, url, token)
}
