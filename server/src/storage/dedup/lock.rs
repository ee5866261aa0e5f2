//! One pass at a time per home, whether it runs in the dashboard (button,
//! automatic pass) or from `pinokiocloud dedup` beside it: an `flock` on
//! `<home>/.pinokiocloud-dedup.lock`, which the kernel drops if the pass is
//! killed.

use anyhow::Context;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

pub const LOCK_FILE: &str = ".pinokiocloud-dedup.lock";

/// Held until dropped.
pub struct PassLock {
    file: File,
}

impl PassLock {
    /// Fails at once, naming what to do, when another pass holds the lock.
    pub fn acquire(home: &Path) -> anyhow::Result<PassLock> {
        let path = home.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening the dedup lock {}", path.display()))?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            anyhow::bail!(
                "another dedup pass is running on {}; wait for it to finish (the Storage page shows its progress)",
                home.display()
            );
        }
        Ok(PassLock { file })
    }
}

impl Drop for PassLock {
    fn drop(&mut self) {
        // SAFETY: unlocking the descriptor this value owns.
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}
