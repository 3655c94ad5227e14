//! The attribute's arguments: `flavor`, `worker_threads`, `crate` and (tests only)
//! `start_paused`, `unhandled_panic`, `seed` and `runs`, written `name = value` and separated
//! by commas.
//!
//! Each option may appear once. Every error points at the tokens that caused it: the option's
//! name when the name is wrong, repeated or has no value, its value when the value is wrong,
//! and the stray token when the list itself is malformed. The list is parsed by hand rather
//! than with `syn::meta::parser` so that these messages can say what to write instead.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, Path, PathSegment, Token};

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
            Kind::Main => "`flavor`, `worker_threads`, `crate`",
            Kind::Test => {
                "`flavor`, `worker_threads`, `start_paused`, `unhandled_panic`, `seed`, `runs`, \
                 `crate`"
            }
        }
    }
}

/// The runtime flavour the generated code builds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
    /// A current-thread `LocalRuntime`: the body and `spawn_local`ed tasks need not be `Send`.
    Local,
}

/// What the runtime does when a task panics (`flywheel::UnhandledPanic`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnhandledPanic {
    Ignore,
    ShutdownRuntime,
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
    /// Tests shut down on a task panic unless told `unhandled_panic = "ignore"`; `main`
    /// leaves the builder's default (`None`).
    pub(crate) unhandled_panic: Option<UnhandledPanic>,
    unhandled_panic_span: Option<Span>,
    /// `seed = N`: the (first) seed of a seeded runtime.
    pub(crate) seed: Option<u64>,
    seed_span: Option<Span>,
    /// `runs = N`: how many seeded runs, one seed each.
    pub(crate) runs: Option<u32>,
    runs_span: Option<Span>,
    /// Where the generated code finds flywheel (`crate = "path"`); `::flywheel` when `None`.
    pub(crate) krate: Option<Path>,
    krate_span: Option<Span>,
}

