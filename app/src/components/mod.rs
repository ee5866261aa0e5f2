//! Reusable pieces of the UI.

mod app_card;
mod category_chips;
mod top_bar;

pub use app_card::AppCard;
pub use category_chips::CategoryChips;
pub use top_bar::TopBar;
