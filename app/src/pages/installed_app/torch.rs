//! Before Install: whether the torch build the install script picks fits
//! this machine's GPU driver, and the index that does.

use crate::api::TorchAdvice;
use leptos::prelude::*;

#[component]
pub fn TorchNotice(advice: TorchAdvice) -> impl IntoView {
    let machine = match (&advice.driver, &advice.cuda) {
        (Some(d), Some(c)) => format!("NVIDIA driver {d}, CUDA up to {c}"),
        (Some(d), None) => format!("NVIDIA driver {d}"),
        _ if advice.gpu == "none" => "no GPU".to_string(),
        _ => format!("GPU: {}", advice.gpu),
    };
    let class = format!("torch-advice panel verdict-{}", advice.verdict);
    let title = match advice.verdict.as_str() {
        "fits" => "The torch this app installs fits this machine",
        "caution" => "Check the torch this app installs",
        _ => "The torch this app installs will not use this GPU",
    };
    view! {
        <details class=class data-verdict=advice.verdict.clone() open=advice.verdict != "fits">
            <summary>{title}</summary>
            <p class="note">"This machine: " {machine} ". Best PyTorch index here: "
                <span class="mono">{advice.recommended.clone()}</span></p>
            <ul>
                {advice.findings.into_iter().map(|f| view! {
                    <li data-verdict=f.verdict.clone()>
                        <span class="mono">{f.script}</span> " (" <span class="mono">{f.build}</span> "): " {f.message}
                    </li>
                }).collect_view()}
            </ul>
        </details>
    }
}
