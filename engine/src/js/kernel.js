// The `kernel` and `info` objects that scripts and launchers receive (spec
// §5.3), the template names built on them (§3.6: `ready`, `script`,
// `system`, `pip`, `_`), and launcher menus (§5). Evaluated after the
// prelude; `P` is its `__pinokio` object, `P.lib` its internals.
(function (P) {
  "use strict";
  const L = P.lib;
  const { N, SYS, path } = L;
  const HOME = SYS.home;
  const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const strs = (a) => a.map(String);
  const localOf = (p) => JSON.parse(N.localOf(p));
  const globalOf = (p) => JSON.parse(N.globalOf(p));

  // ------------------------------------------------------------ loading --
  // A JS or JSON file's value, read fresh (launchers re-read files such as
  // `session.json` that scripts rewrite); `null` when the file is missing.
  function loadValue(file) {
    if (!N.isFile(file)) return null;
    if (file.endsWith(".json")) {
      const text = N.readFile(file);
      try { return JSON.parse(text); } catch (e) { throw new SyntaxError(file + ": invalid JSON: " + e.message); }
    }
    return L.loadFresh(file).exports;
  }

  // `base` of `kernel.script.*`: a path, `~/...` (the Pinokio home) or the git
  // URI of an installed app (`https://github.com/o/r.git`).
  function scriptPath(cwd, base, rest) {
    base = String(base);
    if (base.includes("://")) {
      const app = appOfRepo(base);
      if (!app) return null;
      return path.resolve(app, ...strs(rest));
    }
    if (base === "~" || base.startsWith("~/")) base = path.join(HOME, base.slice(1));
    return path.resolve(cwd, base, ...strs(rest));
  }
  const repoKey = (u) => String(u).trim().replace(/\/+$/, "").replace(/\.git$/, "").replace(/^[a-z+]+:\/\//i, "").toLowerCase();
  function appOfRepo(uri) {
    const want = repoKey(uri);
    const api = path.join(HOME, "api");
    let names = [];
    try { names = JSON.parse(N.readdir(api)); } catch (e) { return null; }
    for (const n of names) {
      let cfg = "";
      try { cfg = N.readFile(path.join(api, n, ".git", "config")); } catch (e) { continue; }
      const urls = cfg.split("\n").map((l) => /^\s*url\s*=\s*(.+)$/.exec(l)).filter(Boolean).map((m) => repoKey(m[1]));
      if (urls.includes(want)) return path.join(api, n);
    }
    return null;
  }

  // ---------------------------------------------------- commands (exec) --
  // `kernel.exec(params, ondata)` / `kernel.shell.run`: runs `message` (a
  // string or a list, joined with `&&`) in `params.path` and resolves to
  // `{ id, response, stdout, stderr, code }` once it ends.
  function execFor(cwd) {
    return (params, a, b) => {
      const ondata = typeof a === "function" ? a : typeof b === "function" ? b : null;
      params = params || {};
      const msg = Array.isArray(params.message) ? params.message.filter((x) => x).join(" && ") : String(params.message || "");
      const env = Object.assign({}, G().process.env, params.env || {});
      const dir = params.path ? path.resolve(cwd, String(params.path)) : cwd;
      const r = JSON.parse(N.run(JSON.stringify({ cmd: msg, cwd: dir, env })));
      if (r.error && r.status === null) return Promise.reject(new Error("kernel.exec: " + r.error));
      const response = (r.stdout || "") + (r.stderr || "");
      if (ondata) ondata({ id: params.id || null, raw: response, cleaned: response, type: "output" });
      return Promise.resolve({ id: params.id || null, response, stdout: r.stdout, stderr: r.stderr, code: r.status });
    };
  }
  const G = () => globalThis;

  // -------------------------------------------- systeminformation subset --
  // `kernel.system` / template `system`: the calls launchers make, answered
  // from the engine's machine facts.
  const graphics = () => ({
    controllers: SYS.graphics.map((g, i) => ({
      vendor: SYS.gpus[i].name, model: g.model, name: g.model, vram: g.vram, vramDynamic: false,
      driverVersion: SYS.gpus[i].driver || "", bus: "",
    })),
    displays: [],
  });
  const cpu = () => ({ manufacturer: "", brand: (G().require("os").cpus()[0] || {}).model || "", cores: SYS.cpus, physicalCores: SYS.cpus, processors: 1, speed: 0 });
  const mem = () => ({ total: SYS.ram_bytes, free: SYS.ram_bytes, available: SYS.ram_bytes, used: 0, active: 0 });
  const osInfo = () => ({ platform: SYS.platform === "win32" ? "Windows" : SYS.platform, distro: "", release: "", arch: SYS.arch, hostname: SYS.hostname || "localhost", kernel: "" });
  const sysSystem = () => ({ manufacturer: "", model: "", version: "", virtual: false });
  const system = {
    graphics: () => Promise.resolve(graphics()),
    cpu: () => Promise.resolve(cpu()),
    mem: () => Promise.resolve(mem()),
    osInfo: () => Promise.resolve(osInfo()),
    system: () => Promise.resolve(sysSystem()),
    shell: () => Promise.resolve(SYS.platform === "win32" ? "cmd" : "bash"),
    audio: () => Promise.resolve([]),
    battery: () => Promise.resolve({ hasBattery: false }),
    currentLoad: () => Promise.resolve({ currentLoad: 0, cpus: [] }),
    diskLayout: () => Promise.resolve([]),
    fsSize: () => Promise.resolve([]),
    version: () => "5.0.0",
  };
  // `kernel.sysinfo`: the gathered facts, as Pinokio's sysinfo keeps them.
  const sysinfo = () => ({
    gpus: SYS.gpus, gpu: SYS.gpu, gpu_model: SYS.gpu_model, vram: SYS.vram, ram: SYS.ram,
    graphics: graphics(), cpu: cpu(), mem: mem(), osInfo: osInfo(), system: sysSystem(),
    shell: SYS.platform === "win32" ? "cmd" : "bash", audio: [],
  });

  // ------------------------------------------------------------- kernel --
  function memoryMap(read) {
    const get = (_, k) => {
      if (typeof k !== "string") return undefined;
      const p = path.resolve(k);
      const v = read(p);
      return N.running(p) || Object.keys(v).length ? v : undefined;
    };
    return new Proxy({}, { get });
  }
  function kernelFor(cwd, file) {
    const res = (...a) => path.resolve(cwd, ...strs(a));
    const load = (...a) => Promise.resolve().then(() => loadValue(res(...a)));
    const exec = execFor(cwd);
    const script = {
      resolve: (base, ...rest) => scriptPath(cwd, base, rest),
      local: (base, ...rest) => { const p = scriptPath(cwd, base, rest); return p ? localOf(p) : {}; },
      global: (base, ...rest) => { const p = scriptPath(cwd, base, rest); return p ? globalOf(p) : {}; },
      running: (base, ...rest) => { const p = scriptPath(cwd, base, rest); return !!p && N.running(p); },
      ready: (base, ...rest) => { const p = scriptPath(cwd, base, rest); return !!p && N.ready(p); },
      exists: (base, ...rest) => { const p = scriptPath(cwd, base, rest); return !!p && N.exists(p); },
    };
    const k = {
      platform: SYS.platform, arch: SYS.arch, gpu: SYS.gpu, gpus: SYS.gpus, gpu_model: SYS.gpu_model,
      gpu_driver: SYS.gpu_driver, gpu_target: SYS.gpu_target, cuda: SYS.cuda, vram: SYS.vram, ram: SYS.ram,
      homedir: HOME, envs: JSON.parse(N.envFor(file || res("_"))),
      path: (...a) => path.resolve(HOME, ...strs(a)),
      // Pinokio resolves from HOME and answers with a Promise.
      exists: (...a) => Promise.resolve(N.exists(path.resolve(HOME, ...strs(a)))),
      running: (...a) => N.running(res(...a)),
      status: (...a) => N.running(res(...a)),
      ready: (...a) => N.ready(res(...a)),
      which: (n) => N.which(String(n)) || null,
      port: () => Promise.resolve(N.port()),
      memory: { local: memoryMap(localOf), global: memoryMap(globalOf) },
      local: (...a) => localOf(res(...a)),
      global: (...a) => globalOf(res(...a)),
      script,
      loader: { load: (p) => Promise.resolve().then(() => { const f = res(p); return { resolved: loadValue(f), dirname: path.dirname(f) }; }) },
      require: load,
      load,
      bin: { path: (...a) => path.resolve(HOME, "bin", ...strs(a)), exec },
      exec,
      shell: { run: exec, exec },
      system,
      sysinfo: sysinfo(),
      template: { render: (v, m) => L.render(v, m || {}) },
      os: L.os, fs: L.fs,
    };
    return k;
  }

  // --------------------------------------------------------------- info --
  // Paths resolve against the folder of the file that uses `info`.
  function infoFor(dir) {
    const res = (...a) => path.resolve(dir, ...strs(a));
    return {
      path: res, cwd: () => dir,
      exists: (...a) => N.exists(res(...a)),
      running: (...a) => N.running(res(...a)),
      ready: (...a) => N.ready(res(...a)),
      local: (...a) => localOf(res(...a)),
      global: (...a) => globalOf(res(...a)),
    };
  }

  // ----------------------------------------------------- template names --
  // Legacy `{{pip.install.torch}}`: the command of Pinokio's first torch
  // helper (CUDA 11.8, ROCm 5.6 or CPU wheels).
  function torchCommand() {
    const base = "pip install torch torchvision torchaudio";
    if (SYS.platform === "darwin") return base;
    if (SYS.gpu === "nvidia") return base + " --index-url https://download.pytorch.org/whl/cu118";
    if (SYS.gpu === "amd" && SYS.platform === "linux") return base + " --index-url https://download.pytorch.org/whl/rocm5.6";
    return base + " --index-url https://download.pytorch.org/whl/cpu";
  }
  function extendScope(scope, cwd) {
    const res = (...a) => path.resolve(cwd, ...strs(a));
    const kernel = scope.kernel;
    // `name`: the script folder relative to HOME/api (`comfyui.git/sub`).
    const api = path.join(HOME, "api");
    const name = scope.dirname && scope.dirname.startsWith(api + "/") ? path.relative(api, scope.dirname) : scope.name;
    return Object.assign(scope, {
      name,
      // Template `exists` is synchronous and cwd-relative (`kernel.exists`
      // answers with a Promise from HOME).
      exists: (...a) => N.exists(res(...a)),
      ready: (...a) => N.ready(res(...a)),
      gpu_target: SYS.gpu_target,
      script: kernel.script,
      system,
      pip: { install: { torch: torchCommand() } },
      _: P.lodash,
    });
  }

  // --------------------------------------------------------------- menu --
  function readJson(file) {
    if (!N.isFile(file)) return {};
    const v = loadValue(file);
    return v && typeof v === "object" ? v : {};
  }
  // Legacy items: `{when: "start.json", on, off}` shows `on` while that
  // script (relative to the app) runs, else `off`; with the applicable one
  // absent the item has no button: a label when it has text of its own,
  // else nothing. `filter` functions hide items.
  function evalItems(items, app, kernel, info) {
    const out = [];
    for (const it of items) {
      if (!it || typeof it !== "object") continue;
      if (typeof it.filter === "function" && !it.filter(kernel, info)) continue;
      const item = Object.assign({}, it);
      delete item.filter;
      if (typeof item.when === "string" && (has(item, "on") || has(item, "off"))) {
        const on = N.running(path.resolve(app, item.when));
        const html = on ? item.on : item.off;
        delete item.on; delete item.off; delete item.when;
        if (html === undefined || html === null) {
          if (item.text === undefined && item.html === undefined) continue;
          item.type = "label";
        } else item.html = html;
      }
      if (Array.isArray(item.menu)) item.menu = evalItems(item.menu, app, kernel, info);
      out.push(item);
    }
    return out;
  }
  // Evaluates a launcher: `file` (`pinokio.js`, or null when only JSON
  // metadata exists) in its launcher root `root`, merged with
  // `pinokio_meta.json` and `pinokio.json` there (the latter winning).
  function menu(file, root, app) {
    const kernel = kernelFor(root), info = infoFor(root);
    const base = file ? L.instantiate(L.loadFile(file).exports, kernel, info) : {};
    return Promise.resolve(base).then((launcher) => {
      const l = launcher && typeof launcher === "object" ? launcher : {};
      // Object.assign(launcher, meta, json) with the launcher's own
      // prototype (a class's `menu` method) still visible.
      const metas = [readJson(path.join(root, "pinokio.json")), readJson(path.join(root, "pinokio_meta.json"))];
      const field = (k) => { const o = metas.find((x) => has(x, k)); return o ? o[k] : l[k]; };
      const meta = { title: field("title"), description: field("description"), icon: field("icon"), version: field("version"), pre: field("pre") };
      let m = field("menu");
      if (typeof m === "function") m = m === l.menu ? l.menu(kernel, info) : m(kernel, info);
      else if (!Array.isArray(m)) m = [];
      return Promise.resolve(m).then((items) => L.plain({
        title: meta.title, description: meta.description, icon: meta.icon, version: meta.version,
        pre: Array.isArray(meta.pre) ? meta.pre : [],
        menu: Array.isArray(items) ? evalItems(items, app, kernel, info) : [],
      }));
    });
  }

  P.ext = { kernelFor, infoFor, extendScope, menu, loadValue };
})(globalThis.__pinokio);
