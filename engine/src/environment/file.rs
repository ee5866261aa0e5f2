//! ENVIRONMENT files: Pinokio's dotenv files of variables for child
//! processes (`<home>/ENVIRONMENT` and one per app).
//!
//! The grammar is dotenv's, which Pinokio parses them with: `KEY=value`
//! lines (also `export KEY=value` and `KEY: value`), `#` comments, blank
//! lines; a value in single, double or back quotes keeps `#` and outer
//! spaces (double quotes also turn `\n` into a newline); an unquoted value
//! ends at `#` and is trimmed. Lines that match nothing are skipped. Files
//! saved as UTF-16 (with or without a byte-order mark) are read too.
//!
//! Values starting with `./` are relative to the folder the file belongs
//! to (the home, or the app folder) and empty values are ignored: they do
//! not override an earlier layer ([`read_resolved`]).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::EnvError;

/// The file holding `app_dir`'s variables: `<app>/pinokio/ENVIRONMENT` when
/// the app keeps its launcher in a `pinokio/` folder, else
/// `<app>/ENVIRONMENT`.
pub fn app_file(app_dir: &Path) -> PathBuf {
    let nested = app_dir.join("pinokio");
    if nested.is_dir() {
        nested.join("ENVIRONMENT")
    } else {
        app_dir.join("ENVIRONMENT")
    }
}

/// One `KEY=value` line of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub key: String,
    pub value: String,
    /// 1-based line number.
    pub line: usize,
}

/// Why a line is not a variable assignment (for editors that validate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Decodes a file's bytes: UTF-8, else UTF-16 (byte-order mark, or the
/// zero bytes of mostly-ASCII text, tell which end comes first).
pub fn decode(bytes: &[u8]) -> String {
    let utf16 = |le: bool, body: &[u8]| {
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(true, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(false, rest),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        [a, 0, ..] if *a != 0 => utf16(true, bytes),
        [0, b, ..] if *b != 0 => utf16(false, bytes),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Every assignment of `text`, in order (a key set twice appears twice;
/// readers keep the last, as dotenv does).
pub fn parse(text: &str) -> Vec<Assignment> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| parse_line(l).ok().flatten().map(|(k, v)| (i, k, v)))
        .map(|(i, key, value)| Assignment {
            key,
            value,
            line: i + 1,
        })
        .collect()
}

/// `Ok(None)` for blank and comment lines, `Err` for text that is not an
/// assignment (what is wrong, and the fix).
fn parse_line(line: &str) -> Result<Option<(String, String)>, String> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') {
        return Ok(None);
    }
    let t = t.strip_prefix("export ").map(str::trim_start).unwrap_or(t);
    let split = t.find(['=', ':']).ok_or(
        "no '=': write it as NAME=value, or start the line with # to keep it as a comment",
    )?;
    let (key, rest) = (t[..split].trim_end(), &t[split + 1..]);
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(format!(
            "{key:?} is not a variable name: use letters, digits and _ (e.g. MY_TOKEN=abc)"
        ));
    }
    if t.as_bytes()[split] == b':' && !rest.starts_with([' ', '\t']) && !rest.is_empty() {
        return Err(format!(
            "write {key}=value (a ':' must be followed by a space, as in `{key}: value`)"
        ));
    }
    Ok(Some((key.to_string(), parse_value(rest.trim(), key)?)))
}

fn parse_value(v: &str, key: &str) -> Result<String, String> {
    let Some(q) = v.chars().next().filter(|c| matches!(c, '"' | '\'' | '`')) else {
        // Unquoted: a `#` starts a comment.
        return Ok(v.split('#').next().unwrap_or("").trim().to_string());
    };
    let body = &v[1..];
    let end = closing_quote(body, q).ok_or_else(|| {
        format!(
            "the value of {key} opens a {q} quote that is never closed: close it on the same line"
        )
    })?;
    let inner = &body[..end];
    let after = body[end + 1..].trim();
    if !after.is_empty() && !after.starts_with('#') {
        return Err(format!(
            "text after the closing quote of {key}: put it inside the quotes or after a #"
        ));
    }
    Ok(if q == '"' {
        inner.replace("\\n", "\n").replace("\\r", "\r")
    } else {
        inner.to_string()
    })
}

