//! The embedded JavaScript world. One [`Js`] owns one QuickJS runtime and is
//! used from one thread only (QuickJS is `!Send`); each script run creates
//! its own. Rust talks to it through a handful of prelude entry points
//! (`__pinokio.*`) and keeps JS objects alive with `Persistent` handles.

mod natives;
mod node;
mod to_json;

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::{CatchResultExt, Context, Ctx, Function, Object, Persistent, Promise, Runtime};
use serde_json::Value as Json;

pub use natives::Bridge;

const TEMPLATE: &str = include_str!("template.js");
const PRELUDE: &str = include_str!("prelude.js");
const RUN: &str = include_str!("run.js");
/// Evaluated after the prelude, in order: `kernel`/`info`/menus, `_`, and
/// the Node built-ins beyond path/os/fs.
const EXTENSIONS: [&str; 3] = [
    include_str!("kernel.js"),
    include_str!("lodash.js"),
    include_str!("node.js"),
];

/// A JS-side failure, already formatted with message and stack.
#[derive(Debug, Clone)]
pub struct JsError(pub String);

impl std::fmt::Display for JsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type JsResult<T> = Result<T, JsError>;

/// A loaded script: its run state inside the runtime (run.js), with the
/// JSON view Rust inspects.
#[derive(Clone)]
pub struct ScriptObj {
    obj: Persistent<Object<'static>>,
    /// The script with functions dropped (`daemon`, `env`, `requires`...).
    pub json: Json,
    /// Evaluated again before every step: its evaluation touched the world
    /// outside the script (files, env, clock, terminal...; see run.js).
    pub dynamic: bool,
    /// Shape of `run`: `array`, `empty`, `function`, `none` or `invalid`.
    pub run: String,
}

/// A rendered step as the runner sees it.
pub struct RenderedStep {
    /// The step with templates rendered and functions dropped.
    pub step: Json,
    /// The `when` verdict, `None` without a `when`.
    pub when: Option<bool>,
    /// The step's `method` is a JS function (called with [`Js::call_step`]).
    pub inline: bool,
}

