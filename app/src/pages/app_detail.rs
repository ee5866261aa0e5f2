use super::NotFound;
use crate::api::{install_app, install_space_check, whoami};
use crate::auth::Role;
use crate::catalog::{self, CatalogApp};
use crate::components::DiskWarning;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

/// `/apps/<id>`: everything the catalog knows about one app.
#[component]
pub fn AppDetailPage() -> impl IntoView {
    let params = use_params_map();
    let app = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| catalog::find(&id))));
    move || match app.get() {
        Some(app) => view! { <AppDetail app/> }.into_any(),
        None => view! { <NotFound/> }.into_any(),
    }
}

#[component]
fn AppDetail(app: &'static CatalogApp) -> impl IntoView {
    let tags = app
        .tags
        .iter()
        .map(|tag| view! { <li class="tag">{tag.clone()}</li> });
    view! {
        <Title text=app.name.clone()/>
        <article class="detail">
            <a class="back" href="/">"← All apps"</a>
            <div class="detail-head">
                <h1>{app.name.clone()}</h1>
                <span class="badge">{app.category.label()}</span>
            </div>
            <p class="detail-author">"by " {app.author.clone()}</p>
            <p class="detail-desc">{app.description.clone()}</p>
            <ul class="tags">{tags.collect_view()}</ul>
            <div class="actions">
                <InstallButton id=app.id.clone()/>
                <a class="btn" href=app.repo_url.clone() target="_blank" rel="noopener noreferrer">
                    "View repository"
                </a>
            </div>
            <p class="repo-url"><code>{app.repo_url.clone()}</code></p>
        </article>
    }
}

/// Installs this catalog app (admins only), then opens it. Free space is
/// checked first: when the disk looks too small the person chooses between
/// installing anyway and freeing space on the Storage page.
#[component]
fn InstallButton(id: String) -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    let install = Action::new(|id: &String| install_app(id.clone(), None));
    let check = Action::new(|id: &String| install_space_check(id.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(name)) = install.value().get() {
            navigate(&format!("/app/{name}"), Default::default());
        }
    });
    // Enough room (or no answer: a failed check never blocks): install now.
    Effect::new({
        let id = id.clone();
        move |_| {
            let checked = check.value().get();
            if checked.is_some_and(|c| c.map_or(true, |c| c.warning.is_none())) {
                install.dispatch(id.clone());
            }
        }
    });
    let warning = move || {
        let asked = install.pending().get() || install.value().get().is_some();
        let checked = check.value().get().and_then(Result::ok);
        checked.and_then(|c| c.warning).filter(|_| !asked)
    };
    let admin = move || {
        me.get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|v| v.role.allows(Role::Admin))
    };
    let busy = move || install.pending().get() || check.pending().get();
    let label = move || match (check.pending().get(), install.pending().get()) {
        (true, _) => "Checking space…",
        (_, true) => "Installing…",
        _ => "Install",
    };
    let anyway = {
        let id = id.clone();
        Callback::new(move |()| {
            install.dispatch(id.clone());
        })
    };
    view! {
        <Transition fallback=|| view! { <button class="btn primary" type="button" disabled=true>"Install"</button> }>
            <button class="btn primary" type="button" disabled=move || !admin() || busy() || warning().is_some()
                on:click={
                    let id = id.clone();
                    move |_| { check.dispatch(id.clone()); }
                }>
                {label}
            </button>
            {move || (!admin()).then(|| view! { <p class="note">"Only an admin can install apps."</p> })}
        </Transition>
        {move || warning().map(|text| view! { <DiskWarning text on_anyway=anyway/> })}
        {move || install.value().get().and_then(Result::err).map(|e| view! { <p class="notice error">{e.to_string()}</p> })}
    }
    .into_any()
}
