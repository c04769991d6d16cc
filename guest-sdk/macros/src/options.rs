//! The options of `#[task(...)]`, parsed and checked at compile time.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Lit, LitStr};

const OPTION_NAMES: &str = "priority, queue_name, takes_context, max_attempts, backoff_factor, fuel, timeout_ms, memory_bytes";

/// The options of one `#[task(...)]`, with Django's defaults.
#[derive(Debug)]
pub struct TaskOptions {
    pub priority: i32,
    pub queue_name: String,
    /// Where `takes_context` was written, if it was.
    pub takes_context: Option<Span>,
    pub max_attempts: Option<u32>,
    pub backoff_factor: Option<f64>,
    pub fuel: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub memory_bytes: Option<u64>,
}

impl Default for TaskOptions {
    fn default() -> Self {
        TaskOptions {
            priority: 0,
            queue_name: "default".to_string(),
            takes_context: None,
            max_attempts: None,
            backoff_factor: None,
            fuel: None,
            timeout_ms: None,
            memory_bytes: None,
        }
    }
}

impl TaskOptions {
    /// Parses the attribute's arguments (empty for a bare `#[task]`).
    pub fn parse(attr: TokenStream) -> syn::Result<Self> {
        let mut options = TaskOptions::default();
        let mut seen: Vec<String> = Vec::new();
        let parser = syn::meta::parser(|meta| {
            let name = meta.path.to_token_stream().to_string().replace(' ', "");
            if seen.contains(&name) {
                return Err(meta.error(format!("duplicate #[task] option `{name}`")));
            }
            match name.as_str() {
                "priority" => options.priority = int(&meta, -100, 100)?,
                "queue_name" => options.queue_name = queue_name(&meta)?,
                "takes_context" => options.takes_context = takes_context(&meta)?,
                "max_attempts" => options.max_attempts = Some(int(&meta, 1, u32::MAX)?),
                "backoff_factor" => options.backoff_factor = Some(backoff_factor(&meta)?),
                "fuel" => options.fuel = Some(int(&meta, 1, u64::MAX)?),
                "timeout_ms" => options.timeout_ms = Some(int(&meta, 1, u64::MAX)?),
                "memory_bytes" => options.memory_bytes = Some(int(&meta, 1, u64::MAX)?),
                _ => {
                    return Err(meta.error(format!(
                        "unknown #[task] option `{name}`; expected one of: {OPTION_NAMES}"
                    )));
                }
            }
            seen.push(name);
            Ok(())
        });
        parser.parse2(attr)?;
        Ok(options)
    }
}

/// An integer option within `min..=max`.
fn int<T>(meta: &ParseNestedMeta, min: T, max: T) -> syn::Result<T>
where
    T: Into<i128> + TryFrom<i128> + std::fmt::Display + Copy,
{
    let name = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    let lit: Lit = meta.value()?.parse()?;
    let Lit::Int(int) = &lit else {
        return Err(syn::Error::new(
            lit.span(),
            format!("`{name}` takes an integer"),
        ));
    };
    let out_of_range = || {
        syn::Error::new(
            int.span(),
            format!(
                "`{name}` must be between {min} and {max}, got {}",
                int.base10_digits()
            ),
        )
    };
    let value: i128 = int.base10_parse().map_err(|_| out_of_range())?;
    if value < min.into() || value > max.into() {
        return Err(out_of_range());
    }
    T::try_from(value).map_err(|_| out_of_range())
}

fn queue_name(meta: &ParseNestedMeta) -> syn::Result<String> {
    let lit: LitStr = meta.value()?.parse()?;
    let name = lit.value();
    if name.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "`queue_name` must not be empty",
        ));
    }
    Ok(name)
}

/// `takes_context` alone, or `takes_context = true|false`.
fn takes_context(meta: &ParseNestedMeta) -> syn::Result<Option<Span>> {
    let span = meta
        .path
        .get_ident()
        .map_or_else(Span::call_site, |ident| ident.span());
    if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
        return Ok(Some(span));
    }
    let lit: syn::LitBool = meta.value()?.parse()?;
    Ok(lit.value.then_some(span))
}

