//! Accounts for the console: sign-up invites (stored by their token's SHA-256), passwords (argon2id
//! PHC strings, made in `league/accounts.rs`) and sessions (stored by their cookie's SHA-256).

use sqlx::AssertSqlSafe;

use super::{Role, Store, User};
use crate::error::{LeagueError, Result};
use crate::util::new_id;

/// A sign-up invite as listed (never its token).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SignupInviteRow {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub note: String,
    pub created_by: String,
    pub created_at: i64,
    /// 0 = never.
    pub expires_at: i64,
    pub max_uses: i64,
    pub uses: i64,
    /// 0 = not revoked.
    pub revoked_at: i64,
}

impl SignupInviteRow {
    /// The invite's state at `now`: `open`, `withdrawn`, `expired` or `used up`.
    pub fn state(&self, now: i64) -> &'static str {
        if self.revoked_at != 0 {
            "withdrawn"
        } else if self.expires_at != 0 && self.expires_at <= now {
            "expired"
        } else if self.uses >= self.max_uses {
            "used up"
        } else {
            "open"
        }
    }

    /// Why the invite cannot make a user at `now`, if it cannot (said to whoever opens it).
    pub fn unusable(&self, now: i64) -> Option<&'static str> {
        match self.state(now) {
            "withdrawn" => Some("This invite was withdrawn."),
            "expired" => Some("This invite has expired."),
            "used up" => Some("This invite has been used up."),
            _ => None,
        }
    }
}

/// A new sign-up invite.
#[derive(Clone, Debug)]
pub struct NewSignupInvite<'a> {
    pub token_hash: &'a str,
    pub role: Role,
    pub note: &'a str,
    pub created_by: &'a str,
    pub expires_at: i64,
    pub max_uses: i64,
}

const INVITE_COLUMNS: &str = "id, role, note, created_by, created_at, expires_at, max_uses, uses, revoked_at";

impl Store {
    pub async fn insert_signup_invite(&self, new: &NewSignupInvite<'_>) -> Result<SignupInviteRow> {
        let row = SignupInviteRow {
            id: new_id("sgn"),
            role: new.role,
            note: new.note.to_string(),
            created_by: new.created_by.to_string(),
            created_at: self.now_ms(),
            expires_at: new.expires_at,
            max_uses: new.max_uses,
            uses: 0,
            revoked_at: 0,
        };
        sqlx::query(
            "INSERT INTO signup_invites (id, token_hash, role, note, created_by, created_at, expires_at, max_uses, uses, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0)",
        )
        .bind(&row.id)
        .bind(new.token_hash)
        .bind(row.role.as_str())
        .bind(&row.note)
        .bind(&row.created_by)
        .bind(row.created_at)
        .bind(row.expires_at)
        .bind(row.max_uses)
        .execute(&self.pool)
        .await?;
        Ok(row)
    }

    pub async fn signup_invite_by_hash(&self, token_hash: &str) -> Result<Option<SignupInviteRow>> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {INVITE_COLUMNS} FROM signup_invites WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn signup_invite(&self, id: &str) -> Result<Option<SignupInviteRow>> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {INVITE_COLUMNS} FROM signup_invites WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Sign-up invites, newest first.
    pub async fn list_signup_invites(&self, offset: usize, limit: usize) -> Result<Vec<SignupInviteRow>> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {INVITE_COLUMNS} FROM signup_invites ORDER BY created_at DESC, id LIMIT $1 OFFSET $2"
        )))
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Withdraw an invite; false if it was withdrawn already (or never existed).
    pub async fn revoke_signup_invite(&self, id: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE signup_invites SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0")
            .bind(self.now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Use the invite `token_hash` to make the user `name` with `password_hash`, in one transaction:
    /// the invite's use is counted only if the user is made, and two sign-ups racing for an invite's
    /// last use cannot both have it. Errors: NotFound (no such invite), FailedPrecondition (withdrawn,
    /// expired or used up: the message says which), AlreadyExists (the name is taken).
    pub async fn sign_up(&self, token_hash: &str, name: &str, password_hash: &str) -> Result<User> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        let invite: Option<SignupInviteRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {INVITE_COLUMNS} FROM signup_invites WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let invite = invite.ok_or_else(|| LeagueError::not_found("There is no such invite."))?;
        if let Some(why) = invite.unusable(now) {
            return Err(LeagueError::precondition(why));
        }
        let claimed = sqlx::query(
            "UPDATE signup_invites SET uses = uses + 1 WHERE id = $1 AND uses < max_uses AND revoked_at = 0",
        )
        .bind(&invite.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 {
            return Err(LeagueError::precondition("This invite has been used up."));
        }
        let user = User {
            id: new_id("usr"),
            name: name.to_string(),
            role: invite.role,
            created_at: now,
        };
        let r =
            sqlx::query("INSERT INTO users (id, name, role, created_at, password_hash) VALUES ($1, $2, $3, $4, $5)")
                .bind(&user.id)
                .bind(&user.name)
                .bind(user.role.as_str())
                .bind(user.created_at)
                .bind(password_hash)
                .execute(&mut *tx)
                .await;
        match r {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(LeagueError::AlreadyExists(format!(
                    "The name {name:?} is taken: choose another."
                )));
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(user)
    }

    /// A user by name and their password hash ('' when they have none).
    pub async fn user_with_password(&self, name: &str) -> Result<Option<(User, String)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: User,
            password_hash: String,
        }
        let row: Option<Row> =
            sqlx::query_as("SELECT id, name, role, created_at, password_hash FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| (r.user, r.password_hash)))
    }

    /// Set a user's password hash and end all their sessions (a changed password signs out every
    /// browser). False if there is no such user.
    pub async fn set_password(&self, user_id: &str, password_hash: &str) -> Result<bool> {
        let now = self.now_ms();
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at = 0")
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    pub async fn insert_session(&self, user_id: &str, token_hash: &str, expires_at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, 0)",
        )
        .bind(new_id("ses"))
        .bind(token_hash)
        .bind(user_id)
        .bind(self.now_ms())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user of a session that is signed in at `now`.
    pub async fn user_for_session(&self, token_hash: &str, now: i64) -> Result<Option<User>> {
        Ok(sqlx::query_as(
            "SELECT u.id, u.name, u.role, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.revoked_at = 0 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Sign a session out.
    pub async fn end_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at = 0")
            .bind(self.now_ms())
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
