//! Machine load for the dashboard: CPU %, RAM (container limit when there is
//! one), and the disk that holds the home; plus [`Sampler`], a ring buffer
//! of the last N samples taken at an interval, for live charts.

use serde::Serialize;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use sysinfo::System;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One reading of the machine's load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceSnapshot {
    pub at_unix_ms: u64,
    /// All cores together, 0–100; 0 on the first reading.
    pub cpu_pct: f32,
    pub ram_used_bytes: u64,
    pub ram_total_bytes: u64,
    /// The file system holding this path (the home).
    pub disk_path: PathBuf,
    pub disk_used_bytes: u64,
    pub disk_total_bytes: u64,
}

/// Space on one file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiskUsage {
    pub used_bytes: u64,
    pub total_bytes: u64,
    /// What an unprivileged user may still write.
    pub available_bytes: u64,
}

/// Space on the file system holding `path` (or its nearest existing
/// parent, so a home that is not created yet still reports its disk).
pub fn disk_usage(path: &Path) -> std::io::Result<DiskUsage> {
    let existing = path
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    statvfs(existing)
}

// The field types differ between platforms (u32 on some), hence the casts.
#[allow(clippy::unnecessary_cast)]
fn statvfs(path: &Path) -> std::io::Result<DiskUsage> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c_path` is a valid NUL-terminated string and `stat` points to
    // writable memory of the right type; statvfs fills it on success.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), stat.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so the struct is initialised.
    let stat = unsafe { stat.assume_init() };
    let block = stat.f_frsize as u64;
    let total = stat.f_blocks as u64 * block;
    let free = stat.f_bfree as u64 * block;
    Ok(DiskUsage {
        used_bytes: total.saturating_sub(free),
        total_bytes: total,
        available_bytes: stat.f_bavail as u64 * block,
    })
}

/// Reads CPU, RAM and disk; keep one around so CPU % has a previous reading.
pub struct ResourceProbe {
    system: Option<System>,
    disk_path: PathBuf,
}

impl ResourceProbe {
    pub fn new(disk_path: impl Into<PathBuf>) -> Self {
        ResourceProbe {
            system: System::new().ok(),
            disk_path: disk_path.into(),
        }
    }

    pub fn sample(&mut self) -> ResourceSnapshot {
        let (cpu_pct, ram_used_bytes, ram_total_bytes) = match &mut self.system {
            Some(system) => {
                system.refresh_cpu_usage();
                let (used, total) = memory(system);
                (system.global_cpu_usage(), used, total)
            }
            None => (0.0, 0, 0),
        };
        let disk = disk_usage(&self.disk_path).unwrap_or(DiskUsage {
            used_bytes: 0,
            total_bytes: 0,
            available_bytes: 0,
        });
        ResourceSnapshot {
            at_unix_ms: now_ms(),
            cpu_pct,
            ram_used_bytes,
            ram_total_bytes,
            disk_path: self.disk_path.clone(),
            disk_used_bytes: disk.used_bytes,
            disk_total_bytes: disk.total_bytes,
        }
    }
}

/// (used, total) bytes; a container's cgroup limit wins over the host's RAM.
fn memory(system: &mut System) -> (u64, u64) {
    system.refresh_memory();
    let (host_used, host_total) = (system.used_memory(), system.total_memory());
    match system.cgroup_limits() {
        Some(limits) if limits.total_memory > 0 && limits.total_memory < host_total => (
            limits.total_memory.saturating_sub(limits.free_memory),
            limits.total_memory,
        ),
        _ => (host_used, host_total),
    }
}

/// Total RAM in bytes (the container limit when there is one); 0 if unknown.
pub fn total_memory_bytes() -> u64 {
    System::new().map(|mut s| memory(&mut s).1).unwrap_or(0)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The last `capacity` values, oldest first.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T: Clone> Ring<T> {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Ring {
            items: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    pub fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    pub fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Takes a sample every `interval`, keeping the last `capacity`.
/// Dropping it stops sampling.
pub struct Sampler<T> {
    ring: Arc<Mutex<Ring<T>>>,
    latest: watch::Receiver<Option<T>>,
    task: JoinHandle<()>,
}

impl<T: Clone + Send + Sync + 'static> Sampler<T> {
    /// Starts sampling with `sample` (called at once, then every
    /// `interval`); needs a Tokio runtime.
    pub fn spawn(
        interval: Duration,
        capacity: usize,
        mut sample: impl FnMut() -> T + Send + 'static,
    ) -> Self {
        let ring = Arc::new(Mutex::new(Ring::new(capacity)));
        let (tx, latest) = watch::channel(None);
        let task_ring = Arc::clone(&ring);
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let value = sample();
                task_ring
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(value.clone());
                tx.send_replace(Some(value));
            }
        });
        Sampler { ring, latest, task }
    }

    /// The kept samples, oldest first.
    pub fn history(&self) -> Vec<T> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner()).to_vec()
    }

    pub fn latest(&self) -> Option<T> {
        self.latest.borrow().clone()
    }

    /// Sees every new sample.
    pub fn subscribe(&self) -> watch::Receiver<Option<T>> {
        self.latest.clone()
    }
}

impl<T> Drop for Sampler<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Samples CPU, RAM and the disk of `home` every `interval`, keeping `capacity`.
pub fn resource_sampler(
    home: impl Into<PathBuf>,
    interval: Duration,
    capacity: usize,
) -> Sampler<ResourceSnapshot> {
    let mut probe = ResourceProbe::new(home);
    Sampler::spawn(interval, capacity, move || probe.sample())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_newest() {
        let mut ring = Ring::new(3);
        for i in 0..5 {
            ring.push(i);
        }
        assert_eq!(ring.to_vec(), vec![2, 3, 4]);
        assert_eq!(ring.len(), 3);
    }

    #[test]
    fn disk_usage_of_a_missing_home_uses_its_parent() {
        let dir = std::env::temp_dir();
        let here = disk_usage(&dir).unwrap();
        let missing = disk_usage(&dir.join("no/such/home/yet")).unwrap();
        assert!(here.total_bytes > 0);
        assert_eq!(here.total_bytes, missing.total_bytes);
        assert!(here.used_bytes <= here.total_bytes);
    }

    #[test]
    fn probe_reads_memory() {
        let mut probe = ResourceProbe::new(std::env::temp_dir());
        let snap = probe.sample();
        assert!(snap.ram_total_bytes > 0);
        assert!(snap.ram_used_bytes <= snap.ram_total_bytes);
        assert!((0.0..=100.0).contains(&snap.cpu_pct));
        assert!(snap.disk_total_bytes > 0);
    }
}
