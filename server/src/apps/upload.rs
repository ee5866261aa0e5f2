//! Uploads for `type: "file"` fields of an `input` form. The browser sends
//! the file to the form's field; it is streamed to disk inside the app's
//! folder (the field's `path` folder, else `uploads/`), never past the
//! field's size limit, and the saved path is what the field answers with.

use std::path::PathBuf;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::error::{AppsError, Result};
use super::files::inside;
use super::interact::FormKind;
use super::Apps;

/// Where uploads go when the field names no folder.
pub const DEFAULT_UPLOAD_DIR: &str = "uploads";
/// The most a field takes unless it sets a lower `max_size` (bytes).
pub const UPLOAD_MAX_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// A browser's file name as one safe path segment (`My photo.png` stays,
/// `../../x` becomes `x`, control and odd characters become `_`).
pub fn safe_file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    let clean: String = clean.chars().take(200).collect();
    (!clean.is_empty()).then_some(clean)
}

impl Apps {
    /// Saves an upload for field `field` of the pending `input` form
    /// `form_id`; returns the saved file's absolute path.
    pub async fn save_upload<S, E>(
        &self,
        form_id: &str,
        field: &str,
        file_name: &str,
        mut body: S,
    ) -> Result<PathBuf>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let form = self
            .shared()
            .forms
            .get(form_id)
            .ok_or_else(|| AppsError::NoSuchForm(form_id.to_string()))?;
        let fields = if form.kind == FormKind::Input {
            engine::host::form_fields(&form.params)
        } else {
            Vec::new()
        };
        let spec = fields
            .into_iter()
            .find(|f| f.get("key").and_then(Value::as_str) == Some(field))
            .filter(|f| f.get("type").and_then(Value::as_str) == Some("file"))
            .ok_or_else(|| {
                AppsError::Upload(format!(
                    "question {form_id} has no file field {field:?}; reload the page"
                ))
            })?;
        let limit = spec
            .get("max_size")
            .and_then(Value::as_u64)
            .map_or(UPLOAD_MAX_BYTES, |m| m.min(UPLOAD_MAX_BYTES));
        let name = safe_file_name(file_name)
            .ok_or_else(|| AppsError::Upload(format!("{file_name:?} is not a usable file name")))?;
        let folder = spec
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_UPLOAD_DIR);
        let app_dir = self.shared().existing_app(&form.app)?;
        let dir = inside(&form.app, &app_dir, folder)?;
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(AppsError::io(format!("creating {}", dir.display())))?;
        // Checked again once it exists: a symlink may have been in the way.
        let dest = inside(&form.app, &app_dir, &format!("{folder}/{name}"))?;
        let part = dir.join(format!(".{name}.part"));
        let mut file = tokio::fs::File::create(&part)
            .await
            .map_err(AppsError::io(format!("creating {}", part.display())))?;
        let mut written = 0u64;
        let outcome: Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk =
                    chunk.map_err(|e| AppsError::Upload(format!("the upload broke off: {e}")))?;
                written += chunk.len() as u64;
                if written > limit {
                    return Err(AppsError::TooLarge { limit });
                }
                file.write_all(&chunk)
                    .await
                    .map_err(AppsError::io(format!("writing {}", part.display())))?;
            }
            file.flush()
                .await
                .map_err(AppsError::io(format!("writing {}", part.display())))
        }
        .await;
        drop(file);
        if let Err(e) = outcome {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(e);
        }
        tokio::fs::rename(&part, &dest)
            .await
            .map_err(AppsError::io(format!("saving {}", dest.display())))?;
        Ok(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_one_safe_segment() {
        assert_eq!(
            safe_file_name("My photo.png").as_deref(),
            Some("My photo.png")
        );
        assert_eq!(
            safe_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(safe_file_name("C:\\x\\a.bin").as_deref(), Some("a.bin"));
        assert_eq!(safe_file_name(".env").as_deref(), Some("env"));
        assert_eq!(safe_file_name("a\nb;c").as_deref(), Some("a_b_c"));
        assert_eq!(safe_file_name(".."), None);
        assert_eq!(safe_file_name(""), None);
    }
}
