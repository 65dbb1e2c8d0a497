//! Training in the console: the "Create model" form (DeepRacer's wizard on one page: track
//! gallery, sensor, action space, reward function with a Validate button, stop condition,
//! hyperparameters), a training job's page following it live (chart, log, Stop), its settings as
//! files, and the admin's quotas. The rules are `league/training.rs`'s; the runner is
//! `worker/training.rs`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use futures::Stream;
use maud::{Markup, html};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::account::{SignedIn, console_bar, csrf_field, csrf_ok, csrf_refused, form_token, told};
use super::pages::layout;
use super::{PageError, Site, Web, chart};
use crate::ctx::stopped;
use crate::league::access::ADMINS;
use crate::league::training::{self, NETWORKS, Quotas, SENSORS, TrainingForm};
use crate::reward_check::RewardVerdict;
use crate::store::{TrainingRow, TrainingStatus, User};
use crate::util::display_time;

pub fn routes() -> Router<Arc<Web>> {
    Router::new()
        .route("/console/models/new", get(new_model_page).post(new_model))
        .route("/console/trainings/{id}", get(training_page))
        .route("/console/trainings/{id}/events", get(training_events))
        .route("/console/trainings/{id}/stop", post(stop_training))
        .route("/console/trainings/{id}/train.toml", get(config_file))
        .route("/console/trainings/{id}/reward_function.py", get(reward_file))
        .route("/console/trainings/{id}/replay.gif", get(replay_file))
        .route("/console/quotas", get(quotas_page).post(set_quotas))
        .route("/console/jobs", get(jobs_page))
}

// ------------------------------------------------------------------------------------------------
// Create model
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    /// A training job whose settings the form starts from.
    #[serde(default)]
    from: String,
    /// With `from`: continue from the model that job made (DeepRacer's "clone").
    #[serde(default)]
    clone: bool,
}

/// The form as sent: the fields, the form token and which button.
#[derive(Debug, Deserialize)]
pub struct NewModelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(flatten)]
    form: TrainingForm,
}

/// What the Validate button found.
enum Checked {
    Sound(crate::reward_check::RewardStats),
    Refused(String),
}

async fn gallery(web: &Web) -> Result<Vec<(String, Option<Arc<super::DrawnTrack>>)>, PageError> {
    let mut ids: Vec<String> = slipstream_sim::track::builtin::all()
        .iter()
        .map(|b| b.name.to_string())
        .collect();
    ids.extend(web.ctx.store.list_tracks().await?.into_iter().map(|t| t.id));
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let drawn = web.drawn(&id, false).await;
        out.push((id, drawn));
    }
    Ok(out)
}

async fn quota_line(web: &Web) -> Result<String, PageError> {
    let q = training::quotas(&web.ctx).await?;
    let mut parts = Vec::new();
    if q.job_minutes > 0.0 {
        parts.push(format!("up to {} minutes a job", q.job_minutes));
    }
    if q.monthly_minutes > 0.0 {
        parts.push(format!("{} minutes a month", q.monthly_minutes));
    }
    if q.concurrent_jobs > 0 {
        parts.push(format!(
            "{} job{} at a time",
            q.concurrent_jobs,
            if q.concurrent_jobs == 1 { "" } else { "s" }
        ));
    }
    Ok(if parts.is_empty() {
        "This league sets no limits on training.".into()
    } else {
        format!("This league allows {}.", parts.join(", "))
    })
}

