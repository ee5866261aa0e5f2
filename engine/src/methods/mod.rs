//! Step methods behind one dispatch table. Each handler gets the step
//! context, the rendered `params` and the whole rendered step. In plan mode
//! the dispatcher records every step and handlers skip side effects.

mod desktop;
mod download;
mod env;
mod exec;
mod flow;
mod fs;
mod hf;
mod hf_guard;
mod input;
mod json;
mod load;
mod local;
mod module;
mod net;
mod notify;
mod script;
mod shell;
mod wait;
mod web;

pub(crate) use module::inline;
pub(crate) use shell::quote;

use serde_json::Value;

use crate::error::{MethodError, MethodResult};
use crate::runner::{StepCtx, Target};

/// What the runner does after a step.
#[derive(Debug)]
pub enum Flow {
    /// Go on; the value becomes the next step's `input`.
    Next(Value),
    /// Continue at another step with this `input` (`jump`/`goto`).
    Jump(Target, Value),
    /// The script ends here with this result (a module method that set
    /// `req.next` to null).
    End(Value),
    /// Start this script again from its first step with these `args` (its
    /// own when `None`): `script.restart` of itself. Its processes and
    /// `local` are dropped first.
    Restart(Option<Value>),
}

type Handler = fn(&StepCtx<'_>, &Value, &Value) -> MethodResult<Flow>;

/// Every built-in method. Names are exactly what scripts write.
const TABLE: &[(&str, Handler)] = &[
    ("shell.run", shell::run),
    ("exec", exec::exec),
    ("shell.start", shell::start),
    ("shell.enter", shell::enter),
    ("shell.write", shell::write),
    ("shell.stop", shell::stop),
    ("fs.write", fs::write),
    ("fs.read", fs::read),
    ("fs.cat", fs::cat),
    ("fs.make", fs::make),
    ("fs.rm", fs::rm),
    ("fs.copy", fs::copy),
    ("fs.link", fs::link),
    ("fs.share", fs::link),
    ("fs.download", download::download),
    ("fs.open", web::open),
    ("hf.download", hf::download),
    ("hf.upload", hf::upload),
    ("json.get", json::get),
    ("json.set", json::set),
    ("json.rm", json::rm),
    ("self.set", json::set),
    ("self.rm", json::rm),
    ("set", json::set_any),
    ("rm", json::rm_any),
    ("local.set", local::set),
    ("global.set", local::set_global),
    ("local.rm", local::rm),
    ("global.rm", local::rm_global),
    ("log", local::log),
    ("script.start", script::start),
    ("script.stop", script::stop),
    ("script.return", script::ret),
    ("script.download", script::download),
    ("script.restart", script::restart),
    ("jump", flow::jump),
    ("goto", flow::jump),
    ("process.wait", flow::wait),
    ("notify", notify::notify),
    ("input", input::input),
    ("filepicker.open", input::filepicker),
    ("web.open", web::open),
    ("browser.open", web::open),
    ("proxy.start", web::proxy),
    ("proxy.stop", web::proxy),
    ("net", net::request),
    ("gradio.predict", net::gradio_predict),
    ("modal", input::modal),
    ("uri.open", web::open),
    ("tab.open", web::open),
    ("cloudflare.tunnel", web::proxy),
    ("env.set", env::set),
    ("env.switch", env::switch),
    ("load", load::load),
    ("local.import", load::import),
    ("import", load::import),
];

/// Names of all built-in methods.
pub fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(n, _)| *n)
}

/// Runs one rendered step.
pub fn dispatch(ctx: &StepCtx<'_>, method: &str, step: &Value) -> MethodResult<Flow> {
    let params = step.get("params").cloned().unwrap_or(Value::Null);
    if ctx.is_plan() {
        ctx.record(method, &params);
    }
    if let Some((_, handler)) = TABLE.iter().find(|(n, _)| *n == method) {
        return handler(ctx, &params, step);
    }
    if desktop::is_desktop(method) {
        return desktop::notice(ctx, method, &params);
    }
    if let Some(uri) = step.get("uri").and_then(Value::as_str) {
        return module::call(ctx, uri, method, &params);
    }
    Err(MethodError::msg(format!("unknown method '{method}'")))
}

/// A string param, or a precise error naming it.
fn req_str<'a>(params: &'a Value, key: &str) -> MethodResult<&'a str> {
    params
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| MethodError::msg(format!("params.{key} is required (a string)")))
}

/// First present string among `keys`.
fn any_str<'a>(params: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| params.get(*k).and_then(Value::as_str))
}

/// A path param through Pinokio's URI resolver (`~/`, git URIs, absolute,
/// else relative to the script folder): see [`crate::paths`].
fn uri_path(ctx: &StepCtx<'_>, p: &str) -> MethodResult<std::path::PathBuf> {
    crate::paths::resolve(&ctx.run.kernel.home, &ctx.loc.dir, p)
        .map_err(|e| MethodError::msg(e.to_string()))
}
