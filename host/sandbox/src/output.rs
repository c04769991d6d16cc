//! Capture of a guest's stdout and stderr, capped.
//!
//! A guest may write any amount; the host keeps the first and the last half of the
//! cap and counts what it dropped in between. Keeping the tail matters: a panic
//! message is the last thing a crashing guest writes. Writes never fail, so a
//! guest flooding its output is not turned into a different failure. Secrets are
//! redacted as the bytes arrive, before anything is dropped: a stream holds back
//! the last bytes that could still begin a secret until it knows.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi_io::streams::{OutputStream, StreamResult};

use crate::redact::Redactor;

/// Default cap on each captured stream: 64 KiB.
pub const DEFAULT_OUTPUT_CAP: usize = 64 << 10;

/// Largest write the guest is told it may make at once.
const WRITE_BUDGET: usize = 64 << 10;

/// One captured stream, shared between the store (writer) and the host (reader).
#[derive(Clone, Debug)]
pub(crate) struct Capture(Arc<Mutex<Captured>>);

#[derive(Debug)]
struct Captured {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    half: usize,
    dropped: u64,
    redactor: Redactor,
    /// Bytes written but not yet redacted: they may begin a secret.
    pending: Vec<u8>,
}

impl Capture {
    /// An empty capture keeping at most `cap` bytes, with `redactor`'s secrets
    /// redacted.
    pub(crate) fn new(cap: usize, redactor: Redactor) -> Self {
        Capture(Arc::new(Mutex::new(Captured {
            head: Vec::new(),
            tail: VecDeque::new(),
            half: cap / 2,
            dropped: 0,
            redactor,
            pending: Vec::new(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Captured> {
        // A poisoned lock only means a writer panicked mid-push; the bytes are still
        // the best record we have.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, bytes: &[u8]) {
        let mut captured = self.lock();
        if captured.redactor.is_empty() {
            captured.keep(bytes);
            return;
        }
        let mut pending = std::mem::take(&mut captured.pending);
        pending.extend_from_slice(bytes);
        let decided = pending.len().saturating_sub(captured.redactor.holdback());
        let mut redacted = Vec::with_capacity(decided);
        let consumed = captured
            .redactor
            .redact_into(&pending, decided, &mut redacted);
        captured.keep(&redacted);
        pending.drain(..consumed);
        captured.pending = pending;
    }

    /// Everything kept, as text, with a marker where bytes were dropped (bytes
    /// still held back are redacted and kept as a write would keep them).
    pub(crate) fn render(&self) -> String {
        let captured = self.lock();
        let mut view = Captured {
            head: captured.head.clone(),
            tail: captured.tail.clone(),
            half: captured.half,
            dropped: captured.dropped,
            redactor: Redactor::default(),
            pending: Vec::new(),
        };
        if !captured.pending.is_empty() {
            let pending = &captured.pending;
            let mut rest = Vec::new();
            captured
                .redactor
                .redact_into(pending, pending.len(), &mut rest);
            view.keep(&rest);
        }
        let mut bytes = view.head;
        if view.dropped > 0 {
            bytes.extend_from_slice(truncation_marker(view.dropped).as_bytes());
        }
        bytes.extend(view.tail);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Captured {
    /// Keeps `bytes` (already redacted): the head fills first, then the tail keeps
    /// the last half of the cap.
    fn keep(&mut self, bytes: &[u8]) {
        let room = self.half.saturating_sub(self.head.len());
        let (head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(head);
        let half = self.half;
        if rest.len() >= half {
            let evicted = self.tail.len() + rest.len() - half;
            self.dropped += evicted as u64;
            self.tail.clear();
            self.tail.extend(&rest[rest.len() - half..]);
        } else {
            let overflow = (self.tail.len() + rest.len()).saturating_sub(half);
            self.tail.drain(..overflow);
            self.dropped += overflow as u64;
            self.tail.extend(rest);
        }
    }
}

/// What marks the place where `dropped` bytes were cut out.
fn truncation_marker(dropped: u64) -> String {
    format!("\n[... {dropped} bytes truncated ...]\n")
}

/// `text` cut to at most about `max` bytes: its first and last halves, with the
/// cut marked as in captured output (characters are never split).
pub(crate) fn clip(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut head_end = max / 2;
    while !text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = text.len() - max / 2;
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    let dropped = (tail_start - head_end) as u64;
    let marker = truncation_marker(dropped);
    let mut clipped = String::with_capacity(head_end + marker.len() + text.len() - tail_start);
    clipped.push_str(&text[..head_end]);
    clipped.push_str(&marker);
    clipped.push_str(&text[tail_start..]);
    Cow::Owned(clipped)
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi_io::async_trait]
impl wasmtime_wasi_io::poll::Pollable for Capture {
    async fn ready(&mut self) {}
}

impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

impl tokio::io::AsyncWrite for Capture {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_under_the_cap() {
        let capture = Capture::new(16, Redactor::default());
        capture.push(b"hello ");
        capture.push(b"world");
        assert_eq!(capture.render(), "hello world");
    }

    #[test]
    fn keeps_head_and_tail_and_marks_the_gap() {
        let capture = Capture::new(8, Redactor::default());
        capture.push(b"abcd");
        capture.push(b"0123456789");
        capture.push(b"wxyz");
        assert_eq!(capture.render(), "abcd\n[... 10 bytes truncated ...]\nwxyz");
    }

    #[test]
    fn one_huge_write_keeps_its_own_tail() {
        let capture = Capture::new(4, Redactor::default());
        capture.push(b"0123456789");
        assert_eq!(capture.render(), "01\n[... 6 bytes truncated ...]\n89");
    }

    #[test]
    fn invalid_utf8_is_rendered_lossily() {
        let capture = Capture::new(16, Redactor::default());
        capture.push(&[0xff, b'o', b'k']);
        assert_eq!(capture.render(), "\u{fffd}ok");
    }

    #[test]
    fn secrets_are_redacted_before_the_cut() {
        let capture = Capture::new(16, Redactor::new(["s3cr3t"]));
        // Written a byte at a time, cut in the middle by the truncation.
        for byte in b"aaaaaas3cr3tbbbbbbbbbbbbbbbs3cr3t".iter() {
            capture.push(&[*byte]);
        }
        let rendered = capture.render();
        assert!(!rendered.contains("cr3"), "{rendered}");
        let whole = Capture::new(1024, Redactor::new(["s3cr3t"]));
        whole.push(b"a s3c");
        whole.push(b"r3t b s3");
        assert_eq!(whole.render(), "a [REDACTED] b s3");
        whole.push(b"cr3t");
        assert_eq!(whole.render(), "a [REDACTED] b [REDACTED]");
    }

    #[test]
    fn clip_keeps_head_and_tail_on_character_boundaries() {
        assert_eq!(clip("short", 8), "short");
        let clipped = clip("ééééé-0123456789-ààààà", 10);
        assert!(clipped.starts_with("éé\n[... "), "{clipped}");
        assert!(clipped.ends_with("...]\nàà"), "{clipped}");
    }
}
