//! Server functions: the UI's calls to the server. Each endpoint's path carries
//! the role it needs (`view/`, `op/`, `admin/`, `public/`), which the server's
//! auth gate enforces; the functions check again as defence in depth.

mod apps;
mod auth;
mod environment;
mod origin;
mod python;
mod system;

pub use apps::*;
pub use auth::*;
pub use environment::*;
pub use origin::*;
pub use python::*;
pub use system::*;