/// One `name = value` pair as written; the value is checked by the option it belongs to.
struct Pair {
    name: Path,
    value: Expr,
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
            unhandled_panic: match kind {
                Kind::Main => None,
                Kind::Test => Some(UnhandledPanic::ShutdownRuntime),
            },
            unhandled_panic_span: None,
            seed: None,
            seed_span: None,
            runs: None,
            runs_span: None,
            krate: None,
            krate_span: None,
        };
        let parser = |input: ParseStream<'_>| -> syn::Result<()> {
            while !input.is_empty() {
                let pair = parse_pair(kind, input)?;
                options.apply(kind, pair)?;
                if input.is_empty() {
                    break;
                }
                if !input.peek(Token![,]) {
                    return Err(input.error(
                        "expected `,` here: options are `name = value` pairs separated by commas",
                    ));
                }
                input.parse::<Token![,]>()?;
            }
            Ok(())
        };
        parser.parse2(args)?;
        options.check()?;
        Ok(options)
    }

    fn apply(&mut self, kind: Kind, pair: Pair) -> syn::Result<()> {
        let Pair { name, value } = pair;
        let shown = path_to_string(&name);
        match shown.as_str() {
            "flavor" => {
                once(&name, self.flavor_span)?;
                let (text, span) = string(&value, "`flavor = \"current_thread\"`")?;
                self.flavor = match text.as_str() {
                    "current_thread" => Flavor::CurrentThread,
                    "multi_thread" => Flavor::MultiThread,
                    "local" => Flavor::Local,
                    other => {
                        return Err(syn::Error::new(
                            span,
                            format!(
                                "unknown flavor `{other}`; expected \"current_thread\", \
                                 \"multi_thread\" or \"local\""
                            ),
                        ))
                    }
                };
                self.flavor_span = Some(span);
            }
            "worker_threads" => {
                once(&name, self.worker_threads_span)?;
                let Expr::Lit(ExprLit {
                    lit: Lit::Int(int), ..
                }) = &value
                else {
                    return Err(syn::Error::new_spanned(
                        &value,
                        "`worker_threads` takes a positive integer, e.g. `worker_threads = 4`",
                    ));
                };
                let n: usize = int.base10_parse()?;
                if n == 0 {
                    return Err(syn::Error::new(
                        int.span(),
                        "`worker_threads` must be at least 1; use flavor = \"current_thread\" \
                         to run everything on the calling thread",
                    ));
                }
                self.worker_threads = Some(n);
                self.worker_threads_span = Some(int.span());
            }
            "start_paused" if kind == Kind::Test => {
                once(&name, self.start_paused_span)?;
                let Expr::Lit(ExprLit {
                    lit: Lit::Bool(flag),
                    ..
                }) = &value
                else {
                    return Err(syn::Error::new_spanned(
                        &value,
                        "`start_paused` takes `true` or `false`",
                    ));
                };
                self.start_paused = flag.value;
                self.start_paused_span = Some(flag.span());
            }
            "start_paused" => {
                return Err(syn::Error::new_spanned(
                    &name,
                    "`start_paused` is for tests: use it with #[flywheel::test], or build the \
                     runtime with flywheel::Builder::start_paused",
                ))
            }
            "unhandled_panic" if kind == Kind::Test => {
                once(&name, self.unhandled_panic_span)?;
                let (text, span) = string(&value, "`unhandled_panic = \"ignore\"`")?;
                self.unhandled_panic = Some(match text.as_str() {
                    "ignore" => UnhandledPanic::Ignore,
                    "shutdown_runtime" => UnhandledPanic::ShutdownRuntime,
                    other => {
                        return Err(syn::Error::new(
                            span,
                            format!(
                                "unknown `unhandled_panic` behaviour `{other}`; expected \
                                 \"ignore\" or \"shutdown_runtime\" (the default)"
                            ),
                        ))
                    }
                });
                self.unhandled_panic_span = Some(span);
            }
            "unhandled_panic" => {
                return Err(syn::Error::new_spanned(
                    &name,
                    "`unhandled_panic` is for tests: use it with #[flywheel::test], or build \
                     the runtime with flywheel::Builder::unhandled_panic",
                ))
            }
            "seed" if kind == Kind::Test => {
                once(&name, self.seed_span)?;
                let int = integer(&value, "`seed` takes an unsigned integer, e.g. `seed = 42`")?;
                self.seed = Some(int.base10_parse()?);
                self.seed_span = Some(int.span());
            }
            "runs" if kind == Kind::Test => {
                once(&name, self.runs_span)?;
                let int = integer(&value, "`runs` takes a positive integer, e.g. `runs = 200`")?;
                let n: u32 = int.base10_parse()?;
                if n == 0 {
                    return Err(syn::Error::new(
                        int.span(),
                        "`runs` must be at least 1: it is how many times the body runs, each \
                         time with a new seed",
                    ));
                }
                self.runs = Some(n);
                self.runs_span = Some(int.span());
            }
            "seed" | "runs" => {
                return Err(syn::Error::new_spanned(
                    &name,
                    format!(
                        "`{shown}` is for tests: use it with #[flywheel::test], or build the \
                         runtime with flywheel::Builder::seed"
                    ),
                ))
            }
            "crate" => {
                once(&name, self.krate_span)?;
                self.krate = Some(crate_path(&value)?);
                self.krate_span = Some(value.span());
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    &name,
                    format!(
                        "unknown option `{shown}` for {}; expected one of {}",
                        kind.name(),
                        kind.known_options()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks combinations that are wrong even though each option is fine alone.
    fn check(&self) -> syn::Result<()> {
        if let (Flavor::CurrentThread | Flavor::Local, Some(span)) =
            (self.flavor, self.worker_threads_span)
        {
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
        if let Some(span) = self.seed_span.or(self.runs_span) {
            if self.flavor == Flavor::MultiThread {
                let mut error = syn::Error::new(
                    span,
                    "seeded runs need a current-thread runtime (a multi-thread one's order \
                     depends on its threads and cannot be replayed); remove flavor = \
                     \"multi_thread\"",
                );
                if let Some(flavor) = self.flavor_span {
                    error.combine(syn::Error::new(flavor, "the flavor is chosen here"));
                }
                return Err(error);
            }
            if let (false, Some(paused)) = (self.start_paused, self.start_paused_span) {
                return Err(syn::Error::new(
                    paused,
                    "a seeded runtime always starts paused (the real clock would make runs \
                     differ); remove `start_paused = false`",
                ));
            }
        }
        Ok(())
    }

    /// Whether the test runs on seeded runtimes (`seed` or `runs` given).
    pub(crate) fn is_seeded(&self) -> bool {
        self.seed.is_some() || self.runs.is_some()
    }
}

/// The integer literal of an option's value, or an error saying `what` it takes.
fn integer<'a>(value: &'a Expr, what: &str) -> syn::Result<&'a syn::LitInt> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => Ok(int),
        _ => Err(syn::Error::new_spanned(value, what)),
    }
}

/// Parses `name = value`, stopping before the `,` that ends it.
fn parse_pair(kind: Kind, input: ParseStream<'_>) -> syn::Result<Pair> {
    if !input.peek(Ident::peek_any) && !input.peek(Token![::]) {
        return Err(input.error(format!(
            "expected an option name: {} takes `name = value` pairs such as \
             `flavor = \"current_thread\"`; its options are {}",
            kind.name(),
            kind.known_options()
        )));
    }
    let name = parse_name(input)?;
    if !input.peek(Token![=]) {
        let shown = path_to_string(&name);
        return Err(syn::Error::new_spanned(
            &name,
            format!("`{shown}` needs a value: write it as `{shown} = ...`"),
        ));
    }
    input.parse::<Token![=]>()?;
    if input.is_empty() || input.peek(Token![,]) {
        return Err(syn::Error::new_spanned(
            &name,
            format!("`{}` needs a value after `=`", path_to_string(&name)),
        ));
    }
    let value: Expr = input.parse()?;
    Ok(Pair { name, value })
}

/// An option name: one identifier (keywords such as `crate` included), or a path, which is
/// then reported as unknown.
fn parse_name(input: ParseStream<'_>) -> syn::Result<Path> {
    let leading_colon: Option<Token![::]> = input.parse()?;
    let mut segments = Punctuated::<PathSegment, Token![::]>::new();
    segments.push_value(PathSegment::from(Ident::parse_any(input)?));
    while input.peek(Token![::]) {
        segments.push_punct(input.parse()?);
        segments.push_value(PathSegment::from(Ident::parse_any(input)?));
    }
    Ok(Path {
        leading_colon,
        segments,
    })
}

/// The text of a string-literal value and its span, or an error showing `example`.
fn string(value: &Expr, example: &str) -> syn::Result<(String, Span)> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok((text.value(), text.span())),
        _ => Err(syn::Error::new_spanned(
            value,
            format!("expected a string literal, e.g. {example}"),
        )),
    }
}

