//! Plans: a side-effect-free walk of a script's state machine. Methods see
//! [`Mode::Plan`], record what they would do as [`PlanEntry`]s and answer
//! with plausible results (an `on` handler fires with a likely match, `input`
//! takes its defaults).

use serde::Serialize;
use serde_json::Value;

/// Whether a walk acts or only records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Run,
    Plan,
}

/// One step a plan would execute, with its rendered params.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanEntry {
    /// Script path relative to the app folder (e.g. `install.js`, `torch.js`).
    pub script: String,
    pub index: usize,
    pub method: String,
    pub params: Value,
}

/// Upper bound on plan steps, so a looping script ends with an error.
pub const PLAN_STEP_LIMIT: usize = 5000;

/// Text an `on` pattern is assumed to see during a plan: the first sample
/// that matches, so `{{input.event[0]}}` renders to something realistic.
pub fn plausible_match(re: &regex::Regex, port: u16) -> Vec<Value> {
    let samples = [
        format!("http://127.0.0.1:{port}"),
        format!("Running on local URL:  http://127.0.0.1:{port}"),
        format!("Uvicorn running on http://0.0.0.0:{port} (Press CTRL+C to quit)"),
        format!("https://127.0.0.1:{port}"),
        format!("127.0.0.1:{port}"),
        "Done".to_string(),
    ];
    for s in &samples {
        if let Some(c) = re.captures(s) {
            return c
                .iter()
                .map(|m| m.map(|m| Value::from(m.as_str())).unwrap_or(Value::Null))
                .collect();
        }
    }
    vec![Value::from(format!("http://127.0.0.1:{port}"))]
}
