//! The one thread per engine that advances the epoch, which drives wall-clock
//! deadlines and cooperative yields of running guests.

use std::time::Duration;

use wasmtime::Engine;

/// Starts the ticker. It holds only a weak handle, so it ends by itself within one
/// tick of the engine being dropped.
pub(crate) fn spawn_ticker(engine: &Engine, tick: Duration) -> std::io::Result<()> {
    let engine = engine.weak();
    std::thread::Builder::new()
        .name("wasmtasks-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(tick);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })?;
    Ok(())
}
