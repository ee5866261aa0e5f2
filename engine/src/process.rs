//! Stopping runs: a [`StopHandle`] is shared by a run and whoever may stop
//! it. Each shell runs as the leader of its own session/process group
//! (portable-pty calls `setsid`), so stopping signals whole groups and leaves
//! no orphans behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::pty::ShellProc;

#[derive(Default)]
struct Inner {
    stopped: AtomicBool,
    groups: Mutex<Vec<i32>>,
    /// Every process group the run ever started (never drained), for callers
    /// that record them (e.g. to clean up after a crash).
    all_groups: Mutex<Vec<i32>>,
    /// The run's terminals, newest last: keyboard input goes to the newest
    /// one still running.
    terminals: Mutex<Vec<Weak<ShellProc>>>,
    /// Terminal size asked for by a viewer (cols, rows); new shells get it too.
    size: Mutex<Option<(u16, u16)>>,
    /// Scripts of the run being walked, innermost last, and which of them
    /// started each group: a script's shells end with it (C-034).
    scripts: Mutex<Vec<PathBuf>>,
    owners: Mutex<Vec<(i32, PathBuf)>>,
}

/// Cloneable stop switch plus the process groups a run owns.
#[derive(Clone, Default)]
pub struct StopHandle(Arc<Inner>);

impl StopHandle {
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests the run to stop and kills every process group it started.
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::SeqCst);
        self.kill_all();
    }

    pub fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// Records a process group started by the run.
    pub fn adopt(&self, pgid: i32) {
        if let Some(script) = self.0.scripts.lock().expect("scripts lock").last() {
            let owner = (pgid, script.clone());
            self.0.owners.lock().expect("owners lock").push(owner);
        }
        self.0.groups.lock().expect("groups lock").push(pgid);
        self.0.all_groups.lock().expect("groups lock").push(pgid);
        if self.is_stopped() {
            kill_group(pgid);
        }
    }

    /// A script of the run starts walking (groups adopted now are its own).
    pub(crate) fn enter_script(&self, script: &Path) {
        let mut s = self.0.scripts.lock().expect("scripts lock");
        s.push(script.to_path_buf());
    }

    /// The innermost script stopped walking.
    pub(crate) fn leave_script(&self) {
        self.0.scripts.lock().expect("scripts lock").pop();
    }

    /// Kills the groups `script` started (a non-daemon script's end).
    pub(crate) fn kill_script(&self, script: &Path) {
        let mine: Vec<i32> = {
            let mut owners = self.0.owners.lock().expect("owners lock");
            let (mine, rest) = owners.drain(..).partition(|(_, s)| s == script);
            *owners = rest;
            mine.into_iter().map(|(g, _)| g).collect()
        };
        self.0
            .groups
            .lock()
            .expect("groups lock")
            .retain(|g| !mine.contains(g));
        for g in mine {
            kill_group(g);
        }
    }

    /// Kills all recorded groups (end of a non-daemon run, or stop).
    pub fn kill_all(&self) {
        let groups: Vec<i32> = std::mem::take(&mut *self.0.groups.lock().expect("groups lock"));
        for g in groups {
            kill_group(g);
        }
    }

    /// Whether two handles control the same run.
    pub fn same(&self, other: &StopHandle) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Every process group the run has started so far (each shell is the
    /// leader of its own group, so these are also the shells' pids).
    pub fn groups(&self) -> Vec<i32> {
        self.0.all_groups.lock().expect("groups lock").clone()
    }

    /// Records a terminal of the run (newest receives keyboard input).
    pub(crate) fn attach_terminal(&self, shell: &Arc<ShellProc>) {
        let mut t = self.0.terminals.lock().expect("terminals lock");
        t.retain(|w| w.strong_count() > 0);
        t.push(Arc::downgrade(shell));
        if let Some((cols, rows)) = *self.0.size.lock().expect("size lock") {
            let _ = shell.resize(cols, rows);
        }
    }

    /// The newest terminal whose process is still running.
    fn current_terminal(&self) -> Option<Arc<ShellProc>> {
        let t = self.0.terminals.lock().expect("terminals lock");
        t.iter()
            .rev()
            .filter_map(Weak::upgrade)
            .find(|s| s.exit_code().is_none())
    }

    /// Types raw bytes (keys, pasted text, control characters) into the
    /// run's current terminal. Fails when no shell of the run is running.
    pub fn write_input(&self, bytes: &[u8]) -> std::io::Result<()> {
        match self.current_terminal() {
            Some(t) => t.write_bytes(bytes),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "no shell of this run is running to receive input",
            )),
        }
    }

    /// Resizes every live terminal of the run (and the ones it starts later).
    pub fn resize(&self, cols: u16, rows: u16) -> std::io::Result<()> {
        if cols == 0 || rows == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "terminal size must be at least 1x1",
            ));
        }
        *self.0.size.lock().expect("size lock") = Some((cols, rows));
        let t = self.0.terminals.lock().expect("terminals lock");
        for s in t.iter().filter_map(Weak::upgrade) {
            if s.exit_code().is_none() {
                s.resize(cols, rows)?;
            }
        }
        Ok(())
    }

    /// Whether any recorded group still has a live process.
    pub fn any_alive(&self) -> bool {
        self.0
            .groups
            .lock()
            .expect("groups lock")
            .iter()
            .any(|g| group_alive(*g))
    }
}

