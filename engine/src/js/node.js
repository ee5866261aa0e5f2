// The Node built-ins launchers `require` beyond path/os/fs: `events`,
// `child_process`, `http`/`https`, `crypto`, and more of `util`/`fs`.
// QuickJS has no event loop of ours to wait on, so commands and requests
// run to completion when called; callbacks and events then fire on the
// microtask queue, which is what `await`ing launcher code needs.
(function (P) {
  "use strict";
  const L = P.lib;
  const { N, path, Buffer } = L;
  const later = (f) => Promise.resolve().then(f);

  // -------------------------------------------------------------- events --
  class EventEmitter {
    constructor() { this._ev = Object.create(null); }
    on(name, f) { (this._ev[name] = this._ev[name] || []).push(f); return this; }
    addListener(name, f) { return this.on(name, f); }
    prependListener(name, f) { (this._ev[name] = this._ev[name] || []).unshift(f); return this; }
    once(name, f) { const w = (...a) => { this.off(name, w); f.apply(this, a); }; w.listener = f; return this.on(name, w); }
    off(name, f) { const l = this._ev[name]; if (l) this._ev[name] = l.filter((x) => x !== f && x.listener !== f); return this; }
    removeListener(name, f) { return this.off(name, f); }
    removeAllListeners(name) { if (name === undefined) this._ev = Object.create(null); else delete this._ev[name]; return this; }
    emit(name, ...a) {
      const l = (this._ev[name] || []).slice();
      if (name === "error" && !l.length) throw a[0] instanceof Error ? a[0] : new Error("Unhandled error: " + a[0]);
      for (const f of l) f.apply(this, a);
      return l.length > 0;
    }
    listeners(name) { return (this._ev[name] || []).map((f) => f.listener || f); }
    listenerCount(name) { return (this._ev[name] || []).length; }
    eventNames() { return Object.keys(this._ev); }
    setMaxListeners() { return this; }
  }
  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.once = (em, name) => new Promise((res) => em.once(name, (...a) => res(a)));

  // ------------------------------------------------------- child_process --
  const envOf = (o) => (o && o.env ? o.env : undefined);
  const cwdOf = (o) => (o && o.cwd ? path.resolve(String(o.cwd)) : N.cwd());
  const outOf = (text, o) => (o && o.encoding && o.encoding !== "buffer" ? text : Buffer.from(text));
  // `exec`/`execFile` callbacks get strings unless `encoding: "buffer"`.
  const cbOut = (text, o) => (o && o.encoding === "buffer" ? Buffer.from(text) : text);
  function run(spec) { return JSON.parse(N.run(JSON.stringify(spec))); }
  function failure(r, shown) {
    const msg = r.error || "Command failed: " + shown + (r.stderr ? "\n" + r.stderr : "");
    const e = new Error(msg);
    e.status = r.status; e.code = r.code || r.status; e.signal = r.signal || null; e.stdout = r.stdout; e.stderr = r.stderr; e.cmd = shown;
    return e;
  }
  function execSync(cmd, o) {
    const r = run({ cmd: String(cmd), cwd: cwdOf(o), env: envOf(o), input: o && o.input != null ? String(o.input) : null, timeout: (o && o.timeout) || 0 });
    if (r.status !== 0) throw failure(r, String(cmd));
    return outOf(r.stdout, o);
  }
  function execFileSync(file, args, o) {
    if (!Array.isArray(args)) { o = args; args = []; }
    const r = run({ file: String(file), args: args.map(String), cwd: cwdOf(o), env: envOf(o), input: o && o.input != null ? String(o.input) : null, timeout: (o && o.timeout) || 0 });
    if (r.status !== 0) throw failure(r, [file].concat(args).join(" "));
    return outOf(r.stdout, o);
  }
  function spawnSync(file, args, o) {
    if (!Array.isArray(args)) { o = args; args = []; }
    const shell = o && o.shell;
    const spec = shell ? { cmd: [file].concat(args).join(" ") } : { file: String(file), args: args.map(String) };
    const r = run(Object.assign(spec, { cwd: cwdOf(o), env: envOf(o), input: o && o.input != null ? String(o.input) : null, timeout: (o && o.timeout) || 0 }));
    const error = r.status === null && r.error ? failure(r, String(file)) : undefined;
    return { pid: 0, status: r.status, signal: r.signal || null, stdout: outOf(r.stdout || "", o), stderr: outOf(r.stderr || "", o), output: [null, r.stdout, r.stderr], error };
  }
  // A finished child as an emitter: `stdout`/`stderr` emit their text once,
  // then `exit` and `close` fire with the status.
  function child(r, shown) {
    const c = new EventEmitter();
    c.stdout = new EventEmitter(); c.stderr = new EventEmitter(); c.stdin = { write() {}, end() {} };
    c.stdout.setEncoding = c.stderr.setEncoding = () => {};
    c.pid = 0; c.exitCode = r.status; c.kill = () => false;
    later(() => {
      if (r.status === null && r.error) { c.emit("error", failure(r, shown)); return; }
      if (r.stdout) c.stdout.emit("data", Buffer.from(r.stdout));
      if (r.stderr) c.stderr.emit("data", Buffer.from(r.stderr));
      c.stdout.emit("end"); c.stderr.emit("end");
      c.emit("exit", r.status, r.signal || null);
      c.emit("close", r.status, r.signal || null);
    });
    return c;
  }
  function exec(cmd, o, cb) {
    if (typeof o === "function") { cb = o; o = undefined; }
    const r = run({ cmd: String(cmd), cwd: cwdOf(o), env: envOf(o), timeout: (o && o.timeout) || 0 });
    const c = child(r, String(cmd));
    if (cb) later(() => cb(r.status === 0 ? null : failure(r, String(cmd)), cbOut(r.stdout || "", o), cbOut(r.stderr || "", o)));
    return c;
  }
  function execFile(file, args, o, cb) {
    if (typeof args === "function") { cb = args; args = []; o = undefined; } else if (!Array.isArray(args)) { cb = o; o = args; args = []; }
    if (typeof o === "function") { cb = o; o = undefined; }
    const r = run({ file: String(file), args: args.map(String), cwd: cwdOf(o), env: envOf(o), timeout: (o && o.timeout) || 0 });
    const shown = [file].concat(args).join(" ");
    const c = child(r, shown);
    if (cb) later(() => cb(r.status === 0 ? null : failure(r, shown), cbOut(r.stdout || "", o), cbOut(r.stderr || "", o)));
    return c;
  }
  function spawn(file, args, o) {
    if (!Array.isArray(args)) { o = args; args = []; }
    const shell = o && o.shell;
    const spec = shell ? { cmd: [file].concat(args).join(" ") } : { file: String(file), args: args.map(String) };
    return child(run(Object.assign(spec, { cwd: cwdOf(o), env: envOf(o), timeout: (o && o.timeout) || 0 })), [file].concat(args).join(" "));
  }
  const promisifiedExec = (cmd, o) => new Promise((res, rej) => exec(cmd, o, (e, stdout, stderr) => (e ? rej(Object.assign(e, { stdout, stderr })) : res({ stdout, stderr }))));
  exec[Symbol.for("nodejs.util.promisify.custom")] = promisifiedExec;
  const child_process = { execSync, execFileSync, spawnSync, exec, execFile, spawn, fork: () => { throw new Error("child_process.fork is not supported in launcher scripts (use shell.run steps)"); } };

  // ---------------------------------------------------------- http(s) --
  // Requests run through `curl`; the response is an emitter with the body
  // as one `data` chunk.
  function response(r) {
    const res = new EventEmitter();
    res.statusCode = r.status; res.statusMessage = ""; res.headers = r.headers;
    res.setEncoding = () => res;
    res.resume = () => res;
    res.pipe = (w) => { if (w && w.write) { w.write(r.body); if (w.end) w.end(); } return w; };
    later(() => { if (r.body) res.emit("data", Buffer.from(r.body)); res.emit("end"); res.emit("close"); });
    return res;
  }
  function request(scheme) {
    return (target, o, cb) => {
      if (typeof o === "function") { cb = o; o = {}; }
      o = o || {};
      let url;
      if (typeof target === "string" || (target && target.href)) url = String(target.href || target);
      else { o = Object.assign({}, target, o); url = scheme + "//" + (o.hostname || o.host || "localhost") + (o.port ? ":" + o.port : "") + (o.path || "/"); }
      const req = new EventEmitter();
      let body = "";
      req.write = (d) => { body += String(d); return true; };
      req.setTimeout = () => req; req.destroy = () => req; req.abort = () => {};
      req.end = (d) => {
        if (d) body += String(d);
        later(() => {
          let r;
          try { r = JSON.parse(N.http(JSON.stringify({ url, method: (o.method || "GET").toUpperCase(), headers: o.headers || {}, body: body || null, timeout: o.timeout || 0 }))); }
          catch (e) { req.emit("error", e); return; }
          const res = response(r);
          if (cb) cb(res);
          req.emit("response", res);
        });
        return req;
      };
      return req;
    };
  }
  function httpModule(scheme) {
    const req = request(scheme);
    return { request: req, get: (t, o, cb) => { const r = req(t, o, cb); r.end(); return r; }, Agent: class Agent {}, STATUS_CODES: { 200: "OK", 404: "Not Found" } };
  }

  // -------------------------------------------------------------- crypto --
  function createHash(alg) {
    let data = "";
    const h = {
      update(d) { data += d instanceof Buffer ? d.toString() : String(d); return h; },
      digest(enc) { const out = N.hash(String(alg), data, enc === "base64" ? "base64" : "hex"); return enc ? out : Buffer.from(out, "hex"); },
    };
    N.hash(String(alg), "", "hex"); // an unknown algorithm fails here, like Node
    return h;
  }
  const crypto = {
    createHash,
    randomBytes: (n) => Buffer.from(N.randomHex(n), "hex"),
    randomUUID: () => { const h = N.randomHex(16); return h.slice(0, 8) + "-" + h.slice(8, 12) + "-4" + h.slice(13, 16) + "-" + ((parseInt(h[16], 16) & 3) | 8).toString(16) + h.slice(17, 20) + "-" + h.slice(20, 32); },
    randomInt: (a, b) => { if (b === undefined) { b = a; a = 0; } return a + (parseInt(N.randomHex(6), 16) % (b - a)); },
  };

  // ------------------------------------------------------- util and fs --
  Object.assign(L.util, {
    inherits(ctor, sup) { Object.setPrototypeOf(ctor.prototype, sup.prototype); Object.setPrototypeOf(ctor, sup); },
    types: { isPromise: (x) => x instanceof Promise, isRegExp: (x) => x instanceof RegExp, isDate: (x) => x instanceof Date },
    isArray: Array.isArray,
    deprecate: (f) => f,
    TextDecoder: globalThis.TextDecoder, TextEncoder: globalThis.TextEncoder,
  });
  const basePromisify = L.util.promisify;
  L.util.promisify = (f) => f[Symbol.for("nodejs.util.promisify.custom")] || basePromisify(f);
  const fsCall = (f) => (...a) => { try { return f(...a); } catch (e) { const err = new Error(String(e && e.message ? e.message : e)); const m = /^(E[A-Z]+)/.exec(err.message); if (m) err.code = m[1]; throw err; } };
  const more = {
    renameSync: fsCall((a, b) => N.rename(path.resolve(String(a)), path.resolve(String(b)))),
    realpathSync: fsCall((p) => N.realpath(path.resolve(String(p)))),
  };
  Object.assign(L.fs, more);
  for (const [k, f] of Object.entries(more)) {
    const name = k.slice(0, -4);
    L.fs.promises[name] = (...a) => new Promise((res, rej) => { try { res(f(...a)); } catch (e) { rej(e); } });
    L.fs[name] = (...a) => { const cb = typeof a[a.length - 1] === "function" ? a.pop() : null; let r, err = null; try { r = f(...a); } catch (e) { err = e; } if (cb) later(() => cb(err, r)); };
  }

  Object.assign(L.builtins, {
    events: EventEmitter, child_process, http: httpModule("http:"), https: httpModule("https:"), crypto,
  });
})(globalThis.__pinokio);
