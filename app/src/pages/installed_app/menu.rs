//! The launcher menu: scripts become run buttons, URLs links, headings
//! group nested items.

use crate::api::{MenuAction, MenuEntry, PreEntry};
use leptos::prelude::*;

#[component]
pub fn MenuList(
    items: Vec<MenuEntry>,
    app: String,
    start: Action<(String, String), Result<i64, ServerFnError>>,
    operator: Signal<bool>,
) -> AnyView {
    items
        .into_iter()
        .map(|item| {
            let icon = item.icon.clone().unwrap_or_else(|| "fa-solid fa-circle".into());
            let class = if item.default { "menu-item default" } else { "menu-item" };
            let label = view! { <i class=format!("menu-icon {icon}") aria-hidden="true"></i><span>{item.text.clone()}</span> };
            let children = (!item.children.is_empty()).then(|| view! {
                <div class="submenu"><MenuList items=item.children.clone() app=app.clone() start operator/></div>
            });
            let entry = match item.action.clone() {
                MenuAction::Script { script, running } => {
                    let (app, confirm) = (app.clone(), item.confirm.clone());
                    view! {
                        <button class=class type="button" data-script=script.clone() data-running=running.to_string()
                            disabled=move || !operator.get()
                            on:click=move |_| {
                                let ok = confirm.as_deref().is_none_or(|q| window().confirm_with_message(q).unwrap_or(false));
                                if ok { start.dispatch((app.clone(), script.clone())); }
                            }>
                            {label}
                        </button>
                    }.into_any()
                }
                MenuAction::Link { href, new_tab } => view! {
                    <a class=class href=href target=new_tab.then_some("_blank")>{label}</a>
                }.into_any(),
                MenuAction::None => view! { <span class="menu-heading">{label}</span> }.into_any(),
            };
            view! { {entry} {children} }
        })
        .collect_view()
        .into_any()
}

/// The launcher's prerequisites (`pre`): software to get first, and
/// variables to set in the app's ENVIRONMENT.
#[component]
pub fn PreList(items: Vec<PreEntry>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|p| {
            let title = match p.href.clone() {
                Some(h) => view! { <a href=h target="_blank" rel="noopener">{p.title.clone()}</a> }.into_any(),
                None => view! { <strong>{p.title.clone()}</strong> }.into_any(),
            };
            let env = p.env.map(|e| view! { <span class="muted">" (set "<code>{e}</code>" in the app's ENVIRONMENT)"</span> });
            view! { <li>{title}{env}{p.description.map(|d| view! { <span>" — "{d}</span> })}</li> }
        })
        .collect_view();
    view! { <section class="launcher-pre"><h2>"Before installing"</h2><ul>{rows}</ul></section> }
}
