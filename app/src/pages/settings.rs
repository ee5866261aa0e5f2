use super::environment_settings::EnvironmentSettingsSection;
use super::python_settings::PythonSettingsSection;
use super::storage_settings::StorageSettingsSection;
use crate::api::{
    create_share_link, installed_apps, revoke_share_link, rotate_admin_token, share_app,
    share_links, ShareLink,
};
use crate::auth::Role;
use crate::time::format_utc;
use leptos::prelude::*;
use leptos_meta::Title;

/// Expiry choices for new share links, in hours (`None` = never).
const EXPIRY_CHOICES: [(&str, Option<u32>); 5] = [
    ("1 hour", Some(1)),
    ("1 day", Some(24)),
    ("7 days", Some(168)),
    ("30 days", Some(720)),
    ("Never", None),
];

/// `/settings` (admin): share links for collaborators and the admin login link.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let create = Action::new(|link: &NewLink| {
        let (role, label, hours, app) = link.clone();
        async move {
            match app {
                // "Share this app": opens that app only, nothing of the dashboard.
                Some(app) => share_app(app, label, hours).await,
                None => create_share_link(role, label, hours).await,
            }
        }
    });
    let revoke = Action::new(|id: &i64| revoke_share_link(*id));
    let rotate = Action::new(|_: &()| rotate_admin_token());
    let links = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| share_links(),
    );

    view! {
        <Title text="Settings"/>
        <section class="settings">
            <h1>"Settings"</h1>
            <h2>"Share links"</h2>
            <p class="lede">"Anyone with a link gets its role: viewers watch, operators also run and stop scripts, admins manage everything."</p>
            <NewLinkForm create/>
            <Transition fallback=|| view! { <p class="note">"Loading…"</p> }>
                {move || links.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p class="note">"No share links yet."</p> }.into_any(),
                    Ok(list) => view! { <LinkList list revoke/> }.into_any(),
                    Err(err) => view! { <p class="notice error">{err.to_string()}</p> }.into_any(),
                })}
            </Transition>

            <PythonSettingsSection/>

            <EnvironmentSettingsSection/>

            <StorageSettingsSection/>

            <h2>"Admin login link"</h2>
            <p class="lede">"Rotating makes the old login link stop working. Open sessions stay signed in."</p>
            <button class="btn" type="button" on:click=move |_| { rotate.dispatch(()); }>"Rotate admin login link"</button>
            {move || rotate.value().get().map(|r| match r {
                Ok(url) => view! { <CreatedUrl url/> }.into_any(),
                Err(err) => view! { <p class="notice error">{err.to_string()}</p> }.into_any(),
            })}

            <h2>"Session"</h2>
            <form method="post" action="/auth/logout">
                <button class="btn" type="submit">"Sign out"</button>
            </form>
        </section>
    }
}

/// Role, label, expiry in hours, and the one app it is limited to (if any).
type NewLink = (Role, String, Option<u32>, Option<String>);

#[component]
fn NewLinkForm(create: Action<NewLink, Result<String, ServerFnError>>) -> impl IntoView {
    let apps = Resource::new(|| (), |_| installed_apps());
    let app = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let label = RwSignal::new(String::new());
    let expiry = RwSignal::new(1usize);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let hours = EXPIRY_CHOICES[expiry.get_untracked()].1;
        let only = Some(app.get_untracked()).filter(|a| !a.is_empty());
        create.dispatch((role.get_untracked(), label.get_untracked(), hours, only));
    };
    view! {
        <form class="share-form" on:submit=submit>
            <label>"Opens"
                <select class="field" name="app" on:change=move |ev| app.set(event_target_value(&ev))>
                    <option value="" selected=move || app.get().is_empty()>"The dashboard"</option>
                    <Suspense fallback=|| ()>
                        {move || apps.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|a| {
                            let name = a.name.clone();
                            view! { <option value=a.name.clone() selected=move || app.get() == name>{format!("Only the app {}", a.title)}</option> }
                        }).collect_view()}
                    </Suspense>
                </select>
            </label>
            <label>"Role"
                <select class="field" name="role" disabled=move || !app.get().is_empty() on:change=move |ev| {
                    if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r) }
                }>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=move || role.get() == r>{r.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Label"
                <input class="field" name="label" placeholder="e.g. Sam's phone" maxlength="80"
                    prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev))/>
            </label>
            <label>"Expires"
                <select class="field" name="expiry" on:change=move |ev| {
                    if let Ok(i) = event_target_value(&ev).parse() { expiry.set(i) }
                }>
                    {EXPIRY_CHOICES.iter().enumerate().map(|(i, (text, _))| view! {
                        <option value=i.to_string() selected=move || expiry.get() == i>{*text}</option>
                    }).collect_view()}
                </select>
            </label>
            <button class="btn primary" type="submit" disabled=move || create.pending().get()>"Create link"</button>
        </form>
        {move || create.value().get().map(|r| match r {
            Ok(url) => view! { <CreatedUrl url/> }.into_any(),
            Err(err) => view! { <p class="notice error">{err.to_string()}</p> }.into_any(),
        })}
    }
}

/// A freshly made secret URL: shown once, selectable for copying.
#[component]
fn CreatedUrl(url: String) -> impl IntoView {
    view! {
        <div class="created-url">
            <p class="note">"Copy it now: it is shown only once."</p>
            <input class="field mono" readonly=true value=url.clone()
                on:focus=move |ev| { event_target::<leptos::web_sys::HtmlInputElement>(&ev).select(); }/>
        </div>
    }
}

#[component]
fn LinkList(
    list: Vec<ShareLink>,
    revoke: Action<i64, Result<bool, ServerFnError>>,
) -> impl IntoView {
    view! {
        <ul class="link-list">
            {list.into_iter().map(|link| {
                let id = link.id;
                let status = if link.revoked { "revoked" } else { "active" };
                view! {
                    <li class="link-row" data-link-id=id.to_string() data-status=status>
                        <div class="link-main">
                            <span class="badge">{link.role.as_str()}</span>
                            <strong>{if link.label.is_empty() { "(no label)".to_string() } else { link.label.clone() }}</strong>
                            <span class=format!("status {status}")>{status}</span>
                        </div>
                        <div class="link-meta">
                            "Created " {format_utc(link.created_at)}
                            " · Expires " {link.expires_at.map_or("never".to_string(), format_utc)}
                            " · Last used " {link.last_used_at.map_or("never".to_string(), format_utc)}
                        </div>
                        {(!link.revoked).then(|| view! {
                            <button class="btn danger" type="button" on:click=move |_| {
                                if window().confirm_with_message("Revoke this link? Everyone using it is signed out.").unwrap_or(false) {
                                    revoke.dispatch(id);
                                }
                            }>"Revoke"</button>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
