//! What checking a bearer token costs, and that it does not tell how
//! close a wrong token came: `Access::admit` with the right token, a wrong
//! one that shares all but its last byte with a configured token, one that
//! shares nothing, and one of another length. The comparison is of SHA-256
//! digests, in constant time, over every token, so the four take the same
//! time but for the hash of what was sent (its length).

#![allow(missing_docs)]

use axum::http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
use codemode_mcp_server::{Access, Role};
use criterion::{Criterion, criterion_group, criterion_main};

const TOKENS: [(&str, &str); 3] = [
    ("bot", "agent-token-0123456789abcdef0123456789abcdef"),
    ("ana", "reviewer-token-0123456789abcdef0123456789ab"),
    ("ops", "admin-token-0123456789abcdef0123456789abcdef"),
];

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("ascii");
    headers.insert(AUTHORIZATION, value);
    headers
}

fn admit(c: &mut Criterion) {
    let access = Access::tokens(
        TOKENS
            .iter()
            .zip([Role::Agent, Role::Reviewer, Role::Admin])
            .map(|((name, token), role)| (*name, role, *token)),
    )
    .expect("tokens");
    let right = TOKENS[2].1;
    let mut near = right.to_owned();
    near.pop();
    near.push('x');
    let far = "x".repeat(right.len());
    let short = "x".repeat(8);
    let mut group = c.benchmark_group("admit");
    for (name, token) in [
        ("right", right),
        ("wrong_last_byte", near.as_str()),
        ("wrong_every_byte", far.as_str()),
        ("wrong_length", short.as_str()),
    ] {
        let headers = bearer(token);
        group.bench_function(name, |b| {
            b.iter(|| std::hint::black_box(access.admit(&headers, Role::Agent).is_ok()));
        });
    }
    group.finish();
}

criterion_group!(benches, admit);
criterion_main!(benches);
