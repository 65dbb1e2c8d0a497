//! Accounts: sign-up invites, passwords, sign-in and sessions — what the console's pages
//! (`web/account.rs`) and the gRPC `UserService` share. One account answers both: a user signs in
//! to the console with a password and calls gRPC with a token issued to the same user.
//!
//! * Passwords are hashed with argon2id (the `argon2` crate's defaults, OWASP's minimum: 19 MiB,
//!   2 passes), off the async threads. Sign-in takes as long for an unknown name as for a wrong
//!   password (a dummy hash is checked), and says the same thing for both.
//! * Sign-in attempts are rate-limited per name and per client address ([`SignInLimiter`]).
//! * Sessions are random 256-bit secrets in an HttpOnly cookie, stored as their SHA-256, ended by
//!   signing out or a password change, and expiring after [`SESSION_DAYS`].

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::ctx::Ctx;
use crate::error::{LeagueError, Result};
use crate::league::access::{ADMINS, ORGANISERS};
use crate::store::{NewSignupInvite, Role, SignupInviteRow, User};
use crate::util::{new_secret, secret_hash};

/// How long a console session lasts.
pub const SESSION_DAYS: i64 = 14;
/// Passwords: at least this many characters (NIST SP 800-63B's minimum)…
pub const PASSWORD_MIN_CHARS: usize = 8;
/// …and at most this many (argon2 takes any length; this bounds the work a request can ask for).
pub const PASSWORD_MAX_CHARS: usize = 256;
/// The most users one invite can make.
pub const INVITE_MAX_USES: i64 = 10_000;
/// An invite's note (who it is for), at most this many characters.
pub const NOTE_MAX_CHARS: usize = 200;
/// Sign-in attempts for one name: this many at once, then one more per [`NAME_REFILL`].
pub const NAME_BURST: u32 = 5;
pub const NAME_REFILL: Duration = Duration::from_secs(60);
/// Sign-in attempts from one client address: this many at once, then one more per
/// [`CLIENT_REFILL`]. Loopback clients are not counted: behind a reverse proxy every request comes
/// from loopback (the per-name limit still holds).
pub const CLIENT_BURST: u32 = 60;
pub const CLIENT_REFILL: Duration = Duration::from_secs(2);

/// What to tell an admin whose server takes passwords in clear: it listens on an address other
/// machines reach, and nothing says HTTPS is in front of it (`--secure-cookies`). `None` on
/// loopback (a reverse proxy on the same machine, or a laptop) or when HTTPS is declared.
pub fn in_clear_warning(addr: std::net::SocketAddr, secure_cookies: bool) -> Option<String> {
    (!secure_cookies && !addr.ip().is_loopback()).then(|| {
        format!(
            "the console on {addr} takes passwords and session cookies over plain HTTP, readable on the network: \
             put an HTTPS reverse proxy in front of it and start the server with --secure-cookies \
             (docs/console.md), or listen on 127.0.0.1 only"
        )
    })
}

/// Who may make an invite for `role`: admins for any role, facilitators (teachers) for racers.
fn may_invite(by: &User, role: Role) -> bool {
    ADMINS.contains(&by.role) || (ORGANISERS.contains(&by.role) && role == Role::Racer)
}

/// Rate limits on sign-in attempts. Keys live only while they are limited: a client cannot grow the
/// server's memory by trying names.
#[derive(Debug)]
pub struct SignInLimiter {
    by_name: DefaultKeyedRateLimiter<String>,
    by_client: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(burst: u32, refill: Duration) -> Quota {
    Quota::with_period(refill)
        .expect("a refill period above zero")
        .allow_burst(NonZeroU32::new(burst).expect("a burst above zero"))
}

impl Default for SignInLimiter {
    fn default() -> Self {
        SignInLimiter {
            by_name: RateLimiter::keyed(quota(NAME_BURST, NAME_REFILL)),
            by_client: RateLimiter::keyed(quota(CLIENT_BURST, CLIENT_REFILL)),
        }
    }
}

impl SignInLimiter {
    /// Count an attempt to sign in as `name` from `client`; ResourceExhausted when over a limit.
    pub fn attempt(&self, name: &str, client: Option<IpAddr>) -> Result<()> {
        if self.by_name.len() > 10_000 {
            self.by_name.retain_recent();
        }
        if self.by_client.len() > 10_000 {
            self.by_client.retain_recent();
        }
        let too_many = |what: &str, wait: Duration| {
            LeagueError::ResourceExhausted(format!(
                "Too many sign-in attempts {what}: try again in {} s.",
                wait.as_secs().max(1)
            ))
        };
        if let Some(ip) = client.filter(|ip| !ip.is_loopback()) {
            self.by_client
                .check_key(&ip)
                .map_err(|n| too_many("from this address", n.wait_time_from(self.by_client.clock().now())))?;
        }
        self.by_name
            .check_key(&name.to_lowercase())
            .map_err(|n| too_many("for this name", n.wait_time_from(self.by_name.clock().now())))?;
        Ok(())
    }
}

/// A password fit to be set for `name`, or InvalidArgument naming the field and the rule.
pub fn check_password(name: &str, password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(LeagueError::invalid(format!(
            "password: use at least {PASSWORD_MIN_CHARS} characters"
        )));
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(LeagueError::invalid(format!(
            "password: use at most {PASSWORD_MAX_CHARS} characters"
        )));
    }
    if password.eq_ignore_ascii_case(name) {
        return Err(LeagueError::invalid("password: must not be your user name"));
    }
    Ok(())
}