/// The memory scope of one script: `self`, `kernel`, helpers. Per-step values
/// (`input`, `local`, ...) are layered on top of it for each render.
#[derive(Clone)]
pub struct Scope(Persistent<Object<'static>>);

/// One QuickJS runtime with the prelude loaded.
pub struct Js {
    // Drop order: JS handles, then the context, then the runtime.
    render_step_fn: Persistent<Function<'static>>,
    ctx: Context,
    _rt: Runtime,
    /// When the current JS call must give up (checked by QuickJS's
    /// interrupt handler), so an endless loop in a script is an error.
    deadline: Rc<Cell<Option<Instant>>>,
}

/// Longest a script load, module call or menu may compute.
const LOAD_LIMIT: Duration = Duration::from_secs(30);
/// Longest one template render may compute.
const RENDER_LIMIT: Duration = Duration::from_secs(5);

impl Js {
    /// Creates a runtime whose natives answer through `bridge`.
    pub fn new(bridge: Rc<dyn Bridge>) -> JsResult<Self> {
        let rt = Runtime::new().map_err(|e| JsError(e.to_string()))?;
        rt.set_max_stack_size(1024 * 1024);
        let deadline: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
        let d = deadline.clone();
        rt.set_interrupt_handler(Some(Box::new(move || {
            d.get().is_some_and(|t| Instant::now() > t)
        })));
        let ctx = Context::full(&rt).map_err(|e| JsError(e.to_string()))?;
        let render_step_fn = ctx.with(|ctx| -> JsResult<_> {
            let natives = natives::install(&ctx, bridge).map_err(|e| JsError(e.to_string()))?;
            ctx.globals()
                .set("__native", natives)
                .map_err(|e| JsError(e.to_string()))?;
            for src in [TEMPLATE, PRELUDE]
                .into_iter()
                .chain(EXTENSIONS)
                .chain([RUN])
            {
                ctx.eval::<(), _>(src)
                    .catch(&ctx)
                    .map_err(|e| JsError(e.to_string()))?;
            }
            let f: Function = api(&ctx)?.get("renderStepAt").map_err(err(&ctx))?;
            Ok(Persistent::save(&ctx, f))
        })?;
        Ok(Js {
            render_step_fn,
            ctx,
            _rt: rt,
            deadline,
        })
    }

    /// Runs `f` in the context with a time limit.
    fn guarded<R>(&self, limit: Duration, f: impl FnOnce(Ctx<'_>) -> JsResult<R>) -> JsResult<R> {
        self.deadline.set(Some(Instant::now() + limit));
        let r = self.ctx.with(f);
        let expired = self.deadline.get().is_some_and(|t| Instant::now() > t);
        self.deadline.set(None);
        match r {
            Err(JsError(m)) if expired => Err(JsError(format!(
                "gave up after {}s of JavaScript (an endless loop?): {m}",
                limit.as_secs()
            ))),
            other => other,
        }
    }

    /// Loads a script file through `require` and resolves its shape: plain
    /// object, (async) function of `(kernel, info)`, class, `default` export.
    pub fn load_script(&self, file: &Path) -> JsResult<ScriptObj> {
        self.load_steps(file, "run")
    }

    /// [`Js::load_script`] walking the steps under `key` instead of `run`
    /// (an action that an `on` handler's `trigger` names).
    pub fn load_steps(&self, file: &Path, key: &str) -> JsResult<ScriptObj> {
        let file = file.to_string_lossy().into_owned();
        self.guarded(LOAD_LIMIT, |ctx| {
            let api = api(&ctx)?;
            let open: Function = api.get("open").map_err(err(&ctx))?;
            let promise: Promise = open
                .call((file.clone(), key.to_string()))
                .catch(&ctx)
                .map_err(caught)?;
            let state: Object = finish(&ctx, promise)?;
            let meta: String = state.get("meta").map_err(err(&ctx))?;
            let mut meta: Json = serde_json::from_str(&meta).map_err(|e| JsError(e.to_string()))?;
            Ok(ScriptObj {
                obj: Persistent::save(&ctx, state),
                json: meta["json"].take(),
                dynamic: meta["dynamic"].as_bool().unwrap_or(false),
                run: meta["run"].as_str().unwrap_or("none").to_string(),
            })
        })
    }

    /// The memory scope of a loaded script (`self`, `kernel`, helpers).
    pub fn scope_of(&self, script: &ScriptObj) -> JsResult<Scope> {
        self.guarded(RENDER_LIMIT, |ctx| {
            let state = script.obj.clone().restore(&ctx).map_err(err(&ctx))?;
            let scope: Object = state.get("scope").map_err(err(&ctx))?;
            Ok(Scope(Persistent::save(&ctx, scope)))
        })
    }

    /// Before a step: evaluates the script again when it must (`reload`:
    /// its file changed) and resolves its steps. Returns how many there are.
    pub fn prepare(&self, script: &ScriptObj, reload: bool, memory: &str) -> JsResult<usize> {
        self.guarded(LOAD_LIMIT, |ctx| {
            let api = api(&ctx)?;
            let f: Function = api.get("prepare").map_err(err(&ctx))?;
            let state = script.obj.clone().restore(&ctx).map_err(err(&ctx))?;
            let p: Promise = f
                .call((state, reload, memory))
                .catch(&ctx)
                .map_err(caught)?;
            let n: f64 = finish(&ctx, p)?;
            Ok(n as usize)
        })
    }

    /// A scope with no script (`self` is `{}`), for rendering loose templates.
    pub fn empty_scope(&self, cwd: &Path) -> JsResult<Scope> {
        self.guarded(RENDER_LIMIT, |ctx| {
            let api = api(&ctx)?;
            let f: Function = api.get("scope").map_err(err(&ctx))?;
            let cwd = cwd.to_string_lossy().into_owned();
            let me = Object::new(ctx.clone()).map_err(err(&ctx))?;
            let scope: Object = f
                .call((format!("{cwd}/_"), cwd, me))
                .catch(&ctx)
                .map_err(caught)?;
            Ok(Scope(Persistent::save(&ctx, scope)))
        })
    }

    /// Renders step `index` of a prepared script (`current` is `index`,
    /// then `next`) with `memory`: a JSON object of the per-step values that
    /// changed since the last render (see the runner's `StepMemory`).
    pub fn render_step(
        &self,
        script: &ScriptObj,
        index: usize,
        next: Option<usize>,
        memory: Option<&str>,
    ) -> JsResult<RenderedStep> {
        self.guarded(RENDER_LIMIT, |ctx| {
            let state = script.obj.clone().restore(&ctx).map_err(err(&ctx))?;
            let f = self
                .render_step_fn
                .clone()
                .restore(&ctx)
                .map_err(err(&ctx))?;
            let out: Object = f
                .call((state, index as u32, next.map(|n| n as u32), memory))
                .catch(&ctx)
                .map_err(caught)?;
            let step: rquickjs::Value = out.get("step").map_err(err(&ctx))?;
            let when: Option<bool> = out.get("when").map_err(err(&ctx))?;
            let inline: bool = out.get("inline").map_err(err(&ctx))?;
            Ok(RenderedStep {
                step: to_json::to_json(&step).map_err(JsError)?,
                when,
                inline,
            })
        })
    }

    /// Index of the first (or, with `last`, the last) step whose `id` is `id`.
    pub fn find_step(&self, script: &ScriptObj, id: &str, last: bool) -> Option<usize> {
        self.guarded(RENDER_LIMIT, |ctx| {
            let api = api(&ctx)?;
            let f: Function = api.get("findStep").map_err(err(&ctx))?;
            let state = script.obj.clone().restore(&ctx).map_err(err(&ctx))?;
            let at: i32 = f.call((state, id, last)).catch(&ctx).map_err(caught)?;
            Ok(usize::try_from(at).ok())
        })
        .ok()
        .flatten()
    }

    /// Calls the last rendered step's own `method` function (`module`
    /// `None`), or `method` of the JS module at `module`, with
    /// `(req, ondata, kernel)`; `req` is the rendered step plus `extra`.
    pub fn call_step(
        &self,
        script: &ScriptObj,
        module: Option<&Path>,
        method: &str,
        extra: &Json,
    ) -> JsResult<Json> {
        let file = module
            .map(|m| m.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.guarded(LOAD_LIMIT, |ctx| {
            let api = api(&ctx)?;
            let f: Function = api.get("callStep").map_err(err(&ctx))?;
            let state = script.obj.clone().restore(&ctx).map_err(err(&ctx))?;
            let p: Promise = f
                .call((state, file, method.to_string(), extra.to_string()))
                .catch(&ctx)
                .map_err(caught)?;
            let out: String = finish(&ctx, p)?;
            serde_json::from_str(&out).map_err(|e| JsError(e.to_string()))
        })
    }

    /// Renders any JSON value's templates with `memory` layered on `scope`.
    pub fn render(&self, value: &Json, scope: &Scope, memory: &str) -> JsResult<Json> {
        self.guarded(RENDER_LIMIT, |ctx| {
            let api = api(&ctx)?;
            let mem = self.mem(&ctx, &api, scope, memory)?;
            let f: Function = api.get("render").map_err(err(&ctx))?;
            let out: String = f
                .call((value.to_string(), mem))
                .catch(&ctx)
                .map_err(caught)?;
            serde_json::from_str(&out).map_err(|e| JsError(e.to_string()))
        })
    }

    /// Evaluates a launcher (`pinokio.js`, or `None` for JSON metadata
    /// only) in its launcher root and renders its menu; `app` is the app
    /// folder legacy `when` items resolve against.
    pub fn menu(&self, file: Option<&Path>, root: &Path, app: &Path) -> JsResult<Json> {
        let s = |p: &Path| p.to_string_lossy().into_owned();
        self.call_api_async("menu", (file.map(s), s(root), s(app)))
    }

    fn call_api_async<A>(&self, name: &str, args: A) -> JsResult<Json>
    where
        A: for<'js> rquickjs::function::IntoArgs<'js>,
    {
        self.guarded(LOAD_LIMIT, |ctx| {
            let api = api(&ctx)?;
            let f: Function = api.get(name).map_err(err(&ctx))?;
            let p: Promise = f.call(args).catch(&ctx).map_err(caught)?;
            let out: String = finish(&ctx, p)?;
            serde_json::from_str(&out).map_err(|e| JsError(e.to_string()))
        })
    }

    fn mem<'js>(
        &self,
        ctx: &Ctx<'js>,
        api: &Object<'js>,
        scope: &Scope,
        memory: &str,
    ) -> JsResult<Object<'js>> {
        let f: Function = api.get("mem").map_err(err(ctx))?;
        let scope = scope.0.clone().restore(ctx).map_err(err(ctx))?;
        f.call((scope, memory.to_string()))
            .catch(ctx)
            .map_err(caught)
    }
}

fn api<'js>(ctx: &Ctx<'js>) -> JsResult<Object<'js>> {
    ctx.globals().get("__pinokio").map_err(err(ctx))
}

