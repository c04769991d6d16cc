//! `#[component]`: finds the `#[task]` functions of an inline module and exports
//! them, through a generated `Component` type, as the component's `tasks` interface.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Item, ItemMod};

use crate::task::descriptor_ident;

/// Expands `#[component] mod name { ... }`; the module itself is kept unchanged.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match exports(attr, item.clone()) {
        Ok(exports) => quote!(#item #exports),
        Err(error) => {
            let error = error.into_compile_error();
            quote!(#item #error)
        }
    }
}

/// The `Component` type, its `Guest` impl and the export of the module's tasks.
fn exports(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new_spanned(
            attr,
            "#[component] takes no options",
        ));
    }
    let module: ItemMod = syn::parse2(item)?;
    let Some((_, items)) = &module.content else {
        return Err(syn::Error::new_spanned(
            &module,
            "#[component] needs the module's body inline: `mod tasks { ... }`",
        ));
    };
    let module_ident = &module.ident;
    let descriptors: Vec<_> = items
        .iter()
        .filter_map(|item| match item {
            Item::Fn(function) if function.attrs.iter().any(is_task_attribute) => {
                Some(descriptor_ident(&function.sig.ident))
            }
            _ => None,
        })
        .collect();
    if descriptors.is_empty() {
        return Err(syn::Error::new(
            module_ident.span(),
            "#[component] found no `#[task]` function in this module",
        ));
    }
    let doc = format!(
        "The task component: every `#[task]` of module `{module_ident}`, exported to the wasmtasks host."
    );
    Ok(quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug)]
        pub struct Component;

        impl Component {
            /// The component's name: this crate's, as its error classes use it.
            pub const NAME: &'static ::core::primitive::str = ::core::env!("CARGO_CRATE_NAME");

            /// Every task of the component, in declaration order.
            pub const TASKS: &'static [::wasmtasks_guest::TaskEntry] = &[#(#module_ident::#descriptors),*];

            /// What the host's `describe` receives: the name, and each task's
            /// defaults and signature.
            pub fn describe() -> ::wasmtasks_guest::ComponentDescription {
                ::wasmtasks_guest::__private::describe(Self::NAME, Self::TASKS)
            }

            /// What the host's `run` does: binds `args`/`kwargs`, runs `task`, returns its JSON.
            pub fn run(
                task: &::core::primitive::str,
                args: &::core::primitive::str,
                kwargs: &::core::primitive::str,
                context: ::core::option::Option<::wasmtasks_guest::TaskContext>,
            ) -> ::core::result::Result<::std::string::String, ::wasmtasks_guest::RunError> {
                ::wasmtasks_guest::__private::run(Self::TASKS, task, args, kwargs, context)
            }
        }

        impl ::wasmtasks_guest::bindings::exports::wasmtasks::task::tasks::Guest for Component {
            fn describe() -> ::wasmtasks_guest::ComponentDescription {
                Component::describe()
            }

            fn run(
                task: ::std::string::String,
                args: ::std::string::String,
                kwargs: ::std::string::String,
                context: ::core::option::Option<::wasmtasks_guest::TaskContext>,
            ) -> ::core::result::Result<::std::string::String, ::wasmtasks_guest::RunError> {
                Component::run(&task, &args, &kwargs, context)
            }
        }

        // Natively there is nothing to export to, and symbols named like
        // `wasmtasks:task/tasks@0.2.0#run` would break a native cdylib's link.
        #[cfg(target_arch = "wasm32")]
        ::wasmtasks_guest::bindings::export_component!(Component with_types_in ::wasmtasks_guest::bindings);
    })
}

/// `#[task]`, `#[task(...)]` or any path ending in `task` (`#[wasmtasks_guest::task]`).
fn is_task_attribute(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "task")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(attr: TokenStream, item: TokenStream) -> String {
        exports(attr, item)
            .expect_err("the module should be rejected")
            .to_string()
    }

    #[test]
    fn collects_every_task_of_the_module() {
        let exports = exports(
            TokenStream::new(),
            quote!(
                mod tasks {
                    #[task]
                    fn add() {}
                    #[wasmtasks_guest::task(priority = 1)]
                    fn fib() {}
                    fn helper() {}
                }
            ),
        )
        .unwrap()
        .to_string();
        assert!(
            exports.contains("& [tasks :: __WASMTASKS_TASK_ADD , tasks :: __WASMTASKS_TASK_FIB]"),
            "{exports}"
        );
        assert!(!exports.contains("HELPER"));
    }

    #[test]
    fn rejects_options_outline_modules_and_empty_modules() {
        assert_eq!(
            error(
                quote!(name = "x"),
                quote!(
                    mod tasks {}
                )
            ),
            "#[component] takes no options"
        );
        assert_eq!(
            error(
                quote!(),
                quote!(
                    mod tasks;
                )
            ),
            "#[component] needs the module's body inline: `mod tasks { ... }`"
        );
        assert_eq!(
            error(
                quote!(),
                quote!(
                    mod tasks {
                        fn helper() {}
                    }
                )
            ),
            "#[component] found no `#[task]` function in this module"
        );
    }
}
