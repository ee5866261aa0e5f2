//! BLAKE3 of a file's content, streamed in large chunks: one thread reads
//! the next chunk while the current one is hashed on every core, because
//! copying from the page cache costs as much as hashing (each alone would
//! leave a core idle). Memory stays at two chunks whatever the file's size.
//! Files are read, never mapped: a file truncated by its app while mapped
//! would kill the server with SIGBUS.

use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

/// Large enough for BLAKE3 to split across cores, small enough for the pass
/// to stay well under its memory budget.
const CHUNK: usize = 8 * 1024 * 1024;

/// The hex BLAKE3 of `path`'s content and the number of bytes read.
/// `bufs` are the chunk buffers, kept between files.
pub fn file(path: &Path, bufs: &mut Vec<Vec<u8>>) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    bufs.resize_with(2, Vec::new);
    for buf in bufs.iter_mut() {
        buf.resize(CHUNK, 0);
    }
    if file.metadata()?.len() < CHUNK as u64 {
        // One chunk: nothing to overlap.
        let n = fill(&mut file, &mut bufs[0])?;
        let hash = blake3::hash(&bufs[0][..n]).to_hex().to_string();
        return Ok((hash, n as u64));
    }
    pipelined(file, bufs)
}

/// Reads on a thread of its own while this one hashes, two chunks in flight.
fn pipelined(mut file: std::fs::File, bufs: &mut Vec<Vec<u8>>) -> std::io::Result<(String, u64)> {
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    let (full_tx, full_rx) = mpsc::sync_channel::<std::io::Result<(Vec<u8>, usize)>>(1);
    for buf in bufs.drain(..) {
        free_tx.send(buf).expect("receiver is alive");
    }
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            while let Ok(mut buf) = free_rx.recv() {
                let read = fill(&mut file, &mut buf).map(|n| (buf, n));
                let done = !matches!(read, Ok((_, n)) if n > 0);
                if full_tx.send(read).is_err() || done {
                    break;
                }
            }
            free_rx
        });
        let mut hasher = blake3::Hasher::new();
        let mut total = 0u64;
        let result = loop {
            let (buf, n) = match full_rx.recv().expect("the reader answers until the end") {
                Ok(read) => read,
                Err(e) => break Err(e),
            };
            if n == 0 {
                bufs.push(buf);
                break Ok((hasher.finalize().to_hex().to_string(), total));
            }
            hasher.update_rayon(&buf[..n]);
            total += n as u64;
            let _ = free_tx.send(buf);
        };
        drop(free_tx);
        // Buffers the reader did not take back are kept for the next file.
        if let Ok(rx) = reader.join() {
            bufs.extend(rx.try_iter());
        }
        result
    })
}

/// Reads until `buf` is full or the file ends, so chunks stay large.
fn fill(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_blake3_of_the_whole_content_across_chunk_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        let content: Vec<u8> = (0..CHUNK * 2 + 12345)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        std::fs::write(&path, &content).unwrap();
        let mut bufs = Vec::new();
        let (hash, n) = file(&path, &mut bufs).unwrap();
        assert_eq!(n, content.len() as u64);
        assert_eq!(hash, blake3::hash(&content).to_hex().to_string());
        std::fs::write(&path, &content[1..]).unwrap();
        assert_ne!(file(&path, &mut bufs).unwrap().0, hash);
        // An empty file, and the buffers are kept for the next file.
        std::fs::write(&path, b"").unwrap();
        assert_eq!(
            file(&path, &mut bufs).unwrap().0,
            blake3::hash(b"").to_hex().to_string()
        );
        assert!(!bufs.is_empty());
    }
}
