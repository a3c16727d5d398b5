//! Arbitrary JSON and token budgets through the MCP server's output
//! fitting (`codemode_mcp_server::fit`): the text is always valid JSON and
//! its token count is the one reported; an uncut text is the value's own
//! compact JSON within the budget; a cut text starts with the `truncated`
//! note and is within the budget unless it is the note alone.
//!
//! The first two bytes are the budget (0 to 4,095 tokens), the rest the
//! value.
#![no_main]

use std::sync::LazyLock;

use codemode_fuzz::json;
use codemode_mcp_server::{TokenCounter, fit};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

static COUNTER: LazyLock<TokenCounter> = LazyLock::new(TokenCounter::o200k);

fuzz_target!(|data: &[u8]| {
    let Some((budget, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let max_tokens = usize::from(u16::from_le_bytes(*budget) % 4096);
    let Ok(value) = json::value(rest) else {
        return;
    };
    let fitted = fit(&value, max_tokens, &COUNTER);
    let output = json::parse_unbounded(&fitted.text);
    assert_eq!(
        fitted.tokens,
        COUNTER.count(&fitted.text),
        "the reported count is wrong"
    );
    match fitted.cut_from {
        None => {
            assert!(fitted.tokens <= max_tokens, "an uncut text over the budget");
            if let Some(difference) = json::difference(&output, &value) {
                panic!(
                    "an uncut text is not the value, at {difference}: {}",
                    fitted.text
                );
            }
        }
        Some(full) => {
            assert!(full > max_tokens, "cut though the full text fit");
            let Value::Object(members) = &output else {
                panic!("a cut output that is not an object: {}", fitted.text);
            };
            assert_eq!(
                members.keys().next().map(String::as_str),
                Some("truncated"),
                "a cut output whose first key is not the note: {}",
                fitted.text
            );
            assert!(
                fitted.tokens <= max_tokens || members.len() == 1,
                "a cut output over the budget of {max_tokens} tokens: {} tokens",
                fitted.tokens
            );
        }
    }
});
