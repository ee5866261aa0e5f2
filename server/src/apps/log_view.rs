//! Reading a run's log a page at a time, for people: logs reach 16 MiB (plus
//! the rotated part), too much to send to a phone at once, so the viewer
//! gets the tail and asks for earlier pages. The rotated `.1` part and the
//! current file read as one. Terminal escapes are stripped and carriage
//! returns resolved (a progress bar shows its last state, not 300 frames).

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::error::{AppsError, Result};
use super::store::RunId;
use super::Apps;

/// A page of a run's log: bytes `start..end` of `total`, as plain text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogChunk {
    pub start: u64,
    pub end: u64,
    pub total: u64,
    pub text: String,
}

impl Apps {
    /// Up to `max` bytes of the run's log ending at `end` (the end of the
    /// log when `None`), starting on a line boundary where possible.
    pub async fn log_chunk(&self, run_id: RunId, end: Option<u64>, max: u64) -> Result<LogChunk> {
        let rec = self.run_record(run_id).await?;
        let parts = [format!("{}.1", rec.log_path), rec.log_path.clone()];
        let mut sizes = [0u64; 2];
        for (i, p) in parts.iter().enumerate() {
            sizes[i] = tokio::fs::metadata(p).await.map_or(0, |m| m.len());
        }
        let total = sizes[0] + sizes[1];
        let end = end.unwrap_or(total).min(total);
        let mut start = end.saturating_sub(max);
        let mut bytes = Vec::with_capacity((end - start) as usize);
        let mut offset = 0u64;
        for (p, size) in parts.iter().zip(sizes) {
            let (from, to) = (start.max(offset), end.min(offset + size));
            if from < to {
                let mut f = tokio::fs::File::open(p)
                    .await
                    .map_err(AppsError::io(format!("reading the log {p}")))?;
                f.seek(std::io::SeekFrom::Start(from - offset))
                    .await
                    .map_err(AppsError::io(format!("reading the log {p}")))?;
                let mut buf = vec![0; (to - from) as usize];
                f.read_exact(&mut buf)
                    .await
                    .map_err(AppsError::io(format!("reading the log {p}")))?;
                bytes.extend(buf);
            }
            offset += size;
        }
        // A page that starts mid-line starts at the next line instead.
        if start > 0 {
            if let Some(nl) = bytes.iter().position(|b| *b == b'\n') {
                if nl + 1 < bytes.len() {
                    bytes.drain(..=nl);
                    start += nl as u64 + 1;
                }
            }
        }
        Ok(LogChunk {
            start,
            end,
            total,
            text: strip_ansi(&bytes),
        })
    }
}

/// Terminal output as plain text: a line redrawn with `\r` kept as its
/// last drawing, `\r\n` as a line break, escapes removed (the engine's
/// stripper, the one `on` handlers match against).
pub fn strip_ansi(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            engine::ansi::strip(line.rsplit('\r').next().unwrap_or(line).as_bytes())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_go_and_redrawn_lines_keep_their_last_state() {
        assert_eq!(
            strip_ansi(b"\x1b[32mRunning on http://x\x1b[0m\r\nnext"),
            "Running on http://x\nnext"
        );
        assert_eq!(strip_ansi(b"10%\r50%\r100%\r\ndone"), "100%\ndone");
        assert_eq!(strip_ansi(b"\x1b]0;title\x07a\x1b]8;;u\x1b\\b"), "ab");
        assert_eq!(strip_ansi("héllo \x1b[1;31mü".as_bytes()), "héllo ü");
    }
}
