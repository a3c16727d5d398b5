//! Which connector calls go through, which wait for a person, and which are
//! refused: the approval policy of a run.
//!
//! Rules name operations as `namespace.method`, with `*` matching any run
//! of characters (`github.*`, `*.delete_*`); the first rule that matches a
//! call gives its action. A call no rule matches is allowed when its method
//! is read-only (an HTTP `GET`, `HEAD` or `OPTIONS`, an MCP tool with
//! `readOnlyHint`), else it takes the policy's `default`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use codemode_outcome::deserialize_millis;

/// What happens to a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The call goes through.
    Allow,
    /// A person decides first; the call's promise waits.
    Approve,
    /// The call fails at once, with a `CallDeniedError` the script can catch.
    Deny,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "allow",
            Self::Approve => "approve",
            Self::Deny => "deny",
        })
    }
}

/// How long a call may wait for a person before it is rejected as
/// "expired", unless the policy says otherwise: a day.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// A rule: the calls its pattern matches get its action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `namespace.method`, where `*` matches any run of characters.
    #[serde(rename = "match", deserialize_with = "pattern")]
    pub pattern: String,
    /// What happens to the calls it matches.
    pub action: Action,
}

/// A run's approval policy.
///
/// As JSON (the config file's `codemode.approvals`):
///
/// ```
/// # use codemode_runtime::{Action, Policy};
/// let policy: Policy = serde_json::from_str(r#"{
///     "default": "approve",
///     "timeoutMs": 3600000,
///     "rules": [
///         { "match": "*.delete_*", "action": "deny" },
///         { "match": "github.*", "action": "allow" }
///     ]
/// }"#).unwrap();
/// assert_eq!(policy.decide("github", &["issues_create"], false).action, Action::Allow);
/// assert_eq!(policy.decide("github", &["delete_hook"], false).action, Action::Deny);
/// assert_eq!(policy.decide("memory", &["read_graph"], true).action, Action::Allow);
/// assert_eq!(policy.decide("memory", &["create_entities"], false).action, Action::Approve);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policy {
    /// The rules, first match wins.
    #[serde(default)]
    rules: Vec<Rule>,
    /// The action for a call that no rule matches and that is not
    /// read-only. Default: `approve`.
    #[serde(default = "approve")]
    default: Action,
    /// How long a call may wait for a person. Default: a day.
    #[serde(
        default = "default_timeout",
        rename = "timeoutMs",
        deserialize_with = "deserialize_millis"
    )]
    timeout: Duration,
}

fn approve() -> Action {
    Action::Approve
}

fn default_timeout() -> Duration {
    DEFAULT_APPROVAL_TIMEOUT
}

/// Why a call got its action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "by", content = "rule")]
pub enum Because {
    /// The rule with this pattern matched.
    Rule(String),
    /// No rule matched, and the method is read-only.
    ReadOnly,
    /// No rule matched: the policy's default.
    Default,
    /// The run has no policy: everything goes through.
    Ungated,
}

impl fmt::Display for Because {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rule(pattern) => write!(f, "the rule `{pattern}`"),
            Self::ReadOnly => f.write_str("the method is read-only"),
            Self::Default => f.write_str("the policy's default"),
            Self::Ungated => f.write_str("no policy"),
        }
    }
}

/// A policy's answer for one call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruling {
    /// What happens to the call.
    pub action: Action,
    /// Why.
    #[serde(flatten)]
    pub because: Because,
}

impl Ruling {
    /// The ruling for every call of a run without a policy.
    pub const UNGATED: Self = Self {
        action: Action::Allow,
        because: Because::Ungated,
    };
}

impl Policy {
    /// A policy with `rules`, tried in order, and `default` for the calls
    /// none matches that are not read-only.
    ///
    /// # Errors
    ///
    /// [`PatternError`] for a pattern that is not `namespace.method`.
    pub fn new(rules: Vec<Rule>, default: Action) -> Result<Self, PatternError> {
        for rule in &rules {
            check_pattern(&rule.pattern)?;
        }
        Ok(Self {
            rules,
            default,
            timeout: DEFAULT_APPROVAL_TIMEOUT,
        })
    }

    /// Let a call wait at most `timeout` for a person.
    #[must_use]
    pub fn approval_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a call may wait for a person before it is rejected as
    /// "expired".
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The rules, in the order they are tried.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The action for a call no rule matches that is not read-only.
    pub fn default_action(&self) -> Action {
        self.default
    }

    /// The ruling for a call of `namespace`'s method, known by any of
    /// `names` (its identifier in scripts and the connector's own name, say):
    /// a rule matches when its pattern matches `namespace.name` for one of
    /// them.
    pub fn decide(&self, namespace: &str, names: &[&str], read_only: bool) -> Ruling {
        let matched = self.rules.iter().find(|rule| {
            names
                .iter()
                .any(|name| matches_call(&rule.pattern, namespace, name))
        });
        match matched {
            Some(rule) => Ruling {
                action: rule.action,
                because: Because::Rule(rule.pattern.clone()),
            },
            None if read_only => Ruling {
                action: Action::Allow,
                because: Because::ReadOnly,
            },
            None => Ruling {
                action: self.default,
                because: Because::Default,
            },
        }
    }
}

