//! Server functions: the UI's calls to the server. Each endpoint's path carries
//! the role it needs (`view/`, `op/`, `admin/`, `public/`), which the server's
//! auth gate enforces; the functions check again as defence in depth.

mod apps;
mod auth;
mod environment;
// Disk guard before installs (issue #10, item 3).
mod install_space;
mod origin;
mod python;
// Storage page (issue #10, item 2).
mod storage;
mod system;

pub use apps::*;
pub use auth::*;
pub use environment::*;
pub use install_space::*;
pub use origin::*;
pub use python::*;
pub use storage::*;
pub use system::*;
