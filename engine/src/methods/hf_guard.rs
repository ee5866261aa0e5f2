//! The disk guard of `hf.download`: the Hub's API tells each file's size
//! before the CLI runs (`GET <HF_ENDPOINT>/api/<type>s/<repo>/revision/<rev>?blobs=true`),
//! so a download that would not fit is refused up front; files the local
//! folder or the Hugging Face cache already hold are not counted. When the
//! CLI runs out of disk anyway (`[Errno 28]`), its `.incomplete` files are
//! removed and the step fails with the same "disk full" message. Without an
//! answer from the API (offline, gated repo without a token) nothing is
//! checked up front.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::MethodError;
use crate::sys::disk;

type Env = BTreeMap<String, String>;

/// What one `hf download` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub repo: String,
    /// `models`, `datasets` or `spaces` (the API's and the cache's word).
    pub kind: &'static str,
    pub revision: String,
    /// Files named after the repository (all of them when empty).
    pub files: Vec<String>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// `--local-dir`, resolved against the step's folder.
    pub local_dir: Option<PathBuf>,
    /// `--cache-dir`, resolved against the step's folder.
    pub cache_dir: Option<PathBuf>,
    pub token: Option<String>,
}

/// The request in `hf.download` params (`_: [repo, files…]`, `local-dir`,
/// `include`, …); `None` without a repository. `cwd` is the CLI's folder.
pub fn request(params: &Value, cwd: &Path) -> Option<Request> {
    let words = crate::util::string_or_list(params.get("_")).unwrap_or_default();
    let (repo, files) = words.split_first()?;
    let get = |k: &str| params.get(k).or_else(|| params.get(k.replace('-', "_")));
    let text = |k: &str| get(k).and_then(Value::as_str).map(String::from);
    let list = |k: &str| crate::util::string_or_list(get(k)).unwrap_or_default();
    let dir = |k: &str| text(k).map(|d| cwd.join(d));
    let kind = match text("repo-type").as_deref() {
        Some("dataset") => "datasets",
        Some("space") => "spaces",
        _ => "models",
    };
    Some(Request {
        repo: repo.clone(),
        kind,
        revision: text("revision").unwrap_or_else(|| "main".into()),
        files: files.to_vec(),
        include: list("include"),
        exclude: list("exclude"),
        local_dir: dir("local-dir"),
        cache_dir: dir("cache-dir"),
        token: text("token"),
    })
}

impl Request {
    /// Where the files land: the local folder, else the Hub cache
    /// (`HF_HUB_CACHE`, `HF_HOME/hub`, `XDG_CACHE_HOME/huggingface/hub`,
    /// `~/.cache/huggingface/hub`, as huggingface_hub decides).
    pub fn landing(&self, env: &Env) -> PathBuf {
        self.local_dir.clone().unwrap_or_else(|| self.cache(env))
    }

    fn cache(&self, env: &Env) -> PathBuf {
        let var = |k: &str| env.get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        self.cache_dir
            .clone()
            .or_else(|| var("HF_HUB_CACHE"))
            .or_else(|| var("HF_HOME").map(|h| h.join("hub")))
            .or_else(|| var("XDG_CACHE_HOME").map(|c| c.join("huggingface/hub")))
            .or_else(|| var("HOME").map(|h| h.join(".cache/huggingface/hub")))
            .unwrap_or_else(|| PathBuf::from(".cache/huggingface/hub"))
    }

    /// `<cache>/models--org--name`.
    fn cache_repo(&self, env: &Env) -> PathBuf {
        let kind = self.kind.trim_end_matches('s');
        self.cache(env)
            .join(format!("{kind}s--{}", self.repo.replace('/', "--")))
    }

    /// Whether the CLI would fetch `name` (explicit files, else the
    /// include/exclude globs).
    fn wants(&self, name: &str) -> bool {
        if !self.files.is_empty() {
            return self.files.iter().any(|f| f == name);
        }
        let any = |pats: &[String]| pats.iter().any(|p| glob(&pattern(p), name));
        (self.include.is_empty() || any(&self.include)) && !any(&self.exclude)
    }

