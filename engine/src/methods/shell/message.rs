//! What a `shell.run` types: the `message` forms (spec §4.1).
//!
//! - a string is one command line;
//! - an array runs each non-empty element in its own fresh shell, one after
//!   another (Pinokio 8's code; its docs say `&&`) — unless `chain` asks for
//!   one shell with the elements joined by `&&` (default, `"&"`), `||`
//!   (`"|"`) or `;` (`"*"`);
//! - an object is an argv: `_` are the positional words, every other key a
//!   `--key value` flag (yargs-unparser conventions), each word quoted for
//!   bash. Multi-line words travel in `PINOKIO_ARG_<n>` variables, since a
//!   newline inside a typed command line would end it.

use serde_json::{Map, Value};

use super::quote;

/// One shell's worth of work: the command line and the variables it needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Command {
    pub line: String,
    pub env: Vec<(String, String)>,
}

/// The commands of a step, one per shell. Never empty: a step without a
/// message still opens a shell (its venv/conda activation runs, which is how
/// launchers create a venv with `message: ""`).
pub fn commands(params: &Value) -> Vec<Command> {
    let mut out = match params.get("message") {
        Some(Value::Array(items)) => {
            let lines: Vec<Command> = items.iter().filter_map(element).collect();
            match chain_operator(params) {
                Some(op) if !lines.is_empty() => vec![join(lines, op)],
                _ => lines,
            }
        }
        Some(v) => element(v).into_iter().collect(),
        None => vec![],
    };
    if out.is_empty() {
        out.push(Command::default());
    }
    out
}

/// The lines of a message as plain text (legacy `shell.enter`/`write`).
pub fn text(params: &Value) -> String {
    match params.get("message") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(element)
            .map(|c| c.line)
            .collect::<Vec<_>>()
            .join("\n"),
        Some(v) => element(v).map(|c| c.line).unwrap_or_default(),
        None => String::new(),
    }
}

/// One element: a non-blank string, a number, or an argv object. Falsy
/// elements (`null`, `false`, `""` from a template) are skipped.
fn element(v: &Value) -> Option<Command> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::Object(o) => Some(argv(o)),
        other => Some(Command {
            line: crate::util::scalar_string(other),
            env: vec![],
        }),
    }
}

/// `chain`'s operator, when the step asks for one shell.
fn chain_operator(params: &Value) -> Option<&'static str> {
    match params.get("chain")? {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s == "|" => Some(" || "),
        Value::String(s) if s == "*" => Some(" ; "),
        _ => Some(" && "),
    }
}

fn join(lines: Vec<Command>, op: &str) -> Command {
    let mut env = vec![];
    let mut parts = vec![];
    for c in lines {
        env.extend(c.env);
        parts.push(c.line);
    }
    Command {
        line: parts.join(op),
        env,
    }
}

/// An argv object as a quoted command line: positional words first, then
/// flags (in key order: the engine's JSON objects are sorted, where
/// Pinokio keeps the script's order; flags of a CLI are order-free).
pub fn argv(obj: &Map<String, Value>) -> Command {
    let mut words = Words::default();
    match obj.get("_") {
        Some(Value::Array(a)) => a.iter().for_each(|v| words.value(v)),
        Some(v) => words.value(v),
        None => {}
    }
    for (k, v) in obj.iter().filter(|(k, _)| *k != "_") {
        words.flag(k, v);
    }
    Command {
        line: words.out.join(" "),
        env: words.env,
    }
}

#[derive(Default)]
struct Words {
    out: Vec<String>,
    env: Vec<(String, String)>,
}

impl Words {
    /// A positional value (scalars only; unresolved templates dropped).
    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => {}
            Value::String(s) if unresolved(s) => {}
            other => self.word(&crate::util::scalar_string(other)),
        }
    }

    /// `--key value`, `-k value` (one letter), `--key` (true), `--no-key`
    /// (false), repeated for arrays, `--key.sub value` for objects.
    fn flag(&mut self, key: &str, v: &Value) {
        let dash = if key.chars().count() == 1 { "-" } else { "--" };
        match v {
            Value::Null => {}
            Value::String(s) if unresolved(s) => {}
            Value::Bool(true) => self.word(&format!("{dash}{key}")),
            Value::Bool(false) => self.word(&format!("--no-{key}")),
            Value::Array(items) => items.iter().for_each(|i| self.flag(key, i)),
            Value::Object(o) => o
                .iter()
                .for_each(|(k, i)| self.flag(&format!("{key}.{k}"), i)),
            other => {
                self.word(&format!("{dash}{key}"));
                self.word(&crate::util::scalar_string(other));
            }
        }
    }

    fn word(&mut self, w: &str) {
        if w.contains('\n') {
            let name = format!("PINOKIO_ARG_{}", self.env.len());
            self.out.push(format!("\"${name}\""));
            self.env.push((name, w.to_string()));
        } else {
            self.out.push(quote(w));
        }
    }
}

/// A whole-value template that stayed unrendered (`"{{args.x}}"`).
fn unresolved(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("{{") && t.ends_with("}}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(p: Value) -> Vec<String> {
        commands(&p).into_iter().map(|c| c.line).collect()
    }

    #[test]
    fn arrays_split_unless_chained() {
        let m = json!(["a", null, "", false, "b"]);
        assert_eq!(lines(json!({ "message": m })), ["a", "b"]);
        assert_eq!(lines(json!({ "message": m, "chain": true })), ["a && b"]);
        assert_eq!(lines(json!({ "message": m, "chain": "&" })), ["a && b"]);
        assert_eq!(lines(json!({ "message": m, "chain": "|" })), ["a || b"]);
        assert_eq!(lines(json!({ "message": m, "chain": "*" })), ["a ; b"]);
        assert_eq!(lines(json!({})), [""]);
    }

    #[test]
    fn objects_become_quoted_argv() {
        let c = argv(
            json!({ "_": ["python", "app.py"], "port": 7860, "share": true, "x": "it's",
                    "skip": "{{args.none}}", "tag": ["a", "b"], "q": false, "text": "l1\nl2" })
            .as_object()
            .unwrap(),
        );
        assert_eq!(
            c.line,
            // Flags in the order the script wrote them (serde_json keeps it).
            "'python' 'app.py' '--port' '7860' '--share' '-x' 'it'\\''s' '--tag' 'a' '--tag' 'b' '--no-q' '--text' \"$PINOKIO_ARG_0\""
        );
        assert_eq!(c.env, [("PINOKIO_ARG_0".to_string(), "l1\nl2".to_string())]);
    }
}
