// A Pinokio app in the real shapes, as a local git repo: an install script
// that makes a venv and installs a local package, a daemon that asks for a
// name at a prompt and then serves HTTP, and a launcher menu that follows state.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const files = {
  "pinokio.js": `module.exports = {
  version: "2.0",
  title: "Hello Server",
  description: "A tiny web app for the end-to-end tests",
  icon: "icon.png",
  menu: async (kernel, info) => {
    if (info.running("install.js")) return [{ default: true, icon: "fa-solid fa-plug", text: "Installing", href: "install.js" }]
    if (!info.exists("env")) return [{ default: true, icon: "fa-solid fa-plug", text: "Install", href: "install.js" }]
    if (info.running("start.js")) {
      const local = info.local("start.js")
      if (local && local.url) return [
        { default: true, icon: "fa-solid fa-rocket", text: "Open Web UI", href: local.url },
        { icon: "fa-solid fa-terminal", text: "Terminal", href: "start.js" },
      ]
      return [{ default: true, icon: "fa-solid fa-terminal", text: "Terminal", href: "start.js" }]
    }
    return [
      { default: true, icon: "fa-solid fa-power-off", text: "Start", href: "start.js" },
      { icon: "fa-solid fa-upload", text: "Upload", href: "upload.js" },
    ]
  }
}
`,
  "install.js": `module.exports = {
  run: [
    { method: "shell.run", params: { venv: "env", message: "pip install --no-index ./dist/hellopkg-0.1.0-py3-none-any.whl" } },
    { method: "notify", params: { html: "Installed. Click Start." } }
  ]
}
`,
  "start.js": `module.exports = {
  daemon: true,
  run: [
    { method: "shell.run", params: { venv: "env",
      message: ["read -p 'Your name? ' NAME && python -m hellopkg \\"$NAME\\""],
      on: [{ event: "/http:\\\\/\\\\/[0-9.:]+/", done: true }] } },
    { method: "local.set", params: { url: "{{input.event[0]}}" } }
  ]
}
`,
  "upload.js": `module.exports = {
  run: [
    { method: "input", params: { title: "Send a file", form: [
      { key: "photo", type: "file", title: "A small file", path: "inputs", max_size: 100000, required: true }
    ] } },
    { method: "shell.run", params: { message: "echo saved-at-{{input.photo}}" } },
    { method: "notify", params: { html: "Got the file" } }
  ]
}
`,
  "hellopkg/hellopkg/__init__.py": "",
  "hellopkg/hellopkg/__main__.py": `import base64, hashlib, http.server, socketserver, struct, sys

name = sys.argv[1] if len(sys.argv) > 1 else "nobody"
print(f"hello {name}", flush=True)
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Page(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.echo_socket()
        body = f"<h1>Hello {name} from hellopkg</h1>".encode()
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def echo_socket(self):
        """A minimal WebSocket echo (text frames under 126 bytes)."""
        key = self.headers["Sec-WebSocket-Key"] + GUID
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", base64.b64encode(hashlib.sha1(key.encode()).digest()).decode())
        self.end_headers()
        self.wfile.flush()
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = struct.unpack(">H", self.rfile.read(2))[0]
            mask = self.rfile.read(4)
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
            if opcode == 8:
                return
            reply = b"echo:" + data
            self.wfile.write(bytes([0x81, len(reply)]) + reply)
            self.wfile.flush()


with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Page) as httpd:
    httpd.daemon_threads = True
    print(f"\\x1b[32mRunning on http://127.0.0.1:{httpd.server_address[1]}\\x1b[0m", flush=True)
    httpd.serve_forever()
`,
};

/** Zips hellopkg/hellopkg into dist/hellopkg-0.1.0-py3-none-any.whl. */
const WHEEL_BUILDER = `
import base64, hashlib, os, sys, zipfile
root = sys.argv[1]
src = os.path.join(root, "hellopkg", "hellopkg")
os.makedirs(os.path.join(root, "dist"), exist_ok=True)
info = "hellopkg-0.1.0.dist-info"
files = {f"hellopkg/{n}": open(os.path.join(src, n), "rb").read() for n in sorted(os.listdir(src))}
files[f"{info}/METADATA"] = b"Metadata-Version: 2.1\\nName: hellopkg\\nVersion: 0.1.0\\n"
files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: fixture\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
record = []
for name, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{name},sha256={digest},{len(data)}")
record.append(f"{info}/RECORD,,")
files[f"{info}/RECORD"] = ("\\n".join(record) + "\\n").encode()
with zipfile.ZipFile(os.path.join(root, "dist", "hellopkg-0.1.0-py3-none-any.whl"), "w") as whl:
    for name, data in files.items():
        whl.writestr(name, data)
`;

const ICON_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/** Creates the app as a git repo; returns its `file://` URL. */
export function makeFixtureApp(name = "hello-server") {
  const root = join(mkdtempSync(join(tmpdir(), "pinokiocloud-fixture-")), name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  // The launcher's icon: a 1x1 PNG.
  writeFileSync(join(root, "icon.png"), Buffer.from(ICON_PNG, "base64"));
  // A ready-made wheel: installing it needs no build tools and no network.
  execFileSync("python3", ["-c", WHEEL_BUILDER, root], { stdio: "inherit" });
  const git = (...args) => execFileSync("git", args, { cwd: root, stdio: "ignore" });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "fixture");
  return `file://${root}`;
}

/**
 * An app whose install would fetch a CUDA torch (never run in tests: the page
 * judges it from the plan) and whose "Download" prints a Hugging Face style
 * progress bar for about twenty seconds.
 */
export function makeModelApp(name = "model-app") {
  const root = join(mkdtempSync(join(tmpdir(), "pinokiocloud-fixture-")), name);
  const app = {
    "pinokio.js": `module.exports = {
  title: "Model App",
  description: "Downloads a model",
  menu: [
    { icon: "fa-solid fa-plug", text: "Install", href: "install.json" },
    { default: true, icon: "fa-solid fa-download", text: "Download", href: "download.json" },
  ]
}
`,
    "install.json": JSON.stringify({ run: [{ method: "shell.run", params: {
      venv: "env", message: "pip install torch==2.5.1 torchvision --index-url https://download.pytorch.org/whl/cu121" } }] }),
    "download.json": JSON.stringify({ run: [{ method: "shell.run", params: { message:
      "for i in 1 2 3 4 5 6 7 8 9; do printf 'model.safetensors: %d0%%|###  | %d00M/1000M [00:0%d<00:09, 100MB/s]\\r' $i $i $i; sleep 2; done; echo; echo downloaded" } }] }),
  };
  mkdirSync(root, { recursive: true });
  for (const [path, text] of Object.entries(app)) writeFileSync(join(root, path), text);
  const git = (...args) => execFileSync("git", args, { cwd: root, stdio: "ignore" });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "fixture");
  return `file://${root}`;
}

/** Processes whose command line mentions `needle` (e.g. `hellopkg Ada`). */
export function processesOf(needle) {
  try {
    return execFileSync("pgrep", ["-f", needle], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}
