//! Users and their roles.

pub use slipstream_league_client::kinds::Role;

use super::Store;
use crate::error::{LeagueError, Result};
use crate::util::new_id;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub created_at: i64,
}

impl Store {
    pub async fn create_user(&self, name: &str, role: Role) -> Result<User> {
        let u = User {
            id: new_id("usr"),
            name: name.to_string(),
            role,
            created_at: self.now_ms(),
        };
        let r = sqlx::query("INSERT INTO users (id, name, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&u.id)
            .bind(&u.name)
            .bind(u.role.as_str())
            .bind(u.created_at)
            .execute(&self.pool)
            .await;
        match r {
            Ok(_) => Ok(u),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(LeagueError::AlreadyExists(format!(
                "a user named {name:?} already exists"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        Ok(
            sqlx::query_as("SELECT id, name, role, created_at FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        Ok(
            sqlx::query_as("SELECT id, name, role, created_at FROM users WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn list_users(&self, offset: usize, limit: usize) -> Result<Vec<User>> {
        Ok(
            sqlx::query_as("SELECT id, name, role, created_at FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2")
                .bind(limit as i64)
                .bind(offset as i64)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