async fn new_model_markup(
    web: &Web,
    user: &User,
    csrf: &str,
    f: &TrainingForm,
    problem: Option<&str>,
    checked: Option<&Checked>,
) -> Result<Markup, PageError> {
    let tracks = gallery(web).await?;
    let quota = quota_line(web).await?;
    // The placeholders show what an empty field trains with (the form's sensor's defaults).
    let d = training::build_config(
        &TrainingForm {
            sensor: f.sensor.clone(),
            ..TrainingForm::defaults("oval")
        },
        1,
    )
    .unwrap_or_default();
    Ok(layout(
        "Create a model",
        "account",
        html! {
            (console_bar(user, csrf))
            h1 { "Create a model" }
            p.hint { "Choose where and how your car learns, write what it is rewarded for, and train. " (quota) }
            @if let Some(m) = problem {
                p.problem role="alert" { (m) }
            }
            form.wizard method="post" action="/console/models/new" {
                (csrf_field(csrf))
                @if !f.init_model.is_empty() {
                    p.verdict.ok {
                        "This model starts from the weights of your model " code { (f.init_model) }
                        " (DeepRacer's clone): keep its sensor, network and action space. "
                        a href="/console/models/new" { "Start fresh instead" }
                    }
                    input type="hidden" name="init_model" value=(f.init_model);
                }
                fieldset {
                    legend { "1. Name" }
                    label { "Model name" input name="name" value=(f.name) maxlength="100" required placeholder="my-first-model"; }
                }
                fieldset.tracks {
                    legend { "2. Track" }
                    div.gallery {
                        @for (id, drawn) in &tracks {
                            label.track-card {
                                input type="radio" name="track" value=(id) checked[f.track == *id] required;
                                @if let Some(t) = drawn {
                                    (maud::PreEscaped(&t.svg))
                                    span.name { (t.name) }
                                    span.figures { (format!("{:.1} m, {:.2} m wide", t.length_m, t.width_mean_m)) }
                                } @else {
                                    span.name { (id) }
                                }
                            }
                        }
                    }
                }
                fieldset {
                    legend { "3. Sensor and network" }
                    @for (value, _, words) in SENSORS {
                        label.choice { input type="radio" name="sensor" value=(value) checked[f.sensor == *value]; " " (words) }
                    }
                    label { "Neural network"
                        select name="network" {
                            @for (value, words) in NETWORKS {
                                option value=(value) selected[f.network == *value] { (words) }
                            }
                        }
                    }
                }
                fieldset {
                    legend { "4. Action space" }
                    label.choice { input type="radio" name="action_space_type" value="discrete" checked[f.action_space_type != "continuous"]; " Discrete: a table of actions" }
                    label { "Actions, one a line: steering angle (degrees, left positive) and speed (m/s)"
                        textarea.code name="actions" rows="8" { (f.actions) }
                    }
                    label.choice { input type="radio" name="action_space_type" value="continuous" checked[f.action_space_type == "continuous"]; " Continuous: any steering and speed in ranges" }
                    div.row {
                        label { "Steering ± (degrees)" input name="steering_max" value=(f.steering_max) inputmode="decimal"; }
                        label { "Speed from (m/s)" input name="speed_min" value=(f.speed_min) inputmode="decimal"; }
                        label { "to (m/s)" input name="speed_max" value=(f.speed_max) inputmode="decimal"; }
                    }
                }
                fieldset {
                    legend { "5. Reward function" }
                    p.hint { "Python, as on DeepRacer: " code { "def reward_function(params)" } " returns a number. Validate runs it on the chosen track's real parameters (safely, on the server) before you train." }
                    textarea.code name="reward_code" rows="22" spellcheck="false" { (f.reward_code) }
                    button.secondary type="submit" name="action" value="validate" formnovalidate { "Validate" }
                    @match checked {
                        Some(Checked::Sound(s)) => p.verdict.ok role="status" {
                            "Looks good: " (s.calls) " calls on the track, rewards from " (format!("{:.3}", s.min)) " to " (format!("{:.3}", s.max)) ", mean " (format!("{:.3}", s.mean)) "."
                        },
                        Some(Checked::Refused(m)) => div.verdict.bad role="alert" { p { "Your reward function has a problem:" } pre { (m) } },
                        None => {},
                    }
                }
                fieldset {
                    legend { "6. Stop condition" }
                    label { "Train for (minutes)" input name="minutes" value=(f.minutes) inputmode="decimal" required; }
                    label { "Or stop after this many steps (optional: the same model on every machine; the minutes still cap it)"
                        input name="steps" value=(f.steps) inputmode="numeric" placeholder="e.g. 100000"; }
                }
                details {
                    summary { "Hyperparameters (DeepRacer's names; empty = default)" }
                    div.row {
                        label { "batch_size" input name="batch_size" value=(f.batch_size) placeholder=(d.batch_size) inputmode="numeric"; }
                        label { "num_epochs" input name="num_epochs" value=(f.num_epochs) placeholder=(d.num_epochs) inputmode="numeric"; }
                        label { "lr" input name="lr" value=(f.lr) placeholder=(d.lr) inputmode="decimal"; }
                        label { "beta_entropy" input name="beta_entropy" value=(f.beta_entropy) placeholder=(d.beta_entropy) inputmode="decimal"; }
                        label { "discount_factor" input name="discount_factor" value=(f.discount_factor) placeholder=(d.discount_factor) inputmode="decimal"; }
                        label { "loss_type"
                            select name="loss_type" {
                                option value="" selected[f.loss_type.is_empty()] { "default" }
                                option value="huber" selected[f.loss_type == "huber"] { "huber" }
                                option value="mean squared error" selected[f.loss_type == "mean squared error"] { "mean squared error" }
                            }
                        }
                        label { "num_episodes_between_training" input name="num_episodes_between_training" value=(f.num_episodes_between_training) inputmode="numeric"; }
                        label { "seed" input name="seed" value=(f.seed) inputmode="numeric"; }
                    }
                }
                button type="submit" name="action" value="train" { "Train" }
            }
        },
        false,
    ))
}

