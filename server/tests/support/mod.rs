//! Shared by the integration tests: a real `pinokiocloud serve` on a free port
//! with a fresh home, and a small HTTP client that does not follow redirects.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_pinokiocloud");

/// A running server; killed on drop.
pub struct Server {
    child: Child,
    pub url: String,
    /// The admin login token the server printed.
    pub token: String,
    /// Every stdout line so far, collected by a reader thread (which also
    /// keeps the pipe open so the server can go on writing).
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(home: &Path, extra: &[&str]) -> Server {
    serve_with_env(home, extra, &[])
}

/// Like [`serve`], with extra environment variables (e.g. a PATH holding fakes).
pub fn serve_with_env(home: &Path, extra: &[&str], envs: &[(&str, String)]) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "--home"])
        .arg(home)
        .args(["--port", "0"])
        // No tunnel unless a test asks for one (a real cloudflared may be installed).
        .args(if extra.contains(&"--tunnel") {
            &[][..]
        } else {
            &["--tunnel", "off"][..]
        })
        .args(extra)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pinokiocloud");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut read_line = || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        line
    };
    let line = read_line();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    let line = read_line();
    let token = line
        .split("?token=")
        .nth(1)
        .unwrap_or_else(|| panic!("no login link in {line:?}"))
        .trim()
        .to_string();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    std::thread::spawn(move || collect_lines(stdout, sink));
    Server {
        child,
        url,
        token,
        lines,
    }
}

fn collect_lines(mut stdout: BufReader<ChildStdout>, sink: Arc<Mutex<Vec<String>>>) {
    loop {
        let mut line = String::new();
        match stdout.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => sink.lock().unwrap().push(line.trim_end().to_string()),
        }
    }
}

/// Runs `serve` expecting it to fail at start; returns its stderr.
pub fn serve_fails(args: &[&str]) -> String {
    serve_fails_with_env(args, &[])
}

pub fn serve_fails_with_env(args: &[&str], envs: &[(&str, String)]) -> String {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success());
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return err;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("serve {args:?} kept running; expected a start-up error");
}

/// What a request sends besides method and URL.
#[derive(Default, Clone)]
pub struct Creds {
    pub bearer: Option<String>,
    pub cookie: Option<String>,
    pub origin: Option<String>,
    pub accept_html: bool,
}

pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub body: String,
}

pub fn request(method: &str, url: &str, creds: &Creds, form: Option<&str>) -> Reply {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut req = client.request(method.parse().unwrap(), url);
        if let Some(bearer) = &creds.bearer {
            req = req.bearer_auth(bearer);
        }
        if let Some(cookie) = &creds.cookie {
            req = req.header("cookie", cookie);
        }
        if let Some(origin) = &creds.origin {
            req = req.header("origin", origin);
        }
        if creds.accept_html {
            req = req.header("accept", "text/html");
        }
        if let Some(form) = form {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_string());
        }
        let response = req.send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (location, set_cookie) = (header("location"), header("set-cookie"));
        let status = response.status().as_u16();
        Reply {
            status,
            location,
            set_cookie,
            body: response.text().await.unwrap(),
        }
    })
}

impl Server {
    /// Waits up to 20 s for a stdout line containing `needle`.
    pub fn wait_for_line(&self, needle: &str) -> String {
        for _ in 0..200 {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "no line with {needle:?} in {:?}",
            self.lines.lock().unwrap()
        );
    }

    /// POSTs to a server function as the admin and parses the JSON answer.
    pub fn call(&self, path: &str, form: &str) -> serde_json::Value {
        let reply = request(
            "POST",
            &format!("{}{path}", self.url),
            &self.admin(),
            Some(form),
        );
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        serde_json::from_str(&reply.body).unwrap()
    }

    pub fn admin(&self) -> Creds {
        Creds {
            bearer: Some(self.token.clone()),
            ..Creds::default()
        }
    }

    /// GET as the admin (bearer login token, as scripts and the CLI sign in).
    pub fn get(&self, path: &str) -> (u16, String) {
        let reply = request("GET", &format!("{}{path}", self.url), &self.admin(), None);
        (reply.status, reply.body)
    }

    /// Opens a login link like a browser: returns the session cookie (`name=value`).
    pub fn login(&self, link: &str) -> Option<String> {
        let reply = request("GET", link, &Creds::default(), None);
        assert_eq!(reply.status, 303, "login link {link} gave {}", reply.status);
        reply
            .set_cookie
            .map(|c| c.split(';').next().unwrap().to_string())
    }

    /// Creates a share link as the admin; returns its URL.
    pub fn share_link(&self, role: &str, hours: Option<u32>) -> String {
        let form = match hours {
            Some(h) => format!("role={role}&label=test&expires_in_hours={h}"),
            None => format!("role={role}&label=test"),
        };
        let reply = request(
            "POST",
            &format!("{}/api/admin/create_share_link", self.url),
            &self.admin(),
            Some(&form),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        serde_json::from_str::<String>(&reply.body).unwrap()
    }

    /// A browser-like session for `role`: cookie plus a same-origin Origin header.
    pub fn session_as(&self, role: &str) -> Creds {
        let link = self.share_link(role, None);
        Creds {
            cookie: self.login(&link),
            origin: Some(self.url.clone()),
            ..Creds::default()
        }
    }
}
