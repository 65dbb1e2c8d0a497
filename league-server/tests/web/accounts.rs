//! Accounts on the web site, black-box over HTTP as a browser sends it: sign-up with an invite,
//! sign-in (wrong passwords, rate limit), sessions and sign-out, CSRF, the API-token and password
//! pages, invites, cookie flags, and private races shown to their invited racers.

use std::collections::BTreeMap;

use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use slipstream_league::Config;
use slipstream_proto::v1 as pb;

use super::common::*;

/// A browser: keeps the cookies the server sets and sends them back.
pub(crate) struct Browser {
    base: String,
    pub cookies: BTreeMap<String, String>,
}

/// An answer: status, where it redirects, the cookies it set (whole `Set-Cookie` lines), the body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub location: String,
    pub set_cookies: Vec<String>,
    pub body: String,
}

fn form_encode(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Browser {
    pub(crate) fn new(s: &TestServer) -> Self {
        Browser {
            base: s.addr.clone(),
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, method: &str, path: &str, body: Option<String>) -> Answer {
        let client = Client::builder(TokioExecutor::new()).build_http::<http_body_util::Full<bytes::Bytes>>();
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let c: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", c.join("; "));
        }
        if body.is_some() {
            req = req.header("content-type", "application/x-www-form-urlencoded");
        }
        let req = req
            .body(http_body_util::Full::new(bytes::Bytes::from(body.unwrap_or_default())))
            .unwrap();
        let res = client
            .request(req)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let set_cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for line in &set_cookies {
            let pair = line.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            let gone = v.is_empty() || line.to_ascii_lowercase().contains("max-age=0");
            if gone {
                self.cookies.remove(k.trim());
            } else {
                self.cookies.insert(k.trim().to_string(), v.to_string());
            }
        }
        let body = String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
        Answer {
            status,
            location,
            set_cookies,
            body,
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    /// `POST` a form with the page's CSRF token added (as the server's own forms carry it).
    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let csrf = self.cookies.get("slp_csrf").cloned().unwrap_or_default();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.send("POST", path, Some(form_encode(&all))).await
    }

    /// `POST` a form exactly as given (no CSRF token unless `fields` has one).
    pub(crate) async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.send("POST", path, Some(form_encode(fields))).await
    }

    /// Open an invite link and sign up.
    pub(crate) async fn sign_up(&mut self, invite_path: &str, name: &str, password: &str) -> Answer {
        let page = self.get(invite_path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        self.post(
            invite_path,
            &[("name", name), ("password", password), ("confirm", password)],
        )
        .await
    }

    /// Make an API token on the console's token page; the token it shows once.
    pub(crate) async fn new_token(&mut self, description: &str) -> String {
        self.get("/console/tokens").await;
        let made = self
            .post("/console/tokens", &[("description", description), ("days", "")])
            .await;
        assert_eq!(made.status, 200, "{}", made.body);
        made.body
            .split("<pre class=\"secret\">")
            .nth(1)
            .and_then(|t| t.split("</pre>").next())
            .expect("the token on the page")
            .to_string()
    }

    pub(crate) async fn sign_in(&mut self, name: &str, password: &str) -> Answer {
        self.get("/signin").await;
        self.post("/signin", &[("name", name), ("password", password)]).await
    }
}

pub(crate) async fn invite(
    c: &mut slipstream_league::client::Clients,
    role: pb::Role,
    uses: i64,
    expires_at_ms: i64,
) -> pb::CreateSignupInviteResponse {
    c.users
        .create_signup_invite(pb::CreateSignupInviteRequest {
            role: role as i32,
            max_uses: uses,
            expires_at_ms,
            note: "Period 3".into(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn user_names(admin: &mut slipstream_league::client::Clients) -> Vec<String> {
    admin
        .users
        .list_users(pb::ListUsersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .users
        .into_iter()
        .map(|u| u.name)
        .collect()
}

fn cookie_line<'a>(a: &'a Answer, name: &str) -> &'a str {
    a.set_cookies
        .iter()
        .find(|l| l.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set: {:?}", a.set_cookies))
}

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn an_invite_signs_a_student_up_and_in_once() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let inv = invite(&mut admin, pb::Role::Racer, 1, 0).await;
    assert!(inv.signup_path.starts_with("/signup/inv_"), "{}", inv.signup_path);

    let mut ann = Browser::new(&s);
    let page = ann.get(&inv.signup_path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("You are invited as a racer"), "{}", page.body);
    let csrf = cookie_line(&page, "slp_csrf");
    assert!(csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"), "{csrf}");

    let done = ann
        .post(
            &inv.signup_path,
            &[("name", "ann"), ("password", PASSWORD), ("confirm", PASSWORD)],
        )
        .await;
    assert_eq!(
        (done.status, done.location.as_str()),
        (303, "/console"),
        "{}",
        done.body
    );
    let session = cookie_line(&done, "slp_session");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(session.contains(flag), "{flag} in {session}");
    }
    assert!(
        !session.contains("Secure"),
        "plain HTTP on loopback: no Secure flag: {session}"
    );
    let home = ann.get("/console").await;
    assert_eq!(home.status, 200);
    assert!(
        home.body.contains("Signed in as <strong>ann</strong> (racer)"),
        "{}",
        home.body
    );

    // Used up: a second student is told so and nothing is made.
    let mut bob = Browser::new(&s);
    let gone = bob.get(&inv.signup_path).await;
    assert_eq!(gone.status, 410);
    assert!(gone.body.contains("used up"), "{}", gone.body);
    let listed = admin
        .users
        .list_signup_invites(pb::ListSignupInvitesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .invites;
    assert_eq!((listed.len(), listed[0].uses), (1, 1));
    assert_eq!(user_names(&mut admin).await, ["admin", "ann"]);
}

#[tokio::test]
async fn a_taken_name_or_a_weak_password_is_refused_on_the_form_without_using_the_invite() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    s.user("ann", pb::Role::Racer).await;
    let inv = invite(&mut admin, pb::Role::Racer, 1, 0).await;
    let mut b = Browser::new(&s);
    let taken = b.sign_up(&inv.signup_path, "ann", PASSWORD).await;
    assert_eq!(taken.status, 409);
    assert!(taken.body.contains("is taken"), "{}", taken.body);
    assert!(taken.body.contains("value=\"ann\""), "the form keeps what was typed");
    let weak = b.sign_up(&inv.signup_path, "bea", "short").await;
    assert_eq!(weak.status, 400);
    assert!(
        weak.body.contains("password: use at least 8 characters"),
        "{}",
        weak.body
    );
    let differ = b
        .post(
            &inv.signup_path,
            &[("name", "bea"), ("password", PASSWORD), ("confirm", "something else")],
        )
        .await;
    assert_eq!(differ.status, 400);
    assert!(differ.body.contains("the two passwords differ"));
    let ok = b.sign_up(&inv.signup_path, "bea", PASSWORD).await;
    assert_eq!(ok.status, 303, "the one use was still there: {}", ok.body);
}

#[tokio::test]
async fn a_form_without_its_token_does_nothing() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let inv = invite(&mut admin, pb::Role::Racer, 1, 0).await;
    let mut b = Browser::new(&s);
    b.get(&inv.signup_path).await;
    let fields = [("name", "ann"), ("password", PASSWORD), ("confirm", PASSWORD)];
    let none = b.post_raw(&inv.signup_path, &fields).await;
    assert_eq!(none.status, 403);
    assert!(none.body.contains("nothing was done"), "{}", none.body);
    let mut forged = vec![("csrf", "csrf_forged")];
    forged.extend_from_slice(&fields);
    assert_eq!(b.post_raw(&inv.signup_path, &forged).await.status, 403);
    // Another site's form: the visitor's cookie is not sent along (SameSite), only its own field.
    let mut other_site = Browser::new(&s);
    let mut theirs = vec![("csrf", "csrf_theirs")];
    theirs.extend_from_slice(&fields);
    assert_eq!(other_site.post_raw(&inv.signup_path, &theirs).await.status, 403);
    assert_eq!(user_names(&mut admin).await, ["admin"], "nobody was made");
    assert_eq!(
        b.sign_up(&inv.signup_path, "ann", PASSWORD).await.status,
        303,
        "the invite is unused"
    );
    // Signing out needs the token too.
    assert_eq!(b.post_raw("/signout", &[]).await.status, 403);
    assert_eq!(b.get("/console").await.status, 200, "still signed in");
}

#[tokio::test]
async fn sign_in_says_the_same_for_a_wrong_name_and_a_wrong_password_and_is_rate_limited() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let inv = invite(&mut admin, pb::Role::Racer, 1, 0).await;
    Browser::new(&s).sign_up(&inv.signup_path, "ann", PASSWORD).await;

    let mut b = Browser::new(&s);
    let wrong = b.sign_in("ann", "not the password").await;
    let unknown = b.sign_in("nobody", PASSWORD).await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    for a in [&wrong, &unknown] {
        assert!(a.body.contains("Wrong name or password."), "{}", a.body);
        assert!(!a.set_cookies.iter().any(|c| c.starts_with("slp_session=")));
    }
    let ok = b.sign_in("ann", PASSWORD).await;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/console"));
    // Five attempts per name at once (two used): then even the right password waits.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(Browser::new(&s).sign_in("ann", "guess guess").await.status);
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    let limited = Browser::new(&s).sign_in("ANN", PASSWORD).await;
    assert_eq!(limited.status, 429);
    assert!(
        limited.body.contains("Too many sign-in attempts for this name"),
        "{}",
        limited.body
    );
    assert_eq!(
        Browser::new(&s).sign_in("bob", "whatever1").await.status,
        401,
        "other names are not limited"
    );
}

#[tokio::test]
async fn after_signing_in_the_visitor_goes_back_where_they_were_and_only_on_this_site() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let inv = invite(&mut admin, pb::Role::Racer, 1, 0).await;
    let mut b = Browser::new(&s);
    b.sign_up(&inv.signup_path, "ann", PASSWORD).await;
    b.post("/signout", &[]).await;
    let sent = b.get("/console/tokens").await;
    assert_eq!(
        (sent.status, sent.location.as_str()),
        (303, "/signin?next=/console/tokens")
    );
    let form = b.get(&sent.location).await;
    assert!(
        form.body.contains("name=\"next\" value=\"/console/tokens\""),
        "{}",
        form.body
    );
    let back = b
        .post(
            "/signin",
            &[("name", "ann"), ("password", PASSWORD), ("next", "/console/tokens")],
        )
        .await;
    assert_eq!(back.location, "/console/tokens");
    let away = b
        .post(
            "/signin",
            &[("name", "ann"), ("password", PASSWORD), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(away.location, "/console", "never to another site");
}

#[tokio::test]
async fn expired_withdrawn_and_unknown_invites_sign_nobody_up() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let hour = 3_600_000;
    let expiring = invite(&mut admin, pb::Role::Racer, 5, slipstream_league::util::now_ms() + hour).await;
    let withdrawn = invite(&mut admin, pb::Role::Racer, 5, 0).await;
    admin
        .users
        .revoke_signup_invite(pb::RevokeSignupInviteRequest {
            invite_id: withdrawn.invite.unwrap().invite_id,
        })
        .await
        .unwrap();
    s.clock.advance(std::time::Duration::from_secs(2 * 3600));
    let mut b = Browser::new(&s);
    let expired = b.get(&expiring.signup_path).await;
    assert_eq!(expired.status, 410);
    assert!(expired.body.contains("This invite has expired."), "{}", expired.body);
    let w = b.get(&withdrawn.signup_path).await;
    assert_eq!(w.status, 410);
    assert!(w.body.contains("This invite was withdrawn."));
    assert_eq!(b.get("/signup/inv_0000").await.status, 404);
    // Posting anyway makes nobody.
    b.get("/signin").await;
    let posted = b
        .post(
            &expiring.signup_path,
            &[("name", "late"), ("password", PASSWORD), ("confirm", PASSWORD)],
        )
        .await;
    assert_eq!(posted.status, 410);
    assert_eq!(user_names(&mut admin).await, ["admin"]);
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let inv = invite(&mut admin, pb::Role::Racer, 1, 0).await;
    let mut b = Browser::new(&s);
    b.sign_up(&inv.signup_path, "ann", PASSWORD).await;
    let kept = b.cookies.clone();
    let out = b.post("/signout", &[]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/"));
    assert!(!b.cookies.contains_key("slp_session"), "the browser forgets it");
    // A copy of the old cookie no longer signs anyone in.
    let mut copy = Browser::new(&s);
    copy.cookies = kept;
    assert_eq!(copy.get("/console").await.status, 303);
}

#[tokio::test]
async fn tokens_made_in_the_console_work_on_grpc_until_revoked_and_only_their_owner_revokes_them() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let inv = invite(&mut admin, pb::Role::Racer, 2, 0).await;
    let mut ann = Browser::new(&s);
    ann.sign_up(&inv.signup_path, "ann", PASSWORD).await;
    ann.get("/console/tokens").await;
    let made = ann
        .post(
            "/console/tokens",
            &[("description", "<script>alert(1)</script>"), ("days", "30")],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "escaped");
    assert!(!made.body.contains("<script>alert(1)"), "never raw");
    assert!(made.body.contains("shown only once"));
    let token = made
        .body
        .split("<pre class=\"secret\">")
        .nth(1)
        .and_then(|t| t.split("</pre>").next())
        .expect("the token on the page")
        .to_string();
    assert!(token.starts_with("slp_"), "{token}");
    let mut c = s.client(Some(&token)).await;
    let me = c.users.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!(me.name, "ann");
    let mine = c
        .users
        .list_tokens(pb::ListTokensRequest::default())
        .await
        .unwrap()
        .into_inner()
        .tokens;
    assert_eq!(mine.len(), 1);
    let listed = ann.get("/console/tokens").await.body;
    assert!(
        listed.contains(&format!("/console/tokens/{}/revoke", mine[0].token_id)),
        "{listed}"
    );
    assert!(!listed.contains(&token), "the secret is shown once, not on the list");

    // Another student cannot revoke it: 404, as for a token that is not there.
    let mut bob = Browser::new(&s);
    bob.sign_up(&inv.signup_path, "bob", PASSWORD).await;
    let theirs = bob
        .post(&format!("/console/tokens/{}/revoke", mine[0].token_id), &[])
        .await;
    assert_eq!(theirs.status, 404);
    assert!(c.users.who_am_i(pb::WhoAmIRequest {}).await.is_ok());

    let revoked = ann
        .post(&format!("/console/tokens/{}/revoke", mine[0].token_id), &[])
        .await;
    assert_eq!((revoked.status, revoked.location.as_str()), (303, "/console/tokens"));
    assert_eq!(
        code(c.users.who_am_i(pb::WhoAmIRequest {}).await),
        tonic::Code::Unauthenticated
    );
}

#[tokio::test]
async fn a_password_change_signs_out_every_browser() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let inv = invite(&mut admin, pb::Role::Racer, 1, 0).await;
    let mut laptop = Browser::new(&s);
    laptop.sign_up(&inv.signup_path, "ann", PASSWORD).await;
    let mut phone = Browser::new(&s);
    assert_eq!(phone.sign_in("ann", PASSWORD).await.status, 303);
    laptop.get("/console/password").await;
    let wrong = laptop
        .post(
            "/console/password",
            &[
                ("current", "not it at all"),
                ("password", "a new one 123"),
                ("confirm", "a new one 123"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("current password: that is not your password"));
    let changed = laptop
        .post(
            "/console/password",
            &[
                ("current", PASSWORD),
                ("password", "a new one 123"),
                ("confirm", "a new one 123"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(phone.get("/console").await.status, 303, "the phone is signed out");
    assert_eq!(laptop.get("/console").await.status, 303, "and so is the laptop");
    assert_eq!(Browser::new(&s).sign_in("ann", PASSWORD).await.status, 401);
    assert_eq!(Browser::new(&s).sign_in("ann", "a new one 123").await.status, 303);
}

#[tokio::test]
async fn users_made_before_the_console_set_a_password_over_grpc_and_sign_in() {
    let s = TestServer::start(0).await;
    let (carol, _, mut carol_c) = s.user("carol", pb::Role::Racer).await;
    let (_, _, mut dan_c) = s.user("dan", pb::Role::Racer).await;
    assert_eq!(
        Browser::new(&s).sign_in("carol", PASSWORD).await.status,
        401,
        "no password yet"
    );
    carol_c
        .users
        .set_password(pb::SetPasswordRequest {
            user_id: String::new(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    assert_eq!(Browser::new(&s).sign_in("carol", PASSWORD).await.status, 303);
    let other = dan_c
        .users
        .set_password(pb::SetPasswordRequest {
            user_id: carol.id.clone(),
            password: "taken over 123".into(),
        })
        .await;
    assert_eq!(code(other), tonic::Code::PermissionDenied);
    let weak = carol_c
        .users
        .set_password(pb::SetPasswordRequest {
            user_id: String::new(),
            password: "carol".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(weak.code(), tonic::Code::InvalidArgument);
    assert!(weak.message().starts_with("password:"), "{}", weak.message());
}

#[tokio::test]
async fn facilitators_invite_racers_only_and_racers_invite_nobody() {
    let s = TestServer::start(0).await;
    let (_, _, mut teacher) = s.user("teacher", pb::Role::Facilitator).await;
    let (_, _, mut student) = s.user("student", pb::Role::Racer).await;
    let admin_invite = teacher
        .users
        .create_signup_invite(pb::CreateSignupInviteRequest {
            role: pb::Role::Admin as i32,
            max_uses: 1,
            ..Default::default()
        })
        .await;
    assert_eq!(code(admin_invite), tonic::Code::PermissionDenied);
    let by_student = student
        .users
        .create_signup_invite(pb::CreateSignupInviteRequest {
            role: pb::Role::Racer as i32,
            max_uses: 1,
            ..Default::default()
        })
        .await;
    assert_eq!(code(by_student), tonic::Code::PermissionDenied);
    let zero = teacher
        .users
        .create_signup_invite(pb::CreateSignupInviteRequest {
            role: pb::Role::Racer as i32,
            max_uses: 0,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        zero.message().starts_with("uses: expected 1 to 10000"),
        "{}",
        zero.message()
    );
    invite(&mut teacher, pb::Role::Racer, 30, 0).await;
    // A student's console has no invites page.
    student
        .users
        .set_password(pb::SetPasswordRequest {
            user_id: String::new(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    let mut b = Browser::new(&s);
    b.sign_in("student", PASSWORD).await;
    assert_eq!(b.get("/console/invites").await.status, 404);
    assert!(!b.get("/console").await.body.contains("/console/invites"));
}

#[tokio::test]
async fn a_teacher_makes_an_invite_link_in_the_browser_and_a_student_uses_it() {
    let s = TestServer::start(0).await;
    let (_, _, mut teacher) = s.user("teacher", pb::Role::Facilitator).await;
    teacher
        .users
        .set_password(pb::SetPasswordRequest {
            user_id: String::new(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    let mut t = Browser::new(&s);
    t.sign_in("teacher", PASSWORD).await;
    let page = t.get("/console/invites").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<option value=\"racer\">"), "{}", page.body);
    assert!(
        !page.body.contains("<option value=\"admin\">"),
        "a facilitator invites racers only"
    );
    let bad = t
        .post(
            "/console/invites",
            &[("role", "racer"), ("uses", "lots"), ("days", "7"), ("note", "")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("uses: expected a whole number"), "{}", bad.body);
    let made = t
        .post(
            "/console/invites",
            &[("role", "racer"), ("uses", "2"), ("days", "7"), ("note", "Period <3>")],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.body.contains("Period &lt;3&gt;"));
    let link = made
        .body
        .split("<pre class=\"secret\">")
        .nth(1)
        .and_then(|t| t.split("</pre>").next())
        .expect("the link on the page")
        .to_string();
    let path = link
        .strip_prefix(&s.addr)
        .unwrap_or_else(|| panic!("{link} is on {}", s.addr));
    let mut student = Browser::new(&s);
    assert_eq!(student.sign_up(path, "stu", PASSWORD).await.status, 303);
    assert!(t.get("/console/invites").await.body.contains("1 of 2"));
}

#[tokio::test]
async fn cookies_are_secure_when_the_server_is_reached_over_https() {
    let s = TestServer::start_with(
        Config {
            workers: 0,
            secure_cookies: true,
            ..test_config()
        },
        None,
    )
    .await;
    let mut admin = s.admin().await;
    let inv = invite(&mut admin, pb::Role::Racer, 1, 0).await;
    let mut b = Browser::new(&s);
    let page = b.get(&inv.signup_path).await;
    assert!(cookie_line(&page, "slp_csrf").contains("Secure"));
    let done = b
        .post(
            &inv.signup_path,
            &[("name", "ann"), ("password", PASSWORD), ("confirm", PASSWORD)],
        )
        .await;
    assert!(cookie_line(&done, "slp_session").contains("Secure"));
}

#[tokio::test]
async fn a_private_race_shows_to_its_invited_racers_signed_in_and_to_nobody_else() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let race = super::oval_race(&mut admin, "Class Final", true).await;
    let inv = invite(&mut admin, pb::Role::Racer, 2, 0).await;
    let mut ann = Browser::new(&s);
    ann.sign_up(&inv.signup_path, "ann", PASSWORD).await;
    let mut bob = Browser::new(&s);
    bob.sign_up(&inv.signup_path, "bob", PASSWORD).await;
    // Ann joins the race with its invite, through a token from her console.
    let token = ann.new_token("cli").await;
    let race_invite = admin
        .races
        .create_invite(pb::CreateInviteRequest {
            race_id: race.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    s.client(Some(&token))
        .await
        .races
        .join_race(pb::JoinRaceRequest {
            invite_token: race_invite.token.clone(),
        })
        .await
        .unwrap();
    for path in [format!("/races/{}", race.id), format!("/races/{}/screen", race.id)] {
        let shown = ann.get(&path).await;
        assert_eq!(shown.status, 200, "{path}");
        assert!(shown.body.contains("Class Final"));
        assert_eq!(bob.get(&path).await.status, 404, "{path}: not invited");
        assert_eq!(Browser::new(&s).get(&path).await.status, 404, "{path}: anonymous");
    }
    assert!(
        ann.get("/console").await.body.contains("Class Final"),
        "listed among her open races"
    );
    assert!(!bob.get("/console").await.body.contains("Class Final"));
}
