//! Errors of the league library and their gRPC status codes.

use tonic::{Code, Status};

/// Anything a request can fail with. Each variant maps to one gRPC status code; messages are meant
/// for people. Internal errors (database, migration, [`LeagueError::Internal`]) reach clients only
/// as an error id; the server logs the message under it.
#[derive(Debug, thiserror::Error)]
pub enum LeagueError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    ResourceExhausted(String),
    #[error("{0}")]
    AlreadyExists(String),
    // These messages include their cause, so they report no `source()` (chains would repeat it).
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("{0}")]
    Internal(String),
}

impl LeagueError {
    pub fn invalid(m: impl Into<String>) -> Self {
        LeagueError::InvalidArgument(m.into())
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        LeagueError::NotFound(m.into())
    }
    pub fn denied(m: impl Into<String>) -> Self {
        LeagueError::PermissionDenied(m.into())
    }
    pub fn precondition(m: impl Into<String>) -> Self {
        LeagueError::FailedPrecondition(m.into())
    }
    pub fn internal(m: impl Into<String>) -> Self {
        LeagueError::Internal(m.into())
    }
}

impl From<LeagueError> for Status {
    fn from(e: LeagueError) -> Status {
        let code = match &e {
            LeagueError::InvalidArgument(_) => Code::InvalidArgument,
            LeagueError::NotFound(_) => Code::NotFound,
            LeagueError::PermissionDenied(_) => Code::PermissionDenied,
            LeagueError::Unauthenticated(_) => Code::Unauthenticated,
            LeagueError::FailedPrecondition(_) => Code::FailedPrecondition,
            LeagueError::ResourceExhausted(_) => Code::ResourceExhausted,
            LeagueError::AlreadyExists(_) => Code::AlreadyExists,
            LeagueError::Database(_) | LeagueError::Migrate(_) | LeagueError::Internal(_) => Code::Internal,
        };
        if code == Code::Internal {
            // The cause (database text, paths) is for the operator: the log has it under an id, the
            // client gets only the id.
            let id = crate::util::new_id("err");
            tracing::error!(error_id = %id, "internal error: {e}");
            return Status::new(
                code,
                format!("internal error {id}: the server's log has the details under this id"),
            );
        }
        Status::new(code, e.to_string())
    }
}

pub type Result<T, E = LeagueError> = std::result::Result<T, E>;

impl From<sqlx::Error> for LeagueError {
    fn from(e: sqlx::Error) -> Self {
        LeagueError::Database(e)
    }
}

impl From<sqlx::migrate::MigrateError> for LeagueError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        LeagueError::Migrate(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_reach_clients_as_an_id_only() {
        let e = LeagueError::Database(sqlx::Error::Protocol(
            "relation \"tokens\" does not exist at /srv/league/secret.db".into(),
        ));
        let st = Status::from(e);
        assert_eq!(st.code(), Code::Internal);
        assert!(
            !st.message().contains("tokens") && !st.message().contains("/srv"),
            "{}",
            st.message()
        );
        let id = st
            .message()
            .split_whitespace()
            .find(|w| w.starts_with("err_"))
            .expect("an error id");
        assert_eq!(id.trim_end_matches(':').len(), 4 + 32, "{}", st.message());
        let other = Status::from(LeagueError::internal("model file missing"));
        assert!(!other.message().contains("model file"), "{}", other.message());
        assert_ne!(other.message(), st.message(), "each error gets its own id");
        // Everything else keeps its message: it is meant for the client.
        let st = Status::from(LeagueError::invalid("name: expected 1–100 characters"));
        assert_eq!(
            (st.code(), st.message()),
            (Code::InvalidArgument, "name: expected 1–100 characters")
        );
    }
}
