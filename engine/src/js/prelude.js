// PinokioCloud JS prelude: the small Node-like world launcher scripts expect
// (CommonJS `require`, `path`, `os`, `fs`, `Buffer`), plus the template
// renderer and the `kernel`/`info` objects. `N` holds the Rust natives.
// Everything is written for this engine; it mirrors Node behaviour only as far
// as launcher scripts observed in the wild rely on it.
(function (N) {
  "use strict";
  const G = globalThis;
  const SYS = JSON.parse(N.sysinfo());

  // ---------------------------------------------------------------- path --
  function normalizeParts(parts, absolute) {
    const out = [];
    for (const p of parts) {
      if (!p || p === ".") continue;
      if (p === "..") {
        if (out.length && out[out.length - 1] !== "..") out.pop();
        else if (!absolute) out.push("..");
      } else out.push(p);
    }
    return out;
  }
  const path = {
    sep: "/",
    delimiter: ":",
    normalize(p) {
      p = String(p);
      if (p === "") return ".";
      const abs = p.startsWith("/");
      const trailing = p.endsWith("/");
      let s = normalizeParts(p.split("/"), abs).join("/");
      if (!s && !abs) s = ".";
      if (s && trailing) s += "/";
      return (abs ? "/" : "") + s;
    },
    join(...args) {
      const parts = args.map(String).filter((x) => x.length);
      return parts.length ? path.normalize(parts.join("/")) : ".";
    },
    resolve(...args) {
      let r = "";
      for (let i = args.length - 1; i >= 0 && !r.startsWith("/"); i--) {
        const a = String(args[i]);
        if (a) r = r ? a + "/" + r : a;
      }
      if (!r.startsWith("/")) r = N.cwd() + (r ? "/" + r : "");
      const s = "/" + normalizeParts(r.split("/"), true).join("/");
      return s;
    },
    isAbsolute(p) { return String(p).startsWith("/"); },
    dirname(p) {
      p = String(p);
      if (!p) return ".";
      const t = p.length > 1 ? p.replace(/\/+$/, "") : p;
      const i = t.lastIndexOf("/");
      if (i < 0) return ".";
      if (i === 0) return "/";
      return t.slice(0, i);
    },
    basename(p, ext) {
      p = String(p).replace(/\/+$/, "");
      let b = p.slice(p.lastIndexOf("/") + 1);
      if (ext && b.endsWith(ext) && b !== ext) b = b.slice(0, b.length - ext.length);
      return b;
    },
    extname(p) {
      const b = path.basename(p);
      const i = b.lastIndexOf(".");
      return i <= 0 ? "" : b.slice(i);
    },
    relative(from, to) {
      const f = path.resolve(from).split("/").filter(Boolean);
      const t = path.resolve(to).split("/").filter(Boolean);
      let i = 0;
      while (i < f.length && i < t.length && f[i] === t[i]) i++;
      return f.slice(i).map(() => "..").concat(t.slice(i)).join("/");
    },
    parse(p) {
      const base = path.basename(p);
      const ext = path.extname(p);
      const dir = String(p).includes("/") ? path.dirname(p) : "";
      return { root: String(p).startsWith("/") ? "/" : "", dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
    },
    format(o) {
      const base = o.base || (o.name || "") + (o.ext || "");
      return o.dir ? o.dir + "/" + base : (o.root || "") + base;
    },
    toNamespacedPath(p) { return p; },
  };
  path.posix = path;

  // ------------------------------------------------------------------ os --
  const os = {
    EOL: "\n",
    platform: () => SYS.platform,
    arch: () => SYS.arch,
    type: () => ({ linux: "Linux", darwin: "Darwin", win32: "Windows_NT" })[SYS.platform] || SYS.platform,
    release: () => SYS.release || "",
    homedir: () => SYS.homedir,
    tmpdir: () => "/tmp",
    hostname: () => SYS.hostname || "localhost",
    totalmem: () => SYS.ram_bytes,
    freemem: () => SYS.ram_bytes,
    cpus: () => Array.from({ length: SYS.cpus }, () => ({ model: "cpu", speed: 0 })),
    userInfo: () => ({ username: SYS.username || "user", homedir: SYS.homedir }),
    endianness: () => "LE",
  };

  // -------------------------------------------------------------- Buffer --
  // Bytes are kept as a binary string (one char per byte, like Node's
  // "latin1"), so base64 data survives rendering and reaches methods as bytes.
  const utf8Encode = (s) => { try { return unescape(encodeURIComponent(s)); } catch (e) { return s; } };
  const utf8Decode = (b) => { try { return decodeURIComponent(escape(b)); } catch (e) { return b; } };
  class Buffer {
    constructor(bytes) { this._t = bytes; this.length = bytes.length; }
    static from(x, enc) {
      if (x instanceof Buffer) return new Buffer(x._t);
      if (Array.isArray(x)) return new Buffer(String.fromCharCode(...x.map((b) => b & 255)));
      x = String(x);
      if (enc === "base64") return new Buffer(N.b64decode(x));
      if (enc === "hex") return new Buffer(x.replace(/../g, (h) => String.fromCharCode(parseInt(h, 16))));
      if (enc === "latin1" || enc === "binary") return new Buffer(x);
      return new Buffer(utf8Encode(x));
    }
    static isBuffer(x) { return x instanceof Buffer; }
    // A Buffer that crossed to Rust as Node's JSON (`fs.read` without an
    // encoding) becomes a Buffer again in step memory.
    static __revive(k, v) {
      if (!v || v.type !== "Buffer" || !Array.isArray(v.data)) return v;
      return Buffer.from(v.data);
    }
    // Step memory from Rust: the reviver (a JS call per value) only when a
    // Buffer can be in it, which is rare; most steps pay a plain parse.
    static __parse(json) {
      return json.indexOf('"Buffer"') < 0 ? JSON.parse(json) : JSON.parse(json, Buffer.__revive);
    }
    toString(enc) {
      if (enc === "base64") return N.b64encode(this._t);
      if (enc === "hex") return Array.from(this._t, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
      if (enc === "latin1" || enc === "binary") return this._t;
      return utf8Decode(this._t);
    }
    // Node's shape; Rust reads it back as bytes (`util::buffer_bytes`).
    toJSON() { return { type: "Buffer", data: Array.from(this._t, (c) => c.charCodeAt(0)) }; }
  }

  // ------------------------------------------------------------------ fs --
  function fsCall(fn) {
    return function (...a) {
      try { return fn(...a); } catch (e) {
        const msg = String(e && e.message ? e.message : e);
        const err = new Error(msg);
        const m = /^(E[A-Z]+)/.exec(msg);
        if (m) err.code = m[1];
        throw err;
      }
    };
  }
  const textOf = (d) => (d instanceof Buffer ? d.toString() : typeof d === "string" ? d : JSON.stringify(d));
  const stat = (p) => {
    const s = JSON.parse(N.stat(path.resolve(String(p))));
    return { size: s.size, mtimeMs: s.mtime_ms, mtime: new Date(s.mtime_ms), isFile: () => s.file, isDirectory: () => s.dir, isSymbolicLink: () => s.symlink };
  };
  const fsSync = {
    existsSync: (p) => N.exists(path.resolve(String(p))),
    readFileSync: fsCall((p, o) => {
      const t = N.readFile(path.resolve(String(p)));
      const enc = typeof o === "string" ? o : o && o.encoding;
      return enc ? t : Buffer.from(t);
    }),
    writeFileSync: fsCall((p, d) => N.writeFile(path.resolve(String(p)), textOf(d), false)),
    appendFileSync: fsCall((p, d) => N.writeFile(path.resolve(String(p)), textOf(d), true)),
    mkdirSync: fsCall((p, o) => N.mkdir(path.resolve(String(p)), !!(o && o.recursive))),
    readdirSync: fsCall((p, o) => {
      const names = JSON.parse(N.readdir(path.resolve(String(p))));
      if (!(o && o.withFileTypes)) return names;
      return names.map((n) => {
        const s = stat(path.resolve(String(p), n));
        return { name: n, isFile: s.isFile, isDirectory: s.isDirectory, isSymbolicLink: s.isSymbolicLink };
      });
    }),
    statSync: fsCall(stat),
    lstatSync: fsCall(stat),
    rmSync: fsCall((p, o) => N.rm(path.resolve(String(p)), !!(o && o.recursive), !!(o && o.force))),
    unlinkSync: fsCall((p) => N.rm(path.resolve(String(p)), false, false)),
    rmdirSync: fsCall((p, o) => N.rm(path.resolve(String(p)), !!(o && o.recursive), false)),
    accessSync: fsCall((p) => { if (!N.exists(path.resolve(String(p)))) throw new Error("ENOENT: no such file or directory, access '" + p + "'"); }),
    copyFileSync: fsCall((a, b) => N.writeFile(path.resolve(String(b)), N.readFile(path.resolve(String(a))), false)),
    constants: { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 },
  };
  const promises = {};
  for (const [k, f] of Object.entries(fsSync)) {
    if (k.endsWith("Sync")) promises[k.slice(0, -4)] = (...a) => new Promise((res, rej) => { try { res(f(...a)); } catch (e) { rej(e); } });
  }
  const fs = Object.assign({}, fsSync, { promises });
  for (const [k, f] of Object.entries(fsSync)) {
    if (k.endsWith("Sync")) {
      fs[k.slice(0, -4)] = (...a) => {
        const cb = typeof a[a.length - 1] === "function" ? a.pop() : null;
        let r, err = null;
        try { r = f(...a); } catch (e) { err = e; }
        if (cb) Promise.resolve().then(() => cb(err, r));
      };
    }
  }
  fs.exists = (p, cb) => { const r = N.exists(path.resolve(String(p))); if (cb) Promise.resolve().then(() => cb(r)); };

  const util = {
    format: (...a) => a.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(" "),
    inspect: (x) => JSON.stringify(x),
    promisify: (f) => (...a) => new Promise((res, rej) => f(...a, (e, v) => (e ? rej(e) : res(v)))),
    isDeepStrictEqual: (a, b) => JSON.stringify(a) === JSON.stringify(b),
  };
  const url = {
    pathToFileURL: (p) => ({ href: "file://" + path.resolve(p), toString() { return this.href; } }),
    fileURLToPath: (u) => String(u).replace(/^file:\/\//, ""),
    URL: G.URL,
  };

  // ------------------------------------------------------------- console --
  const fmt = (a) => a.map((x) => (typeof x === "string" ? x : (() => { try { return JSON.stringify(x); } catch (e) { return String(x); } })())).join(" ");
  G.console = { log: (...a) => N.log(fmt(a)), info: (...a) => N.log(fmt(a)), warn: (...a) => N.log(fmt(a)), error: (...a) => N.log(fmt(a)), debug: () => {} };
  G.Buffer = Buffer;
  G.process = { platform: SYS.platform, arch: SYS.arch, env: JSON.parse(N.env()), cwd: () => N.cwd(), versions: { node: "20.0.0" } };
  G.setTimeout = (f, ms, ...a) => { Promise.resolve().then(() => f(...a)); return 0; };
  G.clearTimeout = () => {};

  // ------------------------------------------------------------- require --
  const builtins = { path, os, fs, "fs/promises": promises, util, url };
  let cache = Object.create(null);
  function resolveFile(p) {
    for (const c of [p, p + ".js", p + ".json", p + "/index.js", p + "/index.json"]) {
      if (N.isFile(c)) return c;
    }
    throw new Error("Cannot find module '" + p + "'");
  }
  function makeRequire(dir) {
    const req = (id) => {
      id = String(id);
      const name = id.startsWith("node:") ? id.slice(5) : id;
      if (Object.prototype.hasOwnProperty.call(builtins, name)) return builtins[name];
      if (!(id.startsWith("./") || id.startsWith("../") || id.startsWith("/") || id === "." || id === "..")) {
        throw new Error("Cannot find module '" + id + "' (available: relative files and the built-ins " + Object.keys(builtins).join(", ") + ")");
      }
      return loadFile(resolveFile(path.resolve(dir, id))).exports;
    };
    req.resolve = (id) => resolveFile(path.resolve(dir, id));
    req.cache = cache;
    return req;
  }
  function loadFile(file) {
    if (cache[file]) return cache[file];
    const module = { exports: {}, filename: file, id: file, loaded: false, paths: [] };
    cache[file] = module;
    try {
      const src = N.readFile(file);
      if (file.endsWith(".json")) {
        try { module.exports = JSON.parse(src); } catch (e) { throw new SyntaxError(file + ": invalid JSON: " + e.message); }
      } else {
        const body = src.startsWith("#!") ? "//" + src : src;
        const fn = N.compile("(function (exports, require, module, __filename, __dirname) {" + body + "\n})", file);
        const dir = path.dirname(file);
        fn.call(module.exports, module.exports, makeRequire(dir), module, file, dir);
      }
    } catch (e) {
      delete cache[file];
      throw e;
    }
    module.loaded = true;
    return module;
  }
  G.require = makeRequire(N.cwd());

  // ------------------------------------------------------------ templates --
  // The template engine lives in template.js (evaluated first, as `__tpl`).
  const render = G.__tpl.render;

  // --------------------------------------------------- kernel / info / vars --
  // `kernel` and `info` live in kernel.js (evaluated after this file).
  function kernelFor(cwd, file) { return G.__pinokio.ext.kernelFor(cwd, file); }
  function infoFor(dir) { return G.__pinokio.ext.infoFor(dir); }
  function scopeFor(file, cwd, self) {
    const kernel = kernelFor(cwd, file);
    return {
      self, kernel, os, path, fs, require: makeRequire(path.dirname(file)),
      platform: SYS.platform, arch: SYS.arch, gpu: SYS.gpu, gpus: SYS.gpus, gpu_model: SYS.gpu_model,
      gpu_driver: SYS.gpu_driver, cuda: SYS.cuda, vram: SYS.vram, ram: SYS.ram, envs: kernel.envs, env: kernel.envs,
      cwd, dirname: path.dirname(file), name: path.basename(path.dirname(file)),
      which: kernel.which, exists: kernel.exists, running: kernel.running,
      Buffer, console: G.console,
    };
  }

  function instantiate(m, kernel, info) {
    if (typeof m !== "function") return m;
    if (/^class[\s{]/.test(Function.prototype.toString.call(m))) return new m(kernel, info);
    return m(kernel, info);
  }
  const plain = (v) => JSON.stringify(v === undefined ? null : v, (k, x) => (typeof x === "function" ? undefined : x));

  // The scope with what kernel.js adds (`ready`, `_`, `system`…); kernel.js
  // loads after this file, so it is looked up at call time.
  function extendedScope(file, cwd, self) {
    return G.__pinokio.ext.extendScope(scopeFor(file, cwd, self), cwd);
  }

  G.__pinokio = {
    // What run.js (script runs, inline and module methods) builds on.
    _: { N, path, fs, fmt, plain, Buffer, loadFile, forget: (f) => { delete cache[f]; }, kernelFor, infoFor, scopeFor: extendedScope },
    reset() { cache = Object.create(null); },
    toJson: plain,
    scope(file, cwd, self) { return extendedScope(file, cwd, self); },
    mem(scope, json) { return Object.assign(Object.create(scope), Buffer.__parse(json)); },
    render(valueJson, mem) { return plain(render(JSON.parse(valueJson), mem)); },
    menu(file, root, app) { return G.__pinokio.ext.menu(file, root, app); },
  };
  // What kernel.js, lodash.js and node.js build on.
  G.__pinokio.lib = {
    N, SYS, path, os, fs, util, Buffer, builtins, render, instantiate, plain, fmt, loadFile, makeRequire,
    loadFresh(file) { delete cache[file]; return loadFile(file); },
  };
})(__native);
