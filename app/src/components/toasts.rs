//! Toasts: short-lived messages for things that happen while a page is
//! open (a script's `notify`, a run that failed). They sit in one
//! `role="status"` live region, so screen readers read them out, and leave
//! on their own after [`TOAST_TTL`] (or when dismissed).

use leptos::prelude::*;
use std::time::Duration;

/// How long a toast stays.
pub const TOAST_TTL: Duration = Duration::from_secs(8);

#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    /// What it is about (`notice:12`, `run:3`): the same thing never toasts twice.
    pub key: String,
    /// `info` or `error`.
    pub kind: &'static str,
    pub text: String,
}

/// The toasts of a page, and which keys it has already seen.
#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    seen: StoredValue<Option<std::collections::HashSet<String>>>,
}

impl Default for Toasts {
    fn default() -> Self {
        Self::new()
    }
}

impl Toasts {
    pub fn new() -> Self {
        Toasts {
            list: RwSignal::new(Vec::new()),
            seen: StoredValue::new(None),
        }
    }

    /// Shows the toasts whose keys are new. The first call only records
    /// what exists: what happened before the page opened is in its lists,
    /// not news.
    pub fn offer(&self, candidates: Vec<Toast>) {
        let mut seen = self.seen.get_value();
        let first = seen.is_none();
        let known = seen.get_or_insert_with(Default::default);
        let fresh: Vec<Toast> = candidates
            .into_iter()
            .filter(|t| known.insert(t.key.clone()))
            .collect();
        self.seen.set_value(seen);
        if first {
            return;
        }
        for toast in fresh {
            let (key, me) = (toast.key.clone(), *self);
            self.list.update(|l| l.push(toast));
            set_timeout(move || me.dismiss(&key), TOAST_TTL);
        }
    }

    fn dismiss(&self, key: &str) {
        self.list.update(|l| l.retain(|t| t.key != key));
    }
}

/// The live region that shows a page's [`Toasts`].
#[component]
pub fn ToastRegion(toasts: Toasts) -> impl IntoView {
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.list.get() key=|t| t.key.clone() let:toast>
                {
                    let key = toast.key.clone();
                    view! {
                        <div class=format!("toast {}", toast.kind) data-toast=toast.key.clone()>
                            <span class="toast-text">{toast.text.clone()}</span>
                            <button class="toast-close" type="button" aria-label="Dismiss"
                                on:click=move |_| toasts.dismiss(&key)>"×"</button>
                        </div>
                    }
                }
            </For>
        </div>
    }
}
