//! Content-addressed bytes: model files and traces, stored once per SHA-256.

use super::Store;
use crate::error::Result;

impl Store {
    /// Store `bytes` if there are any (a replay that may not have been rendered): their SHA-256,
    /// or '' for none.
    pub async fn put_optional_blob(&self, bytes: Option<&[u8]>) -> Result<String> {
        let Some(b) = bytes else { return Ok(String::new()) };
        let sha = crate::util::sha256_hex(b);
        self.put_blob(&sha, b).await?;
        Ok(sha)
    }

    pub async fn put_blob(&self, sha256: &str, data: &[u8]) -> Result<()> {
        sqlx::query("INSERT INTO blobs (sha256, data, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(sha256)
            .bind(data)
            .bind(data.len() as i64)
            .bind(self.now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar("SELECT data FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?)
    }
}
