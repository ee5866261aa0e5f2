//! Download progress read off a terminal stream. Installers already draw
//! their own bars in the PTY (pip, uv, curl, git, Hugging Face's tqdm); this
//! module reads those bars back so the dashboard can show one progress bar
//! per run without every tool having to report to us.
//!
//! Bars redraw in place with `\r`, so the stream is cut at `\r` and `\n`
//! and each finished segment is tried against the known formats.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use regex::Regex;
use serde::{Deserialize, Serialize};

/// One reading of a download or extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// What is moving: a file or package name, or the tool's own label.
    pub label: String,
    /// Bytes done (objects for git when it gives no byte count).
    pub done: u64,
    pub total: Option<u64>,
    /// Bytes per second, as the tool reports it or as measured between readings.
    pub rate: Option<u64>,
    /// Seconds left.
    pub eta: Option<u64>,
}

impl Progress {
    /// Completion between 0 and 1, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        self.total
            .filter(|t| *t > 0)
            .map(|t| (self.done as f64 / t as f64).min(1.0))
    }

    fn is_complete(&self) -> bool {
        self.total.is_some_and(|t| self.done >= t)
    }
}

/// How often a stream may report (the last reading of a download always does).
const EVERY: Duration = Duration::from_millis(250);
/// Longest unfinished segment kept while waiting for its `\r`/`\n`.
const MAX_SEGMENT: usize = 4096;
/// How much of a chunk's finished segments is read: bars redraw in place,
/// so only the newest few matter, and a flood of output costs no more
/// than this per chunk.
const WINDOW: usize = 16 * 1024;

/// Feeds on raw terminal bytes and yields throttled [`Progress`] readings.
#[derive(Default)]
pub struct ProgressReader {
    /// Bytes after the last `\r`/`\n` seen (a segment still being written).
    partial: Vec<u8>,
    /// The file a following pip bar belongs to (`Downloading x.whl (18 MB)`).
    pending_label: Option<String>,
    last: Option<(Instant, Progress)>,
}

impl ProgressReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// The newest reading in `chunk` worth reporting, if any.
    pub fn feed(&mut self, chunk: &[u8]) -> Option<Progress> {
        let Some(end) = chunk.iter().rposition(|b| matches!(b, b'\r' | b'\n')) else {
            self.keep(chunk);
            return None;
        };
        let finished = &chunk[..end];
        let text = if finished.len() >= WINDOW {
            String::from_utf8_lossy(&finished[finished.len() - WINDOW..]).into_owned()
        } else {
            let mut bytes = std::mem::take(&mut self.partial);
            bytes.extend_from_slice(finished);
            String::from_utf8_lossy(&bytes).into_owned()
        };
        self.partial.clear();
        self.keep(&chunk[end + 1..]);
        self.newest(&text).and_then(|p| self.throttle(p))
    }

    /// Remembers the unfinished tail, capped at [`MAX_SEGMENT`].
    fn keep(&mut self, tail: &[u8]) {
        self.partial.extend_from_slice(tail);
        let over = self.partial.len().saturating_sub(MAX_SEGMENT);
        self.partial.drain(..over);
    }

    /// The last bar among `text`'s segments, with the pip file label that
    /// came before it.
    fn newest(&mut self, text: &str) -> Option<Progress> {
        // Multi-line bars (uv's) move the cursor between rows: each move
        // starts a new segment, as a newline would.
        static MOVES: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"\x1b\[[0-9;]*[ABEFHJK]").expect("cursor regex"));
        let rows = MOVES.replace_all(text, "\n");
        let mut newest = None;
        for segment in rows.split(['\r', '\n']).filter(|s| might_be_progress(s)) {
            let line = strip_ansi(segment);
            if let Some(label) = pip_download_label(&line) {
                self.pending_label = Some(label);
            } else if let Some(p) = parse(&line, self.pending_label.as_deref()) {
                newest = Some(p);
            }
        }
        newest
    }

    /// Fills in a measured rate and ETA, and drops readings that come too soon.
    fn throttle(&mut self, mut p: Progress) -> Option<Progress> {
        let now = Instant::now();
        if let Some((at, prev)) = &self.last {
            let elapsed = now.duration_since(*at);
            if elapsed < EVERY && !p.is_complete() && prev.label == p.label {
                return None;
            }
            if p.rate.is_none() && prev.label == p.label && p.done > prev.done {
                let secs = elapsed.as_secs_f64().max(1e-3);
                p.rate = Some(((p.done - prev.done) as f64 / secs) as u64);
            }
        }
        if p.eta.is_none() {
            p.eta = match (p.total, p.rate) {
                (Some(t), Some(r)) if r > 0 && t >= p.done => Some((t - p.done) / r),
                _ => None,
            };
        }
        self.last = Some((now, p.clone()));
        Some(p)
    }
}

