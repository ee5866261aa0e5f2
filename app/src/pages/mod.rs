//! One module per routed page.

mod app_detail;
mod catalog;
mod environment_settings;
mod installed_app;
mod login;
mod my_apps;
mod not_found;
mod python_settings;
mod run_log;
mod running;
mod settings;
// Storage page (issue #10, item 2).
mod storage;
mod storage_models;
mod storage_sections;
mod storage_settings;
mod system;

pub use app_detail::AppDetailPage;
pub use catalog::CatalogPage;
pub use installed_app::InstalledAppPage;
pub use login::LoginPage;
pub use my_apps::MyAppsPage;
pub use not_found::NotFound;
pub use run_log::RunLogPage;
pub use running::RunningPage;
pub use settings::SettingsPage;
pub use storage::StoragePage;
pub use system::SystemPage;
