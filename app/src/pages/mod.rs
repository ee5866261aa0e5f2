//! One module per routed page.

mod app_detail;
mod catalog;
mod login;
mod not_found;
mod settings;
mod system;

pub use app_detail::AppDetailPage;
pub use catalog::CatalogPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use settings::SettingsPage;
pub use system::SystemPage;