/// Drives the QuickJS job queue until `p` settles. A promise that can never
/// settle (waiting on a timer or I/O we do not have) is an error, not a hang.
fn finish<'js, T: rquickjs::FromJs<'js>>(ctx: &Ctx<'js>, p: Promise<'js>) -> JsResult<T> {
    match p.finish::<T>() {
        Ok(v) => Ok(v),
        Err(rquickjs::Error::WouldBlock) => Err(JsError(
            "a promise never settled (awaiting something unsupported)".into(),
        )),
        Err(e) => Err(caught(rquickjs::CaughtError::from_error(ctx, e))),
    }
}

fn caught(e: rquickjs::CaughtError<'_>) -> JsError {
    JsError(match e {
        rquickjs::CaughtError::Exception(ex) => {
            let msg = ex.message().unwrap_or_default();
            let stack = ex.stack().unwrap_or_default();
            let name = ex
                .get::<_, String>("name")
                .unwrap_or_else(|_| "Error".into());
            let at = first_frame(&stack);
            if at.is_empty() {
                format!("{name}: {msg}")
            } else {
                format!("{name}: {msg} (at {at})")
            }
        }
        rquickjs::CaughtError::Value(v) => format!("thrown: {v:?}"),
        rquickjs::CaughtError::Error(e) => e.to_string(),
    })
}

/// The innermost `file:line` of a QuickJS stack, skipping the prelude.
fn first_frame(stack: &str) -> String {
    stack
        .lines()
        .filter_map(|l| l.trim().strip_prefix("at "))
        .map(|l| {
            l.rsplit_once('(')
                .map(|(_, r)| r.trim_end_matches(')'))
                .unwrap_or(l)
        })
        .find(|l| !l.starts_with("eval_script") && !l.starts_with("<input>") && l.contains(':'))
        .unwrap_or_default()
        .to_string()
}

fn err<'js>(ctx: &Ctx<'js>) -> impl Fn(rquickjs::Error) -> JsError + 'js {
    let ctx = ctx.clone();
    move |e| caught(rquickjs::CaughtError::from_error(&ctx, e))
}
