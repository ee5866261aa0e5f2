//! Reusable pieces of the UI.

mod app_card;
mod app_icon;
mod category_chips;
mod disk_warning;
mod download_bar;
mod file_field;
mod terminal;
mod toasts;
mod top_bar;

pub use app_card::AppCard;
pub use app_icon::AppIcon;
pub use category_chips::CategoryChips;
pub use disk_warning::DiskWarning;
pub use download_bar::DownloadBar;
pub use file_field::{human_size as file_size, FileField, Upload, Uploads};
pub use terminal::Terminal;
pub use toasts::{Toast, ToastRegion, Toasts};
pub use top_bar::TopBar;
