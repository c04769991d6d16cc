//! The attributes of [`wasmtasks-guest`](https://docs.rs/wasmtasks-guest):
//! `#[task]` describes one task function, `#[component]` exports every task of a
//! module as the component's `tasks` interface. Use them through the re-exports
//! `wasmtasks_guest::task` and `wasmtasks_guest::component`; the code they generate
//! refers to `::wasmtasks_guest`.

#![warn(missing_docs)]

use proc_macro::TokenStream;

mod component;
mod options;
mod task;

/// Marks a function as a task, keeping it unchanged and adding its hidden descriptor.
///
/// Options (all optional): `priority = <-100..=100>`, `queue_name = "<name>"`,
/// `takes_context`, `max_attempts = <u32>`, `backoff_factor = <f64>`,
/// `fuel = <u64>`, `timeout_ms = <u64>`, `memory_bytes = <u64>`.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    task::expand(attr.into(), item.into()).into()
}

/// Exports every `#[task]` function of an inline module as the component's tasks.
#[proc_macro_attribute]
pub fn component(attr: TokenStream, item: TokenStream) -> TokenStream {
    component::expand(attr.into(), item.into()).into()
}