/// Byte offset of the quote closing a value (a backslash escapes it).
fn closing_quote(body: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == q => return Some(i),
            _ => {}
        }
    }
    None
}

/// Problems of an ENVIRONMENT text, for editors: lines that are not
/// assignments, names processes cannot receive, keys set twice.
pub fn validate(text: &str) -> Vec<LineProblem> {
    let mut problems = vec![];
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        match parse_line(line) {
            Err(message) => problems.push(LineProblem { line: n, message }),
            Ok(Some((key, _))) => {
                if !super::build::is_identifier(&key) {
                    problems.push(LineProblem {
                        line: n,
                        message: format!(
                            "{key} is not a name shells accept (letters, digits and _, not starting with a digit), so processes would never see it: rename it (e.g. {})",
                            key.replace(['.', '-'], "_")
                        ),
                    });
                } else if let Some(prev) = first.get(&key) {
                    problems.push(LineProblem {
                        line: n,
                        message: format!(
                            "{key} is already set on line {prev}: keep one of the two"
                        ),
                    });
                } else {
                    first.insert(key, n);
                }
            }
            Ok(None) => {}
        }
    }
    problems
}

/// The last value of every key, as written (`./` kept, empty kept).
pub fn read_raw(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read(path).map(|b| decode(&b)).unwrap_or_default();
    parse(&text).into_iter().map(|a| (a.key, a.value)).collect()
}

/// The variables a file contributes: empty values left out, `./…` made
/// absolute against `base` (the folder the file belongs to).
pub fn read_resolved(path: &Path, base: &Path) -> BTreeMap<String, String> {
    read_raw(path)
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| {
            let v = match v.strip_prefix("./") {
                Some(rel) => crate::util::resolve(base, rel)
                    .to_string_lossy()
                    .into_owned(),
                None => v,
            };
            (k, v)
        })
        .collect()
}

/// Replaces `path` with `text` without ever leaving a half-written file:
/// the text goes to a temporary file beside it, is flushed, then renamed
/// over the original.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), EnvError> {
    let io = |what: &str, e: std::io::Error| EnvError::Io {
        what: what.to_string(),
        path: path.to_path_buf(),
        source: e,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io("creating the folder of", e))?;
    let tmp = crate::util::temp_sibling(path);
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("writing", e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_lines_quotes_comments_and_exports() {
        let text = "# c\nA=1\nexport B = two words \nC=\"x # y\" # note\nD='./z'\nE=v # gone\nF: colon\nbad line\nG=\n";
        let got: Vec<(String, String)> =
            parse(text).into_iter().map(|a| (a.key, a.value)).collect();
        let want = [
            ("A", "1"),
            ("B", "two words"),
            ("C", "x # y"),
            ("D", "./z"),
            ("E", "v"),
            ("F", "colon"),
            ("G", ""),
        ];
        assert_eq!(
            got,
            want.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn utf16_files_decode() {
        let text = "HF_HOME=./cache/HF_HOME\n";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be_no_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&le), text);
        assert_eq!(decode(&be_no_bom), text);
        assert_eq!(decode(text.as_bytes()), text);
    }

    #[test]
    fn validation_names_lines_and_fixes() {
        let p = validate("A=1\nnot an assignment\nB-C=2\nA=3\nD=\"open\n");
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5], "{p:?}");
        assert!(p[0].message.contains("NAME=value"), "{}", p[0]);
        assert!(p[1].message.contains("B_C"), "{}", p[1]);
        assert!(p[2].message.contains("line 1"), "{}", p[2]);
        assert!(p[3].message.contains("never closed"), "{}", p[3]);
        assert!(validate("# only\n\nX=./y\nexport Y=1\n").is_empty());
    }
}