    /// Whether `name` (of `size` bytes) is already where the CLI looks.
    fn present(&self, name: &str, size: u64, env: &Env) -> bool {
        if let Some(dir) = &self.local_dir {
            return std::fs::metadata(dir.join(name)).is_ok_and(|m| m.len() == size);
        }
        let repo = self.cache_repo(env);
        let commit = if is_commit(&self.revision) {
            Some(self.revision.clone())
        } else {
            std::fs::read_to_string(repo.join("refs").join(&self.revision))
                .ok()
                .map(|c| c.trim().to_string())
        };
        commit.is_some_and(|c| repo.join("snapshots").join(c).join(name).is_file())
    }

    /// Bytes still to fetch, from the API's file list; `None` when the API
    /// does not answer.
    pub fn needed(&self, env: &Env) -> Option<u64> {
        let files = self.files_from_api(env)?;
        Some(
            files
                .iter()
                .filter(|(name, size)| self.wants(name) && !self.present(name, *size, env))
                .map(|(_, size)| size)
                .sum(),
        )
    }

    /// `(path, size)` of every file of the repository at the revision.
    fn files_from_api(&self, env: &Env) -> Option<Vec<(String, u64)>> {
        let endpoint = env
            .get("HF_ENDPOINT")
            .filter(|e| !e.is_empty())
            .map_or("https://huggingface.co", String::as_str)
            .trim_end_matches('/');
        let url = format!(
            "{endpoint}/api/{}/{}/revision/{}?blobs=true",
            self.kind,
            self.repo,
            encode(&self.revision)
        );
        let token = self
            .token
            .clone()
            .or_else(|| env.get("HF_TOKEN").cloned())
            .or_else(|| env.get("HUGGING_FACE_HUB_TOKEN").cloned())
            .filter(|t| !t.is_empty());
        siblings(&api_get(&url, token.as_deref())?)
    }
}