/// argon2id of `password` as a PHC string (`$argon2id$v=19$…`), on a blocking thread.
pub async fn hash_password(password: &str) -> Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| LeagueError::internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| LeagueError::internal(format!("hashing a password: {e}")))?
}

/// Whether `password` matches the PHC string `hash`, on a blocking thread. An empty or unreadable
/// hash (a token-only user) is checked against a dummy so that the answer takes as long.
async fn verify_password(password: &str, hash: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let password = password.to_string();
    let hash = hash.to_string();
    tokio::task::spawn_blocking(move || {
        let dummy = DUMMY.get_or_init(|| {
            Argon2::default()
                .hash_password(b"no password here", &SaltString::generate(&mut OsRng))
                .map(|h| h.to_string())
                .unwrap_or_default()
        });
        let (phc, real) = match PasswordHash::new(&hash) {
            Ok(p) => (p, true),
            Err(_) => match PasswordHash::new(dummy) {
                Ok(p) => (p, false),
                Err(_) => return false,
            },
        };
        Argon2::default().verify_password(password.as_bytes(), &phc).is_ok() && real
    })
    .await
    .unwrap_or(false)
}

/// An invite made: its row and its secret token (shown once; the sign-up page is
/// `/signup/<token>`).
#[derive(Debug)]
pub struct MadeInvite {
    pub invite: SignupInviteRow,
    pub token: String,
}

/// The path of an invite's sign-up page.
pub fn signup_path(token: &str) -> String {
    format!("/signup/{token}")
}

/// Make a sign-up invite: `max_uses` users with `role`, until `expires_at` (0 = never).
pub async fn create_invite(
    ctx: &Ctx,
    by: &User,
    role: Role,
    max_uses: i64,
    expires_at: i64,
    note: &str,
) -> Result<MadeInvite> {
    if !may_invite(by, role) {
        return Err(LeagueError::denied(format!(
            "inviting a {}: admins invite any role, facilitators invite racers",
            role.as_str()
        )));
    }
    if !(1..=INVITE_MAX_USES).contains(&max_uses) {
        return Err(LeagueError::invalid(format!(
            "uses: expected 1 to {INVITE_MAX_USES}, got {max_uses}"
        )));
    }
    if expires_at < 0 || (expires_at != 0 && expires_at <= ctx.now_ms()) {
        return Err(LeagueError::invalid("expires: must be in the future (or never)"));
    }
    if note.chars().count() > NOTE_MAX_CHARS {
        return Err(LeagueError::invalid(format!(
            "note: at most {NOTE_MAX_CHARS} characters"
        )));
    }
    let token = new_secret("inv");
    let invite = ctx
        .store
        .insert_signup_invite(&NewSignupInvite {
            token_hash: &secret_hash(&token),
            role,
            note,
            created_by: &by.id,
            expires_at,
            max_uses,
        })
        .await?;
    tracing::info!(invite = %invite.id, by = %by.name, role = role.as_str(), max_uses, "sign-up invite made");
    Ok(MadeInvite { invite, token })
}

/// The invites `by` may see: every invite for admins, their own for facilitators.
pub async fn list_invites(ctx: &Ctx, by: &User, offset: usize, n: usize) -> Result<Vec<SignupInviteRow>> {
    if !ORGANISERS.contains(&by.role) {
        return Err(LeagueError::denied("listing invites: facilitators and admins only"));
    }
    let mut rows = ctx.store.list_signup_invites(offset, n).await?;
    if !ADMINS.contains(&by.role) {
        rows.retain(|r| r.created_by == by.id);
    }
    Ok(rows)
}

