//! A tiny HTTP/1.1 server on 127.0.0.1 for download, `net` and wait tests:
//! byte ranges (206/416), `Content-Disposition`, a transfer that breaks
//! half way once, a JSON echo, and a log of every request it saw.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One file the server offers.
#[derive(Clone, Default)]
pub struct Route {
    pub body: Vec<u8>,
    pub disposition: Option<String>,
    pub content_type: Option<String>,
    pub status: Option<u16>,
    /// The first GET of the whole file (not a 1-byte size probe) announces
    /// the full length but stops half way.
    pub break_once: bool,
    /// Answer 503 to the first this many requests.
    pub fail_first: usize,
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

#[derive(Clone)]
pub struct Server {
    pub port: u16,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn start() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().unwrap().port();
        let s = Server {
            port,
            routes: Arc::default(),
            seen: Arc::default(),
        };
        let s2 = s.clone();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let s3 = s2.clone();
                std::thread::spawn(move || s3.handle(c));
            }
        });
        s
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn route(&self, path: &str, r: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), r);
    }

    pub fn file(&self, path: &str, body: &[u8]) {
        self.route(
            path,
            Route {
                body: body.to_vec(),
                ..Default::default()
            },
        );
    }

    /// Requests (method, path) seen for `path`.
    pub fn hits(&self, path: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path.split('?').next() == Some(path))
            .cloned()
            .collect()
    }

    fn handle(&self, c: TcpStream) {
        let mut r = BufReader::new(c.try_clone().unwrap());
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("/").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        let _ = r.read_exact(&mut body);
        let earlier = self.hits(path.split('?').next().unwrap_or(""));
        let seen_before = earlier.len();
        let probe = |h: &HashMap<String, String>| h.get("range").is_some_and(|r| r == "bytes=0-0");
        let transfers_before = earlier.iter().filter(|s| !probe(&s.headers)).count();
        self.seen.lock().unwrap().push(Seen {
            method: method.clone(),
            path: path.clone(),
            headers: headers.clone(),
            body: body.clone(),
        });
        let mut w = c;
        let key = path.split('?').next().unwrap_or("").to_string();
        if key == "/echo" {
            let echo = serde_json::json!({
                "method": method,
                "content_type": headers.get("content-type"),
                "query": path.split_once('?').map(|(_, q)| q),
                "body": String::from_utf8_lossy(&body),
            })
            .to_string();
            return respond(
                &mut w,
                200,
                &[("Content-Type", "application/json")],
                echo.as_bytes(),
            );
        }
        let Some(route) = self.routes.lock().unwrap().get(&key).cloned() else {
            return respond(&mut w, 404, &[], b"not found");
        };
        if seen_before < route.fail_first {
            return respond(&mut w, 503, &[], b"not yet");
        }
        if let Some(st) = route.status {
            return respond(&mut w, st, &[], &route.body);
        }
        let total = route.body.len();
        let mut extra: Vec<(&str, String)> = vec![];
        if let Some(d) = &route.disposition {
            extra.push(("Content-Disposition", d.clone()));
        }
        if let Some(t) = &route.content_type {
            extra.push(("Content-Type", t.clone()));
        }
        extra.push(("Accept-Ranges", "bytes".into()));
        let range = headers
            .get("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.split_once('-'))
            .map(|(a, b)| (a.parse::<usize>().unwrap_or(0), b.parse::<usize>().ok()));
        let hdrs = |e: &[(&str, String)]| -> Vec<(String, String)> {
            e.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
        };
        let (status, slice, mut h) = match range {
            Some((start, _)) if start >= total && total > 0 => {
                let mut h = hdrs(&extra);
                h.push(("Content-Range".into(), format!("bytes */{total}")));
                (416, &route.body[0..0], h)
            }
            Some((start, end)) => {
                let end = end.map_or(total - 1, |e| e.min(total - 1));
                let mut h = hdrs(&extra);
                h.push((
                    "Content-Range".into(),
                    format!("bytes {start}-{end}/{total}"),
                ));
                (206, &route.body[start..=end], h)
            }
            None => (200, &route.body[..], hdrs(&extra)),
        };
        h.push(("Content-Length".into(), slice.len().to_string()));
        let mut head = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
        for (k, v) in &h {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let _ = w.write_all(head.as_bytes());
        if method == "HEAD" {
            return;
        }
        if route.break_once && transfers_before == 0 && method == "GET" && status == 200 {
            let _ = w.write_all(&slice[..slice.len() / 2]);
            let _ = w.flush();
            let _ = w.shutdown(std::net::Shutdown::Both);
            return;
        }
        let _ = w.write_all(slice);
    }
}

fn respond(w: &mut TcpStream, status: u16, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = w.write_all(head.as_bytes());
    let _ = w.write_all(body);
}
