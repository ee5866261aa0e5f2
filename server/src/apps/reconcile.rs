//! Restart safety. Each run records the process groups it starts (with the
//! leader's start time). When the supervisor opens, runs without an end were
//! left by a dashboard that died: their groups are checked, still-live ones
//! killed (SIGTERM, then SIGKILL), and the runs marked ended with why. Half
//! finished install folders are removed too.

use super::error::Result;
use super::store::Groups;
use super::Shared;

/// A process's start time (clock ticks since boot, `/proc/<pid>/stat`
/// field 22): together with the pid it names one process for good.
pub fn start_time(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.get(text.rfind(')')? + 2..)?;
    // Fields after the command: state is field 3, starttime field 22.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The recorded groups that still have live processes of ours. A group whose
/// leader is gone cannot have been recycled (Linux never hands out a pid
/// that is in use as a group id); one whose leader exists must be the same
/// process (same start time).
pub fn live_groups(groups: &Groups) -> Vec<i32> {
    groups
        .iter()
        .filter(|(pgid, started)| {
            if *pgid <= 1 || !engine::group_alive(*pgid) {
                return false;
            }
            match start_time(*pgid) {
                Some(now) => *started == 0 || now == *started,
                None => true,
            }
        })
        .map(|(pgid, _)| *pgid)
        .collect()
}

pub(crate) async fn reconcile(s: &Shared) -> Result<()> {
    for run in s.store.open_runs().await? {
        let groups = s.store.groups(run.id).await?;
        let live = live_groups(&groups);
        if live.is_empty() {
            s.store
                .end_run(
                    run.id,
                    "interrupted",
                    "dashboard restarted; process was gone",
                )
                .await?;
            continue;
        }
        // Recorded first, so nothing that notices the processes dying can
        // give another reason.
        s.store
            .end_run(
                run.id,
                "interrupted",
                "dashboard restarted; stopped orphaned processes",
            )
            .await?;
        tracing::warn!(run = run.id, app = run.app, groups = ?live, "stopping processes left by a previous dashboard");
        let _ = tokio::task::spawn_blocking(move || {
            for g in live {
                engine::kill_group(g);
            }
        })
        .await;
    }
    if let Ok(rd) = std::fs::read_dir(s.api_dir()) {
        for e in rd.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".installing") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_identify_processes() {
        let me = std::process::id() as i32;
        let t = start_time(me).expect("own start time");
        assert_eq!(start_time(me), Some(t));
        assert_eq!(start_time(i32::MAX), None);
        // A live group with the wrong start time is somebody else's.
        let pgid = unsafe { libc::getpgrp() };
        let real = start_time(pgid).unwrap_or(0);
        assert_eq!(live_groups(&vec![(pgid, real)]), vec![pgid]);
        if real != 0 {
            assert!(live_groups(&vec![(pgid, real + 1)]).is_empty());
        }
        assert!(live_groups(&vec![(i32::MAX - 1, 5)]).is_empty());
    }
}
