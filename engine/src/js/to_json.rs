//! A JS value as JSON, exactly what `JSON.stringify` and a JSON parse would
//! give, without the text in between: QuickJS's stringify of even a small
//! rendered step costs more than rendering it, and steps render by the
//! thousand.

use rquickjs::function::This;
use rquickjs::{Function, Type, Value};
use serde_json::{Map, Number, Value as Json};

/// Deeper than this is taken for a cycle (where `JSON.stringify` throws).
const MAX_DEPTH: usize = 256;

/// `v` as JSON; what `JSON.stringify` leaves out at the top is `null`.
pub fn to_json(v: &Value<'_>) -> Result<Json, String> {
    Ok(convert(v, "", 0)?.unwrap_or(Json::Null))
}

/// `None`: a value `JSON.stringify` leaves out (undefined, functions,
/// symbols), which becomes `null` inside arrays.
fn convert(v: &Value<'_>, key: &str, depth: usize) -> Result<Option<Json>, String> {
    if depth > MAX_DEPTH {
        return Err(
            "the value refers to itself (a cycle) or is nested too deep to become JSON".into(),
        );
    }
    let json = match v.type_of() {
        Type::Undefined
        | Type::Uninitialized
        | Type::Function
        | Type::Constructor
        | Type::Symbol
        | Type::Module => return Ok(None),
        Type::Null => Json::Null,
        Type::Bool => Json::Bool(v.as_bool().unwrap_or(false)),
        Type::Int => Json::from(v.as_int().unwrap_or(0)),
        Type::Float => number(v.as_float().unwrap_or(f64::NAN)),
        Type::String => Json::String(
            v.as_string()
                .map(|s| s.to_string())
                .transpose()
                .map_err(|e| e.to_string())?
                .unwrap_or_default(),
        ),
        Type::BigInt => return Err("a BigInt cannot become JSON".into()),
        Type::Array => {
            let array = v.as_array().ok_or("not an array")?;
            let mut out = Vec::with_capacity(array.len());
            for i in 0..array.len() {
                let item: Value = array.get(i).map_err(|e| e.to_string())?;
                out.push(convert(&item, &i.to_string(), depth + 1)?.unwrap_or(Json::Null));
            }
            Json::Array(out)
        }
        _ => return object(v, key, depth),
    };
    Ok(Some(json))
}

/// An object: its `toJSON` (Buffers, Dates) when it has one, else its own
/// enumerable string keys in JavaScript's order.
fn object(v: &Value<'_>, key: &str, depth: usize) -> Result<Option<Json>, String> {
    let obj = v.as_object().ok_or("not an object")?;
    if let Ok(to_json) = obj.get::<_, Function>("toJSON") {
        let replaced: Value = to_json
            .call((This(obj.clone()), key))
            .map_err(|e| e.to_string())?;
        return convert(&replaced, key, depth + 1);
    }
    let mut map = Map::new();
    for k in obj.keys::<String>() {
        let k = k.map_err(|e| e.to_string())?;
        let item: Value = obj.get(&k).map_err(|e| e.to_string())?;
        if let Some(j) = convert(&item, &k, depth + 1)? {
            map.insert(k, j);
        }
    }
    Ok(Some(Json::Object(map)))
}

/// A JS number as the JSON parse of its `JSON.stringify` text: integral
/// values below 1e21 print as integers (beyond 2^53 with JavaScript's
/// shortest digits, which Rust prints alike), NaN and infinities as `null`.
fn number(f: f64) -> Json {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if !f.is_finite() {
        return Json::Null;
    }
    if f == f.trunc() && f.abs() < 1e21 {
        if f.abs() < EXACT {
            return match f < 0.0 {
                true => Json::from(f as i64),
                false => Json::from(f.abs() as u64),
            };
        }
        if let Ok(j) = serde_json::from_str(&format!("{f}")) {
            return j;
        }
    }
    Number::from_f64(f).map_or(Json::Null, Json::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rquickjs::{Context, Runtime};

    /// `to_json` of `expr` next to the parse of `JSON.stringify(expr)`.
    fn both(expr: &str) -> (Result<Json, String>, Json) {
        let rt = Runtime::new().unwrap();
        let ctx = Context::full(&rt).unwrap();
        ctx.with(|ctx| {
            let v: Value = ctx.eval(format!("({expr})")).unwrap();
            let text: Option<String> = ctx.eval(format!("JSON.stringify({expr})")).unwrap_or(None);
            let reference = serde_json::from_str(text.as_deref().unwrap_or("null")).unwrap();
            (to_json(&v), reference)
        })
    }

    #[test]
    fn gives_what_json_stringify_gives() {
        for expr in [
            "null",
            "undefined",
            "true",
            "-5",
            "0",
            "-0",
            "2.5",
            "1e21",
            "123456789012345680000",
            "2**64",
            "-(2**63)",
            "2**53 + 2",
            "-(2**60) - 1",
            "0.1 + 0.2",
            "NaN",
            "-Infinity",
            "'héllo \\u0000 \"q\"'",
            "[1, undefined, () => 1, Symbol('s'), [2]]",
            "{b: 1, a: undefined, f() {}, 2: 'x', 1: 'y', nested: {k: [null]}}",
            "new Date(0)",
            "{toJSON(k) { return {via: 'toJSON', k} }}",
            "new (class { constructor() { this.x = 1 } get y() { return 2 } })()",
            "new Map([[1, 2]])",
        ] {
            let (ours, reference) = both(expr);
            assert_eq!(ours.as_ref(), Ok(&reference), "{expr}");
        }
    }

    #[test]
    fn cycles_and_bigints_are_errors() {
        let (ours, _) = both("(() => { const a = {}; a.self = a; return a })()");
        assert!(ours.unwrap_err().contains("cycle"));
        let rt = Runtime::new().unwrap();
        let ctx = Context::full(&rt).unwrap();
        ctx.with(|ctx| {
            let v: Value = ctx.eval("10n").unwrap();
            assert!(to_json(&v).unwrap_err().contains("BigInt"));
        });
    }
}
