//! Bindings to xterm.js (loaded on first use from `/pkg/xterm/`) and the
//! WebSocket glue. Browser only.

use js_sys::{Function, Promise, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, HtmlElement, MessageEvent, WebSocket};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Terminal)]
    type XTerm;
    #[wasm_bindgen(constructor, js_class = "Terminal")]
    fn new(options: &JsValue) -> XTerm;
    #[wasm_bindgen(method)]
    fn open(this: &XTerm, parent: &HtmlElement);
    #[wasm_bindgen(method, js_name = write)]
    fn write_bytes(this: &XTerm, data: &Uint8Array);
    #[wasm_bindgen(method, js_name = write)]
    fn write_text(this: &XTerm, data: &str);
    #[wasm_bindgen(method, js_name = onData)]
    fn on_data(this: &XTerm, callback: &Function);
    #[wasm_bindgen(method, js_name = loadAddon)]
    fn load_addon(this: &XTerm, addon: &JsValue);
    #[wasm_bindgen(method, getter)]
    fn cols(this: &XTerm) -> u32;
    #[wasm_bindgen(method, getter)]
    fn rows(this: &XTerm) -> u32;
    #[wasm_bindgen(method)]
    fn dispose(this: &XTerm);

    #[wasm_bindgen(js_namespace = FitAddon, js_name = FitAddon)]
    type Fit;
    #[wasm_bindgen(constructor, js_namespace = FitAddon, js_class = "FitAddon")]
    fn new() -> Fit;
    #[wasm_bindgen(method)]
    fn fit(this: &Fit);
}

thread_local! {
    /// Mounted terminals by key: Leptos cleanups must be `Send`, these are not.
    static SESSIONS: RefCell<std::collections::HashMap<u64, Session>> = RefCell::default();
    static NEXT_KEY: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Mounts a terminal on `el`; returns the key that [`unmount`] takes.
pub fn mount(el: HtmlElement, run_id: i64, writable: bool) -> u64 {
    let key = NEXT_KEY.with(|k| {
        k.set(k.get() + 1);
        k.get()
    });
    let session = Session::mount(el, run_id, writable);
    SESSIONS.with(|s| s.borrow_mut().insert(key, session));
    key
}

/// Closes the socket and disposes of the terminal.
pub fn unmount(key: u64) {
    SESSIONS.with(|s| s.borrow_mut().remove(&key));
}

/// What a mounted terminal holds; dropping it closes the socket and the terminal.
pub struct Session {
    inner: Rc<RefCell<Option<Live>>>,
}

struct Live {
    term: XTerm,
    socket: WebSocket,
    _callbacks: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(live) = self.inner.borrow_mut().take() {
            let _ = live.socket.close();
            live.term.dispose();
        }
    }
}

impl Session {
    fn mount(el: HtmlElement, run_id: i64, writable: bool) -> Session {
        let inner = Rc::new(RefCell::new(None));
        let slot = Rc::clone(&inner);
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(err) = load_xterm().await {
                el.set_inner_text(&format!("The terminal could not load: {err:?}"));
                return;
            }
            *slot.borrow_mut() = Some(connect(&el, run_id, writable));
        });
        Session { inner }
    }
}

fn connect(el: &HtmlElement, run_id: i64, writable: bool) -> Live {
    let options = js_sys::JSON::parse(
        r##"{"convertEol":false,"cursorBlink":true,"fontSize":13,"scrollback":5000,
            "theme":{"background":"#0b0d12","foreground":"#e8eaf0"}}"##,
    )
    .unwrap_or(JsValue::NULL);
    let term = XTerm::new(&options);
    let fit = Fit::new();
    term.load_addon(&fit);
    term.open(el);
    fit.fit();

    let socket =
        WebSocket::new(&socket_url(run_id)).expect("a WebSocket URL from this page's origin");
    socket.set_binary_type(BinaryType::Arraybuffer);
    let mut callbacks = Vec::new();

    let term_out: XTerm = JsValue::clone(&term).unchecked_into();
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        let ev: MessageEvent = ev.unchecked_into();
        let data = ev.data();
        if data.is_instance_of::<js_sys::ArrayBuffer>() {
            term_out.write_bytes(&Uint8Array::new(&data));
        } else if let Some(text) = data.as_string() {
            term_out.write_text(&text);
        }
    });
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    callbacks.push(on_message);

    let (cols, rows) = (term.cols(), term.rows());
    let sock = socket.clone();
    let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        let _ = sock.send_with_str(&format!(
            r#"{{"type":"resize","cols":{cols},"rows":{rows}}}"#
        ));
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    callbacks.push(on_open);

    if writable {
        let sock = socket.clone();
        let on_data = Closure::<dyn FnMut(JsValue)>::new(move |data: JsValue| {
            if data.as_string().is_some() {
                let msg = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&msg, &"type".into(), &"input".into());
                let _ = js_sys::Reflect::set(&msg, &"data".into(), &data);
                if let Ok(text) = js_sys::JSON::stringify(&msg) {
                    let _ = sock.send_with_str(&String::from(text));
                }
            }
        });
        term.on_data(on_data.as_ref().unchecked_ref());
        callbacks.push(on_data);
    }
    Live {
        term,
        socket,
        _callbacks: callbacks,
    }
}

/// `ws(s)://<this host>/ws/run/<id>`: same origin, so the session cookie goes along.
fn socket_url(run_id: i64) -> String {
    let location = web_sys::window().expect("window").location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}://{host}/ws/run/{run_id}")
}

/// Adds xterm's script, addon and stylesheet once; resolves when loaded.
async fn load_xterm() -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    if js_sys::Reflect::has(&window, &"Terminal".into())?
        && js_sys::Reflect::has(&window, &"FitAddon".into())?
    {
        return Ok(());
    }
    let document = window.document().ok_or("no document")?;
    let link: web_sys::HtmlLinkElement = document.create_element("link")?.unchecked_into();
    link.set_rel("stylesheet");
    link.set_href("/pkg/xterm/xterm.css");
    document.head().ok_or("no head")?.append_child(&link)?;
    for src in ["/pkg/xterm/xterm.js", "/pkg/xterm/addon-fit.js"] {
        let script: web_sys::HtmlScriptElement =
            document.create_element("script")?.unchecked_into();
        script.set_src(src);
        let loaded = Promise::new(&mut |resolve, reject| {
            script.set_onload(Some(&resolve));
            script.set_onerror(Some(&reject));
        });
        document.head().ok_or("no head")?.append_child(&script)?;
        wasm_bindgen_futures::JsFuture::from(loaded).await?;
    }
    Ok(())
}
