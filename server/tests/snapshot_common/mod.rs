//! Shared by the snapshot tests and benchmark: Python wheels built by hand
//! (a zip with a `.dist-info`), so a venv can install real packages with
//! `pip install --no-index` and no build tool or network.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

const BUILD: &str = r#"
import base64, hashlib, sys, zipfile
out_dir, name, fillers = sys.argv[1], sys.argv[2], int(sys.argv[3])
init = '''import http.server
GREETING = "hello-from-%s"

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = GREETING.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

def main():
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print("%s on http://127.0.0.1:%%d" %% server.server_address[1], flush=True)
    server.serve_forever()
''' % (name, name)
info = name + "-0.1.0.dist-info"
files = {
    name + "/__init__.py": init,
    info + "/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: 0.1.0\n" % name,
    info + "/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    info + "/entry_points.txt": "[console_scripts]\n%s-serve = %s:main\n" % (name, name),
}
for i in range(fillers):
    files["%s/part_%d.py" % (name, i)] = "".join("def f%d(x):\n    return x * %d\n\n" % (j, j) for j in range(100))
out = "%s/%s-0.1.0-py3-none-any.whl" % (out_dir, name)
record = []
with zipfile.ZipFile(out, "w") as z:
    for path, text in files.items():
        data = text.encode()
        z.writestr(path, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append(info + "/RECORD,,")
    z.writestr(info + "/RECORD", "\n".join(record) + "\n")
print(out)
"#;

/// Builds `<name>-0.1.0-py3-none-any.whl` in `dir`: a package whose
/// `GREETING` is `hello-from-<name>`, a `<name>-serve` console script that
/// serves it over HTTP (printing its URL), and `fillers` modules of ~3 KiB.
pub fn build_wheel(dir: &Path, name: &str, fillers: usize) -> PathBuf {
    let out = Command::new("python3")
        .args(["-c", BUILD])
        .arg(dir)
        .arg(name)
        .arg(fillers.to_string())
        .output()
        .expect("python3 builds the wheel");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}
