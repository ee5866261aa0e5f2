//! Turns the upstream Pinokio app list (`cleaned_pinokio_apps.json`: an object of
//! id → record) into our schema. Upstream fields we do not trust are dropped:
//! `installer_type` is often wrong, and `pinokio-tagged` is a crawler marker, not a tag.

use super::{CatalogApp, Category};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("the catalog source is not a JSON object of id → app: {0}")]
    Json(String),
    #[error("app `{id}`: unknown category `{category}`; expected one of IMAGE, AUDIO, VIDEO, LLM, 3D, UTILITY")]
    Category { id: String, category: String },
    #[error("app `{id}`: repository URL `{url}` is not an https:// URL")]
    RepoUrl { id: String, url: String },
    #[error("app `{id}`: two apps normalise to the same id")]
    DuplicateId { id: String },
}

/// The upstream record; unknown fields are ignored on purpose.
#[derive(Deserialize)]
struct SourceApp {
    name: String,
    #[serde(default)]
    description: String,
    repo_url: String,
    category: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    author: String,
}

/// Parses and normalises the upstream list, sorted by name.
pub fn import(source_json: &str) -> Result<Vec<CatalogApp>, ImportError> {
    let source: BTreeMap<String, SourceApp> =
        serde_json::from_str(source_json).map_err(|e| ImportError::Json(e.to_string()))?;
    let mut apps = Vec::with_capacity(source.len());
    for (key, record) in source {
        apps.push(normalise(&key, record)?);
    }
    apps.sort_by(|a, b| (a.name.to_lowercase(), &a.id).cmp(&(b.name.to_lowercase(), &b.id)));
    if let Some(pair) = {
        let mut ids: Vec<&str> = apps.iter().map(|a| a.id.as_str()).collect();
        ids.sort_unstable();
        ids.windows(2)
            .find(|w| w[0] == w[1])
            .map(|w| w[0].to_string())
    } {
        return Err(ImportError::DuplicateId { id: pair });
    }
    Ok(apps)
}

fn normalise(key: &str, record: SourceApp) -> Result<CatalogApp, ImportError> {
    let id = slug(key);
    let category = Category::from_code(&record.category).ok_or_else(|| ImportError::Category {
        id: id.clone(),
        category: record.category.clone(),
    })?;
    let repo_url = clean_repo_url(&record.repo_url);
    if !repo_url.starts_with("https://") {
        return Err(ImportError::RepoUrl {
            id,
            url: record.repo_url,
        });
    }
    let name = collapse_spaces(&record.name);
    let author = match collapse_spaces(&record.author) {
        a if a.is_empty() => repo_owner(&repo_url).unwrap_or_default().to_string(),
        a => a,
    };
    Ok(CatalogApp {
        name: if name.is_empty() { id.clone() } else { name },
        description: collapse_spaces(&record.description),
        tags: clean_tags(record.tags),
        author,
        category,
        repo_url,
        id,
    })
}

/// Lowercase `[a-z0-9._-]`, other runs of characters become one `-`.
fn slug(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn clean_repo_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    url.strip_suffix(".git").unwrap_or(url).to_string()
}

fn repo_owner(url: &str) -> Option<&str> {
    url.strip_prefix("https://")?.split('/').nth(1)
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clean_tags(tags: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    tags.into_iter()
        .map(|t| collapse_spaces(&t))
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("pinokio-tagged"))
        .filter(|t| seen.insert(t.to_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(extra: &str) -> String {
        format!(
            r#"{{"My App!": {{"name": "  My   App ", "description": "Does\nthings ",
            "repo_url": "https://github.com/someone/my-app.git/", "category": "image",
            "tags": ["pinokio-tagged", "TTS", "tts", " voice "], "author": "",
            "installer_type": "js", "stars": 3 {extra}}}}}"#
        )
    }

    #[test]
    fn import_normalises_fields() {
        let apps = import(&record("")).unwrap();
        assert_eq!(
            apps,
            vec![CatalogApp {
                id: "my-app".into(),
                name: "My App".into(),
                description: "Does things".into(),
                repo_url: "https://github.com/someone/my-app".into(),
                category: Category::Image,
                tags: vec!["TTS".into(), "voice".into()],
                author: "someone".into(),
            }]
        );
    }

    #[test]
    fn import_rejects_unknown_category_naming_the_app() {
        let src = r#"{"x": {"name": "X", "repo_url": "https://a/b/c", "category": "GAMES"}}"#;
        let err = import(src).unwrap_err();
        assert_eq!(
            err,
            ImportError::Category {
                id: "x".into(),
                category: "GAMES".into()
            }
        );
        assert!(err.to_string().contains("expected one of"));
    }

    #[test]
    fn import_rejects_non_https_repo() {
        let src = r#"{"x": {"name": "X", "repo_url": "ftp://a/b", "category": "LLM"}}"#;
        assert!(matches!(import(src), Err(ImportError::RepoUrl { .. })));
    }

    #[test]
    fn import_rejects_ids_that_collide_after_normalising() {
        let src = r#"{"a b": {"name": "X", "repo_url": "https://a/b/c", "category": "LLM"},
                      "a-b": {"name": "Y", "repo_url": "https://a/b/d", "category": "LLM"}}"#;
        assert_eq!(
            import(src),
            Err(ImportError::DuplicateId { id: "a-b".into() })
        );
    }

    #[test]
    fn import_reports_bad_json() {
        assert!(matches!(import("[1,2]"), Err(ImportError::Json(_))));
    }

    /// The shipped data file must be exactly what `import` makes of the upstream
    /// list shipped beside it, so nobody hand-edits one and forgets the other.
    #[test]
    fn shipped_catalog_is_the_import_of_the_shipped_source() {
        let source = include_str!("../../../data/source/cleaned_pinokio_apps.json");
        let imported = import(source).unwrap();
        assert_eq!(imported.len(), 284);
        assert_eq!(imported, super::super::all());
    }
}
