//! The approval gate of a run: the policy's ruling for each call, and the
//! wait for a decision on the calls that need one.
//!
//! The wait holds the run's deadline still (a person's time is not the
//! script's) and is bounded by the policy's approval timeout; what is
//! decided is reported to the script as the call's reply or error.

use std::sync::Arc;
use std::time::SystemTime;

use crate::approval::{Approver, Decision, PendingCall, Unload};
use crate::deadline::Deadline;
use crate::policy::{DEFAULT_APPROVAL_TIMEOUT, Policy, Ruling};

/// What rules on and decides the calls of one run, and when the run gives
/// up its sandbox while they wait.
#[derive(Clone, Default)]
pub(crate) struct Gate {
    policy: Option<Arc<Policy>>,
    approver: Option<Arc<dyn Approver>>,
    unload: Option<Arc<dyn Unload>>,
}

impl Gate {
    pub(crate) fn new(
        policy: Option<Arc<Policy>>,
        approver: Option<Arc<dyn Approver>>,
        unload: Option<Arc<dyn Unload>>,
    ) -> Self {
        Self {
            policy,
            approver,
            unload,
        }
    }

    /// What decides when the run is unloaded, if anything does.
    pub(crate) fn unload(&self) -> Option<&Arc<dyn Unload>> {
        self.unload.as_ref()
    }

    /// The ruling for a call of `namespace`'s method, known to scripts as
    /// `identifier` and to its connector as `original`.
    pub(crate) fn rule(
        &self,
        namespace: &str,
        identifier: &str,
        original: &str,
        read_only: bool,
    ) -> Ruling {
        match &self.policy {
            Some(policy) => policy.decide(namespace, &[identifier, original], read_only),
            None => Ruling::UNGATED,
        }
    }

    /// When a wait that starts now expires.
    pub(crate) fn expires(&self) -> SystemTime {
        let timeout = self
            .policy
            .as_ref()
            .map_or(DEFAULT_APPROVAL_TIMEOUT, |policy| policy.timeout());
        SystemTime::now() + timeout
    }

    /// Wait for a decision on `call`, with the run's deadline held still.
    /// Without an approver, nobody can approve: the call is rejected.
    pub(crate) async fn decide(&self, call: &PendingCall, deadline: &Arc<Deadline>) -> Decision {
        let Some(approver) = &self.approver else {
            return Decision::Reject {
                by: "codemode".into(),
                reason: "nobody can approve calls in this run (it has no approver)".into(),
            };
        };
        let _hold = deadline.hold();
        let wait = call
            .expires
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        match tokio::time::timeout(wait, approver.decide(call)).await {
            Ok(decision) => decision,
            Err(_expired) => approver.expire(call).await,
        }
    }
}
