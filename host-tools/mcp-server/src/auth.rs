//! Who may use the server over HTTP: bearer tokens, each with a name and a
//! [`Role`], checked on every request to `/mcp` and to the runs console's
//! API before anything else reads it.
//!
//! A token is compared in constant time: what is sent and what each
//! configured token is are hashed (SHA-256) and the digests compared with
//! [`subtle`], over every configured token, so neither a token's bytes nor
//! its length nor its place in the list shows in how long a refusal takes.
//! A refusal says what was wrong with the request (no token, a token that
//! is not valid, a role that may not do this) and never which tokens exist.
//!
//! A server with no tokens ([`Access::open`]) lets every request through as
//! `local` with every role; `codemode serve` binds such a server only to
//! loopback unless told `--insecure-no-auth`.

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// The fewest bytes a token may have: 128 bits of hex.
pub const MIN_TOKEN_BYTES: usize = 32;

/// What a token's holder may do. Each role may do what the ones before it
/// may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Call `search` and `execute` at `/mcp`.
    Agent,
    /// Also read runs in the console, approve or reject their calls, and
    /// roll them back.
    Reviewer,
    /// Also decide the calls of runs they started themselves, which a
    /// reviewer may not.
    Admin,
}

impl Role {
    /// `agent`, `reviewer` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Reviewer => "reviewer",
            Self::Admin => "admin",
        }
    }
}

/// Who made a request: the name of the token it carried and its role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's name, as the config gives it; `local` on a server
    /// without tokens.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// Why a set of tokens cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// A token is too short to resist guessing.
    #[error(
        "the token `{name}` has {bytes} bytes; a token needs at least {MIN_TOKEN_BYTES} (make one with `openssl rand -hex 32`)"
    )]
    TooShort {
        /// Its name.
        name: String,
        /// How long it is.
        bytes: usize,
    },
    /// Two tokens have the same value, so a request could not tell them
    /// apart.
    #[error("the tokens `{first}` and `{second}` have the same value; give each its own")]
    SameValue {
        /// The first one's name.
        first: String,
        /// The other's.
        second: String,
    },
}

/// One configured token: its name, role and the SHA-256 digest of its
/// value (the value itself is not kept).
struct Token {
    name: String,
    role: Role,
    digest: [u8; 32],
}

/// The tokens a server accepts.
pub struct Access {
    tokens: Vec<Token>,
}

impl Access {
    /// A server without tokens: every request comes from `local`, who may
    /// do anything.
    pub fn open() -> Self {
        Self { tokens: Vec::new() }
    }

