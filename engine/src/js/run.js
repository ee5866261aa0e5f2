// Script runs (spec §1.1–§1.3, §2.2), evaluated after the prelude:
// - loading a script the way Pinokio's loader does: `default` of an
//   `__esModule` export, `new Export()` tried first (classes become
//   instances), a function export called with `(kernel, info)` and awaited;
// - deciding whether the script must be evaluated again before each step.
//   Pinokio reloads the file (top level and, for function/class exports,
//   the call) before every step. Doing so gives another result, or another
//   visible effect, only when the evaluation touched something outside the
//   script: files, env, running scripts, memory, ports, the clock, random
//   numbers, the terminal (`console.log`). Such scripts are evaluated again
//   before every step (C-004); the others, whose evaluation is
//   deterministic, only when their file changes (the runner checks mtime);
// - resolving the `run` steps (an array, or a function called once per run
//   and cached, C-005);
// - rendering step i with that step's memory (`local` is mirrored here and
//   updated from deltas, so a step never re-sends the whole memory);
// - calling steps whose method is a JS function or a module method (`uri`).
(function (P) {
  "use strict";
  const I = P._;
  const N = I.N;
  const T = globalThis.__tpl;

  // Touches of the world outside the script, counted while it evaluates.
  let touched = 0;
  const counted = (f) => function (...a) { touched++; return f.apply(this, a); };
  for (const k of ["exists", "stat", "readdir", "running", "localOf", "envFor", "env", "port", "which", "log", "writeFile", "mkdir", "rm"]) {
    if (typeof N[k] === "function") N[k] = counted(N[k]);
  }
  for (const o of [I.fs, I.fs.promises]) {
    for (const k of ["readFileSync", "readFile"]) if (typeof o[k] === "function") o[k] = counted(o[k]);
  }
  // A script evaluated again before every step is compiled once per text:
  // running the same module function again is what re-requiring does.
  const compiled = new Map();
  const compile = N.compile;
  N.compile = function (src, file) {
    const c = compiled.get(file);
    if (c && c.src === src) return c.fn;
    const fn = compile.call(this, src, file);
    compiled.set(file, { src, fn });
    return fn;
  };
  Math.random = counted(Math.random);
  const RealDate = Date;
  function PDate(...a) {
    if (a.length === 0) touched++;
    return new.target ? new RealDate(...a) : RealDate();
  }
  PDate.prototype = RealDate.prototype;
  PDate.now = counted(RealDate.now);
  PDate.parse = RealDate.parse;
  PDate.UTC = RealDate.UTC;
  globalThis.Date = PDate;

  const unwrapDefault = (ex) => (ex && typeof ex === "object" && ex.__esModule && "default" in ex ? ex.default : ex);
  // Pinokio's loader: `new Export()`, or the plain value when that throws.
  function construct(ex) {
    try { return new ex(); } catch (e) { return ex; }
  }
  function kernelOf(dir, file) {
    const k = I.kernelFor(dir, file);
    const envs = k.envs;
    Object.defineProperty(k, "envs", { get() { touched++; return envs; }, enumerable: true, configurable: true });
    return k;
  }

  /** Evaluates the script afresh (top level, then the call of a
   * function/class export) and notes whether that touched the outside. */
  function evaluate(state) {
    // Building `kernel` reads the environment: not the script's doing.
    const kernel = kernelOf(state.dir, state.file), info = I.infoFor(state.dir);
    const t0 = touched;
    I.forget(state.file);
    const ex = unwrapDefault(I.loadFile(state.file).exports);
    const obj = typeof ex === "function" ? construct(ex) : ex;
    const made = typeof obj === "function" ? obj(kernel, info) : obj;
    return Promise.resolve(made).then((o) => {
      if (!o || typeof o !== "object") {
        throw new Error(state.file + ": the script must export an object (or a function returning one)");
      }
      state.impure = touched !== t0;
      state.obj = o;
      return state;
    });
  }

  function runShape(run) {
    if (Array.isArray(run)) return run.length ? "array" : "empty";
    if (typeof run === "function") return "function";
    return run === undefined || run === null ? "none" : "invalid";
  }

  function checkSteps(steps) {
    if (!Array.isArray(steps) || steps.length === 0) throw new Error("missing or invalid attribute: run");
    return steps;
  }

  /** Takes `args` and the `local` delta out of a step's memory JSON. */
  function absorb(state, m) {
    if (Object.prototype.hasOwnProperty.call(m, "args")) {
      state.args = m.args;
      delete m.args;
    }
    const d = m.__local;
    if (d === undefined) return;
    delete m.__local;
    if (d.full !== undefined) state.local = d.full;
    if (d.set) for (const k of Object.keys(d.set)) state.local[k] = d.set[k];
    if (d.del) for (const k of d.del) delete state.local[k];
  }

  /** The script as the runner reads it (`daemon`, `env`, `requires`...):
   * the walked steps stay here, so a long script is not copied whole. */
  function outline(obj, key) {
    if (!obj || typeof obj !== "object" || !Array.isArray(obj[key])) return obj;
    const o = Object.assign({}, obj);
    o[key] = [];
    return o;
  }

  /** The names a step's templates (and a `run` function) see. Steps reuse
   * one object (`reuse`): the runner sends only the names whose values
   * changed since the last step, the others keep theirs. */
  function memory(state, m, reuse) {
    const mem = reuse ? state.mem || (state.mem = Object.create(state.scope)) : Object.create(state.scope);
    for (const k of Object.keys(m)) mem[k] = m[k];
    mem.local = state.local;
    if (!reuse && !Object.prototype.hasOwnProperty.call(m, "global")) mem.global = state.local;
    mem.args = state.args;
    mem.self = state.obj;
    return mem;
  }

  function resolveSteps(state, m) {
    const run = state.obj[state.key];
    if (typeof run !== "function") return Promise.resolve((state.steps = checkSteps(run)));
    if (state.runSteps) return Promise.resolve((state.steps = state.runSteps));
    const ctx = memory(state, m);
    const kernel = kernelOf(state.dir, state.file), info = I.infoFor(state.dir);
    ctx.kernel = kernel;
    ctx.info = info;
    return Promise.resolve(run.call(state.obj, kernel, info, ctx)).then((steps) => {
      state.runSteps = checkSteps(steps);
      return (state.steps = state.runSteps);
    });
  }

  const modules = new Map();
  /** A module's instance, kept between calls until its file changes. */
  function moduleFor(file) {
    const mtime = JSON.parse(N.stat(file)).mtime_ms;
    const known = modules.get(file);
    if (known && known.mtime === mtime) return known.inst;
    I.forget(file);
    const inst = construct(unwrapDefault(I.loadFile(file).exports));
    modules.set(file, { mtime, inst });
    return inst;
  }

  Object.assign(P, {
    /** Loads a script: its state, with `meta` (JSON) for Rust. `key` names
     * the steps to walk: `run`, or an action an `on` handler triggers. */
    open(file, key) {
      const state = { file, key: key || "run", dir: I.path.dirname(file), obj: null, impure: false, steps: null, runSteps: null, scope: null, mem: null, args: {}, local: {}, current: null };
      return evaluate(state).then(() => {
        state.scope = I.scopeFor(file, state.dir, state.obj);
        state.meta = I.plain({ json: outline(state.obj, state.key), dynamic: state.impure, run: runShape(state.obj.run) });
        return state;
      });
    },
    /** Before a step: evaluates the script again when it must (`reload`:
     * its file changed), resolves the steps; resolves to their count. */
    prepare(state, reload, memJson) {
      const m = I.Buffer.__parse(memJson);
      absorb(state, m);
      const again = state.steps !== null && (reload || state.impure);
      const p = again ? evaluate(state) : Promise.resolve(state);
      return p.then(() => resolveSteps(state, m)).then((steps) => steps.length);
    },
    /** Renders step `index` (`next`: the one after, or null) with what
     * changed in memory since the last render (`memJson`, or nothing):
     * `{step, when, inline}`. */
    renderStepAt(state, index, next, memJson) {
      const m = memJson ? I.Buffer.__parse(memJson) : {};
      absorb(state, m);
      m.current = index;
      m.next = next === undefined ? null : next;
      const step = state.steps && state.steps[index];
      if (!step || typeof step !== "object") throw new Error("step " + index + " is not an object");
      const r = T.renderStep(step, memory(state, m, true));
      state.current = r.step;
      const inline = !!r.step && typeof r.step.method === "function";
      // An object: the runner reads it without a JSON text in between.
      return { step: r.step, when: r.when, inline };
    },
    /** Index of the first (or last) step whose `id` is `id`, else -1. */
    findStep(state, id, last) {
      const s = state.steps || [];
      let at = -1;
      for (let i = 0; i < s.length; i++) {
        if (s[i] && s[i].id === id) {
          at = i;
          if (!last) break;
        }
      }
      return at;
    },
    /** Calls the rendered step's own function (`file` empty) or `method` of
     * the module at `file`, with `(req, ondata, kernel)`: JSON `{value,
     * next, moved}` (`moved`: the method changed `req.next`). */
    callStep(state, file, method, reqJson) {
      const extra = JSON.parse(reqJson);
      const step = state.current || {};
      const req = Object.assign({}, step, extra);
      req.parent = Object.assign({ body: state.obj }, extra.parent);
      const ondata = (d) => N.log(d && typeof d.raw === "string" ? d.raw : I.fmt([d]));
      let fn, self = null, kernel;
      if (file) {
        const mod = moduleFor(file);
        fn = mod && mod[method];
        if (typeof fn !== "function") throw new Error("module " + file + " has no method '" + method + "'");
        self = mod;
        kernel = kernelOf(I.path.dirname(file), file);
      } else {
        fn = step.method;
        kernel = kernelOf(state.dir, state.file);
      }
      // `req.next` changed by the method moves the walk (null: the end).
      const next = req.next;
      return Promise.resolve(fn.call(self, req, ondata, kernel)).then((v) =>
        I.plain({ value: v === undefined ? null : v, next: req.next === undefined ? null : req.next, moved: req.next !== next }));
    },
  });
})(globalThis.__pinokio);
