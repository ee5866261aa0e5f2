//! Turns a terminal byte stream into plain text for `on` matching: decodes
//! UTF-8 across chunk boundaries and drops ANSI escape sequences (CSI, OSC,
//! two-byte ESC), even when a sequence is split between chunks.

#[derive(Default, Clone, Copy, PartialEq)]
enum State {
    #[default]
    Text,
    Esc,
    /// `ESC (`/`ESC )`: a charset designation, one more byte follows.
    Charset,
    Csi,
    Osc,
    OscEsc,
}

/// The printable text of a complete piece of terminal output.
pub fn strip(bytes: &[u8]) -> String {
    Stripper::new().feed(bytes)
}

/// Stateful stripper; feed it chunks in order.
#[derive(Default)]
pub struct Stripper {
    state: State,
    pending: Vec<u8>,
}

impl Stripper {
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the printable text of `chunk` (carrying partial state over).
    pub fn feed(&mut self, chunk: &[u8]) -> String {
        self.pending.extend_from_slice(chunk);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let bytes: Vec<u8> = self.pending.drain(..valid).collect();
        let text = String::from_utf8_lossy(&bytes);
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            self.state = match (self.state, c) {
                (State::Text, '\x1b') => State::Esc,
                (State::Text, c) => {
                    if c != '\r' && (c == '\n' || c == '\t' || !c.is_control()) {
                        out.push(c);
                    }
                    State::Text
                }
                (State::Esc, '[') => State::Csi,
                (State::Esc, ']') => State::Osc,
                (State::Esc, '(' | ')') => State::Charset,
                (State::Charset, _) => State::Text,
                (State::Esc, _) => State::Text,
                (State::Csi, c) if ('\x40'..='\x7e').contains(&c) => State::Text,
                (State::Csi, _) => State::Csi,
                (State::Osc, '\x07') => State::Text,
                (State::Osc, '\x1b') => State::OscEsc,
                (State::Osc, _) => State::Osc,
                (State::OscEsc, '\\') => State::Text,
                (State::OscEsc, _) => State::Osc,
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colour_split_across_chunks() {
        let mut s = Stripper::new();
        let mut out = s.feed(b"\x1b[3");
        out += &s.feed(b"2mhttp://127");
        out += &s.feed(b".0.0.1\x1b[0m\r\n");
        assert_eq!(out, "http://127.0.0.1\n");
    }

    #[test]
    fn strips_cursor_modes_charsets_and_titles() {
        let mut s = Stripper::new();
        let out = s.feed(b"\x1b[?25l\x1b(Bready\x1b]0;title\x07 now\x1b[K\n");
        assert_eq!(out, "ready now\n");
    }

    #[test]
    fn keeps_utf8_split_across_chunks() {
        let mut s = Stripper::new();
        let bytes = "héllo".as_bytes();
        let mut out = s.feed(&bytes[..2]);
        out += &s.feed(&bytes[2..]);
        assert_eq!(out, "héllo");
    }
}
