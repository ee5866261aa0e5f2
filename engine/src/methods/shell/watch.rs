//! Following a shell's output until its step ends (spec §4.1).
//!
//! Handlers are tested against the ANSI-stripped text. Complete lines are
//! tested as they arrive; a line still missing its newline is tested once
//! the output has been quiet for [`QUIET`], so one printed without a
//! newline (a prompt-like `Running on http://…`) is still found while the
//! process runs. A match that reaches the very end of such a line may be
//! the first half of a URL still being printed, so it waits until the
//! output has rested for [`SETTLED`]; a URL split across chunks is matched
//! whole.
//!
//! Printed errors (see [`super::handlers::ErrorRules`]) end the step as
//! soon as a complete line shows one, like Pinokio, except in `input` mode.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::handlers::{printed_error, ErrorRules, Handler};
use crate::error::{MethodError, MethodResult};
use crate::pty::{ShellMsg, ShellProc};
use crate::runner::StepCtx;

/// Prompt of old-API interactive shells; its reappearance means "command done".
pub const PROMPT: &str = "<<pinokio-prompt>>";
/// How much stripped output is kept for matching and error tails.
const KEEP: usize = 64 * 1024;
/// How long output must rest before an unfinished line counts.
const QUIET: Duration = Duration::from_millis(300);
/// How long output must rest before a match touching its end counts.
const SETTLED: Duration = Duration::from_millis(1500);

/// Which text a test looks at.
#[derive(Clone, Copy, PartialEq)]
enum Upto {
    /// Complete lines only (text just arrived).
    Lines,
    /// Everything, but a match reaching the end waits (quiet output).
    Quiet,
    /// Everything (output settled, or the process exited).
    All,
}

/// How a watched command ended.
pub enum Ended {
    /// A handler ended the step with this result.
    Handler(Value),
    /// The process exited (`shell.run`) or the prompt came back (legacy).
    Finished { code: Option<i32>, stdout: String },
}

/// What to watch and how.
pub struct Watch<'a, 'c> {
    pub ctx: &'a StepCtx<'c>,
    pub proc: &'a Arc<ShellProc>,
    pub hs: &'a [Handler],
    /// Printed-error detection (None for the legacy API).
    pub rules: Option<&'a ErrorRules>,
    /// Legacy shells: the prompt coming back means "finished".
    pub prompt: bool,
    /// `input: true`: printed errors do not end the step while it runs.
    pub interactive: bool,
}

/// Output seen so far.
#[derive(Default)]
struct Seen {
    /// Text not yet consumed by a handler match.
    window: String,
    /// Text not yet checked for printed errors.
    unscanned: String,
    /// Recent output, for `stdout` and error tails.
    tail: String,
    /// An unfinished line arrived and has not been tested while quiet.
    dirty: bool,
    last: Option<Instant>,
}

impl Seen {
    fn push(&mut self, t: &str) {
        for s in [&mut self.window, &mut self.tail, &mut self.unscanned] {
            s.push_str(t);
            if s.len() > KEEP {
                let mut cut = s.len() - KEEP / 2;
                while !s.is_char_boundary(cut) {
                    cut += 1;
                }
                s.drain(..cut);
            }
        }
        self.dirty = true;
        self.last = Some(Instant::now());
    }

    pub fn last_lines(&self, n: usize) -> String {
        let lines: Vec<&str> = self.tail.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// How far a test may look now that no text is arriving, if at all.
    fn resting(&mut self) -> Option<Upto> {
        let idle = self.last.map(|t| t.elapsed()).unwrap_or_default();
        match self.dirty {
            true if idle >= SETTLED => {
                self.dirty = false;
                Some(Upto::All)
            }
            true if idle >= QUIET => Some(Upto::Quiet),
            _ => None,
        }
    }
}

impl Watch<'_, '_> {
    /// Follows the shell until a handler ends the step, the command
    /// finishes, a printed error fails it, or the run is stopped.
    pub fn run(&self, rx: &Receiver<ShellMsg>) -> MethodResult<Ended> {
        let mut seen = Seen::default();
        loop {
            let msg = match rx.recv_timeout(Duration::from_millis(25)) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) if self.ctx.run.stop.is_stopped() => {
                    return Err(MethodError::Stopped)
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(upto) = seen.resting() {
                        if let Some(end) = self.test(&mut seen, upto)? {
                            return Ok(end);
                        }
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    ShellMsg::Exit(self.proc.exit_code().unwrap_or(-1))
                }
            };
            match msg {
                ShellMsg::Text(t) => {
                    seen.push(&t);
                    if let Some(end) = self.test(&mut seen, Upto::Lines)? {
                        return Ok(end);
                    }
                }
                ShellMsg::Exit(code) => {
                    if self.ctx.run.stop.is_stopped() {
                        return Err(MethodError::Stopped);
                    }
                    if let Some(end) = self.test(&mut seen, Upto::All)? {
                        return Ok(end);
                    }
                    return self.finished(&seen, Some(code));
                }
            }
        }
    }

