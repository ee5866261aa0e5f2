//! Reusable pieces of the UI.

mod app_card;
mod category_chips;
mod terminal;
mod top_bar;

pub use app_card::AppCard;
pub use category_chips::CategoryChips;
pub use terminal::Terminal;
pub use top_bar::TopBar;