/// Withdraw an invite (its maker or an admin). Users it made stay.
pub async fn revoke_invite(ctx: &Ctx, by: &User, id: &str) -> Result<SignupInviteRow> {
    let missing = || LeagueError::not_found(format!("invite_id: no invite {id:?}"));
    let inv = ctx.store.signup_invite(id).await?.ok_or_else(missing)?;
    if !(ADMINS.contains(&by.role) || (ORGANISERS.contains(&by.role) && inv.created_by == by.id)) {
        return Err(missing());
    }
    ctx.store.revoke_signup_invite(id).await?;
    ctx.store.signup_invite(id).await?.ok_or_else(missing)
}

/// The invite a sign-up page is for, if it can still make a user; otherwise NotFound or
/// FailedPrecondition saying why (withdrawn, expired, used up).
pub async fn usable_invite(ctx: &Ctx, token: &str) -> Result<SignupInviteRow> {
    let inv = ctx
        .store
        .signup_invite_by_hash(&secret_hash(token))
        .await?
        .ok_or_else(|| LeagueError::not_found("There is no such invite: check the link you were given."))?;
    match inv.unusable(ctx.now_ms()) {
        Some(why) => Err(LeagueError::precondition(why)),
        None => Ok(inv),
    }
}

/// A new session for `user`: its secret (the cookie's value).
async fn new_session(ctx: &Ctx, user: &User) -> Result<String> {
    let token = new_secret("ses");
    let expires = ctx.now_ms() + SESSION_DAYS * 24 * 3600 * 1000;
    ctx.store
        .insert_session(&user.id, &secret_hash(&token), expires)
        .await?;
    Ok(token)
}

/// Sign up with an invite: a user named `name` with `password`, signed in at once. Nothing is made
/// (and the invite's use is not counted) when anything is refused.
pub async fn sign_up(ctx: &Ctx, invite_token: &str, name: &str, password: &str) -> Result<(User, String)> {
    if !crate::service::users::valid_name(name) {
        return Err(LeagueError::invalid(
            "name: expected 1–64 characters: letters, digits, '.', '_' or '-'",
        ));
    }
    check_password(name, password)?;
    usable_invite(ctx, invite_token).await?;
    let hash = hash_password(password).await?;
    let user = ctx.store.sign_up(&secret_hash(invite_token), name, &hash).await?;
    tracing::info!(user = %user.id, name = %user.name, role = user.role.as_str(), "signed up with an invite");
    let session = new_session(ctx, &user).await?;
    Ok((user, session))
}

/// Sign in with a name and password: the user and a new session's secret. A wrong name and a wrong
/// password are the same Unauthenticated answer; too many attempts are ResourceExhausted.
pub async fn sign_in(ctx: &Ctx, name: &str, password: &str, client: Option<IpAddr>) -> Result<(User, String)> {
    ctx.sign_ins.attempt(name, client)?;
    let found = if name.len() <= 64 {
        ctx.store.user_with_password(name).await?
    } else {
        None
    };
    let hash = found.as_ref().map(|(_, h)| h.as_str()).unwrap_or("");
    let ok = password.chars().count() <= PASSWORD_MAX_CHARS && verify_password(password, hash).await;
    match found {
        Some((user, _)) if ok => {
            let session = new_session(ctx, &user).await?;
            tracing::info!(user = %user.id, "signed in");
            Ok((user, session))
        }
        _ => Err(LeagueError::Unauthenticated("Wrong name or password.".into())),
    }
}

/// The signed-in user of a session secret, if it is still signed in.
pub async fn session_user(ctx: &Ctx, session: &str) -> Result<Option<User>> {
    ctx.store.user_for_session(&secret_hash(session), ctx.now_ms()).await
}

/// End a session.
pub async fn sign_out(ctx: &Ctx, session: &str) -> Result<()> {
    ctx.store.end_session(&secret_hash(session)).await
}

/// Set a password: `by`'s own, or (admins) another user's. When `current` is given it must be
/// `by`'s current password (the console asks for it; a gRPC caller's token already proves who
/// they are). Every session of the user ends.
pub async fn set_password(ctx: &Ctx, by: &User, user_id: &str, current: Option<&str>, new: &str) -> Result<()> {
    let target = if user_id.is_empty() || user_id == by.id {
        by.clone()
    } else if ADMINS.contains(&by.role) {
        ctx.store
            .user(user_id)
            .await?
            .ok_or_else(|| LeagueError::not_found(format!("user_id: no user {user_id:?}")))?
    } else {
        return Err(LeagueError::denied("setting another user's password: admins only"));
    };
    if let Some(current) = current {
        let (_, hash) = ctx
            .store
            .user_with_password(&by.name)
            .await?
            .ok_or_else(|| LeagueError::internal("the signed-in user is missing"))?;
        if !verify_password(current, &hash).await {
            return Err(LeagueError::invalid("current password: that is not your password"));
        }
    }
    check_password(&target.name, new)?;
    let hash = hash_password(new).await?;
    ctx.store.set_password(&target.id, &hash).await?;
    tracing::info!(user = %target.id, by = %by.id, "password set");
    Ok(())
}

