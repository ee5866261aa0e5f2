// Pinokio's `{{ }}` templates (spec §3), evaluated before the prelude and
// published as `__tpl`. The rules are the reference engine's, including the
// ones that look odd, because launchers depend on them:
// - a string that is exactly `{{expr}}` yields the raw value (any type);
//   `undefined` or a throw keeps the literal text, so a template meant for a
//   later render (`{{event.matches[0][1]}}` in `on` handlers) survives;
// - embedded templates become `String(value)` (`[object Object]`, `a,b`,
//   `null`); `undefined` or a throw keeps that `{{...}}` as written, and a
//   syntax error keeps the whole string (shell text such as `{{.Names}}`);
// - object keys are rendered too (a key rendering to null/false is dropped),
//   array items rendering to undefined are dropped, non-plain objects
//   (Buffers, class instances, functions) are passed through untouched;
// - a step is rendered again while `{{ }}` remain (4 passes at most), then
//   `{{{x}}}`, which is never evaluated, becomes `{{x}}`.
// Matching never crosses a newline. Compiled expressions are cached by text.
(function (G) {
  "use strict";
  const cache = new Map();
  const MAX_PASSES = 4;
  const TRIPLE = /\{\{\{(.*?)\}\}\}/g;

  /** A compiled expression, or the SyntaxError it raised (also cached). */
  function compile(expr) {
    let f = cache.get(expr);
    if (f === undefined) {
      try {
        f = new Function("__m", "with (__m) { return (" + expr + "\n); }");
      } catch (e) {
        f = new SyntaxError("template syntax error in {{" + expr + "}}: " + e.message);
      }
      cache.set(expr, f);
    }
    return f;
  }

  function isPlain(v) {
    if (v === null || typeof v !== "object") return false;
    const p = Object.getPrototypeOf(v);
    return p === Object.prototype || p === null;
  }

  // Line terminators: `.` in the reference engine's matcher stops there.
  const LINE = /[\n\r\u2028\u2029]/;

  /** The expression of a string that is exactly one template, else null. */
  function wholeExpr(s) {
    if (s.length < 4 || !s.startsWith("{{") || !s.endsWith("}}")) return null;
    const expr = s.slice(2, -2);
    if (expr.indexOf("}}") >= 0 || expr.indexOf("{{") >= 0 || LINE.test(expr)) return null;
    return expr;
  }

  const isTriple = (s) => s.startsWith("{{{") && s.endsWith("}}}");

  /** Whether a rendered value still holds a template (for another pass). */
  function hasTemplate(v, depth) {
    if (typeof v === "string") return v.indexOf("{{") >= 0;
    if (depth > 32) return false;
    if (Array.isArray(v)) return v.some((x) => hasTemplate(x, depth + 1));
    if (isPlain(v)) return Object.keys(v).some((k) => k.indexOf("{{") >= 0 || hasTemplate(v[k], depth + 1));
    return false;
  }

  // How a string renders, worked out once per distinct string (scripts
  // render the same step strings over and over): `none` (no template),
  // `triple` (`{{{` at both ends), `whole` (exactly one template: `f`),
  // `broken` (a template with a syntax error: the string stays), or
  // `parts`: literal text and templates in turn (`lits[i]`, then
  // `fs[i]`/`raws[i]`, ..., then the last literal).
  const plans = new Map();
  const PLAN_CACHE_MAX = 20000;

  function planOf(s) {
    let p = plans.get(s);
    if (p !== undefined) return p;
    p = makePlan(s);
    if (plans.size >= PLAN_CACHE_MAX) plans.clear();
    plans.set(s, p);
    return p;
  }

  function makePlan(s) {
    if (s.indexOf("{{") < 0) return { kind: "none" };
    if (isTriple(s)) return { kind: "triple" };
    const expr = wholeExpr(s);
    if (expr !== null) return { kind: "whole", f: compile(expr) };
    // Each `{{` takes the nearest `}}` after it on the same line, as the
    // reference engine's `/{{(.*?)}}/g` does.
    const lits = [], fs = [], raws = [];
    let pos = 0, i = s.indexOf("{{");
    while (i >= 0) {
      const j = s.indexOf("}}", i + 2);
      if (j < 0) break;
      const e = s.slice(i + 2, j);
      if (LINE.test(e)) {
        i = s.indexOf("{{", i + 1);
        continue;
      }
      const f = compile(e);
      if (f instanceof SyntaxError) return { kind: "broken", triple: s.indexOf("{{{") >= 0 };
      lits.push(s.slice(pos, i));
      fs.push(f);
      raws.push(s.slice(i, j + 2));
      pos = j + 2;
      i = s.indexOf("{{", pos);
    }
    lits.push(s.slice(pos));
    return { kind: "parts", lits, fs, raws };
  }

  // `st` collects what the caller needs to know about a pass:
  // `left` (a template remains), `triple` (a `{{{` was seen).
  function renderString(s, m, st) {
    const p = planOf(s);
    switch (p.kind) {
      case "none":
        return s;
      case "triple":
        st.left = st.triple = true;
        return s;
      case "broken":
        if (p.triple) st.triple = true;
        st.left = true;
        return s;
      case "whole": {
        if (p.f instanceof SyntaxError) throw p.f;
        let v;
        try { v = p.f(m); } catch (e) { v = undefined; }
        if (v === undefined) {
          st.left = true;
          return s;
        }
        if (typeof v === "string" ? v.indexOf("{{") >= 0 : (Array.isArray(v) || isPlain(v)) && hasTemplate(v, 0)) st.left = true;
        return v;
      }
    }
    const { lits, fs, raws } = p;
    let out = lits[0];
    for (let k = 0; k < fs.length; k++) {
      let text = null;
      try {
        const v = fs[k](m);
        if (v !== undefined) text = String(v);
      } catch (err) {
        text = null;
      }
      out += (text === null ? raws[k] : text) + lits[k + 1];
    }
    if (out.indexOf("{{") >= 0) {
      st.left = true;
      if (out.indexOf("{{{") >= 0) st.triple = true;
    }
    return out;
  }

  function renderValue(v, m, st) {
    if (typeof v === "string") return renderString(v, m, st);
    if (Array.isArray(v)) {
      const out = [];
      for (const x of v) {
        const r = renderValue(x, m, st);
        if (r !== undefined) out.push(r);
      }
      return out;
    }
    if (isPlain(v)) {
      const o = {};
      for (const k of Object.keys(v)) {
        let key = k;
        if (k.indexOf("{{") >= 0) {
          const rk = renderString(k, m, st);
          if (rk === null || rk === false) continue;
          key = String(rk);
        }
        o[key] = renderValue(v[k], m, st);
      }
      return o;
    }
    return v;
  }

  /** `{{{x}}}` → `{{x}}` everywhere (values and keys), after the last pass. */
  function flatten(v) {
    if (typeof v === "string") return v.indexOf("{{{") >= 0 ? v.replace(TRIPLE, "{{$1}}") : v;
    if (Array.isArray(v)) return v.map(flatten);
    if (isPlain(v)) {
      const o = {};
      for (const k of Object.keys(v)) o[flatten(k)] = flatten(v[k]);
      return o;
    }
    return v;
  }

  /** One pass over any value (what `kernel.template.render` does). */
  function render(v, m) {
    return renderValue(v, m, { left: false, triple: false });
  }

  /** A step's full render: passes while templates remain, then flatten. */
  function renderAll(v, m) {
    let st = { left: false, triple: false };
    let out = renderValue(v, m, st);
    let triple = st.triple;
    for (let pass = 1; st.left && pass < MAX_PASSES; pass++) {
      st = { left: false, triple: false };
      out = renderValue(out, m, st);
      triple = triple || st.triple;
    }
    return triple ? flatten(out) : out;
  }

  /** `when` after the main pass: a template left there is evaluated again
   * with undefined allowed (undefined, or a throw, is false). */
  function whenVerdict(w, m) {
    if (!w) return false;
    if (typeof w !== "string" || w.indexOf("{{") < 0) return true;
    const expr = wholeExpr(w);
    if (expr === null) return !!renderString(w, m, { left: false, triple: false });
    const f = compile(expr);
    if (f instanceof SyntaxError) throw f;
    try { return !!f(m); } catch (e) { return false; }
  }

  /** Renders a step: `{step, when}` (`when` null when the step has none;
   * the `when` key itself is left out of the rendered step). */
  function renderStep(step, m) {
    const out = renderAll(step, m);
    let when = null;
    if (out && typeof out === "object" && Object.prototype.hasOwnProperty.call(step, "when")) {
      when = whenVerdict(out.when, m);
      delete out.when;
    }
    return { step: out, when };
  }

  G.__tpl = { render, renderAll, renderStep, whenVerdict, flatten, isPlain };
})(globalThis);
