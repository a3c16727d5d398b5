//! Progress notifications of one run: its console lines and connector
//! calls, sent to a client that gave a progress token, without ever
//! holding up the run.
//!
//! A run queues each message without waiting (a bounded queue, which a
//! task drains into notifications), and at most
//! [`MAX_PROGRESS_NOTIFICATIONS`] of them: a script that logs in a loop
//! would otherwise bury its client under notifications (two million took
//! two minutes to drain). What is left out is counted, and said in one
//! last notification once the run ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use codemode_runtime::{CallContext, ConnectorError, Interceptor};
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The most progress notifications one run sends, besides the last one
/// that counts what was left out.
pub(crate) const MAX_PROGRESS_NOTIFICATIONS: usize = 1_000;

/// Where a run reports progress. Clones share the queue; the notifications
/// end (with the count of what was left out) once every clone is dropped.
#[derive(Clone)]
pub(crate) struct Progress {
    queue: mpsc::Sender<String>,
    counts: Arc<Counts>,
}

/// How many messages a run offered, and how many were left out.
#[derive(Default)]
struct Counts {
    offered: AtomicUsize,
    dropped: AtomicUsize,
}

impl Progress {
    /// Progress sent to `peer` under `token` by a task, which ends after
    /// the last notification: await it before answering the request.
    pub(crate) fn notify(peer: Peer<RoleServer>, token: ProgressToken) -> (Self, JoinHandle<()>) {
        let (queue, mut messages) = mpsc::channel::<String>(MAX_PROGRESS_NOTIFICATIONS);
        let counts = Arc::new(Counts::default());
        let dropped = Arc::clone(&counts);
        let forwarder = tokio::spawn(async move {
            let mut step = 0.0;
            let mut send = async |message: String| {
                step += 1.0;
                let note =
                    ProgressNotificationParam::new(token.clone(), step).with_message(message);
                peer.notify_progress(note).await.is_ok()
            };
            while let Some(message) = messages.recv().await {
                if !send(message).await {
                    return;
                }
            }
            let dropped = dropped.dropped.load(Ordering::Relaxed);
            if dropped > 0 {
                let _ = send(format!(
                    "codemode: {dropped} more console lines and calls were not sent as progress (a run sends at most {MAX_PROGRESS_NOTIFICATIONS})"
                ))
                .await;
            }
        });
        (Self { queue, counts }, forwarder)
    }

    /// Queue the message `message` makes, unless the run has sent its share
    /// or the queue is full; never waits. The message is made only when
    /// it is queued.
    pub(crate) fn report(&self, message: impl FnOnce() -> String) {
        let offered = self.counts.offered.fetch_add(1, Ordering::Relaxed);
        if offered >= MAX_PROGRESS_NOTIFICATIONS || self.queue.try_send(message()).is_err() {
            self.counts.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Each connector call is progress as it starts.
#[async_trait]
impl Interceptor for Progress {
    async fn start(&self, call: &CallContext, _: &Value) -> Result<(), ConnectorError> {
        self.report(|| format!("call {}.{}", call.namespace, call.method));
        Ok(())
    }
}
