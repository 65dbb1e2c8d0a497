//! The student console's home (`/console`): the signed-in user's models, submissions and the races
//! they may enter. Everything here is the user's own; what they see of others is what the public
//! pages show.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use maud::{Markup, html};

use super::account::{SignedIn, console_bar, csrf_field, csrf_ok, csrf_refused, form_token, told};
use super::pages::{layout, race_url};
use super::{PageError, Site, Web};
use crate::league::Viewer;
use crate::league::access::ADMINS;
use crate::store::{ModelRow, RaceRow, SubStatus, SubmissionRow, TrainingRow, User};
use crate::util::{display_seconds, display_time};
use slipstream_league_client::kinds::RaceState;

/// Rows each table of the console's home shows.
const LISTED: usize = 50;

pub(super) async fn home(State(web): Site, SignedIn(user): SignedIn, jar: CookieJar) -> Response {
    let (jar, csrf) = form_token(&web, jar);
    match home_markup(&web, &user, &csrf).await {
        Ok(m) => (StatusCode::OK, jar, m).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn home_markup(web: &Web, user: &User, csrf: &str) -> Result<Markup, PageError> {
    let ctx = &web.ctx;
    let now = ctx.now_ms();
    let models = ctx.store.list_models(&user.id, 0, LISTED).await?;
    let trainings = ctx.store.list_trainings(Some(&user.id), 0, LISTED).await?;
    let subs = ctx.store.list_submissions(Some(&user.id), None, 0, LISTED).await?;
    let viewer = Viewer::user(user);
    let mut entered = Vec::with_capacity(subs.len());
    for s in subs {
        let race = match ctx.race(&s.race_id).await? {
            Some(r) if viewer.sees_race(ctx, &r).await? => Some(r),
            _ => None,
        };
        entered.push((s, race));
    }
    let open: Vec<RaceRow> = ctx
        .store
        .list_races(viewer.race_scope(), 0, 200)
        .await?
        .into_iter()
        .filter(|r| r.spec.state(now) == RaceState::Open)
        .collect();
    Ok(layout(
        "My console",
        "account",
        html! {
            (console_bar(user, csrf))
            @if let Some(w) = ctx.in_clear_warning.as_ref().filter(|_| ADMINS.contains(&user.role)) {
                p.problem role="alert" { "Warning: " (w) "." }
            }
            h1 { "My console" }
            p { a.button href="/console/models/new" { "Create a model" } }
            (trainings_table(&trainings))
            (open_races(&open))
            (models_table(&models, &open, csrf))
            (submissions_table(&entered))
        },
        false,
    ))
}

fn open_races(races: &[RaceRow]) -> Markup {
    html! {
        section {
            h2 { "Races open now" }
            @if races.is_empty() {
                p { "No race is open to you right now." }
            } @else {
                ul.races {
                    @for r in races {
                        li {
                            a href=(race_url(&r.id)) { (r.spec.name) }
                            @if r.spec.private { " (private)" }
                            " — closes " (display_time(r.spec.closes_at_ms))
                        }
                    }
                }
            }
        }
    }
}

fn models_table(models: &[ModelRow], open: &[RaceRow], csrf: &str) -> Markup {
    html! {
        table {
            caption { "My models (newest first)" }
            thead { tr { th { "Name" } th { "Sensor" } th { "Actions" } th { "Network" } th { "Added" } th { "Race it" } } }
            tbody {
                @for m in models {
                    tr {
                        td { (m.name) " " a.download href=(format!("/console/models/{}/file", m.id)) download aria-label=(format!("Download {}", m.name)) { "⤓" } }
                        td { (m.sensor) }
                        td { (m.action_space_type) }
                        td { (m.network) }
                        td { (display_time(m.uploaded_at)) }
                        td {
                            @if open.is_empty() {
                                "no race open"
                            } @else {
                                form.inline.submit-model method="post" action=(format!("/console/models/{}/submit", m.id)) {
                                    (csrf_field(csrf))
                                    label.visually-hidden for=(format!("race-{}", m.id)) { "Race for " (m.name) }
                                    select id=(format!("race-{}", m.id)) name="race_id" {
                                        @for r in open { option value=(r.id) { (r.spec.name) } }
                                    }
                                    " "
                                    button type="submit" { "Submit to race" }
                                }
                            }
                        }
                    }
                }
                @if models.is_empty() {
                    tr { td colspan="6" { "No models yet. " a href="/console/models/new" { "Create one" } ", or upload one with " code { "league models upload MODEL.safetensors" } " (your API token is on the API tokens page)." } }
                }
            }
        }
    }
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct SubmitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    race_id: String,
}

/// A model's file (its owner's, or an admin's download): the `.safetensors` the league races.
pub(super) async fn model_file(State(web): Site, SignedIn(user): SignedIn, Path(id): Path<String>) -> Response {
    let missing = || PageError::not_found(format!("You have no model {id:?}.")).into_response();
    let model = match web.ctx.store.model(&id).await {
        Ok(Some(m)) if !m.deleted && (m.owner_id == user.id || ADMINS.contains(&user.role)) => m,
        Ok(_) => return missing(),
        Err(e) => return PageError::from(e).into_response(),
    };
    match web.ctx.store.blob(&model.sha256).await {
        Ok(Some(bytes)) => super::attachment(&model.name, "safetensors", "application/octet-stream", bytes),
        Ok(None) => missing(),
        Err(e) => PageError::from(e).into_response(),
    }
}

/// "Submit to race": the model entered, then the race's page (its leaderboard shows the result as
/// soon as the evaluation is done).
pub(super) async fn submit_model(
    State(web): Site,
    SignedIn(user): SignedIn,
    jar: CookieJar,
    Path(model_id): Path<String>,
    Form(f): Form<SubmitForm>,
) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    match web.ctx.submit(&user, &f.race_id, &model_id).await {
        Ok(_) => Redirect::to(&race_url(&f.race_id)).into_response(),
        Err(e) => {
            let (status, message) = told(e);
            PageError { status, message }.into_response()
        }
    }
}

fn trainings_table(rows: &[TrainingRow]) -> Markup {
    html! {
        @if !rows.is_empty() {
            table {
                caption { "My training jobs (newest first)" }
                thead { tr { th { "Model" } th { "State" } th.num { "Minutes" } th { "Queued" } } }
                tbody {
                    @for t in rows {
                        tr {
                            td { a href=(format!("/console/trainings/{}", t.id)) { (t.name) } }
                            td { (t.status.as_str()) }
                            td.num { (format!("{:.1} of {}", t.trained_ms as f64 / 60_000.0, t.minutes)) }
                            td { (display_time(t.created_at)) }
                        }
                    }
                }
            }
        }
    }
}

fn result_text(s: &SubmissionRow) -> String {
    match s.status {
        SubStatus::Completed if s.qualified => format!("{} s", display_seconds(s.score_ms)),
        SubStatus::Completed => "did not qualify".into(),
        SubStatus::Failed => format!("failed: {}", s.failure_reason),
        other => other.as_str().into(),
    }
}

fn submissions_table(subs: &[(SubmissionRow, Option<RaceRow>)]) -> Markup {
    html! {
        table {
            caption { "My submissions (newest first)" }
            thead { tr { th { "Race" } th { "State" } th { "Result" } th { "Submitted" } } }
            tbody {
                @for (s, race) in subs {
                    tr {
                        td {
                            @match race {
                                Some(r) => a href=(race_url(&r.id)) { (r.spec.name) },
                                None => "a race that is gone",
                            }
                        }
                        td { (s.status.as_str()) }
                        td { (result_text(s)) }
                        td { (display_time(s.submitted_at)) }
                    }
                }
                @if subs.is_empty() {
                    tr { td colspan="4" { "No submissions yet." } }
                }
            }
        }
    }
}
