// `_` in templates: the lodash functions launcher templates and helpers call,
// written for this engine. Asking for any other one is an error that names
// it, rather than an `undefined is not a function` deep in a template.
(function (P) {
  "use strict";
  const isObj = (x) => x !== null && (typeof x === "object" || typeof x === "function");
  const isPlain = (x) => x !== null && typeof x === "object" && (Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null);
  const toPath = (p) => (Array.isArray(p) ? p : String(p).replace(/\[(\w+)\]/g, ".$1").split(".").filter((s) => s !== ""));
  const iter = (f) => (typeof f === "function" ? f : typeof f === "string" ? (x) => (x == null ? undefined : x[f]) : isObj(f) ? (x) => Object.keys(f).every((k) => x && x[k] === f[k]) : (x) => x);
  const values = (c) => (Array.isArray(c) ? c : c == null ? [] : Object.values(c));
  const words = (s) => String(s).replace(/([a-z0-9])([A-Z])/g, "$1 $2").split(/[^A-Za-z0-9]+/).filter(Boolean);
  const cloneDeep = (x) => (Array.isArray(x) ? x.map(cloneDeep) : isPlain(x) ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, cloneDeep(v)])) : x);
  function merge(target, ...sources) {
    for (const s of sources) {
      if (!isObj(s)) continue;
      for (const k of Object.keys(s)) {
        const v = s[k];
        if ((isPlain(v) || Array.isArray(v)) && isObj(target[k])) merge(target[k], v);
        else if (v !== undefined) target[k] = cloneDeep(v);
      }
    }
    return target;
  }
  const isEqual = (a, b) => {
    if (a === b) return true;
    if (!isObj(a) || !isObj(b) || Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => isEqual(a[k], b[k]));
  };
  const _ = {
    get(o, p, d) { let v = o; for (const k of toPath(p)) { if (v == null) return d; v = v[k]; } return v === undefined ? d : v; },
    set(o, p, val) { const ks = toPath(p); let v = o; ks.forEach((k, i) => { if (i === ks.length - 1) v[k] = val; else { if (!isObj(v[k])) v[k] = /^\d+$/.test(ks[i + 1]) ? [] : {}; v = v[k]; } }); return o; },
    has(o, p) { let v = o; for (const k of toPath(p)) { if (!isObj(v) || !Object.prototype.hasOwnProperty.call(v, k)) return false; v = v[k]; } return true; },
    isEmpty: (x) => (x == null ? true : typeof x === "string" || Array.isArray(x) ? x.length === 0 : x instanceof Map || x instanceof Set ? x.size === 0 : isObj(x) ? Object.keys(x).length === 0 : true),
    isNil: (x) => x == null, isNull: (x) => x === null, isUndefined: (x) => x === undefined,
    isString: (x) => typeof x === "string", isNumber: (x) => typeof x === "number", isBoolean: (x) => typeof x === "boolean",
    isFunction: (x) => typeof x === "function", isArray: Array.isArray, isObject: isObj, isPlainObject: isPlain, isEqual,
    keys: (o) => (o == null ? [] : Object.keys(o)), values, entries: (o) => Object.entries(o || {}), toPairs: (o) => Object.entries(o || {}),
    fromPairs: (a) => Object.fromEntries(a || []),
    mapValues: (o, f) => Object.fromEntries(Object.entries(o || {}).map(([k, v]) => [k, iter(f)(v, k, o)])),
    pick: (o, ...ks) => Object.fromEntries(ks.flat().filter((k) => o != null && k in o).map((k) => [k, o[k]])),
    omit: (o, ...ks) => { const drop = new Set(ks.flat().map(String)); return Object.fromEntries(Object.entries(o || {}).filter(([k]) => !drop.has(k))); },
    merge, assign: Object.assign, defaults: (o, ...s) => { for (const x of s) for (const k of Object.keys(x || {})) if (o[k] === undefined) o[k] = x[k]; return o; },
    clone: (x) => (Array.isArray(x) ? x.slice() : isPlain(x) ? Object.assign({}, x) : x), cloneDeep,
    map: (c, f) => values(c).map((x, i) => iter(f)(x, i)), filter: (c, f) => values(c).filter(iter(f)),
    find: (c, f) => values(c).find(iter(f)), findIndex: (a, f) => (a || []).findIndex(iter(f)), some: (c, f) => values(c).some(iter(f)),
    every: (c, f) => values(c).every(iter(f)), reject: (c, f) => values(c).filter((x) => !iter(f)(x)),
    forEach: (c, f) => { if (Array.isArray(c)) c.forEach(f); else Object.entries(c || {}).forEach(([k, v]) => f(v, k)); return c; },
    each: (c, f) => _.forEach(c, f), reduce: (c, f, init) => values(c).reduce(f, init), includes: (c, x) => (typeof c === "string" ? c.includes(x) : values(c).includes(x)),
    groupBy: (c, f) => values(c).reduce((o, x) => { const k = iter(f)(x); (o[k] = o[k] || []).push(x); return o; }, {}),
    keyBy: (c, f) => Object.fromEntries(values(c).map((x) => [iter(f)(x), x])),
    sortBy: (c, ...fs) => { const g = fs.flat().map(iter); return values(c).slice().sort((a, b) => { for (const f of g) { const x = f(a), y = f(b); if (x < y) return -1; if (x > y) return 1; } return 0; }); },
    orderBy: (c, fs, dirs) => { const g = [].concat(fs).map(iter), d = [].concat(dirs || []); return values(c).slice().sort((a, b) => { for (let i = 0; i < g.length; i++) { const x = g[i](a), y = g[i](b), s = d[i] === "desc" ? -1 : 1; if (x < y) return -s; if (x > y) return s; } return 0; }); },
    uniq: (a) => [...new Set(a || [])], uniqBy: (a, f) => { const seen = new Set(); return (a || []).filter((x) => { const k = iter(f)(x); if (seen.has(k)) return false; seen.add(k); return true; }); },
    union: (...as) => [...new Set(as.flat())], difference: (a, ...bs) => { const b = new Set(bs.flat()); return (a || []).filter((x) => !b.has(x)); },
    intersection: (a, ...bs) => (a || []).filter((x) => bs.every((b) => (b || []).includes(x))), without: (a, ...xs) => (a || []).filter((x) => !xs.includes(x)),
    flatten: (a) => (a || []).flat(), flattenDeep: (a) => (a || []).flat(Infinity), compact: (a) => (a || []).filter(Boolean), chunk: (a, n = 1) => { const o = []; for (let i = 0; i < (a || []).length; i += n) o.push(a.slice(i, i + n)); return o; },
    first: (a) => (a || [])[0], head: (a) => (a || [])[0], last: (a) => (a || [])[(a || []).length - 1], tail: (a) => (a || []).slice(1), initial: (a) => (a || []).slice(0, -1),
    take: (a, n = 1) => (a || []).slice(0, n), drop: (a, n = 1) => (a || []).slice(n), concat: (...a) => [].concat(...a), zip: (...as) => Array.from({ length: Math.max(0, ...as.map((a) => a.length)) }, (_x, i) => as.map((a) => a[i])),
    range: (s, e, st) => { if (e === undefined) { e = s; s = 0; } st = st || (e < s ? -1 : 1); const o = []; for (let i = s; st > 0 ? i < e : i > e; i += st) o.push(i); return o; },
    times: (n, f) => Array.from({ length: n }, (_x, i) => (f ? f(i) : i)), size: (c) => (c == null ? 0 : typeof c === "string" || Array.isArray(c) ? c.length : Object.keys(c).length),
    sum: (a) => (a || []).reduce((s, x) => s + x, 0), sumBy: (a, f) => (a || []).reduce((s, x) => s + iter(f)(x), 0),
    max: (a) => ((a || []).length ? Math.max(...a) : undefined), min: (a) => ((a || []).length ? Math.min(...a) : undefined),
    maxBy: (a, f) => (a || []).reduce((m, x) => (m === undefined || iter(f)(x) > iter(f)(m) ? x : m), undefined),
    minBy: (a, f) => (a || []).reduce((m, x) => (m === undefined || iter(f)(x) < iter(f)(m) ? x : m), undefined),
    clamp: (n, lo, hi) => Math.min(Math.max(n, lo), hi), random: (lo = 0, hi = 1) => lo + Math.floor(Math.random() * (hi - lo + 1)),
    toNumber: Number, toString: (x) => (x == null ? "" : String(x)), toInteger: (x) => Math.trunc(Number(x)) || 0,
    capitalize: (s) => { s = String(s || "").toLowerCase(); return s.charAt(0).toUpperCase() + s.slice(1); },
    upperFirst: (s) => String(s || "").charAt(0).toUpperCase() + String(s || "").slice(1), lowerFirst: (s) => String(s || "").charAt(0).toLowerCase() + String(s || "").slice(1),
    camelCase: (s) => words(s).map((w, i) => (i ? w.charAt(0).toUpperCase() + w.slice(1).toLowerCase() : w.toLowerCase())).join(""),
    kebabCase: (s) => words(s).map((w) => w.toLowerCase()).join("-"), snakeCase: (s) => words(s).map((w) => w.toLowerCase()).join("_"),
    startCase: (s) => words(s).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(" "),
    lowerCase: (s) => words(s).map((w) => w.toLowerCase()).join(" "), upperCase: (s) => words(s).map((w) => w.toUpperCase()).join(" "),
    trim: (s, c) => (c ? String(s).replace(new RegExp("^[" + c + "]+|[" + c + "]+$", "g"), "") : String(s == null ? "" : s).trim()),
    trimStart: (s) => String(s).trimStart(), trimEnd: (s) => String(s).trimEnd(), startsWith: (s, t) => String(s).startsWith(t), endsWith: (s, t) => String(s).endsWith(t),
    padStart: (s, n, c) => String(s).padStart(n, c), padEnd: (s, n, c) => String(s).padEnd(n, c), repeat: (s, n) => String(s).repeat(n),
    replace: (s, a, b) => String(s).replace(a, b), split: (s, sep, n) => String(s).split(sep, n), escapeRegExp: (s) => String(s).replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    identity: (x) => x, noop: () => {}, constant: (x) => () => x,
    debounce: (f) => f, throttle: (f) => f, once: (f) => { let done = false, r; return (...a) => (done ? r : ((done = true), (r = f(...a)))); },
  };
  P.lodash = new Proxy(_, {
    get(t, k) {
      if (typeof k !== "string" || k in t) return t[k];
      if (k === "then" || k === "toJSON") return undefined;
      throw new TypeError("_." + k + " is not in PinokioCloud's lodash subset (it has: " + Object.keys(t).join(", ") + ")");
    },
  });
})(globalThis.__pinokio);
