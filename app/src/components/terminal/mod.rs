//! A live terminal of a run: xterm.js in the page, fed over a WebSocket
//! (`/ws/run/<id>`) that first replays the scrollback, then streams output.
//! Keys typed go back to the run's PTY when the viewer may operate it.

#[cfg(feature = "hydrate")]
mod xterm;

use leptos::prelude::*;

#[component]
pub fn Terminal(run_id: i64, #[prop(optional)] writable: bool) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            let key = xterm::mount(el.into(), run_id, writable);
            on_cleanup(move || xterm::unmount(key));
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = writable;
    view! {
        <div class="terminal" node_ref=node data-run-id=run_id.to_string()></div>
    }
}
