//! The PinokioCloud server as a library: the `pinokiocloud` binary is a thin
//! shell over [`cli::Cli`], and integration tests reach the modules directly.

pub mod app_cli;
pub mod apps;
pub mod asset_cache;
pub mod auth;
pub mod backend;
pub mod cli;
pub mod cloud;
pub mod compression;
pub mod engine_cli;
pub mod home;
pub mod http;
pub mod live;
pub mod origin;
pub mod page_cache;
pub mod proxy;
pub mod serve;
pub mod site;
pub mod snapshot;
pub mod storage;
pub mod store;
pub mod system;
pub mod terminal;
