//! `on` handlers and Pinokio's printed-error rule (spec §4.1).
//!
//! A handler's `event` is a JS regex literal (`"/re/flags"`). Handlers that
//! act (`done`, `kill`, `return`, `notify`, `trigger`) fire on matches; the
//! `break` flag belongs to error detection instead: Pinokio appends
//! `/error:/i` and `/errno /i` (break) and `/error:.*triton/i` (no break)
//! to every step's handlers, so output with `error:` fails the step whatever
//! the exit code, and text matching a `break: false` pattern is removed
//! before that check.

use std::cell::Cell;

use regex::Regex;
use serde_json::Value;

use crate::error::{MethodError, MethodResult};

/// One `on` handler.
pub struct Handler {
    /// None: fires when the command finishes (`event: null`).
    pub re: Option<Regex>,
    pub done: bool,
    pub kill: bool,
    pub ret: Option<Value>,
    pub notify: Option<Value>,
    /// `trigger: "<action>"`: run the script's `<action>` steps.
    pub trigger: Option<String>,
    /// `once: true`: fire at most once per step.
    pub once: bool,
    pub fired: Cell<bool>,
    /// `break: true`/`false` (None when absent).
    pub brk: Option<bool>,
}

impl Handler {
    /// Whether a match does something (as opposed to a pure `break` rule).
    pub fn acts(&self) -> bool {
        self.done
            || self.kill
            || self.ret.is_some()
            || self.notify.is_some()
            || self.trigger.is_some()
    }

    /// A handler that only ends the step when the command finishes.
    pub fn on_finish() -> Self {
        Handler {
            re: None,
            done: true,
            kill: false,
            ret: None,
            notify: None,
            trigger: None,
            once: false,
            fired: Cell::new(false),
            brk: None,
        }
    }
}

/// Parses `"/body/flags"` (JS regex literal) or a plain pattern.
pub fn js_regex(src: &str) -> MethodResult<Regex> {
    let (body, flags) = match src.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
        Some((b, f)) if f.chars().all(|c| "gimsuyd".contains(c)) => (b, f),
        _ => (src, ""),
    };
    let inline: String = flags.chars().filter(|c| "ims".contains(*c)).collect();
    let pat = if inline.is_empty() {
        body.to_string()
    } else {
        format!("(?{inline}){body}")
    };
    Regex::new(&pat).map_err(|e| MethodError::msg(format!("bad `on` event pattern {src}: {e}")))
}

/// The step's own handlers, in order.
pub fn handlers(params: &Value) -> MethodResult<Vec<Handler>> {
    let Some(list) = params.get("on") else {
        return Ok(vec![]);
    };
    let list = list
        .as_array()
        .ok_or_else(|| MethodError::msg("params.on must be an array of handlers"))?;
    list.iter().map(handler).collect()
}

fn handler(h: &Value) -> MethodResult<Handler> {
    let re = match h.get("event") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(js_regex(s)?),
        Some(other) => {
            return Err(MethodError::msg(format!(
                "`on` event must be a regex string or null, not {other}"
            )))
        }
    };
    let present = |k: &str| {
        h.get(k)
            .filter(|v| !matches!(v, Value::Null | Value::Bool(false)))
            .cloned()
    };
    let flag = |k: &str| h.get(k).is_some_and(crate::runner::truthy);
    Ok(Handler {
        re,
        done: flag("done"),
        kill: flag("kill"),
        ret: present("return"),
        notify: present("notify"),
        trigger: present("trigger").map(|t| crate::util::scalar_string(&t)),
        once: flag("once"),
        fired: Cell::new(false),
        brk: match h.get("break") {
            None | Some(Value::Null) => None,
            Some(v) => Some(crate::runner::truthy(v)),
        },
    })
}

/// Pinokio's printed-error rule for one step: the step's `break` patterns
/// plus the defaults.
pub struct ErrorRules {
    breaks: Vec<Regex>,
    passes: Vec<Regex>,
}

impl ErrorRules {
    pub fn new(hs: &[Handler]) -> Self {
        let mut breaks = vec![];
        let mut passes = vec![];
        for h in hs {
            if let (Some(re), Some(b)) = (&h.re, h.brk) {
                if b { &mut breaks } else { &mut passes }.push(re.clone());
            }
        }
        let default = |p: &str| Regex::new(p).expect("default error pattern");
        breaks.push(default("(?i)error:"));
        breaks.push(default("(?i)errno "));
        passes.push(default("(?i)error:.*triton"));
        ErrorRules { breaks, passes }
    }

    /// The lines of `text` that fail the step: a break pattern matches once
    /// the `break: false` matches are cut out.
    pub fn scan(&self, text: &str) -> Vec<String> {
        text.lines()
            .filter(|line| {
                let mut kept = line.to_string();
                for p in &self.passes {
                    kept = p.replace_all(&kept, "").into_owned();
                }
                self.breaks.iter().any(|b| b.is_match(&kept))
            })
            .map(|l| l.trim().to_string())
            .collect()
    }
}

/// The step error for lines caught by [`ErrorRules::scan`].
pub fn printed_error(lines: &[String]) -> MethodError {
    let shown: Vec<&str> = lines.iter().take(10).map(String::as_str).collect();
    MethodError::msg(format!(
        "the command printed an error, and Pinokio fails a step whose output matches /error:/i or /errno /i (whatever its exit code):\n{}\nFix: if this text is harmless, add {{ \"event\": \"/error:/i\", \"break\": false }} to the step's `on`.",
        shown.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_rules_and_break_false() {
        let none = ErrorRules::new(&[]);
        assert_eq!(
            none.scan("ok\nERROR: no wheel\nErrno 2 x"),
            ["ERROR: no wheel", "Errno 2 x"]
        );
        assert!(none.scan("error: triton missing").is_empty());
        assert!(none.scan("fatal: exists\nerrors: 0").is_empty());
        let hs = handlers(&json!({ "on": [{ "event": "/error:/i", "break": false }, { "event": "/boom/", "break": true }] })).unwrap();
        let rules = ErrorRules::new(&hs);
        assert!(rules.scan("error: fine").is_empty());
        assert_eq!(rules.scan("a boom"), ["a boom"]);
        assert!(!hs[0].acts());
    }
}
