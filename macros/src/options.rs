//! The attribute's arguments: `flavor`, `worker_threads` and (tests only) `start_paused`.
//!
//! Each option may appear once. Every error points at the token that caused it: the option's
//! name when the name is wrong or repeated, its value when the value is.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{LitBool, LitInt, LitStr};

/// Which attribute is being expanded; they differ in defaults and accepted options.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The attribute as users write it, for error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Main => "#[flywheel::main]",
            Kind::Test => "#[flywheel::test]",
        }
    }

    fn known_options(self) -> &'static str {
        match self {
            Kind::Main => "`flavor`, `worker_threads`",
            Kind::Test => "`flavor`, `worker_threads`, `start_paused`",
        }
    }
}

/// The runtime flavour the generated code builds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

/// The parsed arguments of one attribute.
pub(crate) struct Options {
    pub(crate) flavor: Flavor,
    /// The `flavor = ".."` literal, when given: a conflict with `worker_threads` points here.
    flavor_span: Option<Span>,
    pub(crate) worker_threads: Option<usize>,
    worker_threads_span: Option<Span>,
    pub(crate) start_paused: bool,
    start_paused_span: Option<Span>,
}

impl Options {
    /// Parses the tokens between the attribute's parentheses.
    pub(crate) fn parse(kind: Kind, args: TokenStream) -> syn::Result<Options> {
        let mut options = Options {
            flavor: match kind {
                Kind::Main => Flavor::MultiThread,
                Kind::Test => Flavor::CurrentThread,
            },
            flavor_span: None,
            worker_threads: None,
            worker_threads_span: None,
            start_paused: false,
            start_paused_span: None,
        };
        let parser = syn::meta::parser(|meta| options.parse_one(kind, meta));
        parser.parse2(args)?;
        options.check()?;
        Ok(options)
    }

    fn parse_one(&mut self, kind: Kind, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        let name = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match name.as_str() {
            "flavor" => {
                once(&meta, self.flavor_span)?;
                let value: LitStr = meta.value()?.parse()?;
                self.flavor = match value.value().as_str() {
                    "current_thread" => Flavor::CurrentThread,
                    "multi_thread" => Flavor::MultiThread,
                    other => {
                        return Err(syn::Error::new(
                            value.span(),
                            format!(
                                "unknown flavor `{other}`; expected \"current_thread\" or \
                                 \"multi_thread\""
                            ),
                        ))
                    }
                };
                self.flavor_span = Some(value.span());
            }
            "worker_threads" => {
                once(&meta, self.worker_threads_span)?;
                let value: LitInt = meta.value()?.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`worker_threads` takes a positive integer, e.g. `worker_threads = 4`",
                    )
                })?;
                let n: usize = value.base10_parse()?;
                if n == 0 {
                    return Err(syn::Error::new(
                        value.span(),
                        "`worker_threads` must be at least 1; use flavor = \"current_thread\" \
                         to run everything on the calling thread",
                    ));
                }
                self.worker_threads = Some(n);
                self.worker_threads_span = Some(value.span());
            }
            "start_paused" if kind == Kind::Test => {
                once(&meta, self.start_paused_span)?;
                let value: LitBool = meta.value()?.parse().map_err(|e| {
                    syn::Error::new(e.span(), "`start_paused` takes `true` or `false`")
                })?;
                self.start_paused = value.value;
                self.start_paused_span = Some(value.span());
            }
            "start_paused" => {
                return Err(meta.error(
                    "`start_paused` is for tests: use it with #[flywheel::test], or build the \
                     runtime with flywheel::Builder::start_paused",
                ))
            }
            _ => {
                let shown = quote::ToTokens::to_token_stream(&meta.path).to_string();
                return Err(meta.error(format!(
                    "unknown option `{}` for {}; expected one of {}",
                    shown.replace(' ', ""),
                    kind.name(),
                    kind.known_options()
                )));
            }
        }
        Ok(())
    }

    /// Checks combinations that are wrong even though each option is fine alone.
    fn check(&self) -> syn::Result<()> {
        if let (Flavor::CurrentThread, Some(span)) = (self.flavor, self.worker_threads_span) {
            let mut error = syn::Error::new(
                span,
                "`worker_threads` has no effect on a current-thread runtime; remove it, or set \
                 flavor = \"multi_thread\"",
            );
            if let Some(flavor) = self.flavor_span {
                error.combine(syn::Error::new(flavor, "the flavor is chosen here"));
            }
            return Err(error);
        }
        Ok(())
    }
}

/// Fails when the option being parsed was already given.
fn once(meta: &ParseNestedMeta<'_>, seen: Option<Span>) -> syn::Result<()> {
    match seen {
        Some(_) => Err(meta.error("this option is given twice; keep one")),
        None => Ok(()),
    }
}
