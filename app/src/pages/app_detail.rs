use super::NotFound;
use crate::api::{install_app, whoami};
use crate::auth::Role;
use crate::catalog::{self, CatalogApp};
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

/// Installs this catalog app (admins only), then opens it.
#[component]
fn InstallButton(id: String) -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    let install = Action::new(|id: &String| install_app(id.clone(), None));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(name)) = install.value().get() {
            navigate(&format!("/app/{name}"), Default::default());
        }
    });
    let admin = move || {
        me.get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|v| v.role.allows(Role::Admin))
    };
    view! {
        <Transition fallback=|| view! { <button class="btn primary" type="button" disabled=true>"Install"</button> }>
            <button class="btn primary" type="button" disabled=move || !admin() || install.pending().get()
                on:click={
                    let id = id.clone();
                    move |_| { install.dispatch(id.clone()); }
                }>
                {move || if install.pending().get() { "Installing…" } else { "Install" }}
            </button>
            {move || (!admin()).then(|| view! { <p class="note">"Only an admin can install apps."</p> })}
        </Transition>
        {move || install.value().get().and_then(Result::err).map(|e| view! { <p class="notice error">{e.to_string()}</p> })}
    }
}
