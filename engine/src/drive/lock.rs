//! One writer at a time per drive root. Two installs may link the same
//! drive at once (two peers installed together), in this process or in a
//! `pinokiocloud run` next to the server: a mutex plus an `flock` on
//! `<root>/drives/.lock` serialise the read-modify-write of the records and
//! the choice of a new drive folder.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use super::error::{DriveError, Result};

static IN_PROCESS: Mutex<()> = Mutex::new(());

/// Held until dropped.
pub struct DriveLock {
    file: File,
    _guard: MutexGuard<'static, ()>,
}

impl DriveLock {
    pub fn acquire(root: &Path) -> Result<Self> {
        let guard = IN_PROCESS.lock().unwrap_or_else(|p| p.into_inner());
        let dir = root.join("drives");
        std::fs::create_dir_all(&dir).map_err(DriveError::io("creating", &dir))?;
        let path = dir.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(DriveError::io("opening", &path))?;
        // SAFETY: flock on a descriptor this value owns; blocks until granted.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(DriveError::io("locking", &path)(
                std::io::Error::last_os_error(),
            ));
        }
        Ok(DriveLock {
            file,
            _guard: guard,
        })
    }
}

impl Drop for DriveLock {
    fn drop(&mut self) {
        // SAFETY: unlocking the descriptor this value owns.
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}
