//! Who may connect: a JWT on `$connect` (from `?token=`, `Authorization: Bearer` or the
//! `Sec-WebSocket-Protocol` pair `bearer, <token>`), verified with an HS256 secret, an RS256
//! / ES256 public key, or a JWKS (Cognito, Auth0: cached, refetched once on an unknown
//! `kid`). `exp` is required, `nbf` checked, `alg: none` and algorithm confusion refused.
//! A token is never stored, logged or echoed: while one is read it is a registered secret
//! of the debug crate.

mod jwks;
mod settings;
mod token;
mod verify;

pub use jwks::{Jwks, JWKS_BODY_LIMIT, JWKS_TIMEOUT};
pub use settings::{mint_token, VerifierSettings, DEFAULT_LEEWAY, MIN_SECRET_BYTES};
pub use token::{Credential, TokenSource, BEARER_PROTOCOL};
pub use verify::{Claims, Verifier};