async fn new_model_page(
    State(web): Site,
    SignedIn(user): SignedIn,
    jar: CookieJar,
    Query(q): Query<NewQuery>,
) -> Response {
    let (jar, csrf) = form_token(&web, jar);
    let form = if q.from.is_empty() {
        TrainingForm::defaults("oval")
    } else {
        match training::visible(&web.ctx, &user, &q.from).await {
            Ok(row) => {
                let mut f: TrainingForm =
                    serde_json::from_str(&row.form_json).unwrap_or_else(|_| TrainingForm::defaults("oval"));
                f.name = format!("{}-clone", row.name);
                f.init_model = if q.clone { row.model_id.clone() } else { String::new() };
                f
            }
            Err(e) => return PageError::from(e).into_response(),
        }
    };
    match new_model_markup(&web, &user, &csrf, &form, None, None).await {
        Ok(m) => (StatusCode::OK, jar, m).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn new_model(
    State(web): Site,
    SignedIn(user): SignedIn,
    jar: CookieJar,
    Form(sent): Form<NewModelForm>,
) -> Response {
    if !csrf_ok(&jar, &sent.csrf) {
        return csrf_refused();
    }
    let (jar, csrf) = form_token(&web, jar);
    let f = sent.form;
    let (status, problem, checked) = if sent.action == "validate" {
        match web.ctx.check_reward(&f.reward_code, f.track.trim()).await {
            Ok(RewardVerdict::Ok(s)) => (StatusCode::OK, None, Some(Checked::Sound(s))),
            Ok(RewardVerdict::Refused(m)) => (StatusCode::OK, None, Some(Checked::Refused(m))),
            Err(e) => {
                let (status, m) = told(e);
                (status, Some(m), None)
            }
        }
    } else {
        match training::start(&web.ctx, &user, &f).await {
            Ok(row) => return Redirect::to(&format!("/console/trainings/{}", row.id)).into_response(),
            Err(e) => {
                let (status, m) = told(e);
                (status, Some(m), None)
            }
        }
    };
    match new_model_markup(&web, &user, &csrf, &f, problem.as_deref(), checked.as_ref()).await {
        Ok(m) => (status, jar, m).into_response(),
        Err(e) => e.into_response(),
    }
}

// ------------------------------------------------------------------------------------------------
// A training job's page
// ------------------------------------------------------------------------------------------------

fn minutes_text(ms: i64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// The part of the page that follows the job: status, chart, log, Stop, and (finished) the
/// command that trains the same model.
fn live_part(row: &TrainingRow, csrf: &str) -> Markup {
    let track_arg = if crate::races::upload_sha(&row.track).is_some() {
        "track.npy"
    } else {
        &row.track
    };
    let points = training::chart_points(row);
    let state = match row.status {
        TrainingStatus::Queued => "Waiting for a free trainer…".to_string(),
        TrainingStatus::Running if row.stop_requested != 0 => "Stopping…".to_string(),
        TrainingStatus::Running => "Training".to_string(),
        TrainingStatus::Completed => "Finished".to_string(),
        TrainingStatus::Stopped => "Stopped".to_string(),
        TrainingStatus::Failed => "Failed".to_string(),
    };
    html! {
        p.state data-status=(row.status.as_str()) {
            strong { (state) }
            " · trained " (minutes_text(row.trained_ms)) " of " (format!("{}", row.minutes)) " min · "
            (row.env_steps) " steps · " (points.len()) (if points.len() == 1 { " iteration" } else { " iterations" })
        }
        @if !row.failure_reason.is_empty() && row.status == TrainingStatus::Stopped {
            p.hint { "It " (row.failure_reason) "." }
        }
        @if !row.failure_reason.is_empty() && row.status == TrainingStatus::Failed {
            div.problem role="alert" { p { "It failed:" } pre { (row.failure_reason) } }
        }
        @if !row.status.finished() {
            form.inline method="post" action=(format!("/console/trainings/{}/stop", row.id)) {
                (csrf_field(csrf))
                button.stop type="submit" { "Stop training" }
            }
        }
        @if !row.model_id.is_empty() {
            p.done { "Your model is ready: it is on " a href="/console" { "your console" } " to evaluate and race." }
        }
        figure.training-chart { (chart::draw(&points)) }
        @if !row.replay_sha256.is_empty() {
            figure.replay {
                img src=(format!("/console/trainings/{}/replay.gif?v={}", row.id, &row.replay_sha256[..12.min(row.replay_sha256.len())]))
                    alt=(format!("The car driving a lap of {} with the best model of iteration {}", row.track, row.replay_iteration));
                figcaption { "The best model so far (iteration " (row.replay_iteration) ") driving a lap; it is raced again as training finds better ones." }
            }
        } @else if !row.status.finished() || !row.model_id.is_empty() {
            p.hint { "The car's lap appears here once training has a model to show." }
        }
        details open[row.status == TrainingStatus::Failed] {
            summary { "Log" }
            pre.log { (if row.log_tail.is_empty() { "(nothing yet)" } else { &row.log_tail }) }
        }
        @if row.status.finished() && row.env_steps > 0 {
            p {
                "To train the same model yourself, download "
                a href=(format!("/console/trainings/{}/train.toml", row.id)) download { "train.toml" } " and "
                a href=(format!("/console/trainings/{}/reward_function.py", row.id)) download { "reward_function.py" }
                ", then run:"
            }
            pre.command { "trainer train --config train.toml --reward reward_function.py --track " (track_arg) " --seed " (row.seed) " --steps " (row.env_steps) " --out my-run" }
        }
    }
}

async fn training_page(State(web): Site, SignedIn(user): SignedIn, jar: CookieJar, Path(id): Path<String>) -> Response {
    let row = match training::visible(&web.ctx, &user, &id).await {
        Ok(r) => r,
        Err(e) => return PageError::from(e).into_response(),
    };
    let (jar, csrf) = form_token(&web, jar);
    let form: TrainingForm = serde_json::from_str(&row.form_json).unwrap_or_default();
    let track = web.track_name(&row.track).await;
    let page = layout(
        &row.name,
        "account",
        html! {
            (console_bar(&user, &csrf))
            p.crumbs { a href="/console" { "My console" } " › training" }
            h1 { (row.name) }
            div #live data-live=(format!("/console/trainings/{}/events", row.id)) { (live_part(&row, &csrf)) }
            p.live-status data-live-status aria-live="polite" {}
            section {
                h2 { "Settings" }
                dl.settings {
                    dt { "Track" } dd { (track) }
                    dt { "Sensor" } dd { (SENSORS.iter().find(|s| s.0 == form.sensor).map_or(form.sensor.as_str(), |s| s.2)) }
                    dt { "Action space" } dd { (form.action_space_type) }
                    dt { "Stop condition" } dd {
                        @if row.steps > 0 { (row.steps) " steps, within " (row.minutes) " minutes" } @else { (row.minutes) " minutes" }
                    }
                    dt { "Seed" } dd { (row.seed) }
                    dt { "Queued" } dd { (display_time(row.created_at)) }
                }
                p {
                    "The settings it runs: "
                    a href=(format!("/console/trainings/{}/train.toml", row.id)) download { "train.toml" } ", "
                    a href=(format!("/console/trainings/{}/reward_function.py", row.id)) download { "reward_function.py" }
                    "."
                }
                p {
                    a href=(format!("/console/models/new?from={}", row.id)) { "Train another model from these settings" }
                    @if !row.model_id.is_empty() {
                        " · " a href=(format!("/console/models/new?from={}&clone=true", row.id)) { "Clone: train this model further" }
                        " · " a href=(format!("/console/models/{}/file", row.model_id)) download { "Download the model" }
                    }
                }
            }
        },
        true,
    );
    (StatusCode::OK, jar, page).into_response()
}

/// The job's live part again whenever it changes (server-sent events, as the leaderboards'), until
/// the visitor leaves or the server stops.
async fn training_events(
    State(web): Site,
    SignedIn(user): SignedIn,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    let ctx = web.ctx.clone();
    let mut changes = ctx.trainings.subscribe();
    let row = training::visible(&ctx, &user, &id).await?;
    let csrf = jar
        .get(super::account::CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let mut stopping = ctx.stopping.subscribe();
    let stream = async_stream::stream! {
        yield Ok(Event::default().event("board").data(live_part(&row, &csrf).into_string()));
        // Changes go on after the job ends (its last replay comes a few seconds later).
        loop {
            tokio::select! {
                changed = changes.recv() => {
                    match changed {
                        Ok(changed) if changed != id => continue,
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => break,
                    }
                    match ctx.store.training(&id).await {
                        Ok(Some(r)) => {
                            yield Ok(Event::default().event("board").data(live_part(&r, &csrf).into_string()));
                        }
                        Ok(None) => break,
                        Err(e) => tracing::warn!(training = %id, "live update not rendered: {e}"),
                    }
                }
                _ = stopped(&mut stopping) => break,
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn stop_training(
    State(web): Site,
    SignedIn(user): SignedIn,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<super::account::CsrfOnly>,
) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    match training::stop(&web.ctx, &user, &id).await {
        Ok(_) => Redirect::to(&format!("/console/trainings/{id}")).into_response(),
        Err(e) => PageError::from(e).into_response(),
    }
}

async fn config_file(State(web): Site, SignedIn(user): SignedIn, Path(id): Path<String>) -> Response {
    match training::visible(&web.ctx, &user, &id).await {
        Ok(row) => super::attachment("train", "toml", "application/toml", row.config_toml.into_bytes()),
        Err(e) => PageError::from(e).into_response(),
    }
}

async fn replay_file(State(web): Site, SignedIn(user): SignedIn, Path(id): Path<String>) -> Response {
    let row = match training::visible(&web.ctx, &user, &id).await {
        Ok(r) => r,
        Err(e) => return PageError::from(e).into_response(),
    };
    if row.replay_sha256.is_empty() {
        return PageError::not_found("This job has no replay yet.").into_response();
    }
    match web.ctx.store.blob(&row.replay_sha256).await {
        Ok(Some(gif)) => (
            [
                (header::CONTENT_TYPE, "image/gif"),
                // The address names the replay's content (`?v=`): it never changes.
                (header::CACHE_CONTROL, "private, max-age=86400"),
            ],
            gif,
        )
            .into_response(),
        Ok(None) => PageError::not_found("This job has no replay yet.").into_response(),
        Err(e) => PageError::from(e).into_response(),
    }
}

async fn reward_file(State(web): Site, SignedIn(user): SignedIn, Path(id): Path<String>) -> Response {
    match training::visible(&web.ctx, &user, &id).await {
        Ok(row) => super::attachment("reward_function", "py", "text/x-python", row.reward_code.into_bytes()),
        Err(e) => PageError::from(e).into_response(),
    }
}

// ------------------------------------------------------------------------------------------------
// Every user's training jobs (admins)
// ------------------------------------------------------------------------------------------------

/// The newest training jobs of every user (admins): who, what, how far; each links to its page,
/// where an admin can stop it.
async fn jobs_page(State(web): Site, SignedIn(user): SignedIn, jar: CookieJar) -> Response {
    if let Err(e) = admin(&user) {
        return e.into_response();
    }
    let (jar, csrf) = form_token(&web, jar);
    let rows = match web.ctx.store.list_trainings(None, 0, 200).await {
        Ok(r) => r,
        Err(e) => return PageError::from(e).into_response(),
    };
    let mut names = std::collections::HashMap::new();
    for r in &rows {
        if !names.contains_key(&r.owner_id) {
            let name = match web.ctx.store.user(&r.owner_id).await {
                Ok(Some(u)) => u.name,
                _ => r.owner_id.clone(),
            };
            names.insert(r.owner_id.clone(), name);
        }
    }
    let page = layout(
        "Training jobs",
        "account",
        html! {
            (console_bar(&user, &csrf))
            h1 { "Training jobs" }
            p { "Everyone's, newest first (the last 200). Open one to follow it or stop it." }
            table {
                caption { "Training jobs" }
                thead { tr { th { "User" } th { "Model" } th { "State" } th.num { "Minutes" } th.num { "Steps" } th { "Queued" } } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (names.get(&r.owner_id).map_or(r.owner_id.as_str(), |n| n.as_str())) }
                            td { a href=(format!("/console/trainings/{}", r.id)) { (r.name) } }
                            td { (r.status.as_str()) @if r.stop_requested != 0 && !r.status.finished() { " (stopping)" } }
                            td.num { (format!("{:.1} of {}", r.trained_ms as f64 / 60_000.0, r.minutes)) }
                            td.num { (r.env_steps) }
                            td { (display_time(r.created_at)) }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="6" { "No training jobs yet." } } }
                }
            }
        },
        false,
    );
    (StatusCode::OK, jar, page).into_response()
}

// ------------------------------------------------------------------------------------------------
// Quotas (admins)
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct QuotasForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    concurrent_jobs: String,
    #[serde(default)]
    monthly_minutes: String,
    #[serde(default)]
    models: String,
    #[serde(default)]
    job_minutes: String,
}

fn quotas_markup(user: &User, csrf: &str, q: &Quotas, message: Option<&str>, saved: bool) -> Markup {
    layout(
        "Quotas",
        "account",
        html! {
            (console_bar(user, csrf))
            h1 { "Training quotas" }
            p { "What each user may train. A job over a quota is refused with a message saying which; 0 means no limit." }
            @if let Some(m) = message { p.problem role="alert" { (m) } }
            @if saved { p.verdict.ok role="status" { "Saved." } }
            form.card method="post" action="/console/quotas" {
                (csrf_field(csrf))
                label { "Training jobs at once, per user" input name="concurrent_jobs" value=(q.concurrent_jobs) inputmode="numeric"; }
                label { "Training minutes per user per month" input name="monthly_minutes" value=(q.monthly_minutes) inputmode="decimal"; }
                label { "Models per user" input name="models" value=(q.models) inputmode="numeric"; }
                label { "Longest job (minutes)" input name="job_minutes" value=(q.job_minutes) inputmode="decimal"; }
                button type="submit" { "Save quotas" }
            }
        },
        false,
    )
}

fn admin(user: &User) -> Result<(), PageError> {
    if ADMINS.contains(&user.role) {
        Ok(())
    } else {
        Err(PageError::not_found("There is no page here."))
    }
}

async fn quotas_page(State(web): Site, SignedIn(user): SignedIn, jar: CookieJar) -> Response {
    if let Err(e) = admin(&user) {
        return e.into_response();
    }
    let (jar, csrf) = form_token(&web, jar);
    match training::quotas(&web.ctx).await {
        Ok(q) => (StatusCode::OK, jar, quotas_markup(&user, &csrf, &q, None, false)).into_response(),
        Err(e) => PageError::from(e).into_response(),
    }
}

async fn set_quotas(State(web): Site, SignedIn(user): SignedIn, jar: CookieJar, Form(f): Form<QuotasForm>) -> Response {
    if !csrf_ok(&jar, &f.csrf) {
        return csrf_refused();
    }
    if let Err(e) = admin(&user) {
        return e.into_response();
    }
    let (jar, csrf) = form_token(&web, jar);
    let parsed = (|| -> Result<Quotas, crate::error::LeagueError> {
        let int = |field: &str, v: &str| {
            v.trim().parse::<i64>().map_err(|_| {
                crate::error::LeagueError::invalid(format!("{field}: expected a whole number, got {:?}", v.trim()))
            })
        };
        let num = |field: &str, v: &str| {
            v.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| {
                crate::error::LeagueError::invalid(format!("{field}: expected a number, got {:?}", v.trim()))
            })
        };
        Ok(Quotas {
            concurrent_jobs: int("training jobs at once", &f.concurrent_jobs)?,
            monthly_minutes: num("minutes per month", &f.monthly_minutes)?,
            models: int("models per user", &f.models)?,
            job_minutes: num("longest job", &f.job_minutes)?,
        })
    })();
    let result = match parsed {
        Ok(q) => training::set_quotas(&web.ctx, &user, q).await.map(|()| q),
        Err(e) => Err(e),
    };
    match result {
        Ok(q) => (StatusCode::OK, jar, quotas_markup(&user, &csrf, &q, None, true)).into_response(),
        Err(e) => {
            let (status, m) = told(e);
            let q = training::quotas(&web.ctx).await.unwrap_or_default();
            (status, jar, quotas_markup(&user, &csrf, &q, Some(&m), false)).into_response()
        }
    }
}
