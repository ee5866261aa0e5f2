//! Small helpers shared by several modules: base64, dotted-path updates of
//! JSON, lexical path normalisation.

use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn b64encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard or URL-safe base64, ignoring whitespace and padding.
pub fn b64decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The parts of a lodash key path: `a.b`, `a.0.b`, `a[0].b`, `["x.y"]`.
pub fn key_parts(key: &str) -> Vec<String> {
    let mut parts = vec![];
    let mut cur = String::new();
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => parts.push(std::mem::take(&mut cur)),
            '[' => {
                if !cur.is_empty() {
                    parts.push(std::mem::take(&mut cur));
                }
                let mut inner = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    inner.push(d);
                }
                parts.push(inner.trim_matches(['"', '\'']).to_string());
                if chars.peek() == Some(&'.') {
                    chars.next();
                }
            }
            other => cur.push(other),
        }
    }
    if !cur.is_empty() || parts.is_empty() {
        parts.push(cur);
    }
    parts
}

/// An array index part (`0`, `12`).
fn index_of(part: &str) -> Option<usize> {
    (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        .then(|| part.parse().ok())
        .flatten()
}

/// `encodeURIComponent`-style percent-encoding (query keys and values).
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `?k=v&...` (or `&...` when `url` has a query) from an object's scalar
/// values; `url` unchanged when `query` is not a non-empty object.
pub fn with_query(url: &str, query: Option<&Value>) -> String {
    let Some(q) = query.and_then(Value::as_object).filter(|q| !q.is_empty()) else {
        return url.to_string();
    };
    let pairs: Vec<String> = q
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(&scalar_string(v))))
        .collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", pairs.join("&"))
}

/// Sets `a.b.c` inside `root` like lodash `set`: missing containers are
/// created (an array when the next part is an index), numeric parts index
/// existing arrays.
pub fn set_path(root: &mut Value, key: &str, value: Value) {
    let parts = key_parts(key);
    let mut cur = root;
    for (i, part) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        let next_is_index = !last && index_of(&parts[i + 1]).is_some();
        let fresh = || {
            if next_is_index {
                Value::Array(vec![])
            } else {
                Value::Object(Map::new())
            }
        };
        if let Some(n) = index_of(part).filter(|_| cur.is_array()) {
            let a = cur.as_array_mut().expect("array checked above");
            if a.len() <= n {
                a.resize(n + 1, Value::Null);
            }
            if last {
                a[n] = value;
                return;
            }
            if !(a[n].is_object() || a[n].is_array()) {
                a[n] = fresh();
            }
            cur = &mut a[n];
            continue;
        }
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let map = cur.as_object_mut().expect("object ensured above");
        if last {
            map.insert(part.clone(), value);
            return;
        }
        let slot = map.entry(part.clone()).or_insert_with(fresh);
        if !(slot.is_object() || slot.is_array()) {
            *slot = fresh();
        }
        cur = slot;
    }
}

/// Removes `a.b.c` from `root` if present; a numeric last part removes that
/// array element (later elements move down). Object keys keep their order.
pub fn remove_path(root: &mut Value, key: &str) {
    let parts = key_parts(key);
    let Some((last, path)) = parts.split_last() else {
        return;
    };
    let mut cur = Some(root);
    for p in path {
        cur = cur.and_then(|v| match v {
            Value::Array(a) => index_of(p).and_then(|n| a.get_mut(n)),
            Value::Object(m) => m.get_mut(p),
            _ => None,
        });
    }
    match cur {
        Some(Value::Object(m)) => {
            m.shift_remove(last);
        }
        Some(Value::Array(a)) => {
            if let Some(n) = index_of(last).filter(|n| *n < a.len()) {
                a.remove(n);
            }
        }
        _ => {}
    }
}

/// Joins `rel` onto `base` and removes `.`/`..` lexically (no symlinks are
/// followed), so the same script always has the same key.
pub fn resolve(base: &Path, rel: impl AsRef<Path>) -> PathBuf {
    normalize(&base.join(rel))
}

/// Lexical normalisation of an absolute or relative path.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The string form of a JSON scalar as a shell or env value.
/// A param that is one string or an array of strings (`uri`, `name`).
pub fn string_or_list(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(a) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
        ),
        _ => None,
    }
}

pub fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A fresh sibling name to write `path`'s new content to before renaming
/// it into place. Unique per call, since two runs of one home may write the
/// same file (a shim, an ENVIRONMENT file, a record) at the same moment.
pub fn temp_sibling(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.{}.{seq}.partial", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "hello world!"] {
            assert_eq!(b64decode(&b64encode(s.as_bytes())), s.as_bytes());
        }
        assert_eq!(b64encode(b"hi"), "aGk=");
    }

    #[test]
    fn set_and_remove_nested_paths() {
        let mut v = Value::Null;
        set_path(&mut v, "a.b", Value::from(1));
        assert_eq!(v, serde_json::json!({"a": {"b": 1}}));
        remove_path(&mut v, "a.b");
        assert_eq!(v, serde_json::json!({"a": {}}));
        set_path(&mut v, "l.0.x", Value::from(1));
        set_path(&mut v, "l[1]", Value::from(2));
        assert_eq!(v["l"], serde_json::json!([{"x": 1}, 2]));
        remove_path(&mut v, "l.0");
        assert_eq!(v["l"], serde_json::json!([2]));
        assert_eq!(key_parts("a[0].b"), ["a", "0", "b"]);
    }
}
