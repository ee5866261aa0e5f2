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

/// Sets `a.b.c` inside `root`, creating objects on the way (lodash `set`).
pub fn set_path(root: &mut Value, key: &str, value: Value) {
    let mut cur = root;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let map = cur.as_object_mut().expect("object ensured above");
        if i == parts.len() - 1 {
            map.insert((*part).to_string(), value);
            return;
        }
        cur = map
            .entry((*part).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Removes `a.b.c` from `root` if present.
pub fn remove_path(root: &mut Value, key: &str) {
    let (parent, last) = match key.rsplit_once('.') {
        Some((p, l)) => (p.split('.').try_fold(&mut *root, |v, k| v.get_mut(k)), l),
        None => (Some(root), key),
    };
    if let Some(Value::Object(m)) = parent {
        m.remove(last);
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

/// The bytes of a JS `Buffer` that crossed to Rust (Node's JSON shape
/// `{type: "Buffer", data: [bytes]}`, see the prelude).
pub fn buffer_bytes(v: &Value) -> Option<Vec<u8>> {
    if v.get("type")?.as_str()? != "Buffer" {
        return None;
    }
    v.get("data")?
        .as_array()?
        .iter()
        .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
        .collect()
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
    }
}