/// A rule's pattern that cannot match a call.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "the pattern `{pattern}` {reason}; write `namespace.method`, with `*` for any characters (`github.*`, `*.delete_*`)"
)]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn check_pattern(pattern: &str) -> Result<(), PatternError> {
    let reason = if pattern.is_empty() {
        Some("is empty")
    } else if !pattern.contains('.') {
        Some("has no `.` between a namespace and a method")
    } else if pattern.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("holds white space or a control character")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(PatternError {
            pattern: pattern.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

fn pattern<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let pattern = String::deserialize(deserializer)?;
    check_pattern(&pattern).map_err(serde::de::Error::custom)?;
    Ok(pattern)
}

/// Whether `pattern` matches `namespace.method`, without building the
/// joined text.
fn matches_call(pattern: &str, namespace: &str, method: &str) -> bool {
    let text = namespace.bytes().chain([b'.']).chain(method.bytes());
    glob(pattern.as_bytes(), &text.collect::<Vec<u8>>())
}

/// `*` matches any run of bytes (none included); every other byte matches
/// itself. Linear in the pattern times the text: the last `*` seen is the
/// only place to backtrack to.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str, action: Action) -> Rule {
        Rule {
            pattern: pattern.into(),
            action,
        }
    }

    #[test]
    fn globs_match_whole_names() {
        assert!(glob(b"github.*", b"github.issues_create"));
        assert!(glob(b"*.delete_*", b"memory.delete_entities"));
        assert!(glob(b"*", b"a.b"));
        assert!(glob(b"a.b", b"a.b"));
        assert!(!glob(b"a.b", b"a.bc"));
        assert!(!glob(b"github.*", b"githubx.y"));
        assert!(!glob(b"*.delete_*", b"memory.read_graph"));
        assert!(glob(b"*a*a*a", b"x.aaaa"));
        assert!(!glob(b"*a*b", b"x.aaaa"));
    }

    #[test]
    fn the_first_matching_rule_wins_then_read_only_then_the_default() {
        let policy = Policy::new(
            vec![
                rule("*.delete_*", Action::Deny),
                rule("memory.*", Action::Allow),
            ],
            Action::Approve,
        )
        .expect("a valid policy");
        let deny = policy.decide("memory", &["delete_entities"], true);
        assert_eq!(deny.action, Action::Deny);
        assert_eq!(deny.because, Because::Rule("*.delete_*".into()));
        assert_eq!(
            policy.decide("memory", &["create_entities"], false).action,
            Action::Allow
        );
        assert_eq!(
            policy.decide("github", &["repos_get"], true).because,
            Because::ReadOnly
        );
        assert_eq!(
            policy.decide("github", &["issues_create"], false),
            Ruling {
                action: Action::Approve,
                because: Because::Default
            }
        );
    }

    #[test]
    fn a_rule_matches_the_identifier_or_the_connector_s_own_name() {
        let policy = Policy::new(vec![rule("api.get-issue", Action::Deny)], Action::Allow)
            .expect("a valid policy");
        assert_eq!(
            policy
                .decide("api", &["get_issue", "get-issue"], false)
                .action,
            Action::Deny
        );
        assert_eq!(
            policy.decide("api", &["get_issue"], false).action,
            Action::Allow
        );
    }

    #[test]
    fn bad_patterns_and_fields_are_named() {
        let error = Policy::new(vec![rule("github", Action::Allow)], Action::Allow)
            .expect_err("an invalid policy");
        assert!(error.to_string().contains("`github` has no `.`"), "{error}");
        let error =
            serde_json::from_str::<Policy>(r#"{ "rules": [{ "match": "", "action": "allow" }] }"#)
                .expect_err("an invalid policy");
        assert!(error.to_string().contains("is empty"), "{error}");
        let error = serde_json::from_str::<Policy>(
            r#"{ "rules": [{ "match": "a.b", "action": "maybe" }] }"#,
        )
        .expect_err("an invalid policy");
        assert!(
            error.to_string().contains("unknown variant `maybe`"),
            "{error}"
        );
        let error = serde_json::from_str::<Policy>(r#"{ "defualt": "allow" }"#)
            .expect_err("an invalid policy");
        assert!(
            error.to_string().contains("unknown field `defualt`"),
            "{error}"
        );
    }

    #[test]
    fn the_defaults_are_approve_and_a_day() {
        let policy: Policy = serde_json::from_str("{}").expect("a valid policy");
        assert_eq!(policy.decide("a", &["b"], false).action, Action::Approve);
        assert_eq!(policy.timeout(), DEFAULT_APPROVAL_TIMEOUT);
    }
}
