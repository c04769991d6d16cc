//! Hostile tasks for wasmtasks: each one attacks the sandbox a single way (an
//! endless loop, unbounded memory, a panic, a stack overflow, filesystem,
//! environment and network access, output floods, sleeping past a deadline, state
//! left behind for a later attempt, reading another component's configuration,
//! leaking a secret (also escaped, or where output is cut), huge errors, numbers past
//! every machine type (`echo`), HTTP
//! requests to origins it was not granted or past its limits) so the host's tests can check that fuel, timeouts, memory caps, fresh
//! instances, the capability-free WASI context, the HTTP allow-list and redaction
//! contain it. Access that the sandbox refuses is reported as `hostile.Denied`.
#![warn(missing_docs)]

use std::fmt;

/// A refused filesystem, environment or network access, with the OS error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Denied {}

#[wasmtasks_guest::component]
mod tasks {
    use std::hint::black_box;
    use std::io::Write;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use wasmtasks_guest::task;

    use super::Denied;

    const MIB: usize = 1 << 20;
    const LINE: usize = 64;

    /// Loops forever; only fuel or the deadline stops it.
    #[task]
    pub fn spin() {
        let mut counter: u64 = 0;
        loop {
            counter = black_box(counter.wrapping_add(1));
        }
    }

    /// Allocates and writes 1 MiB chunks forever; only the memory cap stops it.
    #[task]
    pub fn memory_bomb() {
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        loop {
            chunks.push(black_box(vec![0xA5; MIB]));
        }
    }

    /// Panics with `message` (a trap in the component, built with `panic = "abort"`).
    #[task]
    pub fn panic(message: String) {
        panic!("{message}");
    }

    /// Recurses `depth` calls deep and returns `depth`; a large depth overflows the
    /// wasm stack (the host's limit, not the shadow stack in linear memory).
    #[task]
    pub fn recurse(depth: u64) -> u64 {
        descend(black_box(depth))
    }

    /// One wasm frame per level. Nothing is address-taken (no `black_box` here: on
    /// wasm it spills through the shadow stack), so the frames live on the wasm
    /// stack only; using the call's result in `saturating_add` keeps the call out of
    /// tail position and out of LLVM's accumulator-to-loop transformation.
    #[inline(never)]
    fn descend(depth: u64) -> u64 {
        if depth == 0 {
            return 0;
        }
        descend(depth - 1).saturating_add(1)
    }

    /// Reads the file at `path`; the sandbox preopens no directory.
    #[task]
    pub fn read_file(path: String) -> Result<String, Denied> {
        std::fs::read_to_string(&path)
            .map_err(|error| Denied(format!("cannot read {path:?}: {error}")))
    }

    /// Every environment variable the component sees (the host gives none).
    #[task]
    pub fn env() -> Vec<(String, String)> {
        std::env::vars_os()
            .map(|(name, value)| {
                (
                    name.to_string_lossy().into_owned(),
                    value.to_string_lossy().into_owned(),
                )
            })
            .collect()
    }

    /// The environment variable `name`.
    #[task]
    pub fn read_env(name: String) -> Result<String, Denied> {
        std::env::var(&name).map_err(|error| {
            Denied(format!(
                "cannot read environment variable {name:?}: {error}"
            ))
        })
    }

    /// Opens a TCP connection to `addr` (`host:port`); the sandbox has no network.
    #[task]
    pub fn connect(addr: String) -> Result<String, Denied> {
        let stream = std::net::TcpStream::connect(&addr)
            .map_err(|error| Denied(format!("cannot connect to {addr:?}: {error}")))?;
        let peer = stream
            .peer_addr()
            .map_or_else(|_| addr.clone(), |peer| peer.to_string());
        Ok(format!("connected to {peer}"))
    }

    /// Writes `bytes` bytes of `x` lines to `stream` (`"stdout"` or `"stderr"`,
    /// anything else writes nothing), ignoring write errors; returns the bytes written.
    #[task]
    pub fn flood(stream: String, bytes: u64) -> u64 {
        match stream.as_str() {
            "stdout" => write_lines(&mut std::io::stdout().lock(), bytes),
            "stderr" => write_lines(&mut std::io::stderr().lock(), bytes),
            _ => 0,
        }
    }

