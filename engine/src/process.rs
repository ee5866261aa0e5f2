//! Stopping runs: a [`StopHandle`] is shared by a run and whoever may stop
//! it. Each shell runs as the leader of its own session/process group
//! (portable-pty calls `setsid`), so stopping signals whole groups and leaves
//! no orphans behind.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Inner {
    stopped: AtomicBool,
    groups: Mutex<Vec<i32>>,
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
        self.0.groups.lock().expect("groups lock").push(pgid);
        if self.is_stopped() {
            kill_group(pgid);
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