/// Every format has a digit and one of `/`, `%`, `:`; most output lines
/// are ruled out here without a regex.
fn might_be_progress(segment: &str) -> bool {
    let b = segment.as_bytes();
    b.iter().any(u8::is_ascii_digit) && b.iter().any(|c| matches!(c, b'/' | b'%' | b':'))
        || segment.contains("Downloading ")
}

fn strip_ansi(s: &str) -> String {
    crate::ansi::strip(s.as_bytes()).trim().to_string()
}

/// `Downloading numpy-2.1.0-cp311-…whl (16.3 MB)` → `numpy-2.1.0-cp311-…whl`.
fn pip_download_label(line: &str) -> Option<String> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^Downloading (\S+?)(?: \([\d.]+ [kMG]?B\))?$").expect("pip label regex")
    });
    let c = RE.captures(line)?;
    let name = c[1].rsplit('/').next().unwrap_or(&c[1]);
    Some(name.to_string())
}

/// Tries each known bar format.
fn parse(line: &str, pip_label: Option<&str>) -> Option<Progress> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    pip_bar(line, pip_label)
        .or_else(|| tqdm_bar(line))
        .or_else(|| git_bar(line))
        .or_else(|| curl_meter(line))
        .or_else(|| uv_bar(line))
}

/// pip (rich): `━━━━━━━━━━╸━━━━━━ 12.3/45.6 MB 10.2 MB/s eta 0:00:04`.
fn pip_bar(line: &str, label: Option<&str>) -> Option<Progress> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"([\d.]+)/([\d.]+) ([kMG]?B|bytes) ([\d.]+) ([kMG]?B)/s eta (\d+:\d\d:\d\d|-:--:--)",
        )
        .expect("pip bar regex")
    });
    let c = RE.captures(line)?;
    let unit = decimal_unit(&c[3])?;
    Some(Progress {
        label: label.unwrap_or("download").to_string(),
        done: scaled(&c[1], unit)?,
        total: Some(scaled(&c[2], unit)?),
        rate: scaled(&c[4], decimal_unit(&c[5])?),
        eta: clock(&c[6]),
    })
}

/// tqdm (Hugging Face): `model.safetensors:  45%|████▌     | 1.2G/2.6G [00:10<00:12, 110MB/s]`.
fn tqdm_bar(line: &str) -> Option<Progress> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(?:(.*?):\s*)?\d{1,3}%\|[^|]*\|\s*([\d.]+)([kMGT]?)B?/([\d.]+)([kMGT]?)B?\s*\[[\d:]+<([\d:]+|\?)(?:,\s*([\d.]+)([kMGT]?)B/s)?",
        )
        .expect("tqdm regex")
    });
    let c = RE.captures(line)?;
    let label = c.get(1).map_or("download", |m| m.as_str().trim());
    Some(Progress {
        label: label.to_string(),
        done: scaled(&c[2], si(&c[3]))?,
        total: Some(scaled(&c[4], si(&c[5]))?),
        rate: c.get(7).and_then(|r| scaled(r.as_str(), si(&c[8]))),
        eta: clock(&c[6]),
    })
}

/// git: `Receiving objects:  45% (450/1000), 1.20 MiB | 2.00 MiB/s`.
fn git_bar(line: &str) -> Option<Progress> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(?:remote: )?(Receiving objects|Resolving deltas|Updating files|Counting objects|Compressing objects):\s+\d{1,3}% \((\d+)/(\d+)\)(?:, ([\d.]+) ([KMG]i?B)(?: \| ([\d.]+) ([KMG]i?B)/s)?)?",
        )
        .expect("git regex")
    });
    let c = RE.captures(line)?;
    let (done, total): (u64, u64) = (c[2].parse().ok()?, c[3].parse().ok()?);
    // Objects are all git knows the total of; bytes so far only make a rate.
    Some(Progress {
        label: c[1].to_string(),
        done,
        total: Some(total),
        rate: c
            .get(6)
            .and_then(|r| scaled(r.as_str(), binary_unit(&c[7])?)),
        eta: None,
    })
}

