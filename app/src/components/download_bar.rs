//! A download in flight, as the run's terminal shows it: what, how far,
//! how fast, how long left.

use crate::api::DownloadProgress;
use crate::components::file_size;
use leptos::prelude::*;

#[component]
pub fn DownloadBar(progress: DownloadProgress) -> impl IntoView {
    let percent = progress
        .total
        .filter(|t| *t > 0)
        .map(|t| (progress.done.min(t) * 100 / t) as u8);
    let amount = match progress.total {
        Some(t) => format!("{} of {}", file_size(progress.done), file_size(t)),
        None => file_size(progress.done),
    };
    let rate = progress.rate.map(|r| format!("{}/s", file_size(r)));
    let eta = progress.eta.map(remaining);
    let details: Vec<String> = [Some(amount), rate, eta].into_iter().flatten().collect();
    view! {
        <div class="download" role="progressbar" aria-valuemin="0" aria-valuemax="100"
            aria-valuenow=percent.map(|p| p.to_string()) aria-label=format!("Downloading {}", progress.label)>
            <div class="download-text">
                <span class="download-label">{progress.label.clone()}</span>
                <span class="download-detail">{details.join(" · ")}</span>
            </div>
            <div class="meter"><div class="meter-fill" style=format!("width: {}%", percent.unwrap_or(0))></div></div>
        </div>
    }
}

/// `75` → `1 min 15 s left`.
fn remaining(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s left"),
        60..=3599 => format!("{} min {} s left", secs / 60, secs % 60),
        _ => format!("{} h {} min left", secs / 3600, secs % 3600 / 60),
    }
}
