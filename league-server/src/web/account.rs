//! Accounts on the web site: sign up with an invite, sign in and out, the API-token page, the
//! password page and (facilitators, admins) the invites page. The rules are in
//! `league/accounts.rs`; these handlers only read forms and cookies and render the answers.
//!
//! Cookies (both `HttpOnly`, `Path=/`, and `Secure` when the server is reached over HTTPS,
//! `Config::secure_cookies`):
//! * `slp_session`: the session's secret; `SameSite=Lax`, so a link from elsewhere (an invite in an
//!   e-mail) opens the console signed in, while other sites' forms never carry it.
//! * `slp_csrf`: a random value each form repeats in a hidden field (double-submit); a `POST`
//!   without the matching value is refused before anything else is read. `SameSite=Strict`.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use maud::{Markup, html};
use serde::Deserialize;

use super::pages::layout;
use super::{PageError, Site, Web};
use crate::error::LeagueError;
use crate::league::access::{ADMINS, ORGANISERS};
use crate::league::accounts::{self, SESSION_DAYS};
use crate::store::{Role, User};
use crate::util::{display_time, new_secret};

pub const SESSION_COOKIE: &str = "slp_session";
pub const CSRF_COOKIE: &str = "slp_csrf";

/// The account routes.
pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signup/{token}", get(sign_up_page).post(sign_up))
        .route("/signout", post(sign_out))
        .route("/console/tokens", get(tokens_page).post(issue_token))
        .route("/console/tokens/{id}/revoke", post(revoke_token))
        .route("/console/password", get(password_page).post(set_password))
        .route("/console/invites", get(invites_page).post(create_invite))
        .route("/console/invites/{id}/revoke", post(revoke_invite))
}

// ------------------------------------------------------------------------------------------------
// Who is asking
// ------------------------------------------------------------------------------------------------

/// The visitor: signed in (their user) or not. Public pages use it to show private races to the
/// racers invited to them.
#[derive(Debug, Default)]
pub struct Visitor(pub Option<User>);

impl FromRequestParts<Arc<Web>> for Visitor {
    type Rejection = PageError;
    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, PageError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(c) = jar.get(SESSION_COOKIE) else {
            return Ok(Visitor(None));
        };
        Ok(Visitor(accounts::session_user(&web.ctx, c.value()).await?))
    }
}

impl Visitor {
    /// What the visitor may see.
    pub fn viewer(&self) -> crate::league::Viewer<'_> {
        crate::league::Viewer::new(self.0.as_ref())
    }
}

/// A signed-in user; anyone else is sent to the sign-in page, and back here after it.
#[derive(Debug)]
pub struct SignedIn(pub User);