/// curl's meter: `% Total % Received % Xferd Average Dload Upload Total Spent Left Speed`.
fn curl_meter(line: &str) -> Option<Progress> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(\d{1,3})\s+(\d+(?:\.\d+)?[kMGT]?)\s+(\d{1,3})\s+(\d+(?:\.\d+)?[kMGT]?)\s+\d{1,3}\s+\S+\s+\S+\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+(?:\.\d+)?[kMGT]?)$",
        )
        .expect("curl regex")
    });
    let c = RE.captures(line)?;
    let total = curl_size(&c[2])?;
    Some(Progress {
        label: "download".into(),
        done: curl_size(&c[4])?,
        total: (total > 0).then_some(total),
        rate: curl_size(&c[8]),
        eta: clock(&c[7]),
    })
}

/// uv (indicatif): `numpy ------------------------------ 1.14 MiB/15.76 MiB`.
fn uv_bar(line: &str) -> Option<Progress> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|\s)(\S+)\s+[-=>#━─█░▉-▏]{4,}\s+([\d.]+) ?([KMGT]?i?B)/([\d.]+) ?([KMGT]?i?B)(?:\s|$)")
            .expect("uv regex")
    });
    let c = RE.captures_iter(line).last()?;
    Some(Progress {
        label: c[1].to_string(),
        done: scaled(&c[2], binary_unit(&c[3])?)?,
        total: Some(scaled(&c[4], binary_unit(&c[5])?)?),
        rate: None,
        eta: None,
    })
}

fn scaled(number: &str, unit: u64) -> Option<u64> {
    number.parse::<f64>().ok().map(|n| (n * unit as f64) as u64)
}

fn decimal_unit(u: &str) -> Option<u64> {
    Some(match u {
        "bytes" | "B" => 1,
        "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return None,
    })
}

fn binary_unit(u: &str) -> Option<u64> {
    Some(match u.trim_end_matches('B').trim_end_matches('i') {
        "" => 1,
        "K" | "k" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return None,
    })
}

/// tqdm's suffixes are decimal (`unit_scale=True`).
fn si(u: &str) -> u64 {
    match u {
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        _ => 1,
    }
}

/// curl prints `512`, `12.3M`, `1024k` (binary multiples).
fn curl_size(s: &str) -> Option<u64> {
    let (num, unit) = match s.chars().last()? {
        c @ ('k' | 'M' | 'G' | 'T') => (&s[..s.len() - 1], binary_unit(&c.to_string())?),
        _ => (s, 1),
    };
    scaled(num, unit)
}

