//! A small, deterministic fuzz pass that runs in every test run: scripts that
//! exercise every part of the sandbox (connectors, timers, console, results,
//! errors, web globals) are mutated at random, byte by byte and token by
//! token, and each mutant must end in an outcome the script could have
//! caused. None may end as `internal` (a failure of the sandbox itself), and
//! the runtime must still run a normal script afterwards.

use std::sync::Arc;
use std::time::Duration;

use codemode_runtime::{ErrorKind, Execution, Grants};
use serde_json::json;

use crate::support::{TestConnector, limits, run, run_with, test_grants};

/// Scripts to mutate: each touches a different part of the sandbox.
const SEEDS: &[&str] = &[
    "const r = await test.echo({ a: [1, 'x', { b: null }], n: 1.5 }); console.log(r); r",
    "await Promise.all([test.sleep({ ms: 5, value: 1 }), test.sleep({ ms: 1, value: 2 })])",
    "try { await test.fail({ message: 'no' }) } catch (e) { ({ name: e.name, code: e.code }) }",
    "let n = 0; const id = setInterval(() => { if (++n > 2) clearInterval(id); }, 1); await new Promise((r) => setTimeout(r, 10)); n",
    "console.log('%s %d %j', 'a', 2, { c: [1, 2] }, new Map([[1, { d: 2 }]]), new Set([1]), [1, , 3]);",
    "const u = new URL('https://a.b/c?d=1#e'); u.searchParams.append('f', 'g h'); ({ href: u.href, b: btoa('xy'), a: atob('eHk=') })",
    "async () => { const c = structuredClone({ d: new Date(0), r: /x/g, m: new Map() }); return c; }",
    "const x = { a: { b: 1 } }; x.a.self = x; JSON.stringify(x)",
    "function f(n) { return n <= 1 ? 1 : n * f(n - 1) } f(20)",
    "export default await test.echo([1, 2, 3]);",
    "new TextDecoder().decode(new TextEncoder().encode('héllo ' + crypto.randomUUID()))",
    "throw new TypeError('at ' + [1, 2, 3].map((v) => v * 2).join())",
];

/// Tokens spliced in by mutation: the syntax and names most likely to reach
/// unusual paths.
const TOKENS: &[&str] = &[
    "await ",
    "async ",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ";",
    "=>",
    "...",
    "`",
    "'",
    "\"",
    "\\",
    "null",
    "undefined",
    "test.",
    "test.never()",
    "new Proxy({}, {})",
    "Symbol()",
    "1n",
    "-0",
    "NaN",
    "__proto__",
    "constructor",
    "Promise.reject(1)",
    "throw 1;",
    "return;",
    "\n",
    "\"\\ud800\"",
    "😀",
    "%",
    "\0",
    "import ",
    "export ",
    "yield ",
    "setTimeout(",
    "console.log(",
    "JSON.parse(",
    "globalThis",
    "delete ",
    "typeof ",
];

/// A small, seeded generator (xorshift64*), so every run mutates the same way.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

fn mutate(seed: &str, random: &mut Random) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    // Mostly one change, so that many mutants still parse and run.
    let changes = [1, 1, 1, 1, 1, 1, 2, 2, 2, 3][random.below(10)];
    for _ in 0..changes {
        let at = random.below(chars.len() + 1);
        match random.below(4) {
            0 if !chars.is_empty() => {
                let end = (at + 1 + random.below(8)).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            1 => {
                let token = TOKENS[random.below(TOKENS.len())];
                chars.splice(at..at, token.chars());
            }
            2 if !chars.is_empty() => {
                let from = random.below(chars.len());
                let end = (from + 1 + random.below(12)).min(chars.len());
                let copy: Vec<char> = chars[from..end].to_vec();
                chars.splice(at..at, copy);
            }
            _ => {
                const REPLACEMENTS: &[u8] = b" ({[]});,.=+-*/!?:'\"`x0";
                let replacement = char::from(REPLACEMENTS[random.below(REPLACEMENTS.len())]);
                if at < chars.len() {
                    chars[at] = replacement;
                } else {
                    chars.push(replacement);
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_scripts_never_fail_the_sandbox_itself() {
    let connector = TestConnector::new();
    let grants: Arc<Grants> = test_grants(&connector);
    let quick = limits(|l| {
        l.timeout = Duration::from_millis(150);
        l.fuel = 200_000_000;
        l.memory_bytes = 32 << 20;
    });
    let mut random = Random(0x5EED_C0DE_1234_5678);
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for round in 0..1500 {
        let seed = SEEDS[round % SEEDS.len()];
        let code = mutate(seed, &mut random);
        let execution = Execution::new(code.clone())
            .grants(Arc::clone(&grants))
            .limits(quick.clone());
        let outcome = run_with(execution).await;
        let kind = outcome.error_kind();
        assert_ne!(
            kind,
            Some(ErrorKind::Internal),
            "mutant {round} failed the sandbox:\n{code}\n{outcome:#?}"
        );
        if let Some(error) = &outcome.error {
            assert!(
                !error.message.contains("[uninitialized]"),
                "mutant {round}:\n{code}\n{outcome:#?}"
            );
        }
        *kinds.entry(format!("{kind:?}")).or_default() += 1;
    }
    // The mutants reach more than syntax errors: some still run to the end.
    assert!(kinds.get("None").copied().unwrap_or(0) > 50, "{kinds:?}");
    // The script's own failures are reported as such, never as a bare
    // "[uninitialized]" (what a NUL in the code once gave).
    assert!(kinds.len() >= 2, "{kinds:?}");
    assert_eq!(
        run("'still serving'").await.result,
        Some(json!("still serving"))
    );
}