    /// The server accepts exactly `tokens`: each its name, role and value.
    ///
    /// # Errors
    ///
    /// [`AccessError::TooShort`] for a value of fewer than
    /// [`MIN_TOKEN_BYTES`] bytes; [`AccessError::SameValue`] for two tokens
    /// of one value.
    pub fn tokens<'a>(
        tokens: impl IntoIterator<Item = (&'a str, Role, &'a str)>,
    ) -> Result<Self, AccessError> {
        let mut kept: Vec<Token> = Vec::new();
        for (name, role, value) in tokens {
            if value.len() < MIN_TOKEN_BYTES {
                return Err(AccessError::TooShort {
                    name: name.to_owned(),
                    bytes: value.len(),
                });
            }
            let digest = digest(value.as_bytes());
            if let Some(same) = kept.iter().find(|token| token.digest == digest) {
                return Err(AccessError::SameValue {
                    first: same.name.clone(),
                    second: name.to_owned(),
                });
            }
            kept.push(Token {
                name: name.to_owned(),
                role,
                digest,
            });
        }
        Ok(Self { tokens: kept })
    }

    /// Whether the server has no tokens, and so lets everyone in.
    pub fn is_open(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Who sent a request with `headers`, when it may do what `needs`
    /// allows.
    ///
    /// # Errors
    ///
    /// The refusal to answer with: 401 without a valid bearer token, 403
    /// for a token whose role does not allow it.
    pub fn admit(&self, headers: &HeaderMap, needs: Role) -> Result<Caller, Refusal> {
        if self.is_open() {
            return Ok(Caller {
                name: "local".to_owned(),
                role: Role::Admin,
            });
        }
        let value = headers
            .get(AUTHORIZATION)
            .ok_or(Refusal::NoToken)?
            .to_str()
            .map_err(|_| Refusal::NotValid)?;
        let (scheme, token) = value.split_once(' ').ok_or(Refusal::NoToken)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Refusal::NoToken);
        }
        let caller = self.find(token.trim()).ok_or(Refusal::NotValid)?;
        if caller.role < needs {
            return Err(Refusal::Role { needs });
        }
        Ok(caller)
    }

    /// The token whose value is `value`, compared with every token in
    /// constant time.
    fn find(&self, value: &str) -> Option<Caller> {
        let sent = digest(value.as_bytes());
        let mut found = subtle::Choice::from(0);
        let mut index = 0u32;
        for (i, token) in (0u32..).zip(&self.tokens) {
            let same = token.digest.ct_eq(&sent);
            index.conditional_assign(&i, same);
            found |= same;
        }
        bool::from(found).then(|| {
            let token = &self.tokens[index as usize];
            Caller {
                name: token.name.clone(),
                role: token.role,
            }
        })
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// It carried no `Authorization: Bearer` token.
    NoToken,
    /// Its token is not one of the server's.
    NotValid,
    /// Its token's role may not do this.
    Role {
        /// The least role that may.
        needs: Role,
    },
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, challenge, message) = match self {
            Self::NoToken => (
                StatusCode::UNAUTHORIZED,
                Some(r#"Bearer realm="codemode""#),
                "this server needs a bearer token: send `Authorization: Bearer TOKEN`".to_owned(),
            ),
            Self::NotValid => (
                StatusCode::UNAUTHORIZED,
                Some(r#"Bearer realm="codemode", error="invalid_token""#),
                "the bearer token is not valid here".to_owned(),
            ),
            Self::Role { needs } => (
                StatusCode::FORBIDDEN,
                None,
                format!(
                    "this token's role may not do this; it needs the `{}` role",
                    needs.as_str()
                ),
            ),
        };
        let body = serde_json::json!({ "error": message }).to_string();
        let mut response = (
            status,
            [(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

/// Middleware: let a request through, with its [`Caller`] in its
/// extensions, only when it may do what the role in the state allows.
pub(crate) async fn require(
    State((access, needs)): State<(std::sync::Arc<Access>, Role)>,
    mut request: Request,
    next: Next,
) -> Response {
    match access.admit(request.headers(), needs) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(refusal) => refusal.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENT: &str = "agent-token-0123456789abcdef0123456789";
    const REVIEWER: &str = "reviewer-token-0123456789abcdef012345";

    fn access() -> Access {
        Access::tokens([
            ("bot", Role::Agent, AGENT),
            ("ana", Role::Reviewer, REVIEWER),
        ])
        .expect("tokens")
    }

    fn bearer(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).expect("ascii"));
        headers
    }

    #[test]
    fn a_token_admits_its_holder_to_what_its_role_allows() {
        let access = access();
        let ana = access
            .admit(&bearer(&format!("Bearer {REVIEWER}")), Role::Agent)
            .expect("a reviewer may do what an agent may");
        assert_eq!((ana.name.as_str(), ana.role), ("ana", Role::Reviewer));
        let bot = access
            .admit(&bearer(&format!("bearer {AGENT}")), Role::Agent)
            .expect("the scheme's case does not matter");
        assert_eq!(bot.name, "bot");
        assert_eq!(
            access.admit(&bearer(&format!("Bearer {AGENT}")), Role::Reviewer),
            Err(Refusal::Role {
                needs: Role::Reviewer
            })
        );
    }

    #[test]
    fn a_missing_or_wrong_token_is_refused_without_naming_any() {
        let access = access();
        for (headers, refusal) in [
            (HeaderMap::new(), Refusal::NoToken),
            (bearer(&format!("Basic {AGENT}")), Refusal::NoToken),
            (bearer("Bearer"), Refusal::NoToken),
            (bearer("Bearer nope"), Refusal::NotValid),
            // A prefix of a token, or a token with more after it, is not it.
            (
                bearer(&format!("Bearer {}", &AGENT[..20])),
                Refusal::NotValid,
            ),
            (bearer(&format!("Bearer {AGENT}x")), Refusal::NotValid),
        ] {
            assert_eq!(access.admit(&headers, Role::Agent), Err(refusal));
        }
        let response = Refusal::NotValid.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key(WWW_AUTHENTICATE));
    }

    #[test]
    fn short_or_shared_tokens_are_refused_by_name() {
        let short = Access::tokens([("ci", Role::Agent, "secret")]).err();
        assert!(
            short.is_some_and(|e| e.to_string().contains("`ci` has 6 bytes")),
            "a short token is refused"
        );
        let same = Access::tokens([("a", Role::Agent, AGENT), ("b", Role::Admin, AGENT)]).err();
        assert!(
            same.is_some_and(|e| e.to_string().contains("`a` and `b`")),
            "two tokens of one value are refused"
        );
    }

    #[test]
    fn a_server_without_tokens_lets_everyone_in_as_local() {
        let caller = Access::open()
            .admit(&HeaderMap::new(), Role::Admin)
            .expect("open");
        assert_eq!(caller.name, "local");
    }
}
