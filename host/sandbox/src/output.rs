//! Capture of a guest's stdout and stderr, capped.
//!
//! A guest may write any amount; the host keeps the first and the last half of the
//! cap and counts what it dropped in between. Keeping the tail matters: a panic
//! message is the last thing a crashing guest writes. Writes never fail, so a
//! guest flooding its output is not turned into a different failure.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi_io::streams::{OutputStream, StreamResult};

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
}

impl Capture {
    /// An empty capture keeping at most `cap` bytes.
    pub(crate) fn new(cap: usize) -> Self {
        Capture(Arc::new(Mutex::new(Captured {
            head: Vec::new(),
            tail: VecDeque::new(),
            half: cap / 2,
            dropped: 0,
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
        let room = captured.half.saturating_sub(captured.head.len());
        let (head, rest) = bytes.split_at(room.min(bytes.len()));
        captured.head.extend_from_slice(head);
        let half = captured.half;
        if rest.len() >= half {
            let evicted = captured.tail.len() + rest.len() - half;
            captured.dropped += evicted as u64;
            captured.tail.clear();
            captured.tail.extend(&rest[rest.len() - half..]);
        } else {
            let overflow = (captured.tail.len() + rest.len()).saturating_sub(half);
            captured.tail.drain(..overflow);
            captured.dropped += overflow as u64;
            captured.tail.extend(rest);
        }
    }

    /// Everything kept, as text, with a marker where bytes were dropped.
    pub(crate) fn render(&self) -> String {
        let captured = self.lock();
        let mut bytes = captured.head.clone();
        if captured.dropped > 0 {
            let marker = format!("\n[... {} bytes truncated ...]\n", captured.dropped);
            bytes.extend_from_slice(marker.as_bytes());
        }
        bytes.extend(captured.tail.iter());
        String::from_utf8_lossy(&bytes).into_owned()
    }
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
        let capture = Capture::new(16);
        capture.push(b"hello ");
        capture.push(b"world");
        assert_eq!(capture.render(), "hello world");
    }

    #[test]
    fn keeps_head_and_tail_and_marks_the_gap() {
        let capture = Capture::new(8);
        capture.push(b"abcd");
        capture.push(b"0123456789");
        capture.push(b"wxyz");
        assert_eq!(capture.render(), "abcd\n[... 10 bytes truncated ...]\nwxyz");
    }

    #[test]
    fn one_huge_write_keeps_its_own_tail() {
        let capture = Capture::new(4);
        capture.push(b"0123456789");
        assert_eq!(capture.render(), "01\n[... 6 bytes truncated ...]\n89");
    }

    #[test]
    fn invalid_utf8_is_rendered_lossily() {
        let capture = Capture::new(16);
        capture.push(&[0xff, b'o', b'k']);
        assert_eq!(capture.render(), "\u{fffd}ok");
    }
}