    /// Sleeps `ms` milliseconds, then returns `ms`.
    #[task]
    pub fn sleep_ms(ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    /// Returns `value` as it came: JSON of any shape, with integers no 64-bit
    /// float or integer holds, back across the host's JSON boundary.
    #[task]
    pub fn echo(value: serde_json::Value) -> serde_json::Value {
        value
    }

    /// Increments a counter in the component's static memory and returns its new
    /// value: 1 on every attempt, since each attempt gets a fresh instance.
    #[task]
    pub fn counter() -> u32 {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        COUNTER.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The configuration value `key`, e.g. a key only another component was given:
    /// the host passes a component its own values only.
    #[task]
    pub fn read_config(key: String) -> Result<String, Denied> {
        wasmtasks_guest::config::get(&key)
            .ok_or_else(|| Denied(format!("no configuration value {key:?}")))
    }

    /// Reads the configuration value `key` and leaks it every way a task can: to
    /// stdout, stderr, a log line, and its return value, or (with `fail`) its error.
    #[task]
    pub fn leak_config(key: String, fail: bool) -> Result<String, Denied> {
        let value = read_config(key)?;
        println!("stdout: {value}");
        eprintln!("stderr: {value}");
        wasmtasks_guest::log::info(&format!("log: {value}"));
        if fail {
            Err(Denied(format!("error: {value}")))
        } else {
            Ok(format!("returned: {value}"))
        }
    }

    /// Reads the configuration value `key` and leaks it in the forms redaction must
    /// see through: `Debug`-escaped on stderr, JSON-escaped in a log line, on stdout
    /// at byte `cut_at` followed by a flood (so output truncation may cut it in
    /// two), and in the panic of an `unwrap()` of `Err(value)`.
    #[task]
    pub fn leak_escaped(key: String, cut_at: u64) -> Result<String, Denied> {
        let value = read_config(key)?;
        eprintln!("debug: {value:?}");
        wasmtasks_guest::log::info(&format!("log: {value}"));
        let mut stdout = std::io::stdout().lock();
        let pad = usize::try_from(cut_at).unwrap_or(usize::MAX);
        let _ = stdout.write_all(&b"-".repeat(pad));
        let _ = stdout.write_all(value.as_bytes());
        write_lines(&mut stdout, 256 << 10);
        let unwrapped: Result<String, String> = Err(value);
        Ok(unwrapped.unwrap())
    }

    /// Fails with an error whose message is `bytes` bytes long.
    #[task]
    pub fn huge_error(bytes: u64) -> Result<(), Denied> {
        let len = usize::try_from(bytes).unwrap_or(usize::MAX);
        Err(Denied("e".repeat(len)))
    }

    /// Sends `times` GET requests to `url` (an origin it may not have been granted,
    /// more requests than allowed, a body larger than the cap); returns each
    /// response's status and body size.
    #[task]
    pub fn fetch(url: String, times: u32) -> Result<Vec<(u16, usize)>, Denied> {
        (0..times)
            .map(|_| {
                let response = wasmtasks_guest::http::get(&url)
                    .send()
                    .map_err(|error| Denied(error.to_string()))?;
                Ok((response.status, response.body.len()))
            })
            .collect()
    }

    /// Writes `bytes` bytes of 63 `x` and a newline per line, in 64 KiB blocks.
    pub(crate) fn write_lines(out: &mut impl Write, bytes: u64) -> u64 {
        let mut line = [b'x'; LINE];
        line[LINE - 1] = b'\n';
        let block = line.repeat(1024);
        let mut remaining = bytes;
        let mut written = 0;
        while remaining > 0 {
            let len = block
                .len()
                .min(usize::try_from(remaining).unwrap_or(usize::MAX));
            if out.write_all(&block[..len]).is_ok() {
                written += len as u64;
            }
            remaining -= len as u64;
        }
        let _ = out.flush();
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_every_hostile_task() {
        let names: Vec<String> = Component::describe()
            .tasks
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(
            names,
            [
                "spin",
                "memory_bomb",
                "panic",
                "recurse",
                "read_file",
                "env",
                "read_env",
                "connect",
                "flood",
                "sleep_ms",
                "echo",
                "counter",
                "read_config",
                "leak_config",
                "leak_escaped",
                "huge_error",
                "fetch"
            ]
        );
    }

    #[test]
    fn echo_keeps_every_digit_of_an_integer() {
        let big = "[123456789012345678901234567890,-99999999999999999999999]";
        assert_eq!(
            Component::run("echo", &format!("[{big}]"), "{}", None).unwrap(),
            big
        );
    }

    #[test]
    fn recurse_returns_its_depth() {
        assert_eq!(tasks::recurse(1000), 1000);
        assert_eq!(Component::run("recurse", "[3]", "{}", None).unwrap(), "3");
    }

    #[test]
    #[should_panic(expected = "boom")]
    fn panic_panics_with_the_message() {
        tasks::panic("boom".into());
    }

    #[test]
    fn refused_access_is_denied() {
        let error =
            Component::run("read_file", r#"["/definitely/not/here"]"#, "{}", None).unwrap_err();
        assert_eq!(error.exception_class_path(), "hostile.Denied");
        assert!(
            error
                .message()
                .starts_with(r#"cannot read "/definitely/not/here": "#),
            "{}",
            error.message()
        );
        let error = tasks::read_env("WASMTASKS_SURELY_UNSET".into()).unwrap_err();
        assert_eq!(
            error.0,
            r#"cannot read environment variable "WASMTASKS_SURELY_UNSET": environment variable not found"#
        );
        assert!(tasks::connect("not an address".into()).is_err());
    }

    #[test]
    fn flood_writes_exactly_the_bytes_in_lines() {
        let mut buffer = Vec::new();
        assert_eq!(tasks::write_lines(&mut buffer, 70_000), 70_000);
        assert_eq!(buffer.len(), 70_000);
        assert!(
            buffer
                .split(|&b| b == b'\n')
                .all(|line| line.len() <= 63 && line.iter().all(|&b| b == b'x'))
        );
        assert_eq!(tasks::flood("stderr".into(), 0), 0);
        assert_eq!(tasks::flood("elsewhere".into(), 100), 0);
    }

    #[test]
    fn counter_counts_within_one_instance() {
        let first = tasks::counter();
        assert_eq!(tasks::counter(), first + 1);
    }

    #[test]
    fn sleep_returns_its_duration() {
        assert_eq!(tasks::sleep_ms(1), 1);
    }
}
