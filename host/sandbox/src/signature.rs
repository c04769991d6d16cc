//! A task's signature as its component records it (contract 0.2.0): each
//! parameter's name, whether a call must give it and the JSON Schema of what it
//! accepts, and the schema of the return value. Shown in Python's notation
//! ([`TaskDefinition::python_signature`](crate::TaskDefinition::python_signature)),
//! e.g. `send_notification(message: str, title: str | None = None) -> int`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One parameter of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParamSpec {
    /// Its name, which is also its keyword.
    pub name: String,
    /// Whether a call must give it.
    pub required: bool,
    /// The JSON Schema (draft 2020-12) of the values it accepts; `{}` accepts any.
    pub schema: Value,
}

/// A task's parameters, in order, and the schema of its return value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signature {
    /// The parameters, in the order positional arguments fill them.
    pub params: Vec<ParamSpec>,
    /// The JSON Schema of the return value.
    pub returns: Value,
}

impl Signature {
    /// `(a: int, b: str | None = None) -> int`: the signature in Python's notation.
    pub fn to_python(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|param| {
                let default = if param.required { "" } else { " = None" };
                format!(
                    "{}: {}{default}",
                    param.name,
                    python_type(&param.schema, &param.schema)
                )
            })
            .collect();
        format!(
            "({}) -> {}",
            params.join(", "),
            python_type(&self.returns, &self.returns)
        )
    }
}

/// The Python type a JSON Schema stands for; `root` holds its `$defs`.
pub fn python_type(schema: &Value, root: &Value) -> String {
    let Value::Object(schema) = schema else {
        // `true` accepts anything, `false` nothing.
        return if schema == &Value::Bool(false) {
            "Never".into()
        } else {
            "Any".into()
        };
    };
    if let Some(Value::String(reference)) = schema.get("$ref") {
        return reference.rsplit('/').next().unwrap_or("Any").to_owned();
    }
    if let Some(Value::Array(options)) = schema.get("anyOf").or_else(|| schema.get("oneOf")) {
        return union(options.iter().map(|option| python_type(option, root)));
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        let literals: Vec<String> = values.iter().map(Value::to_string).collect();
        return format!("Literal[{}]", literals.join(", "));
    }
    if let Some(constant) = schema.get("const") {
        return format!("Literal[{constant}]");
    }
    match schema.get("type") {
        Some(Value::String(kind)) => single(kind, schema, root),
        Some(Value::Array(kinds)) => union(
            kinds
                .iter()
                .filter_map(Value::as_str)
                .map(|kind| single(kind, schema, root)),
        ),
        _ => "Any".into(),
    }
}

/// `A | B`, each once, `None` last.
fn union(types: impl Iterator<Item = String>) -> String {
    let mut unique: Vec<String> = Vec::new();
    for ty in types {
        if !unique.contains(&ty) {
            unique.push(ty);
        }
    }
    if let Some(index) = unique.iter().position(|ty| ty == "None") {
        let none = unique.remove(index);
        unique.push(none);
    }
    unique.join(" | ")
}

fn single(kind: &str, schema: &serde_json::Map<String, Value>, root: &Value) -> String {
    match kind {
        "integer" => "int".into(),
        "number" => "float".into(),
        "string" => "str".into(),
        "boolean" => "bool".into(),
        "null" => "None".into(),
        "array" => {
            if let Some(Value::Array(items)) = schema.get("prefixItems") {
                let items: Vec<String> = items.iter().map(|item| python_type(item, root)).collect();
                format!("tuple[{}]", items.join(", "))
            } else {
                let item = schema
                    .get("items")
                    .map_or_else(|| "Any".into(), |items| python_type(items, root));
                format!("list[{item}]")
            }
        }
        "object" => match (schema.get("title"), schema.get("additionalProperties")) {
            (Some(Value::String(title)), _) => title.clone(),
            (_, Some(values)) if values.is_object() => {
                format!("dict[str, {}]", python_type(values, root))
            }
            _ => "dict[str, Any]".into(),
        },
        _ => "Any".into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn render(schema: Value) -> String {
        python_type(&schema, &schema)
    }

    #[test]
    fn json_schemas_read_as_python_types() {
        assert_eq!(render(json!({"type": "integer", "format": "int64"})), "int");
        assert_eq!(render(json!({"type": ["string", "null"]})), "str | None");
        assert_eq!(
            render(json!({"type": "array", "items": {"type": "number"}})),
            "list[float]"
        );
        assert_eq!(
            render(
                json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}]})
            ),
            "tuple[str, str]"
        );
        assert_eq!(
            render(json!({"type": "object", "additionalProperties": {"type": "boolean"}})),
            "dict[str, bool]"
        );
        assert_eq!(
            render(json!({"title": "WelcomeEmail", "type": "object"})),
            "WelcomeEmail"
        );
        assert_eq!(
            render(json!({"anyOf": [{"$ref": "#/$defs/Point"}, {"type": "null"}]})),
            "Point | None"
        );
        assert_eq!(render(json!({})), "Any");
        assert_eq!(render(json!(true)), "Any");
        assert_eq!(render(json!({"type": "null"})), "None");
    }

    #[test]
    fn signatures_read_like_python_definitions() {
        let signature = Signature {
            params: vec![
                ParamSpec {
                    name: "message".into(),
                    required: true,
                    schema: json!({"type": "string"}),
                },
                ParamSpec {
                    name: "title".into(),
                    required: false,
                    schema: json!({"type": ["string", "null"]}),
                },
            ],
            returns: json!({"type": "integer", "format": "uint16"}),
        };
        assert_eq!(
            signature.to_python(),
            "(message: str, title: str | None = None) -> int"
        );
    }
}
