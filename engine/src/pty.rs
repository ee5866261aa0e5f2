//! Shell processes in real pseudo-terminals. A reader thread streams raw
//! bytes out as [`Event::Output`] and, while a step listens, forwards
//! ANSI-stripped text to it; a waiter thread reaps the child and reports its
//! exit code after the output has drained.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, MasterPty, PtySize};

use crate::ansi::Stripper;
use crate::events::{Event, EventSink};
use crate::progress::ProgressReader;

/// What a listening step receives.
#[derive(Debug)]
pub enum ShellMsg {
    /// Plain text (ANSI stripped).
    Text(String),
    /// The shell process exited with this code.
    Exit(i32),
}

type Subscriber = Arc<Mutex<Option<Sender<ShellMsg>>>>;

/// A running shell in its own PTY and process group.
pub struct ShellProc {
    pub id: String,
    pub pgid: i32,
    writer: Mutex<Box<dyn Write + Send>>,
    _master: Mutex<Box<dyn MasterPty + Send>>,
    subscriber: Subscriber,
    exit: Arc<Mutex<Option<i32>>>,
    /// The group `shell.stop {group}` kills it with (set once after spawn).
    pub group: std::sync::OnceLock<String>,
}

/// How to start a shell.
pub struct Spawn<'a> {
    pub id: String,
    pub program: &'a str,
    pub args: Vec<String>,
    pub cwd: &'a Path,
    pub env: Vec<(String, String)>,
    pub script: PathBuf,
    pub events: EventSink,
    /// Where the printable text also goes (Pinokio's cleaned shell log).
    pub log: Option<std::fs::File>,
}

impl ShellProc {
    /// Starts the process; the returned receiver already listens, so no
    /// output or exit can be missed.
    pub fn spawn(s: Spawn<'_>) -> std::io::Result<(Arc<ShellProc>, Receiver<ShellMsg>)> {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 200,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(other)?;
        let mut cmd = CommandBuilder::new(s.program);
        cmd.args(&s.args);
        cmd.cwd(s.cwd);
        // Exactly the built environment: nothing of ours leaks past its filter.
        cmd.env_clear();
        for (k, v) in &s.env {
            cmd.env(k, v);
        }
        let mut child = pair.slave.spawn_command(cmd).map_err(other)?;
        drop(pair.slave);
        let pid = child.process_id().map(|p| p as i32).unwrap_or(0);
        let reader = pair.master.try_clone_reader().map_err(other)?;
        let writer = pair.master.take_writer().map_err(other)?;
        let (tx, rx) = channel();
        let subscriber: Subscriber = Arc::new(Mutex::new(Some(tx)));
        let exit = Arc::new(Mutex::new(None));
        let eof = Arc::new(AtomicBool::new(false));
        spawn_reader(
            reader,
            subscriber.clone(),
            eof.clone(),
            ReaderOut {
                events: s.events,
                script: s.script,
                id: s.id.clone(),
                log: s.log,
            },
        );
        let (sub, ex) = (subscriber.clone(), exit.clone());
        std::thread::spawn(move || {
            let code = child.wait().map(|st| st.exit_code() as i32).unwrap_or(-1);
            // Let the reader drain what the process printed last.
            let deadline = Instant::now() + Duration::from_millis(300);
            while !eof.load(Ordering::SeqCst) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            *ex.lock().expect("exit lock") = Some(code);
            if let Some(tx) = sub.lock().expect("subscriber lock").as_ref() {
                let _ = tx.send(ShellMsg::Exit(code));
            }
        });
        let proc = ShellProc {
            id: s.id,
            pgid: pid,
            writer: Mutex::new(writer),
            _master: Mutex::new(pair.master),
            subscriber,
            exit,
            group: std::sync::OnceLock::new(),
        };
        Ok((Arc::new(proc), rx))
    }

    /// Starts listening (old `shell.enter` API); replaces any previous listener.
    pub fn subscribe(&self) -> Receiver<ShellMsg> {
        let (tx, rx) = channel();
        if let Some(code) = *self.exit.lock().expect("exit lock") {
            let _ = tx.send(ShellMsg::Exit(code));
        }
        *self.subscriber.lock().expect("subscriber lock") = Some(tx);
        rx
    }

    /// Stops forwarding text to a step (output events continue).
    pub fn unsubscribe(&self) {
        *self.subscriber.lock().expect("subscriber lock") = None;
    }

    /// Types into the terminal.
    pub fn write(&self, text: &str) -> std::io::Result<()> {
        let mut w = self.writer.lock().expect("writer lock");
        w.write_all(text.as_bytes())?;
        w.flush()
    }

    /// Types raw bytes into the terminal.
    pub fn write_bytes(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut w = self.writer.lock().expect("writer lock");
        w.write_all(bytes)?;
        w.flush()
    }

    /// Changes the terminal size (the process gets SIGWINCH).
    pub fn resize(&self, cols: u16, rows: u16) -> std::io::Result<()> {
        self._master
            .lock()
            .expect("master lock")
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(other)
    }

    /// Exit code once the process has ended.
    pub fn exit_code(&self) -> Option<i32> {
        *self.exit.lock().expect("exit lock")
    }
}

/// Where a shell's output goes besides the step that waits on it.
struct ReaderOut {
    events: EventSink,
    script: PathBuf,
    id: String,
    log: Option<std::fs::File>,
}

fn spawn_reader(
    mut reader: Box<dyn Read + Send>,
    subscriber: Subscriber,
    eof: Arc<AtomicBool>,
    out: ReaderOut,
) {
    let ReaderOut {
        events,
        script,
        id,
        mut log,
    } = out;
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut strip = Stripper::new();
        let mut bars = ProgressReader::new();
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let text = strip.feed(&buf[..n]);
            if let Some(file) = log.as_mut() {
                // A log that cannot be written is not worth stopping the shell.
                if file.write_all(text.as_bytes()).is_err() {
                    log = None;
                }
            }
            if let Some(tx) = subscriber.lock().expect("subscriber lock").as_ref() {
                if !text.is_empty() {
                    let _ = tx.send(ShellMsg::Text(text));
                }
            }
            if let Some(progress) = bars.feed(&buf[..n]) {
                events.emit(Event::Progress {
                    script: script.clone(),
                    shell: id.clone(),
                    progress,
                });
            }
            events.emit(Event::Output {
                script: script.clone(),
                shell: id.clone(),
                data: buf[..n].to_vec(),
            });
        }
        eof.store(true, Ordering::SeqCst);
    });
}

fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}
