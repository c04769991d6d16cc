//! JSON numbers as the host keeps them. serde_json is built with
//! `arbitrary_precision`, so a parsed number is the text it was written as;
//! [`canonical`] settles each on one form that both dialects store alike:
//! - an integer keeps every digit, whatever its size (Python's ints, ids past
//!   2^53 or past u64), `-0` becoming `0`;
//! - a number with a fraction or an exponent becomes the nearest 64-bit float
//!   (as Python's `json` and JavaScript read it), written in plain digits with a
//!   fraction (`1e2` is `100.0`, `1e20` is `100000000000000000000.0`, `1e-7` is
//!   `0.0000001`, `-0.0` is `0.0`): the form PostgreSQL's `jsonb` keeps as it is
//!   and reads back as a float, where it would rewrite `1e20` as an integer; one
//!   past a float's range (`1e400`, named as serde_json spells it: `1e+400`) is
//!   refused.

use serde_json::{Number, Value};

/// A number with a fraction or an exponent that no 64-bit float holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the number {0} is out of range: a number with a fraction or an exponent must fit a 64-bit float"
)]
pub struct NumberOutOfRange(pub String);

/// Rewrites every number in `value` to its canonical form.
pub fn canonical(value: &mut Value) -> Result<(), NumberOutOfRange> {
    match value {
        Value::Number(number) => {
            if let Some(settled) = settle(number)? {
                *number = settled;
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(canonical),
        Value::Object(map) => map.values_mut().try_for_each(canonical),
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

/// `number`'s canonical form, when it is written otherwise.
fn settle(number: &Number) -> Result<Option<Number>, NumberOutOfRange> {
    let text = number.as_str();
    if !text.contains(['.', 'e', 'E']) {
        return Ok((text == "-0").then(|| Number::from(0)));
    }
    let out_of_range = || NumberOutOfRange(text.to_owned());
    let float = text
        .parse::<f64>()
        .ok()
        .filter(|float| float.is_finite())
        .ok_or_else(out_of_range)?;
    // Rust writes a float's shortest round-trip digits without an exponent.
    let digits = match format!("{float}") {
        zero if float == 0.0 => zero.replace('-', "") + ".0",
        whole if !whole.contains('.') => whole + ".0",
        fraction => fraction,
    };
    let settled: Number = serde_json::from_str(&digits).map_err(|_| out_of_range())?;
    Ok((settled.as_str() != text).then_some(settled))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settled(json: &str) -> Result<String, NumberOutOfRange> {
        let mut value: Value = serde_json::from_str(json).unwrap();
        canonical(&mut value).map(|()| value.to_string())
    }

    #[test]
    fn integers_keep_every_digit() {
        for integer in [
            "9007199254740993",
            "18446744073709551616",
            "123456789012345678901234567890",
            "-123456789012345678901234567890",
        ] {
            assert_eq!(settled(integer).unwrap(), integer);
        }
        assert_eq!(settled("-0").unwrap(), "0");
        assert_eq!(
            settled(r#"{"id": [1, 99999999999999999999999]}"#).unwrap(),
            r#"{"id":[1,99999999999999999999999]}"#
        );
    }

    #[test]
    fn fractions_and_exponents_are_floats() {
        assert_eq!(
            settled("[1e2, 2.50, 0.1, 1.00000000000000000001, 1e20, 1e-7, -0.0, -1.5e3]").unwrap(),
            "[100.0,2.5,0.1,1.0,100000000000000000000.0,0.0000001,0.0,-1500.0]"
        );
        let error = settled(r#"{"x": [1e400]}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the number 1e+400 is out of range: a number with a fraction or an exponent must fit a 64-bit float"
        );
    }
}
