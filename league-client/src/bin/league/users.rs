//! `league whoami`, `league users …`, `league tokens …` (the UserService).

use anyhow::{Result, bail};
use slipstream_league_client::client::Clients;
use slipstream_league_client::convert::{role_name, role_to_pb};
use slipstream_league_client::kinds::Role;
use slipstream_league_client::time::now_ms;
use slipstream_proto::v1 as pb;

use crate::Reply;
use crate::args::{InvitesCmd, TokensCmd, UsersCmd};
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
                    user_id: user_id.unwrap_or_default(),
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

/// Days from now as a Unix-ms expiry (`None`: never).
fn expiry(days: Option<f64>) -> Result<i64> {
    match days {
        Some(d) if d > 0.0 => Ok(now_ms() + (d * 86_400_000.0) as i64),
        Some(_) => bail!("--days: expected a positive number"),
        None => Ok(0),
    }
}

pub async fn invites(c: &mut Clients, out: Output, server: &str, cmd: InvitesCmd) -> Result<()> {
    match cmd {
        InvitesCmd::Create { role, uses, days, note } => {
            let r = c
                .users
                .create_signup_invite(pb::CreateSignupInviteRequest {
                    role: role_to_pb(Role::from(role)) as i32,
                    max_uses: uses,
                    expires_at_ms: expiry(days)?,
                    note,
                })
                .await
                .reply()?;
            let inv = r.invite.unwrap_or_default();
            let url = format!("{}{}", server.trim_end_matches('/'), r.signup_path);
            let doc = json::MadeSignupInvite {
                invite: json::SignupInvite::from(&inv),
                token: &r.token,
                signup_url: &url,
            };
            out.emit(&doc, || {
                format!(
                    "sign-up link (shown once; {} use{}, {} accounts): {url}\ninvite id {}",
                    inv.max_uses,
                    if inv.max_uses == 1 { "" } else { "s" },
                    role_name(inv.role),
                    inv.invite_id
                )
            })
        }
        InvitesCmd::List => {
            let mut invites = Vec::new();
            let mut page_token = String::new();
            loop {
                let r = c
                    .users
                    .list_signup_invites(pb::ListSignupInvitesRequest {
                        page_size: 1000,
                        page_token,
                    })
                    .await
                    .reply()?;
                invites.extend(r.invites);
                if r.next_page_token.is_empty() {
                    break;
                }
                page_token = r.next_page_token;
            }
            let now = now_ms();
            let doc = json::SignupInvites {
                invites: invites.iter().map(json::SignupInvite::from).collect(),
            };
            out.emit(&doc, || human::signup_invites(&invites, now))
        }
        InvitesCmd::Revoke { invite_id } => {
            let inv = c
                .users
                .revoke_signup_invite(pb::RevokeSignupInviteRequest { invite_id })
                .await
                .reply()?;
            out.emit(&json::SignupInvite::from(&inv), || {
                format!("withdrew invite {}", inv.invite_id)
            })
        }
    }
}

/// The new password: asked twice on a terminal (no echo), else the first line of standard input.
fn read_password() -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the two passwords differ; nothing was changed");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

pub async fn password(c: &mut Clients, out: Output, user: Option<String>) -> Result<()> {
    let password = read_password()?;
    let user_id = user.unwrap_or_default();
    c.users
        .set_password(pb::SetPasswordRequest {
            user_id: user_id.clone(),
            password,
        })
        .await
        .reply()?;
    let whose = if user_id.is_empty() {
        "your".to_string()
    } else {
        format!("{user_id}'s")
    };
    out.emit(&json::PasswordSet { password_set: true }, || {
        format!("{whose} console password is set; browsers signed in as that user were signed out")
    })
}