impl FromRequestParts<Arc<Web>> for SignedIn {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, Response> {
        match Visitor::from_request_parts(parts, web).await {
            Ok(Visitor(Some(u))) => Ok(SignedIn(u)),
            Ok(Visitor(None)) => {
                let back = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/console");
                Err(Redirect::to(&format!("/signin?next={}", urlencode(back))).into_response())
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

/// The client's address, when the connection has one (tonic records it).
fn client_ip(parts_ext: &axum::http::Extensions) -> Option<IpAddr> {
    parts_ext
        .get::<tonic::transport::server::TcpConnectInfo>()
        .and_then(|c| c.remote_addr())
        .map(|a| a.ip())
}

// ------------------------------------------------------------------------------------------------
// Cookies and forms
// ------------------------------------------------------------------------------------------------

fn cookie(web: &Web, name: &'static str, value: String, same_site: SameSite) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(web.ctx.cfg.secure_cookies)
        .same_site(same_site)
        .build()
}

fn session_cookie(web: &Web, session: String) -> Cookie<'static> {
    let mut c = cookie(web, SESSION_COOKIE, session, SameSite::Lax);
    c.set_max_age(cookie::time::Duration::days(SESSION_DAYS));
    c
}

/// The form token for `jar` (made, and set in the returned jar, when the visitor has none yet).
fn csrf(web: &Web, jar: CookieJar) -> (CookieJar, String) {
    match jar.get(CSRF_COOKIE) {
        Some(c) if !c.value().is_empty() => {
            let v = c.value().to_string();
            (jar, v)
        }
        _ => {
            let v = new_secret("csrf");
            (jar.add(cookie(web, CSRF_COOKIE, v.clone(), SameSite::Strict)), v)
        }
    }
}

/// Whether a form's token matches the visitor's cookie (compared in constant time).
pub(super) fn csrf_ok(jar: &CookieJar, sent: &str) -> bool {
    let Some(c) = jar.get(CSRF_COOKIE) else { return false };
    let (a, b) = (c.value().as_bytes(), sent.as_bytes());
    !a.is_empty() && a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The answer to a form sent without a valid token (an old page, or another site's form).
pub(super) fn csrf_refused() -> Response {
    PageError {
        status: StatusCode::FORBIDDEN,
        message: "This form has expired or was sent from another site, so nothing was done. Go back, reload the \
                  page and send it again."
            .into(),
    }
    .into_response()
}

/// The hidden field every form carries.
pub(super) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// Where to go after signing in: a path on this site only (never `//host` or a full URL).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.contains("://") => n.into(),
        _ => "/console".into(),
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A page with its status and the jar's cookies.
fn page(status: StatusCode, jar: CookieJar, body: Markup) -> Response {
    (status, jar, body).into_response()
}

/// The status a refusal is shown with.
fn status_of(e: &LeagueError) -> StatusCode {
    match e {
        LeagueError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
        LeagueError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        LeagueError::ResourceExhausted(_) => StatusCode::TOO_MANY_REQUESTS,
        LeagueError::AlreadyExists(_) => StatusCode::CONFLICT,
        LeagueError::NotFound(_) => StatusCode::NOT_FOUND,
        LeagueError::FailedPrecondition(_) => StatusCode::GONE,
        LeagueError::PermissionDenied(_) => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// What a person is told of a refusal (internal errors: only an id; the log has the rest).
pub(super) fn told(e: LeagueError) -> (StatusCode, String) {
    let status = status_of(&e);
    (status, tonic::Status::from(e).message().to_string())
}

fn problem(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message {
            p.problem role="alert" { (m) }
        }
    }
}

/// The bar at the top of console pages: who is signed in, where to go, and signing out.
pub(super) fn console_bar(user: &User, csrf: &str) -> Markup {
    html! {
        nav.console aria-label="Console" {
            a href="/console" { "My console" }
            a href="/console/tokens" { "API tokens" }
            a href="/console/password" { "Password" }
            @if ORGANISERS.contains(&user.role) {
                a href="/console/invites" { "Invites" }
            }
            @if ADMINS.contains(&user.role) {
                a href="/console/jobs" { "Training jobs" }
                a href="/console/quotas" { "Quotas" }
            }
            span.who { "Signed in as " strong { (user.name) } " (" (user.role.as_str()) ")" }
            form.inline method="post" action="/signout" {
                (csrf_field(csrf))
                button type="submit" { "Sign out" }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Sign in, sign up, sign out
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

fn sign_in_markup(csrf: &str, next: &str, name: &str, message: Option<&str>) -> Markup {
    layout(
        "Sign in",
        "account",
        html! {
            h1 { "Sign in" }
            (problem(message))
            form.card method="post" action="/signin" {
                (csrf_field(csrf))
                input type="hidden" name="next" value=(next);
                label { "Name" input name="name" value=(name) autocomplete="username" required autofocus; }
                label { "Password" input type="password" name="password" autocomplete="current-password" required; }
                button type="submit" { "Sign in" }
            }
            p.hint { "New here? Ask your teacher or the league's admin for an invite link." }
        },
        false,
    )
}

async fn sign_in_page(State(web): Site, jar: CookieJar, Query(q): Query<NextQuery>) -> Response {
    let (jar, token) = csrf(&web, jar);
    let next = safe_next(q.next.as_deref());
    page(StatusCode::OK, jar, sign_in_markup(&token, &next, "", None))
}

async fn sign_in(
    State(web): Site,
    parts: axum::http::Extensions,
    jar: CookieJar,
    Form(f): Form<SignInForm>,
) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    let next = safe_next(f.next.as_deref());
    match accounts::sign_in(&web.ctx, f.name.trim(), &f.password, client_ip(&parts)).await {
        Ok((_, session)) => (jar.add(session_cookie(&web, session)), Redirect::to(&next)).into_response(),
        Err(e) => {
            let (status, message) = told(e);
            let (jar, token) = csrf(&web, jar);
            page(status, jar, sign_in_markup(&token, &next, &f.name, Some(&message)))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn role_words(role: Role) -> &'static str {
    match role {
        Role::Racer => "a racer: train models, enter races and see your results",
        Role::Facilitator => "a facilitator: run races and seasons, and invite racers",
        Role::Admin => "an admin: everything, users and quotas included",
        Role::Worker => "a worker: a machine that runs the league's jobs",
    }
}

fn sign_up_markup(token: &str, csrf: &str, role: Role, name: &str, message: Option<&str>) -> Markup {
    layout(
        "Sign up",
        "account",
        html! {
            h1 { "Join the Slipstream League" }
            p { "You are invited as " (role_words(role)) "." }
            (problem(message))
            form.card method="post" action=(accounts::signup_path(token)) {
                (csrf_field(csrf))
                label {
                    "Choose a name"
                    input name="name" value=(name) autocomplete="username" required autofocus
                        maxlength="64" pattern="[A-Za-z0-9._\\-]+";
                    small { "Letters, digits, '.', '_' or '-'. Others see it on leaderboards." }
                }
                label {
                    "Choose a password"
                    input type="password" name="password" autocomplete="new-password" required
                        minlength=(accounts::PASSWORD_MIN_CHARS) maxlength=(accounts::PASSWORD_MAX_CHARS);
                    small { "At least " (accounts::PASSWORD_MIN_CHARS) " characters." }
                }
                label { "Password again" input type="password" name="confirm" autocomplete="new-password" required; }
                button type="submit" { "Sign up" }
            }
            p.hint { "Have an account already? " a href="/signin" { "Sign in" } "." }
        },
        false,
    )
}

fn invite_refused(e: LeagueError) -> Response {
    let (status, message) = told(e);
    PageError { status, message }.into_response()
}

async fn sign_up_page(State(web): Site, jar: CookieJar, Path(token): Path<String>) -> Response {
    let invite = match accounts::usable_invite(&web.ctx, &token).await {
        Ok(i) => i,
        Err(e) => return invite_refused(e),
    };
    let (jar, csrf_token) = csrf(&web, jar);
    page(
        StatusCode::OK,
        jar,
        sign_up_markup(&token, &csrf_token, invite.role, "", None),
    )
}

async fn sign_up(State(web): Site, jar: CookieJar, Path(token): Path<String>, Form(f): Form<SignUpForm>) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    let invite = match accounts::usable_invite(&web.ctx, &token).await {
        Ok(i) => i,
        Err(e) => return invite_refused(e),
    };
    let name = f.name.trim();
    let result = if f.password != f.confirm {
        Err(LeagueError::invalid("password: the two passwords differ"))
    } else {
        accounts::sign_up(&web.ctx, &token, name, &f.password).await
    };
    match result {
        Ok((_, session)) => (jar.add(session_cookie(&web, session)), Redirect::to("/console")).into_response(),
        Err(e @ (LeagueError::NotFound(_) | LeagueError::FailedPrecondition(_))) => invite_refused(e),
        Err(e) => {
            let (status, message) = told(e);
            let (jar, csrf_token) = csrf(&web, jar);
            page(
                status,
                jar,
                sign_up_markup(&token, &csrf_token, invite.role, name, Some(&message)),
            )
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub(super) csrf: String,
}

async fn sign_out(State(web): Site, jar: CookieJar, Form(f): Form<CsrfOnly>) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    if let Some(c) = jar.get(SESSION_COOKIE)
        && let Err(e) = accounts::sign_out(&web.ctx, c.value()).await
    {
        return PageError::from(e).into_response();
    }
    let gone = cookie(&web, SESSION_COOKIE, String::new(), SameSite::Lax);
    (jar.remove(gone), Redirect::to("/")).into_response()
}

// ------------------------------------------------------------------------------------------------
// API tokens
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    description: String,
    /// Days until it expires; empty = never.
    #[serde(default)]
    days: String,
}

/// The base URL people reach this server at, as their browser asked for it.
fn base_url(web: &Web, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("127.0.0.1:50051");
    let scheme = if web.ctx.cfg.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

async fn tokens_markup(
    web: &Web,
    user: &User,
    csrf: &str,
    issued: Option<(&str, &str)>,
    message: Option<&str>,
) -> Result<Markup, PageError> {
    let now = web.ctx.now_ms();
    let tokens = web.ctx.store.list_tokens(Some(&user.id), false, now, 0, 1000).await?;
    Ok(layout(
        "API tokens",
        "account",
        html! {
            (console_bar(user, csrf))
            h1 { "API tokens" }
            p { "A token lets the " code { "league" } " command and gRPC programs act as you. Treat it like your password." }
            @if let Some((token, server)) = issued {
                section.issued role="status" {
                    h2 { "Your new token" }
                    p { "Copy it now: it is shown only once." }
                    pre.secret { (token) }
                    p { "Use it:" }
                    pre { "export LEAGUE_SERVER=" (server) "\nexport LEAGUE_TOKEN=" (token) "\nleague whoami" }
                }
            }
            (problem(message))
            form.card method="post" action="/console/tokens" {
                (csrf_field(csrf))
                label { "What it is for" input name="description" maxlength="200" placeholder="my laptop"; }
                label { "Expires after (days, empty for never)" input name="days" inputmode="numeric" placeholder="90"; }
                button type="submit" { "Issue a token" }
            }
            table {
                caption { "Your tokens that work now" }
                thead { tr { th { "For" } th { "Made" } th { "Expires" } th { "Last used" } th { span.visually-hidden { "Revoke" } } } }
                tbody {
                    @for t in &tokens {
                        tr {
                            td { (if t.description.is_empty() { "-" } else { &t.description }) }
                            td { (display_time(t.created_at)) }
                            td { @if t.expires_at == 0 { "never" } @else { (display_time(t.expires_at)) } }
                            td { (display_time(t.last_used_at)) }
                            td {
                                form.inline method="post" action=(format!("/console/tokens/{}/revoke", t.id)) {
                                    (csrf_field(csrf))
                                    button type="submit" { "Revoke" }
                                }
                            }
                        }
                    }
                    @if tokens.is_empty() {
                        tr { td colspan="5" { "None yet." } }
                    }
                }
            }
        },
        false,
    ))
}

async fn tokens_page(State(web): Site, SignedIn(user): SignedIn, jar: CookieJar) -> Response {
    let (jar, token) = csrf(&web, jar);
    match tokens_markup(&web, &user, &token, None, None).await {
        Ok(m) => page(StatusCode::OK, jar, m),
        Err(e) => e.into_response(),
    }
}

/// Days from a form field: empty = never (0), else a positive number of days from now.
fn expiry_from_days(now: i64, field: &str, days: &str) -> Result<i64, LeagueError> {
    let days = days.trim();
    if days.is_empty() {
        return Ok(0);
    }
    match days.parse::<f64>() {
        Ok(d) if d > 0.0 && d <= 3650.0 => Ok(now + (d * 86_400_000.0) as i64),
        _ => Err(LeagueError::invalid(format!(
            "{field}: expected a number of days from 0 to 3650, or nothing for never; got {days:?}"
        ))),
    }
}

async fn issue_token(
    State(web): Site,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<TokenForm>,
) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    let (jar, csrf_token) = csrf(&web, jar);
    let issued = match expiry_from_days(web.ctx.now_ms(), "expires after", &f.days) {
        Ok(expires) => accounts::issue_token(&web.ctx, &user, "", expires, f.description.trim()).await,
        Err(e) => Err(e),
    };
    let server = base_url(&web, &headers);
    let (status, markup) = match issued {
        Ok(t) => (
            StatusCode::OK,
            tokens_markup(&web, &user, &csrf_token, Some((&t.token, &server)), None).await,
        ),
        Err(e) => {
            let (status, message) = told(e);
            (
                status,
                tokens_markup(&web, &user, &csrf_token, None, Some(&message)).await,
            )
        }
    };
    match markup {
        Ok(m) => page(status, jar, m),
        Err(e) => e.into_response(),
    }
}

async fn revoke_token(
    State(web): Site,
    SignedIn(user): SignedIn,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    match accounts::revoke_token(&web.ctx, &user, &id).await {
        Ok(()) => Redirect::to("/console/tokens").into_response(),
        Err(e) => {
            let (status, message) = told(e);
            PageError { status, message }.into_response()
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Password
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn password_markup(user: &User, csrf: &str, message: Option<&str>) -> Markup {
    layout(
        "Password",
        "account",
        html! {
            (console_bar(user, csrf))
            h1 { "Change your password" }
            p { "Every browser signed in as you is signed out; your API tokens keep working." }
            (problem(message))
            form.card method="post" action="/console/password" {
                (csrf_field(csrf))
                label { "Current password" input type="password" name="current" autocomplete="current-password" required; }
                label { "New password" input type="password" name="password" autocomplete="new-password" required minlength=(accounts::PASSWORD_MIN_CHARS); }
                label { "New password again" input type="password" name="confirm" autocomplete="new-password" required; }
                button type="submit" { "Change password" }
            }
        },
        false,
    )
}

async fn password_page(State(web): Site, SignedIn(user): SignedIn, jar: CookieJar) -> Response {
    let (jar, token) = csrf(&web, jar);
    page(StatusCode::OK, jar, password_markup(&user, &token, None))
}

async fn set_password(
    State(web): Site,
    SignedIn(user): SignedIn,
    jar: CookieJar,
    Form(f): Form<PasswordForm>,
) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    let result = if f.password != f.confirm {
        Err(LeagueError::invalid("new password: the two passwords differ"))
    } else {
        accounts::set_password(&web.ctx, &user, "", Some(&f.current), &f.password).await
    };
    match result {
        // Every session ended with the change: sign in again with the new password.
        Ok(()) => Redirect::to("/signin?next=/console").into_response(),
        Err(e) => {
            let (status, message) = told(e);
            let (jar, token) = csrf(&web, jar);
            page(status, jar, password_markup(&user, &token, Some(&message)))
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Invites (facilitators: racers; admins: any role)
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    uses: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    note: String,
}

async fn invites_markup(
    web: &Web,
    user: &User,
    csrf: &str,
    made: Option<&str>,
    message: Option<&str>,
) -> Result<Markup, PageError> {
    let now = web.ctx.now_ms();
    let invites = accounts::list_invites(&web.ctx, user, 0, 200).await?;
    let roles: &[Role] = if ADMINS.contains(&user.role) {
        &[Role::Racer, Role::Facilitator, Role::Admin, Role::Worker]
    } else {
        &[Role::Racer]
    };
    Ok(layout(
        "Invites",
        "account",
        html! {
            (console_bar(user, csrf))
            h1 { "Invite people" }
            p { "An invite is a link: whoever opens it picks a name and a password and is signed in. Send it to your class; \
                 it stops working after its uses or its days." }
            @if let Some(url) = made {
                section.issued role="status" {
                    h2 { "Your invite link" }
                    p { "Copy it now: it is shown only once." }
                    pre.secret { (url) }
                }
            }
            (problem(message))
            form.card method="post" action="/console/invites" {
                (csrf_field(csrf))
                label { "Role" select name="role" { @for r in roles { option value=(r.as_str()) { (r.as_str()) } } } }
                label { "How many people may use it" input name="uses" inputmode="numeric" value="30" required; }
                label { "Expires after (days, empty for never)" input name="days" inputmode="numeric" value="14"; }
                label { "Note (who it is for)" input name="note" maxlength=(accounts::NOTE_MAX_CHARS) placeholder="Period 3, autumn"; }
                button type="submit" { "Make an invite link" }
            }
            table {
                caption { "Invites, newest first" }
                thead { tr { th { "Note" } th { "Role" } th.num { "Used" } th { "Expires" } th { "State" } th { span.visually-hidden { "Withdraw" } } } }
                tbody {
                    @for i in &invites {
                        tr {
                            td { (if i.note.is_empty() { "-" } else { &i.note }) }
                            td { (i.role.as_str()) }
                            td.num { (i.uses) " of " (i.max_uses) }
                            td { @if i.expires_at == 0 { "never" } @else { (display_time(i.expires_at)) } }
                            td { (i.state(now)) }
                            td {
                                @if i.unusable(now).is_none() {
                                    form.inline method="post" action=(format!("/console/invites/{}/revoke", i.id)) {
                                        (csrf_field(csrf))
                                        button type="submit" { "Withdraw" }
                                    }
                                }
                            }
                        }
                    }
                    @if invites.is_empty() {
                        tr { td colspan="6" { "None yet." } }
                    }
                }
            }
        },
        false,
    ))
}

/// The invites page: facilitators and admins only (everyone else: 404, as for a page that is not
/// there).
fn organiser(user: &User) -> Result<(), PageError> {
    if ORGANISERS.contains(&user.role) {
        Ok(())
    } else {
        Err(PageError::not_found("There is no page here."))
    }
}

async fn invites_page(State(web): Site, SignedIn(user): SignedIn, jar: CookieJar) -> Response {
    if let Err(e) = organiser(&user) {
        return e.into_response();
    }
    let (jar, token) = csrf(&web, jar);
    match invites_markup(&web, &user, &token, None, None).await {
        Ok(m) => page(StatusCode::OK, jar, m),
        Err(e) => e.into_response(),
    }
}

async fn create_invite(
    State(web): Site,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<InviteForm>,
) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    if let Err(e) = organiser(&user) {
        return e.into_response();
    }
    let (jar, csrf_token) = csrf(&web, jar);
    let made = async {
        let role = Role::parse(&f.role).ok_or_else(|| {
            LeagueError::invalid(format!(
                "role: expected racer, facilitator, admin or worker, got {:?}",
                f.role
            ))
        })?;
        let uses = f
            .uses
            .trim()
            .parse::<i64>()
            .map_err(|_| LeagueError::invalid(format!("uses: expected a whole number, got {:?}", f.uses)))?;
        let expires = expiry_from_days(web.ctx.now_ms(), "expires after", &f.days)?;
        accounts::create_invite(&web.ctx, &user, role, uses, expires, f.note.trim()).await
    }
    .await;
    let (status, markup) = match made {
        Ok(m) => {
            let url = format!("{}{}", base_url(&web, &headers), accounts::signup_path(&m.token));
            (
                StatusCode::OK,
                invites_markup(&web, &user, &csrf_token, Some(&url), None).await,
            )
        }
        Err(e) => {
            let (status, message) = told(e);
            (
                status,
                invites_markup(&web, &user, &csrf_token, None, Some(&message)).await,
            )
        }
    };
    match markup {
        Ok(m) => page(status, jar, m),
        Err(e) => e.into_response(),
    }
}

async fn revoke_invite(
    State(web): Site,
    SignedIn(user): SignedIn,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    match accounts::revoke_invite(&web.ctx, &user, &id).await {
        Ok(_) => Redirect::to("/console/invites").into_response(),
        Err(e) => {
            let (status, message) = told(e);
            PageError { status, message }.into_response()
        }
    }
}

/// The form token of a page that has forms (console pages outside this file use it).
pub(super) fn form_token(web: &Web, jar: CookieJar) -> (CookieJar, String) {
    csrf(web, jar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed_after_signing_in() {
        assert_eq!(safe_next(Some("/console/tokens")), "/console/tokens");
        for bad in [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/console", "{bad}");
        }
        assert_eq!(safe_next(None), "/console");
    }

    #[test]
    fn a_form_token_must_match_the_cookie_exactly() {
        let jar = CookieJar::new().add(Cookie::new(CSRF_COOKIE, "csrf_abc"));
        assert!(csrf_ok(&jar, "csrf_abc"));
        assert!(!csrf_ok(&jar, "csrf_abd"));
        assert!(!csrf_ok(&jar, ""));
        assert!(!csrf_ok(&CookieJar::new(), ""), "no cookie, no form");
    }

    #[test]
    fn days_are_positive_numbers_or_nothing() {
        assert_eq!(expiry_from_days(1000, "d", "").unwrap(), 0);
        assert_eq!(expiry_from_days(1000, "d", "1").unwrap(), 1000 + 86_400_000);
        for bad in ["0", "-1", "soon", "100000"] {
            let e = expiry_from_days(1000, "expires after", bad).unwrap_err().to_string();
            assert!(e.starts_with("expires after:"), "{e}");
        }
    }
}
