//! A real browser: Debian's chromium, headless, opens a race page and the big screen; a racer
//! submits a model over gRPC; both pages show the new row without a reload. The screenshots are
//! kept (their paths are printed: CI artifacts). `scripts/browser-deps` installs chromium;
//! `SLIPSTREAM_CHROMIUM` names another binary.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use slipstream_proto::v1 as pb;

use super::common::*;
use super::oval_race;

/// The browser to drive: `SLIPSTREAM_CHROMIUM`, or chromium on PATH.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("SLIPSTREAM_CHROMIUM") {
        return PathBuf::from(p);
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(p) = which(name) {
            return p;
        }
    }
    panic!(
        "no chromium found: run scripts/browser-deps (Debian's chromium), or set SLIPSTREAM_CHROMIUM to a Chrome binary"
    );
}

fn which(name: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}

/// Evaluate a JavaScript expression in the page and return its value as JSON.
fn js(tab: &Tab, expr: &str) -> serde_json::Value {
    tab.evaluate(expr, false)
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
        .value
        .unwrap_or(serde_json::Value::Null)
}

/// Wait (polling the DOM) until `expr` is true.
fn wait_until(tab: &Tab, expr: &str, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if js(tab, expr) == serde_json::Value::Bool(true) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn screenshot(tab: &Tab, name: &str) -> PathBuf {
    // A background tab is not painted: headless chrome would wait minutes for its frame.
    tab.activate().unwrap();
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    println!("screenshot: {}", path.display());
    path
}

fn open(browser: &Browser, url: &str) -> Arc<Tab> {
    let tab = browser.new_tab().unwrap();
    tab.navigate_to(url).unwrap().wait_until_navigated().unwrap();
    // The page's own marker: gone if the page were reloaded.
    js(&tab, "window.__loadedOnce = true");
    assert!(
        wait_until(
            &tab,
            "document.querySelector('[data-live-status]').textContent.startsWith('Live')",
            Duration::from_secs(20)
        ),
        "the live updates connect: {}",
        js(&tab, "document.querySelector('[data-live-status]').textContent")
    );
    tab
}

/// Debian's chromium, headless.
fn launch() -> Browser {
    Browser::new(
        LaunchOptions::default_builder()
            .path(Some(chromium()))
            .sandbox(false)
            .window_size(Some((1280, 1100)))
            .idle_browser_timeout(Duration::from_secs(300))
            .build()
            .unwrap(),
    )
    .expect("chromium starts headless")
}

/// Go to `url` in `tab` and wait for the page.
fn go(tab: &Tab, url: &str) {
    tab.navigate_to(url).unwrap().wait_until_navigated().unwrap();
}

/// Put `value` in the form field named `name`, as typing leaves it (the field's value, then an
/// `input` event).
fn fill(tab: &Tab, name: &str, value: &str) {
    let set = js(
        tab,
        &format!(
            "(() => {{ const f = document.querySelector('[name={name:?}]'); if (!f) return false; \
             f.value = {value:?}; f.dispatchEvent(new Event('input', {{bubbles: true}})); return true; }})()"
        ),
    );
    assert_eq!(set, true, "no field {name}");
}

/// Click the button labelled `label` (its form is checked by the browser first, as on a click).
fn click_button(tab: &Tab, label: &str) {
    let clicked = js(
        tab,
        &format!(
            "(() => {{ const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === {label:?}); \
             if (!b) return false; b.click(); return true; }})()"
        ),
    );
    assert_eq!(clicked, true, "no button {label:?}");
}

/// Run `act` (a click that leaves the page) and wait until the next page has loaded: the old
/// document's marker is gone and the new one is complete.
fn leave(tab: &Tab, act: impl FnOnce()) {
    js(tab, "window.__leaving = true");
    act();
    assert!(
        wait_until(
            tab,
            "window.__leaving === undefined && document.readyState === 'complete'",
            Duration::from_secs(20)
        ),
        "the next page loads (still at {})",
        tab.get_url()
    );
}

/// Press the form's button labelled `label` and wait for the next page.
fn press(tab: &Tab, label: &str) {
    leave(tab, || click_button(tab, label));
}

/// Follow the link `selector` and wait for its page.
fn follow(tab: &Tab, selector: &str) {
    leave(tab, || {
        let clicked = js(
            tab,
            &format!(
                "(() => {{ const a = document.querySelector({selector:?}); if (!a) return false; a.click(); return true; }})()"
            ),
        );
        assert_eq!(clicked, true, "no link {selector}");
    });
}

fn text(tab: &Tab, selector: &str) -> String {
    js(tab, &format!("document.querySelector({selector:?})?.textContent ?? ''"))
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A teacher makes an invite link on the console's invites page; a student opens it in the browser,
/// picks a name and password, lands on their console signed in, and makes an API token for the
/// command line. Screenshots at each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_signs_up_from_a_teachers_invite_link_in_the_browser() {
    let s = TestServer::start(0).await;
    let (_, _, mut teacher) = s.user("ms-rivera", pb::Role::Facilitator).await;
    teacher
        .users
        .set_password(pb::SetPasswordRequest {
            user_id: String::new(),
            password: "teacher password".into(),
        })
        .await
        .unwrap();
    let mut admin = s.admin().await;
    oval_race(&mut admin, "Class Cup", false).await;
    let browser = tokio::task::block_in_place(launch);
    tokio::task::block_in_place(|| {
        // The teacher: the header's console link asks her to sign in first.
        let t = browser.new_tab().unwrap();
        go(&t, &format!("{}/", s.addr));
        follow(&t, "a.console-link");
        assert!(t.get_url().contains("/signin?next=/console"), "{}", t.get_url());
        screenshot(&t, "console-01-sign-in.png");
        fill(&t, "name", "ms-rivera");
        fill(&t, "password", "teacher password");
        press(&t, "Sign in");
        go(&t, &format!("{}/console/invites", s.addr));
        fill(&t, "note", "Period 3");
        press(&t, "Make an invite link");
        let link = text(&t, "pre.secret");
        assert!(link.starts_with(&format!("{}/signup/inv_", s.addr)), "{link}");
        screenshot(&t, "console-02-invite-made.png");

        // The student, in another browser profile (a new context: no cookies shared).
        let ctx = browser.new_context().unwrap();
        let st = ctx.new_tab().unwrap();
        go(&st, &link);
        assert!(text(&st, "main").contains("You are invited as a racer"));
        fill(&st, "name", "ann");
        fill(&st, "password", "short");
        fill(&st, "confirm", "short");
        // A too-short password comes back on the form, the field named, the name kept.
        js(
            &st,
            "document.querySelectorAll('[minlength]').forEach(f => f.removeAttribute('minlength'))",
        );
        press(&st, "Sign up");
        assert!(
            text(&st, ".problem").contains("password: use at least 8 characters"),
            "{}",
            text(&st, "main")
        );
        assert_eq!(js(&st, "document.querySelector('[name=name]').value"), "ann");
        screenshot(&st, "console-03-sign-up-refused.png");
        fill(&st, "password", "racing is fun");
        fill(&st, "confirm", "racing is fun");
        press(&st, "Sign up");
        assert!(st.get_url().ends_with("/console"), "{}", st.get_url());
        let bar = text(&st, "nav.console");
        assert!(bar.contains("Signed in as ann (racer)"), "{bar}");
        assert!(text(&st, "main").contains("Class Cup"), "the open race is listed");
        screenshot(&st, "console-04-home.png");
        follow(&st, "nav.console a[href='/console/tokens']");
        fill(&st, "description", "my laptop");
        press(&st, "Issue a token");
        assert!(text(&st, "pre.secret").starts_with("slp_"));
        screenshot(&st, "console-05-token.png");
        // The session cookie is out of scripts' reach (HttpOnly).
        assert_eq!(js(&st, "document.cookie"), "");
        press(&st, "Sign out");
        assert!(!text(&st, "main").contains("Signed in as"));
    });
    let invites = admin
        .users
        .list_signup_invites(pb::ListSignupInvitesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .invites;
    assert_eq!(
        (invites.len(), invites[0].uses, invites[0].note.as_str()),
        (1, 1, "Period 3")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sees_a_new_result_without_reloading() {
    let s = TestServer::start(1).await;
    let mut admin = s.admin().await;
    let race = oval_race(&mut admin, "Finals night", false).await;
    let (_, _, mut alice) = s.user("alice", pb::Role::Racer).await;
    let trained = tokio::task::spawn_blocking(trained_model).await.unwrap();

    let browser = tokio::task::block_in_place(launch);
    let page_url = format!("{}/races/{}", s.addr, race.id);
    let screen_url = format!("{page_url}/screen");
    let (page, screen) = tokio::task::block_in_place(|| (open(&browser, &page_url), open(&browser, &screen_url)));
    assert_eq!(
        js(&page, "document.querySelector('#board .count').textContent"),
        "No ranked results yet. · by best lap"
    );

    let m = upload(&mut alice, &trained, "alice-fast", None).await.unwrap();
    let sub = submit(&mut alice, &race.id, &m.id).await.unwrap().into_inner();
    let done = wait_finished(&mut alice, &sub.id).await;
    assert!(done.qualified, "{done:?}");
    let score = slipstream_league::util::display_seconds(done.score_ms);

    let row = format!("document.querySelector('#board tr[data-submission=\"{}\"]')", sub.id);
    tokio::task::block_in_place(|| {
        for (tab, name) in [(&page, "race-page.png"), (&screen, "big-screen.png")] {
            assert!(
                wait_until(tab, &format!("{row} !== null"), Duration::from_secs(20)),
                "{name}: the new row appears: {}",
                js(tab, "document.querySelector('#board').innerHTML")
            );
            assert_eq!(js(tab, "window.__loadedOnce"), true, "{name}: no reload");
            let text = js(tab, &format!("{row}.textContent")).as_str().unwrap().to_string();
            assert!(text.contains("alice") && text.contains(&score), "{name}: {text}");
            assert_eq!(js(tab, &format!("{row}.querySelector('td.rank').textContent")), "1");
            assert!(
                js(tab, "Number(document.querySelector('#board').dataset.updates)")
                    .as_f64()
                    .unwrap()
                    >= 1.0,
                "{name}: updated by an event"
            );
            js(tab, &format!("{row}.scrollIntoView({{block: 'center'}})"));
            let png = screenshot(tab, name);
            assert!(
                std::fs::metadata(&png).unwrap().len() > 10_000,
                "{name}: a real picture"
            );
        }
        assert_eq!(
            js(&page, "document.querySelector('#board .count').textContent"),
            "1 racer ranked · by best lap"
        );
        // The page's links lead to the submission (its laps and replay).
        let href = js(
            &page,
            &format!("{row}.querySelector('a[href^=\"/submissions/\"]').getAttribute('href')"),
        );
        assert_eq!(href, format!("/submissions/{}", sub.id).as_str());
    });
    // The submission's page shows its replay, and a season of the race its standings.
    let season = admin
        .seasons
        .create_season(pb::CreateSeasonRequest {
            spec: Some(pb::SeasonSpec {
                name: "Finals season".into(),
                race_ids: vec![race.id.clone()],
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    tokio::task::block_in_place(|| {
        let sub_url = format!("{}/submissions/{}", s.addr, sub.id);
        page.navigate_to(&sub_url).unwrap().wait_until_navigated().unwrap();
        assert!(
            wait_until(
                &page,
                "document.querySelector('figure.replay img').naturalWidth > 0",
                Duration::from_secs(20)
            ),
            "the replay GIF loads"
        );
        screenshot(&page, "submission.png");
        let season_url = format!("{}/seasons/{}", s.addr, season.id);
        page.navigate_to(&season_url).unwrap().wait_until_navigated().unwrap();
        let standings = js(&page, "document.querySelector('table.standings tbody').textContent");
        assert!(standings.as_str().unwrap().contains("alice"), "{standings}");
        screenshot(&page, "season.png");
        page.navigate_to(&format!("{}/", s.addr))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let listed = js(&page, "document.querySelector('main').textContent");
        assert!(
            listed.as_str().unwrap().contains("Finals night") && listed.as_str().unwrap().contains("Finals season"),
            "{listed}"
        );
        screenshot(&page, "index.png");
    });
    drop(browser);
    s.stop().await;
}

/// Ranked racers on a head-to-head race, evaluated by a remote worker that then stops: the
/// bracket's matches wait in the queue until another worker comes.
async fn ranked_for_bracket(s: &TestServer, race: &str) {
    let (_, wtoken, _) = s.user("early-worker", pb::Role::Worker).await;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(slipstream_league::worker::remote::run(
        s.client(Some(&wtoken)).await,
        "early".into(),
        Duration::from_secs(60),
        rx,
    ));
    let trained = tokio::task::spawn_blocking(trained_model).await.unwrap();
    let weak = tokio::task::spawn_blocking(weak_model).await.unwrap();
    for (name, bytes) in [
        ("alice", &trained),
        ("carol", &trained),
        ("bob", &weak),
        ("dave", &weak),
    ] {
        let (_, _, mut c) = s.user(name, pb::Role::Racer).await;
        let m = upload(&mut c, bytes, &format!("{name}-model"), None).await.unwrap();
        let sub = submit(&mut c, race, &m.id).await.unwrap().into_inner();
        assert!(wait_finished(&mut c, &sub.id).await.qualified, "{name}");
    }
    let _ = tx.send(true);
    worker.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bracket_page_follows_the_matches_live() {
    // No in-process worker: the test decides when matches are raced.
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let race = create_race(
        &mut admin,
        pb::RaceSpec {
            laps: 2,
            min_laps: 1,
            continuous: true,
            number_of_resets: 10_000,
            ..open_spec("Head-to-head night", "oval")
        },
    )
    .await;
    ranked_for_bracket(&s, &race.id).await;
    let e = admin
        .head_to_head
        .create_bracket(pb::CreateBracketRequest {
            race_id: race.id.clone(),
            name: "Friday final four".into(),
            size: 4,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();

    let browser = tokio::task::block_in_place(|| {
        Browser::new(
            LaunchOptions::default_builder()
                .path(Some(chromium()))
                .sandbox(false)
                .window_size(Some((1280, 900)))
                .idle_browser_timeout(Duration::from_secs(300))
                .build()
                .unwrap(),
        )
        .expect("chromium starts headless")
    });
    let url = format!("{}/events/{}", s.addr, e.id);
    let tab = tokio::task::block_in_place(|| open(&browser, &url));
    tokio::task::block_in_place(|| {
        // Semi-finals queued, the final waiting, no champion yet.
        let states = js(
            &tab,
            "[...document.querySelectorAll('article.match')].map(m => m.dataset.key + ':' + m.dataset.state).join(',')",
        );
        assert_eq!(states, "W1-1:queued,W1-2:queued,W2-1:waiting");
        assert_eq!(js(&tab, "document.querySelector('.champion') === null"), true);
    });

    // A worker comes: the semi-finals and the final are raced; the page follows.
    let (_, wtoken, _) = s.user("late-worker", pb::Role::Worker).await;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(slipstream_league::worker::remote::run(
        s.client(Some(&wtoken)).await,
        "late".into(),
        Duration::from_secs(60),
        rx,
    ));
    tokio::task::block_in_place(|| {
        assert!(
            wait_until(
                &tab,
                "document.querySelector('.champion') !== null",
                Duration::from_secs(60)
            ),
            "the champion appears: {}",
            js(&tab, "document.querySelector('[data-live]').innerHTML")
        );
        assert_eq!(js(&tab, "window.__loadedOnce"), true, "no reload");
        assert!(
            js(&tab, "Number(document.querySelector('[data-live]').dataset.updates)")
                .as_f64()
                .unwrap()
                >= 2.0
        );
        let champion = js(&tab, "document.querySelector('.champion strong').textContent");
        assert!(["alice", "carol"].contains(&champion.as_str().unwrap()), "{champion}");
        let states = js(
            &tab,
            "[...document.querySelectorAll('article.match')].map(m => m.dataset.state).join(',')",
        );
        assert_eq!(states, "raced,raced,raced");
        // The winner's line is marked in every match, and each match links to its result.
        assert_eq!(
            js(&tab, "document.querySelectorAll('article.match li.winner').length"),
            3
        );
        let png = screenshot(&tab, "bracket.png");
        assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
        let href = js(
            &tab,
            "document.querySelector('article.match[data-key=\"W2-1\"] a').getAttribute('href')",
        );
        tab.navigate_to(&format!("{}{}", s.addr, href.as_str().unwrap()))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        let first = js(
            &tab,
            "document.querySelector('table.match-result tbody tr').textContent",
        );
        assert!(first.as_str().unwrap().contains(champion.as_str().unwrap()), "{first}");
        assert!(
            wait_until(
                &tab,
                "document.querySelector('figure.replay img').naturalWidth > 0",
                Duration::from_secs(20)
            ),
            "the match's replay loads"
        );
        screenshot(&tab, "match.png");
    });
    let _ = tx.send(true);
    worker.await.unwrap();
    drop(browser);
    s.stop().await;
}

/// A student creates a model in the browser: Validate shows the reward function's bug at its line,
/// the fix passes, Train starts a job whose page draws the chart growing without a reload until
/// the model is ready. The admin then sets a monthly quota on the quotas page, and the student's
/// next job is refused saying why. Screenshots at each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_trains_a_model_in_the_browser_and_a_quota_refuses_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(
        slipstream_league::Config {
            workers: 1,
            trainers: 1,
            training_threads: 1,
            training_dir: dir.path().to_path_buf(),
            ..test_config()
        },
        None,
    )
    .await;
    let mut admin = s.admin().await;
    oval_race(&mut admin, "Class Cup", false).await;
    admin
        .users
        .set_password(pb::SetPasswordRequest {
            user_id: String::new(),
            password: "admin password".into(),
        })
        .await
        .unwrap();
    let link = admin
        .users
        .create_signup_invite(pb::CreateSignupInviteRequest {
            role: pb::Role::Racer as i32,
            max_uses: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .signup_path;
    let browser = tokio::task::block_in_place(launch);
    let base = s.addr.clone();
    tokio::task::block_in_place(|| {
        let st = browser.new_tab().unwrap();
        go(&st, &format!("{base}{link}"));
        fill(&st, "name", "ann");
        fill(&st, "password", "racing is fun");
        fill(&st, "confirm", "racing is fun");
        press(&st, "Sign up");
        follow(&st, "a[href='/console/models/new']");
        assert!(text(&st, "h1").contains("Create a model"));
        screenshot(&st, "train-01-create.png");
        fill(&st, "name", "first-lap");
        // A step budget: the same model on every machine, however busy (the minutes cap it).
        fill(&st, "minutes", "3");
        fill(&st, "steps", "8192");
        fill(
            &st,
            "reward_code",
            "def reward_function(params):\n    on_track = params['all_wheels_on_track']\n    return 1.0 if on_track else params['speeed']\n",
        );
        press(&st, "Validate");
        let verdict = text(&st, ".verdict");
        assert!(
            verdict.contains("reward_function.py:3"),
            "the line of the bug: {verdict}"
        );
        js(
            &st,
            "document.querySelector('.verdict').scrollIntoView({block: 'center'})",
        );
        screenshot(&st, "train-02-validate-bug.png");
        fill(
            &st,
            "reward_code",
            "def reward_function(params):\n    on_track = params['all_wheels_on_track']\n    return float(params['speed']) if on_track else 1e-3\n",
        );
        // Continuous actions: any steering within ±30°, any speed from 0.5 to 2.5 m/s.
        js(
            &st,
            "document.querySelector('[name=action_space_type][value=continuous]').checked = true",
        );
        fill(&st, "steering_max", "30");
        fill(&st, "speed_min", "0.5");
        fill(&st, "speed_max", "2.5");
        press(&st, "Validate");
        assert!(
            text(&st, ".verdict").contains("Looks good"),
            "{}",
            text(&st, ".verdict")
        );
        press(&st, "Train");
        assert!(st.get_url().contains("/console/trainings/trn_"), "{}", st.get_url());
        js(&st, "window.__loadedOnce = true");
        let points = "Number((document.querySelector('svg.chart')?.getAttribute('aria-label') ?? '').match(/over (\\d+) iteration/)?.[1] ?? 0)";
        assert!(
            wait_until(&st, &format!("{points} >= 1"), Duration::from_secs(90)),
            "the chart's first iteration arrives: {}",
            text(&st, "#live")
        );
        screenshot(&st, "train-03-training.png");
        assert!(
            wait_until(
                &st,
                "document.querySelector('[data-status]')?.dataset.status === 'completed'",
                Duration::from_secs(120)
            ),
            "the job finishes: {}",
            text(&st, "#live")
        );
        assert_eq!(js(&st, "window.__loadedOnce"), true, "no reload");
        assert!(
            js(&st, points).as_f64().unwrap() >= 2.0,
            "the chart grew: {}",
            text(&st, "#live")
        );
        assert!(
            text(&st, "pre.command").contains("--steps"),
            "the command that repeats it"
        );
        assert!(text(&st, "#live").contains("Your model is ready"));
        assert!(
            wait_until(
                &st,
                "document.querySelector('figure.replay img')?.naturalWidth > 0",
                Duration::from_secs(90)
            ),
            "the car's lap appears without a reload: {}",
            text(&st, "#live")
        );
        assert_eq!(js(&st, "window.__loadedOnce"), true, "still no reload");
        js(
            &st,
            "document.querySelector('figure.replay').scrollIntoView({block: 'center'})",
        );
        screenshot(&st, "train-04-done.png");
        follow(&st, "a[href='/console']");
        assert!(text(&st, "main").contains("first-lap"));
        screenshot(&st, "train-05-console.png");
        // Submit to race: the race's page shows her place once the evaluation is done.
        press(&st, "Submit to race");
        assert!(st.get_url().contains("/races/"), "{}", st.get_url());
        assert!(
            wait_until(
                &st,
                "[...document.querySelectorAll('#board tbody tr')].some(r => r.textContent.includes('ann'))",
                Duration::from_secs(120)
            ),
            "her row on the board: {}",
            text(&st, "#board")
        );
        let row = js(
            &st,
            "[...document.querySelectorAll('#board tbody tr')].find(r => r.textContent.includes('ann')).querySelector('td.rank').textContent",
        );
        assert_eq!(row, "1", "ranked first of one");
        screenshot(&st, "train-06-ranked.png");

        // The admin sets a quota in the browser…
        let ctx = browser.new_context().unwrap();
        let ad = ctx.new_tab().unwrap();
        go(&ad, &format!("{base}/signin"));
        fill(&ad, "name", "admin");
        fill(&ad, "password", "admin password");
        press(&ad, "Sign in");
        follow(&ad, "nav.console a[href='/console/quotas']");
        fill(&ad, "monthly_minutes", "0.2");
        press(&ad, "Save quotas");
        assert!(text(&ad, "main").contains("Saved."));
        screenshot(&ad, "train-07-quotas.png");

        // …and the student's next job is refused, saying which quota.
        go(&st, &format!("{base}/console/models/new"));
        fill(&st, "name", "second");
        fill(&st, "minutes", "0.15");
        press(&st, "Train");
        let problem = text(&st, ".problem");
        assert!(problem.contains("this month's 0.2 training minutes"), "{problem}");
        screenshot(&st, "train-08-refused.png");
    });
}
