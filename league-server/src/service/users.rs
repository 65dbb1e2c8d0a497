//! UserService: users and tokens.

use std::sync::Arc;

use slipstream_proto::v1 as pb;
use slipstream_proto::v1::user_service_server::UserService;
use tonic::{Request, Response, Status};

use crate::convert::{role_from_pb, signup_invite_to_pb, token_to_pb, user_to_pb};
use crate::ctx::Ctx;
use crate::error::LeagueError;
use crate::league::Viewer;
use crate::league::access::ADMINS;
use crate::league::accounts;
use crate::league::paging::{page_size, parse_page_token};

#[derive(Debug, Clone)]
pub struct Users(pub Arc<Ctx>);

/// User names: 1–64 of letters, digits, '.', '_' and '-'.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[tonic::async_trait]
impl UserService for Users {
    async fn create_user(&self, req: Request<pb::CreateUserRequest>) -> Result<Response<pb::User>, Status> {
        self.0.auth.require(req.metadata(), ADMINS, "creating users").await?;
        let r = req.into_inner();
        if !valid_name(&r.name) {
            return Err(
                LeagueError::invalid("name: expected 1–64 characters: letters, digits, '.', '_' or '-'").into(),
            );
        }
        let role = role_from_pb(r.role)
            .ok_or_else(|| LeagueError::invalid("role: expected racer, facilitator, admin or worker"))?;
        let u = self.0.store.create_user(&r.name, role).await?;
        tracing::info!(user = %u.id, name = %u.name, role = role.as_str(), "user created");
        Ok(Response::new(user_to_pb(&u)))
    }

    async fn list_users(&self, req: Request<pb::ListUsersRequest>) -> Result<Response<pb::ListUsersResponse>, Status> {
        self.0.auth.require(req.metadata(), ADMINS, "listing users").await?;
        let r = req.into_inner();
        let offset = parse_page_token(&r.page_token)?;
        let n = page_size("page_size", r.page_size, 100, 1000)?;
        let users = self.0.store.list_users(offset, n + 1).await?;
        let next = if users.len() > n {
            (offset + n).to_string()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListUsersResponse {
            users: users.iter().take(n).map(user_to_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn issue_token(
        &self,
        req: Request<pb::IssueTokenRequest>,
    ) -> Result<Response<pb::IssueTokenResponse>, Status> {
        let me = self.0.auth.signed_in(req.metadata()).await?;
        let r = req.into_inner();
        let t = accounts::issue_token(&self.0, &me, &r.user_id, r.expires_at_ms, &r.description).await?;
        Ok(Response::new(pb::IssueTokenResponse {
            token_id: t.id,
            token: t.token,
            expires_at_ms: r.expires_at_ms,
        }))
    }

    async fn revoke_token(
        &self,
        req: Request<pb::RevokeTokenRequest>,
    ) -> Result<Response<pb::RevokeTokenResponse>, Status> {
        let me = self.0.auth.signed_in(req.metadata()).await?;
        accounts::revoke_token(&self.0, &me, &req.into_inner().token_id).await?;
        Ok(Response::new(pb::RevokeTokenResponse {}))
    }

    async fn list_tokens(
        &self,
        req: Request<pb::ListTokensRequest>,
    ) -> Result<Response<pb::ListTokensResponse>, Status> {
        let me = self.0.auth.signed_in(req.metadata()).await?;
        let r = req.into_inner();
        let whose = Viewer::user(&me).tokens_to_list(&r.user_id)?;
        if let Some(id) = whose
            && id != me.id
            && self.0.store.user(id).await?.is_none()
        {
            return Err(LeagueError::not_found(format!("user_id: no user {id:?}")).into());
        }
        let offset = parse_page_token(&r.page_token)?;
        let n = page_size("page_size", r.page_size, 100, 1000)?;
        let rows = self
            .0
            .store
            .list_tokens(whose, r.include_inactive, self.0.now_ms(), offset, n + 1)
            .await?;
        let next = if rows.len() > n {
            (offset + n).to_string()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListTokensResponse {
            tokens: rows.iter().take(n).map(token_to_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> Result<Response<pb::User>, Status> {
        let u = self.0.auth.signed_in(req.metadata()).await?;
        Ok(Response::new(user_to_pb(&u)))
    }

    async fn create_signup_invite(
        &self,
        req: Request<pb::CreateSignupInviteRequest>,
    ) -> Result<Response<pb::CreateSignupInviteResponse>, Status> {
        let me = self.0.auth.signed_in(req.metadata()).await?;
        let r = req.into_inner();
        let role = role_from_pb(r.role)
            .ok_or_else(|| LeagueError::invalid("role: expected racer, facilitator, admin or worker"))?;
        let made = accounts::create_invite(&self.0, &me, role, r.max_uses, r.expires_at_ms, &r.note).await?;
        Ok(Response::new(pb::CreateSignupInviteResponse {
            invite: Some(signup_invite_to_pb(&made.invite)),
            signup_path: accounts::signup_path(&made.token),
            token: made.token,
        }))
    }

    async fn list_signup_invites(
        &self,
        req: Request<pb::ListSignupInvitesRequest>,
    ) -> Result<Response<pb::ListSignupInvitesResponse>, Status> {
        let me = self.0.auth.signed_in(req.metadata()).await?;
        let r = req.into_inner();
        let offset = parse_page_token(&r.page_token)?;
        let n = page_size("page_size", r.page_size, 100, 1000)?;
        let rows = accounts::list_invites(&self.0, &me, offset, n + 1).await?;
        let next = if rows.len() > n {
            (offset + n).to_string()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListSignupInvitesResponse {
            invites: rows.iter().take(n).map(signup_invite_to_pb).collect(),
            next_page_token: next,
        }))
    }

    async fn revoke_signup_invite(
        &self,
        req: Request<pb::RevokeSignupInviteRequest>,
    ) -> Result<Response<pb::SignupInvite>, Status> {
        let me = self.0.auth.signed_in(req.metadata()).await?;
        let inv = accounts::revoke_invite(&self.0, &me, &req.into_inner().invite_id).await?;
        Ok(Response::new(signup_invite_to_pb(&inv)))
    }

    async fn set_password(
        &self,
        req: Request<pb::SetPasswordRequest>,
    ) -> Result<Response<pb::SetPasswordResponse>, Status> {
        let me = self.0.auth.signed_in(req.metadata()).await?;
        let r = req.into_inner();
        accounts::set_password(&self.0, &me, &r.user_id, None, &r.password).await?;
        Ok(Response::new(pb::SetPasswordResponse {}))
    }
}
