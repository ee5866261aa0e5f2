//! The browser end of the channel: one WebSocket per tab, reconnected with
//! backoff. Every (re)connect asks the views to refetch once, since events
//! may have passed while no socket listened (between the server's render
//! and hydration, or during an outage). While disconnected, a slow poll
//! keeps the views roughly current.

use super::{Live, LiveEvent, PATH};
use leptos::prelude::{set_interval_with_handle, set_timeout, IntervalHandle};
use std::cell::RefCell;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, WebSocket};

/// How often views refetch while the socket is down.
const FALLBACK_POLL: Duration = Duration::from_secs(10);
/// Waits between reconnects: doubling from the first to the last.
const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(30));

/// The open socket, its handlers (dropped with it), and the fallback poll.
#[derive(Default)]
struct State {
    socket: Option<WebSocket>,
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    poll: Option<IntervalHandle>,
    failures: u32,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

pub(super) fn connect(live: Live) {
    let socket = match WebSocket::new(&url()) {
        Ok(socket) => socket,
        Err(_) => return disconnected(live),
    };
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
        let text = ev.unchecked_into::<MessageEvent>().data().as_string();
        if let Some(event) = text.and_then(|t| serde_json::from_str::<LiveEvent>(&t).ok()) {
            live.apply(event);
        }
    });
    let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        STATE.with_borrow_mut(|s| {
            s.failures = 0;
            if let Some(poll) = s.poll.take() {
                poll.clear();
            }
        });
        live.apply(LiveEvent::Resync);
    });
    let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| disconnected(live));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    STATE.with_borrow_mut(|s| {
        s.socket = Some(socket);
        // The previous socket's handlers are done: it closed.
        s.handlers = vec![on_message, on_open, on_close];
    });
}

/// The socket closed or could not open: poll slowly, retry later.
fn disconnected(live: Live) {
    let wait = STATE.with_borrow_mut(|s| {
        s.socket = None;
        if s.poll.is_none() {
            s.poll =
                set_interval_with_handle(move || live.apply(LiveEvent::Resync), FALLBACK_POLL).ok();
        }
        s.failures += 1;
        backoff(s.failures)
    });
    set_timeout(move || connect(live), wait);
}

/// The wait before reconnect attempt `n` (1-based).
fn backoff(n: u32) -> Duration {
    let (first, last) = BACKOFF;
    first
        .saturating_mul(1 << n.saturating_sub(1).min(16))
        .min(last)
}

/// `ws(s)://<this host>/ws/live`: same origin, so the session cookie goes along.
fn url() -> String {
    let location = web_sys::window().expect("window").location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    format!("{scheme}://{}{PATH}", location.host().unwrap_or_default())
}
