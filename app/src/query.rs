//! The catalog's URL query (`/?q=…&cat=…`): the one place that turns a
//! [`Filter`] into a shareable URL and back.

use crate::catalog::{Category, Filter};

/// Builds the catalog URL for a filter; the bare `/` when nothing is set.
pub fn catalog_href(filter: &Filter) -> String {
    let mut parts = Vec::new();
    let query = filter.query.trim();
    if !query.is_empty() {
        parts.push(format!("q={}", encode(filter.query.trim_start())));
    }
    if let Some(category) = filter.category {
        parts.push(format!("cat={}", category.code()));
    }
    if parts.is_empty() {
        "/".to_string()
    } else {
        format!("/?{}", parts.join("&"))
    }
}

/// Reads a filter from raw query values; unknown categories are ignored.
pub fn filter_from(q: Option<String>, cat: Option<String>) -> Filter {
    Filter {
        query: q.unwrap_or_default(),
        category: cat.as_deref().and_then(Category::from_code),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_filter_is_the_root() {
        assert_eq!(catalog_href(&Filter::default()), "/");
    }

    #[test]
    fn query_and_category_are_encoded() {
        let filter = Filter {
            query: "comfy ui&x".into(),
            category: Some(Category::ThreeD),
        };
        assert_eq!(catalog_href(&filter), "/?q=comfy%20ui%26x&cat=3D");
    }

    #[test]
    fn unknown_category_is_ignored() {
        let filter = filter_from(Some("a".into()), Some("nope".into()));
        assert_eq!(
            filter,
            Filter {
                query: "a".into(),
                category: None
            }
        );
    }
}
