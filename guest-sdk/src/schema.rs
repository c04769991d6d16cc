//! The JSON Schema of a parameter or return type, as `#[task]` records it.
//!
//! A type that implements `schemars::JsonSchema` (every standard type serde
//! handles, and your own with `#[derive(JsonSchema)]`) gets its precise schema,
//! which follows its serde attributes; any other type gets `{}`, which accepts
//! any JSON value, so the host checks only that the argument is there and leaves
//! the rest to the task's own deserialisation. The choice is made at compile
//! time by method resolution ("autoref specialisation"): the `JsonSchema` impl
//! is found first when it exists.

use std::marker::PhantomData;

/// A type whose schema is unknown, so any JSON value (a `Result` alias without
/// its value type written out returns one).
pub struct AnyValue;

/// Stands for the type `T` whose schema is asked for.
pub struct SchemaOf<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> SchemaOf<T> {
    /// The stand-in for `T`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        SchemaOf(PhantomData)
    }
}

/// The precise schema of a type that implements `JsonSchema`.
pub trait ViaJsonSchema {
    /// The schema as JSON text.
    fn schema(&self) -> String;
}

impl<T: schemars::JsonSchema + ?Sized> ViaJsonSchema for SchemaOf<T> {
    fn schema(&self) -> String {
        let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
        serde_json::to_string(&schema).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// The schema of any other type: any JSON value.
pub trait ViaAnyValue {
    /// `{}`.
    fn schema(&self) -> String;
}

impl<T: ?Sized> ViaAnyValue for &SchemaOf<T> {
    fn schema(&self) -> String {
        "{}".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Opaque;

    // The borrow is what `#[task]` writes: it is what falls back to `ViaAnyValue`.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn known_types_have_their_schema_and_others_accept_anything() {
        let integer: serde_json::Value =
            serde_json::from_str(&(&SchemaOf::<i64>::new()).schema()).unwrap();
        assert_eq!(integer["type"], "integer");
        let text: serde_json::Value =
            serde_json::from_str(&(&SchemaOf::<Option<String>>::new()).schema()).unwrap();
        assert_eq!(text["type"], serde_json::json!(["string", "null"]));
        assert_eq!((&SchemaOf::<Opaque>::new()).schema(), "{}");
    }
}