/// The path in `crate = "path"`: a plain path without generic arguments.
fn crate_path(value: &Expr) -> syn::Result<Path> {
    const EXAMPLE: &str = "`crate = \"my_crate::flywheel\"`";
    if let Expr::Path(path) = value {
        return Err(syn::Error::new_spanned(
            value,
            format!(
                "write the path as a string: `crate = \"{}\"`",
                path_to_string(&path.path)
            ),
        ));
    }
    let Expr::Lit(ExprLit {
        lit: Lit::Str(text),
        ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(
            value,
            format!("expected a string literal, e.g. {EXAMPLE}"),
        ));
    };
    let span = text.span();
    let invalid = || {
        syn::Error::new(
            span,
            format!(
                "`crate` takes the path at which flywheel is reachable, e.g. {EXAMPLE}; \
                 \"{}\" is not a path",
                text.value()
            ),
        )
    };
    let path: Path = text.parse().map_err(|_| invalid())?;
    if path
        .segments
        .iter()
        .any(|segment| !segment.arguments.is_empty())
    {
        return Err(invalid());
    }
    Ok(path)
}

/// A path as written, without the spaces `to_string` puts around `::`.
fn path_to_string(path: &Path) -> String {
    quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "")
}

/// Fails when the option named `name` was already given.
fn once(name: &Path, seen: Option<Span>) -> syn::Result<()> {
    match seen {
        Some(_) => Err(syn::Error::new_spanned(
            name,
            "this option is given twice; keep one",
        )),
        None => Ok(()),
    }
}
