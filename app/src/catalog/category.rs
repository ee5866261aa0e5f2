//! The fixed set of catalog categories, used for filter chips.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Category {
    Image,
    Audio,
    Video,
    Llm,
    #[serde(rename = "3D")]
    ThreeD,
    Utility,
}

impl Category {
    /// Chip order on the catalog page.
    pub const ALL: [Category; 6] = [
        Category::Image,
        Category::Audio,
        Category::Video,
        Category::Llm,
        Category::ThreeD,
        Category::Utility,
    ];

    /// The code used in data files and URLs (`?cat=IMAGE`).
    pub fn code(self) -> &'static str {
        match self {
            Category::Image => "IMAGE",
            Category::Audio => "AUDIO",
            Category::Video => "VIDEO",
            Category::Llm => "LLM",
            Category::ThreeD => "3D",
            Category::Utility => "UTILITY",
        }
    }

    /// Human label for chips and badges.
    pub fn label(self) -> &'static str {
        match self {
            Category::Image => "Image",
            Category::Audio => "Audio",
            Category::Video => "Video",
            Category::Llm => "LLM",
            Category::ThreeD => "3D",
            Category::Utility => "Utility",
        }
    }

    /// Parses a code case-insensitively; `None` for anything unknown.
    pub fn from_code(code: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code.trim()))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_case_insensitively() {
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(c));
            assert_eq!(Category::from_code(&c.code().to_lowercase()), Some(c));
        }
        assert_eq!(Category::from_code("GAMES"), None);
    }

    #[test]
    fn serde_uses_the_codes() {
        assert_eq!(serde_json::to_string(&Category::ThreeD).unwrap(), "\"3D\"");
        let c: Category = serde_json::from_str("\"LLM\"").unwrap();
        assert_eq!(c, Category::Llm);
    }
}
