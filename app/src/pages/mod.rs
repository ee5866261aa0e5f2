//! One module per routed page.

mod app_detail;
mod catalog;
mod not_found;

pub use app_detail::AppDetailPage;
pub use catalog::CatalogPage;
pub use not_found::NotFound;
