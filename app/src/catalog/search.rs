//! Catalog search: every query word must match somewhere, and matches in the
//! name outrank tags, which outrank the author and then the description.

use super::{CatalogApp, Category};

/// What the user asked for: free text plus an optional category.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub query: String,
    pub category: Option<Category>,
}

/// Returns the apps matching `filter`, best first. An empty query keeps the
/// catalog order (by name).
pub fn search<'a>(apps: &'a [CatalogApp], filter: &Filter) -> Vec<&'a CatalogApp> {
    let words: Vec<String> = filter
        .query
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let mut hits: Vec<(u32, &CatalogApp)> = apps
        .iter()
        .filter(|app| filter.category.is_none_or(|c| app.category == c))
        .filter_map(|app| score(app, &words).map(|s| (s, app)))
        .collect();
    // Stable sort: equal scores keep catalog (name) order.
    hits.sort_by_key(|hit| std::cmp::Reverse(hit.0));
    hits.into_iter().map(|(_, app)| app).collect()
}

/// Sum of the best field score of each word, or `None` if a word matches nothing.
fn score(app: &CatalogApp, words: &[String]) -> Option<u32> {
    let name = app.name.to_lowercase();
    let tags: Vec<String> = app.tags.iter().map(|t| t.to_lowercase()).collect();
    let author = app.author.to_lowercase();
    let description = app.description.to_lowercase();
    words.iter().try_fold(0, |total, word| {
        let best = [
            name_score(&name, word),
            tags.iter().map(|t| tag_score(t, word)).max().unwrap_or(0),
            if author.contains(word.as_str()) {
                10
            } else {
                0
            },
            if description.contains(word.as_str()) {
                5
            } else {
                0
            },
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        (best > 0).then_some(total + best)
    })
}

fn name_score(name: &str, word: &str) -> u32 {
    if name == word {
        100
    } else if name.starts_with(word) {
        60
    } else if name
        .split(|c: char| !c.is_alphanumeric())
        .any(|part| part.starts_with(word))
    {
        40
    } else if name.contains(word) {
        30
    } else {
        0
    }
}

fn tag_score(tag: &str, word: &str) -> u32 {
    if tag == word {
        25
    } else if tag.contains(word) {
        15
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str, name: &str, description: &str, tags: &[&str], author: &str) -> CatalogApp {
        CatalogApp {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            repo_url: format!("https://example.com/{id}"),
            category: Category::Image,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            author: author.into(),
        }
    }

    fn ids(hits: Vec<&CatalogApp>) -> Vec<&str> {
        hits.into_iter().map(|a| a.id.as_str()).collect()
    }

    #[test]
    fn name_matches_outrank_description_matches() {
        let apps = [
            app("a", "Painter", "works with comfy workflows", &[], "x"),
            app("b", "ComfyUI", "node editor", &[], "y"),
            app("c", "Flux Comfy", "flux", &[], "z"),
        ];
        let filter = Filter {
            query: "comfy".into(),
            category: None,
        };
        assert_eq!(ids(search(&apps, &filter)), ["b", "c", "a"]);
    }

    #[test]
    fn every_word_must_match() {
        let apps = [
            app("a", "Whisper", "speech to text", &["audio"], "x"),
            app("b", "Bark", "text to speech", &["tts"], "y"),
        ];
        let filter = Filter {
            query: "speech audio".into(),
            category: None,
        };
        assert_eq!(ids(search(&apps, &filter)), ["a"]);
    }

    #[test]
    fn tags_and_author_are_searched_case_insensitively() {
        let apps = [
            app("a", "One", "", &["Voice-Cloning"], "x"),
            app("b", "Two", "", &[], "CocktailPeanut"),
        ];
        let tag = Filter {
            query: "voice".into(),
            category: None,
        };
        assert_eq!(ids(search(&apps, &tag)), ["a"]);
        let author = Filter {
            query: "cocktailpeanut".into(),
            category: None,
        };
        assert_eq!(ids(search(&apps, &author)), ["b"]);
    }

    #[test]
    fn category_filters_and_empty_query_keeps_order() {
        let mut apps = vec![app("a", "A", "", &[], "x"), app("b", "B", "", &[], "x")];
        apps[1].category = Category::Audio;
        let filter = Filter {
            query: "  ".into(),
            category: Some(Category::Audio),
        };
        assert_eq!(ids(search(&apps, &filter)), ["b"]);
        assert_eq!(ids(search(&apps, &Filter::default())), ["a", "b"]);
    }

    #[test]
    fn no_match_gives_empty_result() {
        let apps = [app("a", "A", "", &[], "x")];
        let filter = Filter {
            query: "zzz".into(),
            category: None,
        };
        assert!(search(&apps, &filter).is_empty());
    }

    #[test]
    fn real_catalog_search_for_comfy_puts_comfyui_first() {
        let filter = Filter {
            query: "comfy".into(),
            category: None,
        };
        let hits = search(crate::catalog::all(), &filter);
        assert!(hits.len() >= 5, "{} hits", hits.len());
        assert!(
            hits[0].name.to_lowercase().starts_with("comfy"),
            "{}",
            hits[0].name
        );
    }
}
