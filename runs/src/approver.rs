//! [`StoreApprover`]: the runtime's [`Approver`] seam answered from the
//! store, so that a decision can come from any process that opens the same
//! file (`codemode runs approve`, another server), and from a person asked
//! in this one.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use codemode_runtime::{Approver, Decision, PendingCall};

use crate::decisions::CallWait;
use crate::error::Result;
use crate::store::{RunStore, now_millis};

/// How often the store is read for a decision.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Decides on a durable run's calls through its [`RunStore`]: records that
/// the call waits, then reads the store until a decision is there.
///
/// With an [`asking`](Self::asking) approver (a terminal prompt, an MCP
/// elicitation), that one is asked at the same time; whichever answers
/// first is recorded, and the decision that stands is returned: two
/// processes deciding at once see the same one.
///
/// When the store fails, the call is rejected, with the error as the
/// reason: no call is made without a recorded decision.
#[derive(Clone)]
pub struct StoreApprover {
    store: RunStore,
    asking: Option<Arc<dyn Approver>>,
}

impl StoreApprover {
    /// Decisions from the store only.
    pub fn new(store: RunStore) -> Self {
        Self {
            store,
            asking: None,
        }
    }

    /// Ask `approver` too, in this process.
    #[must_use]
    pub fn asking(mut self, approver: Arc<dyn Approver>) -> Self {
        self.asking = Some(approver);
        self
    }

    /// Record that `call` waits, then give the decision recorded on it, or
    /// `asked`'s answer if it comes first and no decision was recorded
    /// meanwhile. The wait expires when it was first recorded to: a run
    /// resumed after a restart, or after it was unloaded, does not wait
    /// longer than the policy's timeout in all.
    pub(crate) async fn decision(
        &self,
        call: &CallWait<'_>,
        asked: Option<impl Future<Output = Decision>>,
    ) -> Result<Decision> {
        let expires = self.store.record_wait(call)?;
        let left = Duration::from_millis(expires.saturating_sub(now_millis()));
        let recorded = self.recorded(call);
        let decided = async {
            match asked {
                None => recorded.await,
                Some(asked) => tokio::select! {
                    decision = recorded => decision,
                    decision = asked => self.store.settle(call, &decision),
                },
            }
        };
        match tokio::time::timeout(left, decided).await {
            Ok(decision) => decision,
            Err(_expired) => self.expiry(call),
        }
    }

    /// The decision recorded on `call`'s wait, once there is one.
    async fn recorded(&self, call: &CallWait<'_>) -> Result<Decision> {
        loop {
            if let Some(decision) = self.store.decision(call.run, call.call, call.waiting)? {
                return Ok(decision);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Reject `call` as expired unless a decision was recorded first.
    pub(crate) fn expiry(&self, call: &CallWait<'_>) -> Result<Decision> {
        self.store.record_wait(call)?;
        let expired = Decision::Reject {
            by: "codemode".into(),
            reason: Decision::EXPIRED.into(),
        };
        self.store.settle(call, &expired)
    }
}

#[async_trait]
impl Approver for StoreApprover {
    /// # Cancel safety
    ///
    /// Dropping the future leaves the wait recorded, and any decision made
    /// meanwhile stands.
    async fn decide(&self, pending: &PendingCall) -> Decision {
        let asked = self
            .asking
            .as_ref()
            .map(|approver| approver.decide(pending));
        match CallWait::of(pending) {
            Ok(call) => self.decision(&call, asked).await,
            Err(error) => Err(error),
        }
        .unwrap_or_else(store_failed)
    }

    async fn expire(&self, pending: &PendingCall) -> Decision {
        CallWait::of(pending)
            .and_then(|call| self.expiry(&call))
            .unwrap_or_else(store_failed)
    }
}

/// The rejection of a call whose decision could not be recorded or read.
fn store_failed(error: crate::StoreError) -> Decision {
    Decision::Reject {
        by: "codemode".into(),
        reason: error.to_string(),
    }
}
