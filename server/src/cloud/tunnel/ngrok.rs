//! `ngrok` agent (v3): needs an account token in `NGROK_AUTHTOKEN`.
//!
//! `ngrok http http://127.0.0.1:PORT --log=stdout --log-format=json` prints
//! one JSON object per line; the tunnel is up at the `url` of the line with
//! `"msg":"started tunnel"`, e.g. `{"addr":"http://127.0.0.1:42000",
//! "lvl":"info","msg":"started tunnel","name":"command_line","obj":"tunnels",
//! "t":"…","url":"https://ab12-203-0-113-7.ngrok-free.app"}`. Errors use
//! `"lvl":"eror"` or `"crit"` with an `err` field. The logfmt form
//! (`msg="started tunnel" … url=https://…`) and plain `ERROR:` lines (e.g.
//! a bad token, `ERR_NGROK_4018`) are understood too.

use super::provider::LineEvent;
use serde::Deserialize;

pub fn args(port: u16) -> Vec<String> {
    vec![
        "http".into(),
        format!("http://127.0.0.1:{port}"),
        "--log=stdout".into(),
        "--log-format=json".into(),
    ]
}

#[derive(Deserialize)]
struct JsonLine {
    #[serde(default)]
    lvl: String,
    #[serde(default)]
    msg: String,
    url: Option<String>,
    err: Option<String>,
}

pub fn parse_line(line: &str) -> LineEvent {
    let line = line.trim();
    if let Ok(json) = serde_json::from_str::<JsonLine>(line) {
        return from_json(json);
    }
    from_text(line)
}

fn from_json(line: JsonLine) -> LineEvent {
    match line.url {
        Some(url) if line.msg == "started tunnel" => LineEvent::Url(url),
        _ if matches!(line.lvl.as_str(), "eror" | "crit" | "error") => {
            LineEvent::Error(line.err.unwrap_or(line.msg))
        }
        _ => LineEvent::Other,
    }
}

fn from_text(line: &str) -> LineEvent {
    if line.contains("msg=\"started tunnel\"") {
        if let Some(url) = line.split_whitespace().find_map(|w| w.strip_prefix("url=")) {
            return LineEvent::Url(url.trim_matches('"').to_string());
        }
    }
    if line.starts_with("ERROR:") || line.contains("lvl=eror") || line.contains("lvl=crit") {
        return LineEvent::Error(line.to_string());
    }
    LineEvent::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_started_tunnel_gives_the_url() {
        let line = r#"{"addr":"http://127.0.0.1:42000","lvl":"info","msg":"started tunnel","name":"command_line","obj":"tunnels","t":"2024-05-01T10:00:01Z","url":"https://ab12-203-0-113-7.ngrok-free.app"}"#;
        assert_eq!(
            parse_line(line),
            LineEvent::Url("https://ab12-203-0-113-7.ngrok-free.app".into())
        );
    }

    #[test]
    fn logfmt_and_errors() {
        let line = r#"t=2024-05-01T10:00:01+0000 lvl=info msg="started tunnel" obj=tunnels name=command_line addr=http://127.0.0.1:42000 url=https://ab12.ngrok-free.app"#;
        assert_eq!(
            parse_line(line),
            LineEvent::Url("https://ab12.ngrok-free.app".into())
        );
        let err = r#"{"err":"authentication failed: The authtoken you specified is invalid. ERR_NGROK_107","lvl":"eror","msg":"failed to reconnect session","obj":"tunnels.session"}"#;
        assert_eq!(
            parse_line(err),
            LineEvent::Error(
                "authentication failed: The authtoken you specified is invalid. ERR_NGROK_107"
                    .into()
            )
        );
        let info =
            r#"{"lvl":"info","msg":"no configuration paths supplied","t":"2024-05-01T10:00:00Z"}"#;
        assert_eq!(parse_line(info), LineEvent::Other);
    }
}
