//! `league whoami`, `league users …`, `league tokens …` (the UserService).

use anyhow::{Result, bail};
use slipstream_league_client::client::Clients;
use slipstream_league_client::convert::{role_name, role_to_pb};
use slipstream_league_client::kinds::Role;
use slipstream_league_client::time::now_ms;
use slipstream_proto::v1 as pb;

use crate::Reply;
use crate::args::{TokensCmd, UsersCmd};
use crate::output::{Output, human, json};

pub async fn whoami(c: &mut Clients, out: Output) -> Result<()> {
    let u = c.users.who_am_i(pb::WhoAmIRequest {}).await.reply()?;
    out.emit(&json::User::from(&u), || {
        format!("{} ({}, {})", u.name, role_name(u.role), u.id)
    })
}

pub async fn users(c: &mut Clients, out: Output, cmd: UsersCmd) -> Result<()> {
    match cmd {
        UsersCmd::Create { name, role } => {
            let u = c
                .users
                .create_user(pb::CreateUserRequest {
                    name,
                    role: role_to_pb(Role::from(role)) as i32,
                })
                .await
                .reply()?;
            out.emit(&json::User::from(&u), || {
                format!("created {} ({}) {}", u.name, role_name(u.role), u.id)
            })
        }
        UsersCmd::List => {
            let r = c
                .users
                .list_users(pb::ListUsersRequest {
                    page_size: 1000,
                    page_token: String::new(),
                })
                .await
                .reply()?;
            let users = json::Users {
                users: r.users.iter().map(json::User::from).collect(),
            };
            out.emit(&users, || human::users(&r.users))
        }
    }
}

pub async fn tokens(c: &mut Clients, out: Output, cmd: TokensCmd) -> Result<()> {
    match cmd {
        TokensCmd::Issue {
            user_id,
            days,
            description,
        } => {
            let expires = match days {
                Some(d) if d > 0.0 => now_ms() + (d * 86_400_000.0) as i64,
                Some(_) => bail!("--days: expected a positive number"),
                None => 0,
            };
            let r = c
                .users
                .issue_token(pb::IssueTokenRequest {
                    user_id,
                    expires_at_ms: expires,
                    description,
                })
                .await
                .reply()?;
            let token = json::Token {
                token_id: &r.token_id,
                token: &r.token,
                expires_at_ms: r.expires_at_ms,
            };
            out.emit(&token, || {
                format!("token {} (id {}; shown once, keep it safe)", r.token, r.token_id)
            })
        }
        TokensCmd::List { user, all } => {
            let mut tokens = Vec::new();
            let mut page_token = String::new();
            loop {
                let r = c
                    .users
                    .list_tokens(pb::ListTokensRequest {
                        user_id: user.clone().unwrap_or_default(),
                        include_inactive: all,
                        page_size: 1000,
                        page_token,
                    })
                    .await
                    .reply()?;
                tokens.extend(r.tokens);
                if r.next_page_token.is_empty() {
                    break;
                }
                page_token = r.next_page_token;
            }
            let now = now_ms();
            let doc = json::Tokens {
                tokens: tokens.iter().map(|t| json::TokenInfo::new(t, now)).collect(),
            };
            out.emit(&doc, || human::tokens(&tokens, now))
        }
        TokensCmd::Revoke { token_id } => {
            c.users
                .revoke_token(pb::RevokeTokenRequest {
                    token_id: token_id.clone(),
                })
                .await
                .reply()?;
            out.emit(&json::Revoked { revoked: &token_id }, || format!("revoked {token_id}"))
        }
    }
}
