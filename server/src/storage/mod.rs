//! Where the disk went, and getting it back: content dedup of large model
//! files, per-app usage for the Storage page, and the disk guard.

pub mod dedup;
// Shared models on a persistent volume (issue #10, item 4).
pub mod placement;
// Disk guard before installs (issue #10, item 3).
pub mod guard;
// Storage page and `pinokiocloud storage` (sizes, freeing space).
pub mod actions;
pub mod cli;
pub mod service;
pub mod usage;