/// `0:00:04`, `00:12`, `--:--:--` → seconds.
fn clock(s: &str) -> Option<u64> {
    s.split(':')
        .map(|part| part.parse::<u64>().ok())
        .try_fold(0u64, |acc, part| Some(acc * 60 + part?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Progress {
        parse(line, None).unwrap_or_else(|| panic!("no progress in {line:?}"))
    }

    #[test]
    fn pip_bar_takes_its_file_from_the_line_before() {
        let mut r = ProgressReader::new();
        let p = r
            .feed("  Downloading numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl (16.3 MB)\r\n   \x1b[38;5;197m━━━━━━━━\x1b[0m 4.2/16.3 MB \x1b[31m10.5 MB/s\x1b[0m eta \x1b[36m0:00:02\x1b[0m\r".as_bytes())
            .unwrap();
        assert_eq!(p.label, "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl");
        assert_eq!((p.done, p.total), (4_200_000, Some(16_300_000)));
        assert_eq!((p.rate, p.eta), (Some(10_500_000), Some(2)));
    }

    #[test]
    fn tqdm_curl_git_and_uv_bars() {
        let t = one("model.safetensors:  45%|████▌     | 1.2G/2.6G [00:10<00:12, 110MB/s]");
        assert_eq!(t.label, "model.safetensors");
        assert_eq!(
            (t.done, t.total, t.rate, t.eta),
            (
                1_200_000_000,
                Some(2_600_000_000),
                Some(110_000_000),
                Some(12)
            )
        );

        let c =
            one(" 45 1024M   45  461M    0     0  50.2M      0  0:00:20  0:00:09  0:00:11 52.1M");
        assert_eq!((c.done, c.total), (461 << 20, Some(1024 << 20)));
        assert_eq!(
            (c.rate, c.eta),
            (Some((52.1 * (1 << 20) as f64) as u64), Some(11))
        );

        let g = one("Receiving objects:  45% (450/1000), 1.20 MiB | 2.00 MiB/s");
        assert_eq!(
            (g.label.as_str(), g.done, g.total, g.rate),
            ("Receiving objects", 450, Some(1000), Some(2 << 20))
        );

        let u = one("numpy ------------------------------ 1.14 MiB/15.76 MiB");
        assert_eq!(u.label, "numpy");
        assert_eq!(u.total, Some((15.76 * (1 << 20) as f64) as u64));
    }

    #[test]
    fn uv_rows_are_read_apart_when_the_cursor_moves_between_them() {
        let mut r = ProgressReader::new();
        let screen = "\x1b[37m⠙\x1b[0m \x1b[2mPreparing packages...\x1b[0m (0/2)\x1b[1B\x1b[2K\
                      numpy                ------------------------------ 7.88 KiB/16.13 MiB\x1b[1A\r";
        let p = r.feed(screen.as_bytes()).unwrap();
        assert_eq!(p.label, "numpy");
        assert_eq!(p.total, Some((16.13 * (1u64 << 20) as f64) as u64));
        assert_eq!(p.done, (7.88 * 1024.0) as u64);
    }

    #[test]
    fn ordinary_output_is_not_progress() {
        for line in [
            "Collecting numpy",
            "Successfully installed numpy-2.1.0",
            "Running on local URL:  http://127.0.0.1:7860",
            "  100  200  300",
            "50% done",
        ] {
            assert_eq!(parse(line, None), None, "{line}");
        }
    }

    #[test]
    fn readings_are_throttled_but_the_last_one_always_comes() {
        let mut r = ProgressReader::new();
        assert!(r.feed(b"Receiving objects:  10% (10/100)\r").is_some());
        assert!(r.feed(b"Receiving objects:  20% (20/100)\r").is_none());
        let last = r
            .feed(b"Receiving objects: 100% (100/100), done.\r\n")
            .unwrap();
        assert_eq!(last.fraction(), Some(1.0));
    }

    #[test]
    fn a_flood_of_output_is_read_only_at_its_end() {
        let mut r = ProgressReader::new();
        let mut chunk = "log line 1/2 done\n".repeat(10_000).into_bytes();
        chunk.extend_from_slice(b"weights.bin:  10%|#   | 1.00G/10.0G [00:01<00:09, 1.00GB/s]\r");
        chunk.extend_from_slice(&[b'x'; 100_000]);
        let p = r.feed(&chunk).unwrap();
        assert_eq!((p.label.as_str(), p.done), ("weights.bin", 1_000_000_000));
        assert!(r.partial.len() <= MAX_SEGMENT);
    }

    #[test]
    fn a_bar_split_across_chunks_is_read_once_whole() {
        let mut r = ProgressReader::new();
        assert!(r.feed(b"file.bin:  50%|#####     | 5").is_none());
        let p = r.feed(b"0M/100M [00:01<00:01, 50MB/s]\r").unwrap();
        assert_eq!((p.done, p.total), (50_000_000, Some(100_000_000)));
    }

    #[test]
    fn rate_and_eta_are_measured_when_the_tool_gives_none() {
        let mut r = ProgressReader::new();
        r.feed(b"torch ------------------------------ 100 MiB/1000 MiB\n");
        std::thread::sleep(EVERY + Duration::from_millis(20));
        let p = r
            .feed(b"torch ------------------------------ 200 MiB/1000 MiB\n")
            .unwrap();
        assert!(p.rate.is_some_and(|r| r > 0), "{p:?}");
        assert!(p.eta.is_some(), "{p:?}");
    }
}
