//! `#[bounded_test]`, for the tests that start processes or servers: a
//! tokio test whose body runs under
//! `codemode_test_support::deadline::bounded`, so that a hang fails its
//! test with a message naming it instead of stalling CI. One attribute
//! instead of the same wrapper around every such test, as wasmtime's
//! `crates/test-macros` gives its tests `#[wasmtime_test]`.
//!
//! ```text
//! #[bounded_test(multi_thread)]
//! async fn a_server_answers() -> anyhow::Result<()> {
//!     let server = start_server().await?;
//!     assert_eq!(server.ask("1 + 1").await?, "2");
//!     Ok(())
//! }
//! ```
//!
//! `#[bounded_test]` runs the test on tokio's current-thread runtime;
//! `#[bounded_test(multi_thread)]` on two worker threads. The crate using
//! it depends on `tokio` and `codemode-test-support`.

use proc_macro::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

/// Make `async fn` a tokio test whose body runs under
/// `codemode_test_support::deadline::bounded`; `multi_thread` runs it on
/// two worker threads.
#[proc_macro_attribute]
pub fn bounded_test(options: TokenStream, test: TokenStream) -> TokenStream {
    let runtime = match options.to_string().as_str() {
        "" => "",
        "multi_thread" => r#"(flavor = "multi_thread", worker_threads = 2)"#,
        other => {
            return compile_error(&format!(
                "`bounded_test` takes no option or `multi_thread`, not `{other}`"
            ));
        }
    };
    let mut signature: Vec<TokenTree> = test.into_iter().collect();
    let body = match signature.pop() {
        Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => body,
        _ => return compile_error("`bounded_test` goes on an `async fn` with a body"),
    };
    // `bounded(async BODY).await`, the body keeping its own spans.
    let mut bounded = tokens("::codemode_test_support::deadline::bounded");
    bounded.extend([TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        TokenStream::from_iter([
            TokenTree::Ident(Ident::new("async", Span::call_site())),
            TokenTree::Group(body),
        ]),
    ))]);
    bounded.extend(tokens(".await"));

    let mut output = tokens(&format!("#[::tokio::test{runtime}]"));
    output.extend(signature);
    output.extend([TokenTree::Group(Group::new(Delimiter::Brace, bounded))]);
    output
}

/// `text` as tokens; the macro's own text always parses.
fn tokens(text: &str) -> TokenStream {
    text.parse().expect("the macro's own tokens parse")
}

/// A `compile_error!` saying `message`.
fn compile_error(message: &str) -> TokenStream {
    tokens(&format!("::core::compile_error!({message:?});"))
}
