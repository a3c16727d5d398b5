//! A person (or a program) deciding on a connector call: what the gate
//! asks ([`PendingCall`]), what it is told ([`Decision`]), who is asked
//! ([`Approver`]), and when a durable run gives up its sandbox while it
//! waits ([`Unload`]).
//!
//! The runtime asks an approver when the policy says `approve`, and when a
//! durable run finds a call "in doubt": journaled as started in a process
//! that died before its result was. The call's promise stays pending while
//! the approver decides; the run's deadline does not run meanwhile, and the
//! policy's approval timeout bounds the wait.

use std::time::SystemTime;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::policy::Because;

/// Why a call waits for a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Waiting {
    /// The policy asks a person to approve it before it is made.
    Approval,
    /// It was started, and its process died before its result was
    /// journaled: it may or may not have happened. Approving retries it;
    /// [`Decision::Resolve`] gives the result it had.
    InDoubt,
}

/// A call waiting for a decision.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingCall {
    /// The durable run's id; `None` for a run with no journal.
    pub run: Option<String>,
    /// The call's number in its run: 1 for the first call started.
    pub call: u32,
    /// The namespace the connector is granted under.
    pub namespace: String,
    /// The method, as the script calls it.
    pub method: String,
    /// The arguments, as the connector would get them.
    pub args: Value,
    /// Why it waits.
    pub waiting: Waiting,
    /// Why the policy gave it its action.
    pub because: Because,
    /// When the wait ends with the call rejected as "expired".
    pub expires: SystemTime,
}

impl PendingCall {
    /// `namespace.method`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.namespace, self.method)
    }
}

/// What was decided about a [`PendingCall`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "decision")]
pub enum Decision {
    /// Make the call (for a call in doubt: make it again).
    Approve {
        /// Who approved it.
        by: String,
    },
    /// Do not make it: its promise rejects with an `ApprovalRejectedError`.
    Reject {
        /// Who rejected it.
        by: String,
        /// Why, for the script and the journal.
        reason: String,
    },
    /// For a call in doubt: it happened, and this was its reply.
    Resolve {
        /// Who said so.
        by: String,
        /// The reply the script gets.
        result: Value,
    },
}

impl Decision {
    /// The reason of the rejection that ends a wait at its timeout.
    pub const EXPIRED: &'static str = "expired";

    /// Who decided.
    pub fn by(&self) -> &str {
        match self {
            Self::Approve { by } | Self::Reject { by, .. } | Self::Resolve { by, .. } => by,
        }
    }
}

/// Decides on calls that wait for a person: a terminal prompt, an MCP
/// client asked through elicitation, a chat bot, a policy engine, or a
/// journal that another process writes decisions to.
#[async_trait]
pub trait Approver: Send + Sync + 'static {
    /// Decide on `call`. The future is dropped when the run ends first, or
    /// when the call's wait passes [`PendingCall::expires`] (then
    /// [`expire`](Self::expire) is asked instead).
    async fn decide(&self, call: &PendingCall) -> Decision;

    /// The call waited until it expired. What this returns stands: a
    /// journal that finds a decision made at that moment returns it
    /// instead. By default, a rejection with the reason "expired".
    async fn expire(&self, call: &PendingCall) -> Decision {
        let _ = call;
        Decision::Reject {
            by: "codemode".into(),
            reason: Decision::EXPIRED.into(),
        }
    }
}

/// Decides when a durable run that waits for people gives up its sandbox:
/// a run unloaded ends its execution, its wasmtime store is dropped, and its
/// [`Outcome`](crate::Outcome) has [`ErrorKind::Unloaded`](crate::ErrorKind::Unloaded).
/// Nothing is lost: executed again once a decision is made, the run
/// resumes from its journal, and the replay reaches the gate with every
/// call as it was.
///
/// A run is only unloaded when that cannot change what it does: every call
/// it has in flight waits for a decision (none is running on a connector,
/// which unloading would leave "in doubt") and no timer of the script is
/// due. Without an `Unload`, a waiting run keeps its store until the
/// decisions come.
#[async_trait]
pub trait Unload: Send + Sync + 'static {
    /// The durable run `run` is idle at its gate. When the future resolves
    /// the run is unloaded, unless a decision came meanwhile; it is dropped
    /// when the run stops being idle first.
    async fn idle(&self, run: &str);
}
