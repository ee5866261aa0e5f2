//! `cloudflared` quick tunnels (TryCloudflare): no account needed.
//!
//! `cloudflared tunnel --url http://127.0.0.1:PORT --no-autoupdate` logs to
//! stderr; once the tunnel exists it prints a box whose lines look like
//! `2024-05-01T10:00:00Z INF |  https://some-random-words.trycloudflare.com  |`
//! (after `Your quick Tunnel has been created! Visit it at (it may take some
//! time to be reachable):`). Errors are logged at level `ERR`.

use super::provider::LineEvent;
use regex::Regex;
use std::sync::OnceLock;

pub fn args(port: u16) -> Vec<String> {
    vec![
        "tunnel".into(),
        "--url".into(),
        format!("http://127.0.0.1:{port}"),
        "--no-autoupdate".into(),
    ]
}

fn url_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"https://([a-z0-9-]+)\.trycloudflare\.com").expect("valid regex")
    })
}

pub fn parse_line(line: &str) -> LineEvent {
    if let Some(found) = url_pattern().captures(line) {
        // `api.trycloudflare.com` is where cloudflared asks for a tunnel.
        if &found[1] != "api" {
            return LineEvent::Url(found[0].to_string());
        }
    }
    if line.contains(" ERR ") || line.starts_with("ERR ") {
        return LineEvent::Error(line.trim().to_string());
    }
    LineEvent::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_url_in_the_banner_box() {
        let line = "2024-05-01T10:00:00Z INF |  https://seasonal-deck-organisms-sf.trycloudflare.com                                     |";
        assert_eq!(
            parse_line(line),
            LineEvent::Url("https://seasonal-deck-organisms-sf.trycloudflare.com".into())
        );
    }

    #[test]
    fn ignores_the_api_host_and_banner_text() {
        let api = "2024-05-01T10:00:00Z ERR failed to request quick Tunnel error=\"Post \\\"https://api.trycloudflare.com/tunnel\\\": dial tcp: lookup api.trycloudflare.com: no such host\"";
        assert!(matches!(parse_line(api), LineEvent::Error(_)));
        let banner = "2024-05-01T10:00:00Z INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |";
        assert_eq!(parse_line(banner), LineEvent::Other);
    }
}