    /// Tests handlers, printed errors and (legacy) the prompt against the
    /// new text (see [`Upto`]).
    fn test(&self, seen: &mut Seen, scope: Upto) -> MethodResult<Option<Ended>> {
        let lines_end = |s: &str| s.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let n = match scope {
            Upto::Lines => lines_end(&seen.window),
            _ => seen.window.len(),
        };
        if let Some(v) = self.match_handlers(seen, n, scope == Upto::Quiet)? {
            return Ok(Some(Ended::Handler(v)));
        }
        if let Some(rules) = self.rules {
            let n = match scope {
                Upto::All => seen.unscanned.len(),
                _ => lines_end(&seen.unscanned),
            };
            let lines = rules.scan(&seen.unscanned[..n]);
            seen.unscanned.drain(..n);
            if !lines.is_empty() && !self.interactive {
                crate::process::kill_group(self.proc.pgid);
                return Err(printed_error(&lines));
            }
        }
        if self.prompt {
            if let Some(pos) = seen.window.find(PROMPT) {
                seen.window.drain(..pos + PROMPT.len());
                return self.finished(seen, None).map(Some);
            }
        }
        Ok(None)
    }

    /// Tests the regex handlers against the unmatched window (up to `upto`);
    /// the first handler in order that matches decides.
    /// Repeats until nothing matches, so several matches in one chunk each
    /// fire (a `trigger` per line). `wait_at_end`: a match reaching `upto`
    /// may be incomplete and is left for later.
    fn match_handlers(
        &self,
        seen: &mut Seen,
        mut upto: usize,
        wait_at_end: bool,
    ) -> MethodResult<Option<Value>> {
        'again: loop {
            for h in self.hs.iter().filter(|h| h.acts()) {
                let Some(re) = &h.re else { continue };
                if h.once && h.fired.get() {
                    continue;
                }
                let Some(caps) = re.captures(&seen.window[..upto]) else {
                    continue;
                };
                let m: Vec<Value> = caps
                    .iter()
                    .map(|c| c.map(|c| Value::from(c.as_str())).unwrap_or(Value::Null))
                    .collect();
                let end = caps.get(0).map(|c| c.end()).unwrap_or(0);
                if wait_at_end && end == upto {
                    continue;
                }
                seen.window.drain(..end);
                upto -= end;
                h.fired.set(true);
                if let Some(v) = self.fire(h, Value::Array(m), &seen.tail)? {
                    return Ok(Some(v));
                }
                if end == 0 {
                    return Ok(None);
                }
                continue 'again;
            }
            return Ok(None);
        }
    }

    /// The command finished: `event: null` handlers fire, else the step
    /// ends with the output.
    fn finished(&self, seen: &Seen, code: Option<i32>) -> MethodResult<Ended> {
        for h in self.hs.iter().filter(|h| h.re.is_none() && h.acts()) {
            if let Some(v) = self.fire(h, Value::Null, &seen.tail)? {
                return Ok(Ended::Handler(v));
            }
        }
        Ok(Ended::Finished {
            code,
            stdout: seen.last_lines(50),
        })
    }

    /// Applies one handler; `Some` ends the step with that result.
    fn fire(&self, h: &Handler, m: Value, tail: &str) -> MethodResult<Option<Value>> {
        let (ctx, proc) = (self.ctx, self.proc);
        let matches = if m.is_null() {
            json!([])
        } else {
            json!([m.clone()])
        };
        let event = json!({ "matches": matches, "match": m, "stdout": tail, "id": proc.id });
        if let Some(n) = &h.notify {
            let params = if n.is_object() {
                ctx.render_with(n, json!({ "event": event }))?
            } else {
                json!({ "html": m })
            };
            ctx.notify("notify", &params)?;
        }
        if let Some(action) = &h.trigger {
            let input = json!({ "event": m, "trigger": action });
            ctx.run
                .run_action(ctx.loc, action, input)
                .map_err(|e| MethodError::Nested(Box::new(e)))?;
        }
        let result = json!({ "id": proc.id, "event": m, "matches": matches, "stdout": tail, "response": tail });
        if h.kill {
            crate::process::kill_group(proc.pgid);
            return Ok(Some(result));
        }
        if let Some(r) = &h.ret {
            if r == &Value::Bool(true) {
                return Ok(Some(result));
            }
            return ctx.render_with(r, json!({ "event": event })).map(Some);
        }
        Ok(h.done.then_some(result))
    }
}
