use crate::api::{load_system_status, GpuView, LoadPoint, PlatformView, SystemStatus, TunnelView};
use crate::live::{use_live, Live, SystemTick};
use leptos::prelude::*;
use leptos_meta::Title;

/// Load points the charts keep (as many as the server's sampler keeps).
const HISTORY: usize = 90;

/// `/system`: where this dashboard runs, how it is reached, and its load.
/// Read once; then each system tick on the live channel (one sample on the
/// server for every open page) adds its point without another request.
#[component]
pub fn SystemPage() -> impl IntoView {
    let live = use_live();
    let status = Resource::new(move || live.resync(), |_| load_system_status());
    view! {
        <Title text="System"/>
        <section class="system">
            <h1>"System"</h1>
            <Transition fallback=|| view! { <p class="note">"Loading…"</p> }>
                {move || status.get().map(|result| match result {
                    Ok(status) => view! { <LiveStatus status live/> }.into_any(),
                    Err(err) => view! { <p class="notice error">{err.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// `status` kept current by the channel's system ticks.
#[component]
fn LiveStatus(status: SystemStatus, live: Live) -> impl IntoView {
    let state = RwSignal::new(status);
    Effect::new(move |_| {
        if let Some(tick) = live.system() {
            state.update(|s| apply_tick(s, tick));
        }
    });
    move || view! { <StatusView status=state.get()/> }
}

/// Adds a tick's sample to `status` (once: a tick older than the newest
/// point only refreshes GPUs and the tunnel).
fn apply_tick(status: &mut SystemStatus, tick: SystemTick) {
    let newest = status.history.last().map_or(0, |p| p.at_unix_ms);
    if let Some(point) = tick.load.filter(|p| p.at_unix_ms > newest) {
        status.history.push(point);
        let extra = status.history.len().saturating_sub(HISTORY);
        status.history.drain(..extra);
    }
    status.gpus = tick.gpus;
    status.tunnel = tick.tunnel;
}

#[component]
fn StatusView(status: SystemStatus) -> impl IntoView {
    let SystemStatus {
        platform,
        tunnel,
        gpus,
        history,
    } = status;
    view! {
        <PlatformCard platform tunnel/>
        <LoadCharts history/>
        <GpuList gpus/>
    }
}

#[component]
fn PlatformCard(platform: PlatformView, tunnel: Option<TunnelView>) -> impl IntoView {
    let persistence = match platform.home_is_persistent {
        Some(true) => "persistent",
        Some(false) => "not persistent",
        None => "chosen with --home",
    };
    view! {
        <div class="panel" data-panel="platform">
            <h2>{platform.name.clone()}</h2>
            <p class="kv"><span>"Home"</span><code>{platform.home.clone()}</code>" (" {persistence} ")"</p>
            {platform.persistent_home.clone().map(|p| view! {
                <p class="kv"><span>"Persistent option"</span><code>{p}</code></p>
            })}
            <p class="kv"><span>"Public address"</span>
                {match platform.public_url.clone() {
                    Some(url) => view! { <code class="public-url">{url}</code> }.into_any(),
                    None => view! { <span class="muted">"none from the platform"</span> }.into_any(),
                }}
            </p>
            {tunnel.map(|t| view! {
                <p class="kv" data-tunnel-state=t.state.clone()>
                    <span>"Tunnel (" {t.provider.clone()} ")"</span>
                    <strong>{t.state.clone()}</strong>
                    {t.url.map(|u| view! { " " <code class="tunnel-url">{u}</code> })}
                    {t.detail.map(|d| view! { <span class="muted">" " {d}</span> })}
                </p>
            })}
            {platform.ssh_hint.clone().map(|hint| view! {
                <p class="kv"><span>"From your laptop"</span><code>{hint}</code></p>
            })}
            <ul class="warnings">
                {platform.warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn LoadCharts(history: Vec<LoadPoint>) -> impl IntoView {
    let cpu: Vec<f32> = history.iter().map(|p| p.cpu_pct).collect();
    let ram: Vec<f32> = history
        .iter()
        .map(|p| percent(p.ram_used_bytes, p.ram_total_bytes))
        .collect();
    let last = history.last().cloned();
    let gib = |b: u64| format!("{:.1} GiB", b as f64 / 1024f64.powi(3));
    view! {
        <div class="charts">
            <div class="panel chart" data-chart="cpu">
                <h3>"CPU " <strong>{last.as_ref().map_or("–".into(), |p| format!("{:.0}%", p.cpu_pct))}</strong></h3>
                <Sparkline values=cpu/>
            </div>
            <div class="panel chart" data-chart="ram">
                <h3>"Memory " <strong>{last.as_ref().map_or("–".into(), |p| format!("{} of {}", gib(p.ram_used_bytes), gib(p.ram_total_bytes)))}</strong></h3>
                <Sparkline values=ram/>
            </div>
            <div class="panel chart" data-chart="disk">
                <h3>"Disk " <strong>{last.as_ref().map_or("–".into(), |p| format!("{} of {}", gib(p.disk_used_bytes), gib(p.disk_total_bytes)))}</strong></h3>
                <Meter pct=last.map_or(0.0, |p| percent(p.disk_used_bytes, p.disk_total_bytes))/>
            </div>
        </div>
    }
}

#[component]
fn GpuList(gpus: Vec<GpuView>) -> impl IntoView {
    if gpus.is_empty() {
        return view! { <div class="panel" data-panel="gpu"><h2>"GPU"</h2><p class="muted">"No GPU found on this machine."</p></div> }.into_any();
    }
    view! {
        <div class="panel" data-panel="gpu">
            <h2>"GPU"</h2>
            {gpus.into_iter().map(|g| view! {
                <div class="gpu" data-gpu=g.index.to_string()>
                    <p class="gpu-name"><strong>{g.name.clone()}</strong>
                        <span class="muted">" driver " {g.driver.clone()} {g.cuda_version.clone().map(|c| format!(" · CUDA {c}"))}</span></p>
                    <p class="kv"><span>"VRAM"</span>{format!("{} / {} MiB", g.vram_used_mib, g.vram_total_mib)}</p>
                    <Meter pct=percent(g.vram_used_mib, g.vram_total_mib)/>
                    <p class="kv"><span>"Load"</span>
                        {g.utilization_pct.map_or("–".into(), |u| format!("{u}%"))} " · "
                        {g.temperature_c.map_or("–".into(), |t| format!("{t} °C"))} " · "
                        {format!("{} processes", g.processes)}
                    </p>
                </div>
            }).collect_view()}
        </div>
    }
    .into_any()
}

/// A tiny line chart of 0–100 values, newest on the right.
#[component]
fn Sparkline(values: Vec<f32>) -> impl IntoView {
    const W: f32 = 300.0;
    const H: f32 = 60.0;
    let step = if values.len() > 1 {
        W / (values.len() - 1) as f32
    } else {
        W
    };
    let points: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f32 * step,
                H - v.clamp(0.0, 100.0) / 100.0 * H
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <svg class="sparkline" viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img" aria-label="history">
            <polyline points=points fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke"/>
        </svg>
    }
}

#[component]
fn Meter(pct: f32) -> impl IntoView {
    view! {
        <div class="meter" role="meter" aria-valuenow=format!("{pct:.0}") aria-valuemin="0" aria-valuemax="100">
            <div class="meter-fill" style=format!("width: {:.1}%", pct.clamp(0.0, 100.0))></div>
        </div>
    }
}

fn percent(used: u64, total: u64) -> f32 {
    if total == 0 {
        0.0
    } else {
        (used as f64 / total as f64 * 100.0) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(at_unix_ms: u64) -> LoadPoint {
        LoadPoint {
            at_unix_ms,
            cpu_pct: 1.0,
            ram_used_bytes: 1,
            ram_total_bytes: 2,
            disk_used_bytes: 1,
            disk_total_bytes: 2,
        }
    }

    fn tick(load: Option<LoadPoint>) -> SystemTick {
        SystemTick {
            seq: 1,
            now: 0,
            load,
            gpus: vec![],
            tunnel: None,
        }
    }

    #[test]
    fn a_tick_adds_its_point_once_and_keeps_the_window() {
        let mut status = SystemStatus {
            platform: PlatformView {
                name: "generic".into(),
                home: "/h".into(),
                home_is_persistent: None,
                persistent_home: None,
                public_url: None,
                tunnels_allowed: true,
                warnings: vec![],
                ssh_hint: None,
            },
            tunnel: None,
            gpus: vec![],
            history: (1..=HISTORY as u64).map(point).collect(),
        };
        apply_tick(&mut status, tick(Some(point(HISTORY as u64))));
        assert_eq!(status.history.len(), HISTORY, "an old point is not added");
        apply_tick(&mut status, tick(Some(point(1000))));
        assert_eq!(status.history.len(), HISTORY);
        assert_eq!(status.history.last().unwrap().at_unix_ms, 1000);
        assert_eq!(status.history[0].at_unix_ms, 2, "the oldest point left");
    }
}