/// Stops everything a shell started: its process group, its session
/// (children that moved to another group) and any still-parented descendant
/// (children that called `setsid`). SIGTERM first, SIGKILL after a grace period.
pub fn kill_group(pgid: i32) {
    if pgid <= 1 {
        return;
    }
    let members = tree(pgid);
    signal_all(pgid, &members, libc::SIGHUP);
    signal_all(pgid, &members, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_millis(1500);
    while any_alive(pgid, &members) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if any_alive(pgid, &members) {
        signal_all(pgid, &tree(pgid), libc::SIGKILL);
    }
}

fn signal_all(pgid: i32, members: &[i32], sig: i32) {
    // SAFETY: plain signal syscalls on processes this run started.
    unsafe {
        libc::killpg(pgid, sig);
        for &pid in members {
            libc::kill(pid, sig);
        }
    }
}

fn any_alive(pgid: i32, members: &[i32]) -> bool {
    group_alive(pgid) || members.iter().any(|&p| live(p))
}

/// A process that exists and is not a zombie.
fn live(pid: i32) -> bool {
    stat(pid).is_some_and(|s| s.state != 'Z')
}

struct Stat {
    pid: i32,
    state: char,
    ppid: i32,
    pgrp: i32,
    session: i32,
}

/// Parses `/proc/<pid>/stat` (the command name may hold spaces or parens).
fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.get(text.rfind(')')? + 2..)?;
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgrp = f.next()?.parse().ok()?;
    let session = f.next()?.parse().ok()?;
    Some(Stat {
        pid,
        state,
        ppid,
        pgrp,
        session,
    })
}

/// Live processes in the group or session `pgid`, plus their descendants.
fn tree(pgid: i32) -> Vec<i32> {
    let all: Vec<Stat> = std::fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .filter_map(stat)
                .filter(|s| s.state != 'Z')
                .collect()
        })
        .unwrap_or_default();
    let mut set: Vec<i32> = all
        .iter()
        .filter(|s| s.pgrp == pgid || s.session == pgid || s.pid == pgid)
        .map(|s| s.pid)
        .collect();
    loop {
        let more: Vec<i32> = all
            .iter()
            .filter(|s| set.contains(&s.ppid) && !set.contains(&s.pid))
            .map(|s| s.pid)
            .collect();
        if more.is_empty() {
            return set;
        }
        set.extend(more);
    }
}

/// Whether a process group has any (non-zombie-reaped) member left.
pub fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    unsafe { libc::killpg(pgid, 0) == 0 }
}