/// A token issued: its id and its secret (shown once).
#[derive(Debug)]
pub struct IssuedToken {
    pub id: String,
    pub token: String,
}

/// Issue an API token (for the CLI and gRPC) to `user_id` (empty = `by`): admins for anyone,
/// everyone else for themselves.
pub async fn issue_token(
    ctx: &Ctx,
    by: &User,
    user_id: &str,
    expires_at: i64,
    description: &str,
) -> Result<IssuedToken> {
    let user = if user_id.is_empty() || user_id == by.id {
        by.clone()
    } else if ADMINS.contains(&by.role) {
        ctx.store
            .user(user_id)
            .await?
            .ok_or_else(|| LeagueError::not_found(format!("user_id: no user {user_id:?}")))?
    } else {
        return Err(LeagueError::denied(
            "user_id: issuing another user's tokens needs the admin role; leave it empty for your own",
        ));
    };
    if expires_at < 0 || (expires_at != 0 && expires_at <= ctx.now_ms()) {
        return Err(LeagueError::invalid("expires: must be in the future (or never)"));
    }
    if description.chars().count() > 200 {
        return Err(LeagueError::invalid("description: at most 200 characters"));
    }
    let token = new_secret("slp");
    let id = ctx
        .store
        .insert_token(&user.id, &secret_hash(&token), description, expires_at)
        .await?;
    tracing::info!(token = %id, user = %user.id, by = %by.id, "token issued");
    Ok(IssuedToken { id, token })
}

/// Revoke an API token: admins any, everyone else their own (another's is NotFound).
pub async fn revoke_token(ctx: &Ctx, by: &User, token_id: &str) -> Result<()> {
    let missing = || LeagueError::not_found(format!("token_id: no active token {token_id:?}"));
    let owner = ctx.store.token_owner(token_id).await?.ok_or_else(missing)?;
    if owner != by.id && !ADMINS.contains(&by.role) {
        return Err(missing());
    }
    if !ctx.store.revoke_token(token_id).await? {
        return Err(missing());
    }
    ctx.auth.clear();
    tracing::info!(token = %token_id, by = %by.id, "token revoked");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_refused_after_its_burst_of_attempts() {
        let l = SignInLimiter::default();
        for _ in 0..NAME_BURST {
            l.attempt("Ann", None).unwrap();
        }
        let e = l.attempt("ann", None).unwrap_err().to_string();
        assert!(e.contains("for this name"), "{e}");
        l.attempt("bob", None).expect("another name is not limited");
    }

    #[test]
    fn a_client_address_is_refused_after_its_burst_but_loopback_is_not_counted() {
        let l = SignInLimiter::default();
        let far: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..CLIENT_BURST {
            l.attempt(&format!("user{i}"), Some(far)).unwrap();
        }
        let e = l.attempt("someone-else", Some(far)).unwrap_err().to_string();
        assert!(e.contains("from this address"), "{e}");
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        for i in 0..CLIENT_BURST + 5 {
            l.attempt(&format!("local{i}"), Some(local)).unwrap();
        }
    }

    #[test]
    fn plain_http_off_loopback_is_warned_about() {
        let far: std::net::SocketAddr = "0.0.0.0:50051".parse().unwrap();
        let near: std::net::SocketAddr = "127.0.0.1:50051".parse().unwrap();
        assert!(in_clear_warning(far, false).unwrap().contains("--secure-cookies"));
        assert!(in_clear_warning(far, true).is_none());
        assert!(in_clear_warning(near, false).is_none());
    }

    #[test]
    fn passwords_have_a_length_and_are_not_the_name() {
        assert!(
            check_password("ann", "short")
                .unwrap_err()
                .to_string()
                .contains("at least 8")
        );
        assert!(
            check_password("annabelle", "ANNABELLE")
                .unwrap_err()
                .to_string()
                .contains("user name")
        );
        assert!(
            check_password("ann", &"x".repeat(257))
                .unwrap_err()
                .to_string()
                .contains("at most 256")
        );
        check_password("ann", "correct horse").unwrap();
    }

    #[tokio::test]
    async fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let a = hash_password("correct horse").await.unwrap();
        let b = hash_password("correct horse").await.unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse", &a).await);
        assert!(!verify_password("correct horsf", &a).await);
        assert!(!verify_password("", "").await, "no password set: nothing signs in");
    }
}
