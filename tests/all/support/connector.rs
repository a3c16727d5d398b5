//! The test connector: methods whose behaviour a test can count on (echo,
//! slow, huge and deep replies, failures, calls that never end), counting
//! what it was asked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use codemode_runtime::{CallContext, Connector, ConnectorError, Grants, MethodDescription};
use codemode_test_support::connector::grant;
use serde_json::{Value, json};

/// The test connector `test`: a handful of methods with fixed behaviour.
///
/// - `echo(args)`: replies with its arguments, at once.
/// - `sleep({ ms, value })`: replies `value` after `ms` milliseconds.
/// - `big({ bytes })`: replies with a string of `bytes` characters.
/// - `deep({ depth })`: replies with `1` inside `depth` nested arrays.
/// - `fail({ message, code? })`: fails with `message` (and `code`).
/// - `never()`: never replies; counts in `cancelled` when its run ends.
///
/// It counts calls, and the most calls it saw running at once.
#[derive(Default)]
pub struct TestConnector {
    methods: Vec<MethodDescription>,
    pub calls: AtomicUsize,
    running: AtomicUsize,
    pub max_running: AtomicUsize,
    /// `never` calls whose run has ended (told through the call's
    /// cancellation token).
    pub cancelled: Arc<AtomicUsize>,
}

impl TestConnector {
    pub fn new() -> Arc<Self> {
        let methods = ["echo", "sleep", "big", "deep", "fail", "never"]
            .into_iter()
            .map(|name| MethodDescription::new(name, format!("test method `{name}`")))
            .collect();
        Arc::new(Self {
            methods,
            ..Self::default()
        })
    }
}

#[async_trait]
impl Connector for TestConnector {
    fn methods(&self) -> &[MethodDescription] {
        &self.methods
    }

    async fn call(&self, call: &CallContext, args: Value) -> Result<Value, ConnectorError> {
        let method: &str = &call.method;
        self.calls.fetch_add(1, Ordering::SeqCst);
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(running, Ordering::SeqCst);
        // Counts the call out even when it is cancelled mid-way.
        let _running = Running(&self.running);
        match method {
            "echo" => Ok(args),
            "sleep" => {
                let ms = args["ms"].as_u64().unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(args.get("value").cloned().unwrap_or(Value::Null))
            }
            "big" => {
                let bytes = args["bytes"].as_u64().unwrap_or(0) as usize;
                Ok(json!("x".repeat(bytes)))
            }
            "deep" => {
                // Built from the inside out, by moving (`json!` would copy
                // `value` by serializing it, recursively).
                let mut value = json!(1);
                for _ in 0..args["depth"].as_u64().unwrap_or(0) {
                    value = Value::Array(vec![value]);
                }
                Ok(value)
            }
            "fail" => {
                let message = args["message"].as_str().unwrap_or("failed");
                Err(match args["code"].as_str() {
                    Some(code) => ConnectorError::with_code(code, message),
                    None => ConnectorError::new(message),
                })
            }
            "never" => {
                let (token, cancelled) = (call.cancelled.clone(), Arc::clone(&self.cancelled));
                tokio::spawn(async move {
                    token.cancelled().await;
                    cancelled.fetch_add(1, Ordering::SeqCst);
                });
                std::future::pending().await
            }
            other => Err(ConnectorError::new(format!("no method {other}"))),
        }
    }
}

/// Decrements a running count when dropped.
struct Running<'a>(&'a AtomicUsize);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Grants with the test connector as `test`.
pub fn test_grants(connector: &Arc<TestConnector>) -> Arc<Grants> {
    grant("test", connector.clone())
}
