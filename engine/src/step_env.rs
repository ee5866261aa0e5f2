//! A step's `env` on top of the process environment (spec §8.1 step 7):
//! scalars replace; `PATH` (any case: `path`, `Path`) and any other array
//! are joined with `:` and put in front of the existing value. Before this,
//! an array became its JSON text, so `env: {PATH: ["bin"]}` replaced PATH
//! with `["bin"]` and nothing could be found.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Applies the step's `env` object to `env`.
pub fn apply(env: &mut BTreeMap<String, String>, step: &Map<String, Value>) {
    for (k, v) in step {
        let key = if k.eq_ignore_ascii_case("path") {
            "PATH".to_string()
        } else {
            k.clone()
        };
        match v {
            Value::Array(items) => {
                let front: Vec<String> = items
                    .iter()
                    .map(crate::util::scalar_string)
                    .filter(|s| !s.is_empty())
                    .collect();
                let mut joined = front.join(":");
                if let Some(old) = env.get(&key).filter(|o| !o.is_empty()) {
                    if joined.is_empty() {
                        joined = old.clone();
                    } else {
                        joined = format!("{joined}:{old}");
                    }
                }
                env.insert(key, joined);
            }
            other => {
                env.insert(key, crate::util::scalar_string(other));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_prepend_and_scalars_replace() {
        let mut env: BTreeMap<String, String> = [
            ("PATH".into(), "/usr/bin".into()),
            ("X".into(), "old".into()),
        ]
        .into();
        let step =
            json!({ "path": ["/a", "/b"], "X": "new", "LIBS": ["/l"], "N": 3, "CF": ["-O2"] });
        apply(&mut env, step.as_object().unwrap());
        assert_eq!(env["PATH"], "/a:/b:/usr/bin");
        assert_eq!(env["X"], "new");
        assert_eq!(env["LIBS"], "/l");
        assert_eq!(env["N"], "3");
    }
}
