//! `#[task]`: checks the function's signature and emits, next to the unchanged
//! function, a hidden `TaskEntry` const describing and invoking it.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat, ReturnType, Signature, Type};

use crate::options::TaskOptions;

/// The name of the hidden descriptor `#[task]` emits for function `function`.
pub fn descriptor_ident(function: &Ident) -> Ident {
    format_ident!(
        "__WASMTASKS_TASK_{}",
        function.unraw().to_string().to_uppercase(),
        span = function.span()
    )
}

/// Expands `#[task(attr)] item`; on error, the function is kept so that the
/// error is the only diagnostic.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(error) => return error.into_compile_error(),
    };
    match TaskOptions::parse(attr).and_then(|options| descriptor(&function, &options)) {
        Ok(descriptor) => quote!(#function #descriptor),
        Err(error) => {
            let error = error.into_compile_error();
            quote!(#function #error)
        }
    }
}

/// One bindable parameter: its keyword and its type.
struct Param<'a> {
    name: String,
    ty: &'a Type,
}

/// The descriptor const of `function`.
fn descriptor(function: &ItemFn, options: &TaskOptions) -> syn::Result<TokenStream> {
    let sig = &function.sig;
    check_signature(sig)?;
    let params = params(sig, options)?;
    let fn_ident = &sig.ident;
    let name = fn_ident.unraw().to_string();
    let descriptor = descriptor_ident(fn_ident);
    let definition = definition(&name, options, &params, &sig.output);

    let param_list = params.iter().map(|param| {
        let name = &param.name;
        let optional = is_path_ending_in(param.ty, "Option");
        quote!(::wasmtasks_guest::__private::Param { name: #name, optional: #optional })
    });
    let bindings = params.iter().enumerate().map(|(index, param)| {
        let var = format_ident!("__arg{index}");
        let ty = param.ty;
        quote!(let #var: #ty = __bound.take(#index)?;)
    });
    // A task without parameters still checks that it was given no arguments.
    let bound = if params.is_empty() {
        quote!()
    } else {
        quote!(let mut __bound =)
    };
    let vars = (0..params.len()).map(|index| format_ident!("__arg{index}"));
    let (context_param, context_binding, context_arg) = if options.takes_context.is_some() {
        (
            quote!(__context),
            quote!(let __context = ::wasmtasks_guest::__private::require_context(#name, __context)?;),
            quote!(&__context,),
        )
    } else {
        (quote!(_), quote!(), quote!())
    };
    let outcome = match &sig.output {
        ReturnType::Type(_, ty) if is_path_ending_in(ty, "Result") => quote!(result),
        _ => quote!(value),
    };

    Ok(quote! {
        #[doc(hidden)]
        pub const #descriptor: ::wasmtasks_guest::TaskEntry = {
            fn definition() -> ::wasmtasks_guest::TaskDefinition {
                #definition
            }
            fn invoke(
                __args: &::core::primitive::str,
                __kwargs: &::core::primitive::str,
                #context_param: ::core::option::Option<::wasmtasks_guest::TaskContext>,
            ) -> ::core::result::Result<::std::string::String, ::wasmtasks_guest::RunError> {
                const __PARAMS: &[::wasmtasks_guest::__private::Param] = &[#(#param_list),*];
                #bound ::wasmtasks_guest::__private::bind(#name, __PARAMS, __args, __kwargs)?;
                #context_binding
                #(#bindings)*
                ::wasmtasks_guest::__private::#outcome(#name, self::#fn_ident(#context_arg #(#vars),*))
            }
            ::wasmtasks_guest::TaskEntry { name: #name, definition, invoke }
        };
    })
}

/// The expression giving the JSON Schema of `ty` as text (see the SDK's `schema` module).
fn schema_of(ty: &Type) -> TokenStream {
    quote! {{
        #[allow(unused_imports)]
        use ::wasmtasks_guest::__private::{ViaAnyValue as _, ViaJsonSchema as _};
        (&::wasmtasks_guest::__private::SchemaOf::<#ty>::new()).schema()
    }}
}

/// The type a task's return type stands for: `T` of `Result<T, E>`, `()` when none.
fn returned_type(output: &ReturnType) -> Type {
    match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) if is_path_ending_in(ty, "Result") => first_generic(ty)
            .unwrap_or_else(|| syn::parse_quote!(::wasmtasks_guest::__private::AnyValue)),
        ReturnType::Type(_, ty) => (**ty).clone(),
    }
}

/// The first generic type argument of a path type (`T` of `Result<T, E>`).
fn first_generic(ty: &Type) -> Option<Type> {
    let Type::Path(path) = strip_groups(ty) else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(arguments) = &path.path.segments.last()?.arguments
    else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        syn::GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    })
}

/// The `TaskDefinition` expression declaring `options` and the signature.
fn definition(
    name: &str,
    options: &TaskOptions,
    params: &[Param<'_>],
    output: &ReturnType,
) -> TokenStream {
    fn some<T>(value: Option<T>, literal: impl Fn(T) -> Literal) -> TokenStream {
        match value {
            Some(value) => {
                let literal = literal(value);
                quote!(::core::option::Option::Some(#literal))
            }
            None => quote!(::core::option::Option::None),
        }
    }
    let priority = Literal::i32_suffixed(options.priority);
    let queue_name = &options.queue_name;
    let takes_context = options.takes_context.is_some();
    let max_attempts = some(options.max_attempts, Literal::u32_suffixed);
    let backoff_factor = some(options.backoff_factor, Literal::f64_suffixed);
    let fuel = some(options.fuel, Literal::u64_suffixed);
    let timeout_ms = some(options.timeout_ms, Literal::u64_suffixed);
    let memory_bytes = some(options.memory_bytes, Literal::u64_suffixed);
    let param_definitions = params.iter().map(|param| {
        let name = &param.name;
        let required = !is_path_ending_in(param.ty, "Option");
        let schema = schema_of(param.ty);
        quote!(::wasmtasks_guest::ParamDefinition {
            name: ::std::string::String::from(#name),
            required: #required,
            schema: #schema,
        })
    });
    let returns = schema_of(&returned_type(output));
    quote! {
        ::wasmtasks_guest::TaskDefinition {
            name: ::std::string::String::from(#name),
            priority: #priority,
            queue_name: ::std::string::String::from(#queue_name),
            takes_context: #takes_context,
            retry: ::wasmtasks_guest::RetryPolicy {
                max_attempts: #max_attempts,
                backoff_factor: #backoff_factor,
            },
            limits: ::wasmtasks_guest::Limits {
                fuel: #fuel,
                timeout_ms: #timeout_ms,
                memory_bytes: #memory_bytes,
            },
            params: ::std::vec![#(#param_definitions),*],
            returns: #returns,
        }
    }
}

/// Rejects what a task cannot be: async, unsafe, generic, variadic.
fn check_signature(sig: &Signature) -> syn::Result<()> {
    if let Some(token) = &sig.asyncness {
        return Err(syn::Error::new(
            token.span,
            "a task cannot be `async`: tasks are plain synchronous functions",
        ));
    }
    if let Some(token) = &sig.unsafety {
        return Err(syn::Error::new(token.span, "a task cannot be `unsafe`"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a task cannot be generic: its parameter and return types must be concrete",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            "a task cannot be variadic",
        ));
    }
    Ok(())
}

/// The bindable parameters, after checking the context parameter against `takes_context`.
fn params<'a>(sig: &'a Signature, options: &TaskOptions) -> syn::Result<Vec<Param<'a>>> {
    let mut inputs = sig.inputs.iter().peekable();
    if let Some(receiver) = sig.receiver() {
        return Err(syn::Error::new(
            receiver.span(),
            "a task cannot take `self`: tasks are free functions",
        ));
    }
    if let Some(span) = options.takes_context {
        match inputs.next() {
            Some(FnArg::Typed(first)) if is_shared_reference(&first.ty) => {}
            Some(FnArg::Typed(first)) => {
                return Err(syn::Error::new(
                    first.ty.span(),
                    "with `takes_context`, the first parameter must be `&TaskContext`",
                ));
            }
            _ => {
                return Err(syn::Error::new(
                    span,
                    "`takes_context` needs a first parameter `context: &TaskContext`",
                ));
            }
        }
    } else if let Some(FnArg::Typed(first)) = inputs.peek()
        && is_context_reference(&first.ty)
    {
        return Err(syn::Error::new(
            first.ty.span(),
            "this parameter is the task context: add `takes_context` to the attribute, as in `#[task(takes_context)]`",
        ));
    }
    let mut errors: Option<syn::Error> = None;
    let mut params = Vec::new();
    for input in inputs {
        match param(input) {
            Ok(param) => params.push(param),
            Err(error) => match &mut errors {
                Some(errors) => errors.combine(error),
                None => errors = Some(error),
            },
        }
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(params),
    }
}

/// A bindable parameter: a plain identifier with an owned type.
fn param(input: &FnArg) -> syn::Result<Param<'_>> {
    let FnArg::Typed(typed) = input else {
        return Err(syn::Error::new(input.span(), "a task cannot take `self`"));
    };
    let name = match &*typed.pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
            pat.ident.unraw().to_string()
        }
        pat => {
            return Err(syn::Error::new(
                pat.span(),
                "task parameters must be plain identifiers: the name is the keyword argument",
            ));
        }
    };
    if is_context_reference(&typed.ty) {
        return Err(syn::Error::new(
            typed.ty.span(),
            "the task context must be the first parameter, with `#[task(takes_context)]`",
        ));
    }
    if matches!(strip_groups(&typed.ty), Type::Reference(_)) {
        return Err(syn::Error::new(
            typed.ty.span(),
            "task arguments are deserialised from JSON and must be owned: use `String` for `&str`, `Vec<T>` for `&[T]`",
        ));
    }
    Ok(Param {
        name,
        ty: &typed.ty,
    })
}

fn strip_groups(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => strip_groups(&group.elem),
        Type::Paren(paren) => strip_groups(&paren.elem),
        ty => ty,
    }
}

/// Whether `ty` is a path whose last segment is `name` (`Option<T>`, `std::result::Result<T, E>`).
fn is_path_ending_in(ty: &Type, name: &str) -> bool {
    match strip_groups(ty) {
        Type::Path(path) => {
            path.qself.is_none()
                && path
                    .path
                    .segments
                    .last()
                    .is_some_and(|segment| segment.ident == name)
        }
        _ => false,
    }
}

fn is_shared_reference(ty: &Type) -> bool {
    matches!(strip_groups(ty), Type::Reference(reference) if reference.mutability.is_none())
}

/// Whether `ty` is `&TaskContext` (or `&mut`, or a path to it).
fn is_context_reference(ty: &Type) -> bool {
    matches!(strip_groups(ty), Type::Reference(reference) if is_path_ending_in(&reference.elem, "TaskContext"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(attr: TokenStream, item: TokenStream) -> String {
        let function: ItemFn = syn::parse2(item).unwrap();
        let options = TaskOptions::parse(attr).unwrap();
        descriptor(&function, &options)
            .expect_err("the task should be rejected")
            .to_string()
    }

    #[test]
    fn keeps_the_function_and_adds_its_descriptor() {
        let function = quote!(
            pub fn add(a: i64, b: i64) -> i64 {
                a + b
            }
        );
        let expanded = expand(TokenStream::new(), function.clone()).to_string();
        assert!(expanded.starts_with(&function.to_string()));
        assert!(
            expanded.contains("pub const __WASMTASKS_TASK_ADD : :: wasmtasks_guest :: TaskEntry")
        );
        assert!(!expanded.contains("compile_error"));
    }

    #[test]
    fn a_rejected_task_keeps_its_function() {
        let expanded = expand(
            quote!(priority = 500),
            quote!(
                fn f() {}
            ),
        )
        .to_string();
        assert!(expanded.starts_with("fn f () { }"));
        assert!(expanded.contains("compile_error"));
        assert!(!expanded.contains("__WASMTASKS_TASK_F"));
    }

    #[test]
    fn takes_context_needs_a_reference_first() {
        assert_eq!(
            error(
                quote!(takes_context),
                quote!(
                    fn f(context: TaskContext) {}
                )
            ),
            "with `takes_context`, the first parameter must be `&TaskContext`"
        );
        assert_eq!(
            error(
                quote!(takes_context),
                quote!(
                    fn f() {}
                )
            ),
            "`takes_context` needs a first parameter `context: &TaskContext`"
        );
    }

    #[test]
    fn a_context_parameter_needs_takes_context() {
        let message = error(
            quote!(),
            quote!(
                fn f(context: &TaskContext, n: u32) {}
            ),
        );
        assert!(message.contains("add `takes_context`"), "{message}");
        let message = error(
            quote!(takes_context),
            quote!(
                fn f(context: &TaskContext, other: &TaskContext) {}
            ),
        );
        assert!(message.contains("must be the first parameter"), "{message}");
    }

    #[test]
    fn rejects_patterns_references_and_self() {
        assert_eq!(
            error(
                quote!(),
                quote!(
                    fn f((a, b): (i64, i64)) {}
                )
            ),
            "task parameters must be plain identifiers: the name is the keyword argument"
        );
        assert!(
            error(
                quote!(),
                quote!(
                    fn f(name: &str) {}
                )
            )
            .contains("must be owned")
        );
        assert_eq!(
            error(
                quote!(),
                quote!(
                    fn f(&self) {}
                )
            ),
            "a task cannot take `self`: tasks are free functions"
        );
    }

    #[test]
    fn rejects_async_unsafe_and_generic_functions() {
        assert!(
            error(
                quote!(),
                quote!(
                    async fn f() {}
                )
            )
            .starts_with("a task cannot be `async`")
        );
        assert_eq!(
            error(
                quote!(),
                quote!(
                    unsafe fn f() {}
                )
            ),
            "a task cannot be `unsafe`"
        );
        assert!(
            error(
                quote!(),
                quote!(
                    fn f<T>(t: T) {}
                )
            )
            .starts_with("a task cannot be generic")
        );
        assert!(
            error(
                quote!(),
                quote!(
                    fn f(t: T)
                    where
                        T: Copy,
                    {
                    }
                )
            )
            .starts_with("a task cannot be generic")
        );
    }

    #[test]
    fn reports_every_bad_parameter_at_once() {
        let function: ItemFn = syn::parse2(quote!(
            fn f(_: i64, x: &str) {}
        ))
        .unwrap();
        let errors = descriptor(&function, &TaskOptions::default()).unwrap_err();
        assert_eq!(errors.into_iter().count(), 2);
    }

    #[test]
    fn detects_option_and_result_by_their_last_segment() {
        let ty = |tokens: TokenStream| syn::parse2::<Type>(tokens).unwrap();
        assert!(is_path_ending_in(&ty(quote!(Option<u8>)), "Option"));
        assert!(is_path_ending_in(
            &ty(quote!(std::result::Result<u8, E>)),
            "Result"
        ));
        assert!(!is_path_ending_in(&ty(quote!(Vec<Option<u8>>)), "Option"));
        assert!(!is_path_ending_in(&ty(quote!(<T as X>::Option)), "Option"));
    }
}
