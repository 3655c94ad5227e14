//! Turns `async fn name() -> T { body }` into a plain `fn name() -> T` that builds a flywheel
//! runtime and blocks on the body.
//!
//! The body becomes an inner `async fn` with the user's own return type, so `?` and `return`
//! inside it mean what they meant before and no type has to be inferred from an async block.
//! The generated code names the runtime as `::flywheel`, which resolves from any crate that
//! depends on flywheel, including flywheel's own tests and examples; `crate = "path"` replaces
//! that prefix for crates that reach flywheel through a re-export. The path keeps the span of
//! its string literal, so a path that does not resolve is reported at the literal.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ItemFn;

use crate::options::{Flavor, Kind, Options, UnhandledPanic};

/// Expands one attribute, or returns the errors to report.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item) {
        Ok(function) => function,
        Err(error) => return error.to_compile_error(),
    };
    let errors = check_signature(kind, &function);
    let options = Options::parse(kind, args);
    match (options, errors) {
        (Ok(options), None) => generate(kind, &options, function),
        (Ok(_), Some(error)) => with_placeholder(error, &function),
        (Err(mut error), others) => {
            if let Some(others) = others {
                error.combine(others);
            }
            with_placeholder(error, &function)
        }
    }
}

/// The signature rules: async, no arguments, no generics, and no second `#[test]`.
fn check_signature(kind: Kind, function: &ItemFn) -> Option<syn::Error> {
    let sig = &function.sig;
    let mut errors: Vec<syn::Error> = Vec::new();
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span(),
            format!(
                "{} needs an `async fn`: add `async` before `fn`",
                kind.name()
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            format!(
                "{} functions take no arguments; build values inside the body instead",
                kind.name()
            ),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!("{} functions cannot be generic", kind.name()),
        ));
    }
    if kind == Kind::Test {
        for attr in &function.attrs {
            let path = attr.path();
            if path.segments.last().is_some_and(|s| s.ident == "test") {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "remove this attribute: #[flywheel::test] already marks the function as a \
                     test",
                ));
            }
        }
    }
    errors.into_iter().reduce(|mut all, next| {
        all.combine(next);
        all
    })
}

/// The errors plus a synchronous stand-in with the same name, so the only errors the user
/// sees are ours (no "`main` function not found" on top of them).
fn with_placeholder(error: syn::Error, function: &ItemFn) -> TokenStream {
    let error = error.to_compile_error();
    let vis = &function.vis;
    let ident = &function.sig.ident;
    quote! {
        #error
        #[allow(dead_code)]
        #vis fn #ident() {}
    }
}

fn generate(kind: Kind, options: &Options, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let ident = &sig.ident;
    let output = &sig.output;
    let span = sig.fn_token.span();

    // With `crate = ".."`, `path::Builder` carries the literal's span as a whole, so a path
    // that does not resolve is reported there and nowhere else.
    let (krate, krate_span) = match &options.krate {
        Some(path) => (quote!(#path), path.span()),
        None => (quote_spanned!(span=> ::flywheel), span),
    };
    let builder = match options.flavor {
        Flavor::CurrentThread => {
            quote_spanned!(krate_span=> #krate::Builder::new_current_thread())
        }
        Flavor::MultiThread => quote_spanned!(krate_span=> #krate::Builder::new_multi_thread()),
        Flavor::Local => quote_spanned!(krate_span=> #krate::Builder::new_current_thread()),
    };
    let build = match options.flavor {
        Flavor::Local => quote_spanned!(span=> .build_local()),
        Flavor::CurrentThread | Flavor::MultiThread => quote_spanned!(span=> .build()),
    };
    let worker_threads = options
        .worker_threads
        .map(|n| quote_spanned!(span=> .worker_threads(#n)));
    let start_paused = options
        .start_paused
        .then(|| quote_spanned!(span=> .start_paused(true)));
    let unhandled_panic = options.unhandled_panic.map(|behavior| {
        let variant = match behavior {
            UnhandledPanic::Ignore => quote!(Ignore),
            UnhandledPanic::ShutdownRuntime => quote!(ShutdownRuntime),
        };
        let value = quote_spanned!(krate_span=> #krate::UnhandledPanic::#variant);
        quote_spanned!(span=> .unhandled_panic(#value))
    });
    let test_attr = (kind == Kind::Test).then(|| quote!(#[::core::prelude::v1::test]));
    let message = format!("{}: failed to build the flywheel runtime", kind.name());

    if options.is_seeded() {
        let seed = match options.seed {
            Some(seed) => quote_spanned!(span=> ::core::option::Option::Some(#seed)),
            None => quote_spanned!(span=> ::core::option::Option::None),
        };
        let runs = options.runs.unwrap_or(1);
        // A run fails by panicking, or by returning an `Err` when the test returns a
        // `Result` (the only other return type a test may have is `()`).
        let failed = match output {
            syn::ReturnType::Type(_, ty) if !is_unit(ty) => quote_spanned!(ty.span()=>
                ::core::result::Result::is_err(&__flywheel_output)
            ),
            _ => quote!(false),
        };
        return quote! {
            #test_attr
            #(#attrs)*
            #vis fn #ident() #output {
                async fn __flywheel_body() #output #block
                #krate::Builder::__run_seeded_test(
                    ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)),
                    #seed,
                    #runs,
                    |__flywheel_seed| {
                        let __flywheel_output = #builder
                            .seed(__flywheel_seed)
                            #unhandled_panic
                            #build
                            .expect(#message)
                            .block_on(__flywheel_body());
                        let __flywheel_failed = #failed;
                        (__flywheel_output, __flywheel_failed)
                    },
                )
            }
        };
    }

    quote! {
        #test_attr
        #(#attrs)*
        #vis fn #ident() #output {
            async fn __flywheel_body() #output #block
            #builder
                #worker_threads
                #start_paused
                #unhandled_panic
                #build
                .expect(#message)
                .block_on(__flywheel_body())
        }
    }
}

/// Whether `ty` is `()`.
fn is_unit(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Tuple(tuple) if tuple.elems.is_empty())
}
