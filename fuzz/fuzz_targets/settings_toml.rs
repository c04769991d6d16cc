//! A `wasmtasks.toml` of any text: settings or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmtasks::config::Settings;

fuzz_target!(|text: &str| {
    if let Err(error) = Settings::from_toml(text, "fuzz.toml") {
        let message = error.to_string();
        assert!(message.starts_with("fuzz.toml"), "{message}");
    }
});