fn backoff_factor(meta: &ParseNestedMeta) -> syn::Result<f64> {
    let lit: Lit = meta.value()?.parse()?;
    let value = match &lit {
        Lit::Float(float) => float.base10_parse::<f64>()?,
        Lit::Int(int) => int.base10_parse::<f64>()?,
        _ => {
            return Err(syn::Error::new(
                lit.span(),
                "`backoff_factor` takes a number",
            ));
        }
    };
    // One rule everywhere (this check, the host at upload and enqueue, the README):
    // a positive, finite number of seconds.
    if !(value.is_finite() && value > 0.0) {
        return Err(syn::Error::new(
            lit.span(),
            format!("`backoff_factor` must be a positive number, got {value}"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn error(attr: TokenStream) -> String {
        TaskOptions::parse(attr)
            .expect_err("options should be rejected")
            .to_string()
    }

    #[test]
    fn defaults_are_djangos() {
        let options = TaskOptions::parse(TokenStream::new()).unwrap();
        assert_eq!(options.priority, 0);
        assert_eq!(options.queue_name, "default");
        assert!(options.takes_context.is_none());
        assert!(options.max_attempts.is_none() && options.backoff_factor.is_none());
        assert!(
            options.fuel.is_none()
                && options.timeout_ms.is_none()
                && options.memory_bytes.is_none()
        );
    }

    #[test]
    fn parses_every_option() {
        let options = TaskOptions::parse(quote!(
            priority = -10,
            queue_name = "emails",
            takes_context,
            max_attempts = 5,
            backoff_factor = 2.5,
            fuel = 1_000_000,
            timeout_ms = 5000,
            memory_bytes = 67108864
        ))
        .unwrap();
        assert_eq!(options.priority, -10);
        assert_eq!(options.queue_name, "emails");
        assert!(options.takes_context.is_some());
        assert_eq!(options.max_attempts, Some(5));
        assert_eq!(options.backoff_factor, Some(2.5));
        assert_eq!(options.fuel, Some(1_000_000));
        assert_eq!(options.timeout_ms, Some(5000));
        assert_eq!(options.memory_bytes, Some(67_108_864));
        let integral =
            TaskOptions::parse(quote!(backoff_factor = 2, takes_context = false)).unwrap();
        assert_eq!(integral.backoff_factor, Some(2.0));
        assert!(integral.takes_context.is_none());
    }

    #[test]
    fn priority_must_be_in_djangos_range() {
        assert_eq!(
            error(quote!(priority = 101)),
            "`priority` must be between -100 and 100, got 101"
        );
        assert_eq!(
            error(quote!(priority = -101)),
            "`priority` must be between -100 and 100, got -101"
        );
        assert_eq!(
            error(quote!(priority = 99999999999999999999999999999999999999999)),
            "`priority` must be between -100 and 100, got 99999999999999999999999999999999999999999"
        );
    }

    #[test]
    fn rejects_unknown_duplicate_and_mistyped_options() {
        assert!(
            error(quote!(retries = 3))
                .starts_with("unknown #[task] option `retries`; expected one of: priority")
        );
        assert_eq!(
            error(quote!(priority = 1, priority = 2)),
            "duplicate #[task] option `priority`"
        );
        assert_eq!(
            error(quote!(priority = "high")),
            "`priority` takes an integer"
        );
        assert_eq!(
            error(quote!(max_attempts = 0)),
            "`max_attempts` must be between 1 and 4294967295, got 0"
        );
        assert_eq!(
            error(quote!(queue_name = "")),
            "`queue_name` must not be empty"
        );
        assert_eq!(
            error(quote!(backoff_factor = -1.0)),
            "`backoff_factor` must be a positive number, got -1"
        );
        assert_eq!(
            error(quote!(backoff_factor = 0.0)),
            "`backoff_factor` must be a positive number, got 0"
        );
    }
}