/// The API's JSON, through curl (the token goes in on stdin, never on a
/// command line other users could read).
fn api_get(url: &str, token: Option<&str>) -> Option<Value> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("curl")
        .args(["-sSfL", "--max-time", "20", "-K", "-", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let config = token.map_or(String::new(), |t| {
        format!(
            "header = \"Authorization: Bearer {}\"\n",
            t.replace('"', "")
        )
    });
    child.stdin.take()?.write_all(config.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

/// `siblings: [{rfilename, size}]` (sizes come with `blobs=true`).
fn siblings(info: &Value) -> Option<Vec<(String, u64)>> {
    info.get("siblings")?
        .as_array()?
        .iter()
        .map(|s| {
            let name = s.get("rfilename")?.as_str()?.to_string();
            let size = s
                .get("size")
                .or_else(|| s.pointer("/lfs/size"))
                .and_then(Value::as_u64)?;
            Some((name, size))
        })
        .collect()
}

/// A path segment as Python's `quote(s, safe="")` writes it (the same
/// unreserved set as `encodeURIComponent`).
fn encode(s: &str) -> String {
    crate::util::url_encode(s)
}

fn is_commit(rev: &str) -> bool {
    rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit())
}

/// huggingface_hub's rule: a pattern ending in `/` means everything below.
fn pattern(p: &str) -> String {
    if p.ends_with('/') {
        format!("{p}*")
    } else {
        p.to_string()
    }
}

/// `fnmatch` as huggingface_hub uses it: `*` matches anything (`/` too),
/// `?` one character.
fn glob(pat: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pat.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some(pi);
                mark = ni;
                pi += 1;
            }
            Some(c) if *c == '?' || *c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ni = mark;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Refuses the download when what it still needs does not fit where it
/// lands; returns the bytes needed (for the message after a failure).
pub fn before(req: &Request, env: &Env) -> Result<Option<u64>, MethodError> {
    let Some(needed) = req.needed(env) else {
        return Ok(None);
    };
    let landing = req.landing(env);
    let space = disk::space_in(&landing, |k| env.get(k).cloned())
        .map_err(|e| MethodError::msg(format!("hf.download: {}: {e}", landing.display())))?;
    disk::check(&space, needed)
        .map_err(|s| MethodError::msg(format!("hf.download of {}: {s}", req.repo)))?;
    Ok(Some(needed))
}

/// After the CLI failed: when it ran out of disk (`[Errno 28]` / "No space
/// left on device"), removes this download's `.incomplete` files and fails
/// with the disk-full message; otherwise leaves the error as it is.
pub fn after_failure(
    req: &Request,
    env: &Env,
    needed: Option<u64>,
    err: MethodError,
) -> MethodError {
    let text = err.to_string();
    if !(text.contains("No space left on device") || text.contains("Errno 28")) {
        return err;
    }
    let landing = req.landing(env);
    let partial_dir = match &req.local_dir {
        Some(d) => d.join(".cache/huggingface/download"),
        None => req.cache_repo(env).join("blobs"),
    };
    let written = remove_incomplete(&partial_dir);
    let Ok(space) = disk::space(&landing) else {
        return err;
    };
    let shortage = disk::Shortage {
        mount: space.mount,
        bytes: needed.unwrap_or(written),
        free: space.free,
        at_least: needed.is_none(),
    };
    MethodError::msg(format!("hf.download of {} stopped: {shortage}", req.repo))
}

/// Deletes every `*.incomplete` file under `dir`; returns their bytes.
fn remove_incomplete(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut bytes = 0;
    for e in entries.flatten() {
        let (path, Ok(kind)) = (e.path(), e.file_type()) else {
            continue;
        };
        if kind.is_dir() {
            bytes += remove_incomplete(&path);
        } else if path.extension().is_some_and(|x| x == "incomplete") {
            bytes += e.metadata().map_or(0, |m| m.len());
            let _ = std::fs::remove_file(&path);
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn params_become_a_request() {
        let p = json!({ "_": ["org/m", "a.safetensors"], "local-dir": "models", "revision": "v2" });
        let r = request(&p, Path::new("/app")).unwrap();
        assert_eq!(r.repo, "org/m");
        assert_eq!(r.files, ["a.safetensors"]);
        assert_eq!(r.local_dir.as_deref(), Some(Path::new("/app/models")));
        assert_eq!((r.kind, r.revision.as_str()), ("models", "v2"));
        let d = request(
            &json!({ "_": "org/d", "repo-type": "dataset" }),
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(d.kind, "datasets");
        assert!(request(&json!({}), Path::new("/")).is_none());
    }

    #[test]
    fn globs_and_file_lists_pick_files_as_the_cli_does() {
        assert!(glob("*.safetensors", "unet/diffusion.safetensors"));
        assert!(glob("unet/*", "unet/a/b.bin"));
        assert!(glob("model-?.bin", "model-1.bin"));
        assert!(!glob("*.bin", "model.safetensors"));
        let r = request(
            &json!({ "_": ["o/m"], "include": ["*.safetensors", "vae/"], "exclude": "*fp32*" }),
            Path::new("/"),
        )
        .unwrap();
        assert!(r.wants("unet/x.safetensors") && r.wants("vae/config.json"));
        assert!(!r.wants("x.fp32.safetensors") && !r.wants("x.bin"));
    }

    #[test]
    fn the_cache_folder_follows_huggingface_hub() {
        let r = request(&json!({ "_": ["org/m"] }), Path::new("/")).unwrap();
        let env: Env = [("HF_HOME".to_string(), "/h".to_string())].into();
        assert_eq!(r.landing(&env), Path::new("/h/hub"));
        assert_eq!(r.cache_repo(&env), Path::new("/h/hub/models--org--m"));
        let sibs = siblings(&json!({ "siblings": [
            { "rfilename": "a.bin", "size": 5 },
            { "rfilename": "b.bin", "lfs": { "size": 7 } } ] }));
        assert_eq!(sibs, Some(vec![("a.bin".into(), 5), ("b.bin".into(), 7)]));
    }
}
