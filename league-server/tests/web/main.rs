//! The public web site, black-box over HTTP: what its pages show and what they never show, its live
//! events, and (browser.rs) Debian's chromium watching a leaderboard update without a reload.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod browser;
mod training;

use common::*;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use slipstream_proto::v1 as pb;

/// An answer: status, content type and body.
#[derive(Debug)]
pub(crate) struct Got {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Got {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET` a path of the server's site over HTTP/1.1, as a browser does.
pub(crate) async fn get(s: &TestServer, path: &str) -> Got {
    let client = Client::builder(TokioExecutor::new()).build_http::<http_body_util::Empty<bytes::Bytes>>();
    let res = client
        .get(format!("{}{path}", s.addr).parse().unwrap())
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Got {
        status,
        content_type,
        body,
    }
}

/// A public race, a private race, and a racer (alice) ranked on the public one with a trained
/// model; the admin ranked only on the private one; bob with a model that does not rank.
struct League {
    s: TestServer,
    public: pb::Race,
    private: pb::Race,
    alice: pb::User,
    admin_id: String,
    ranked: pb::Submission,
    hidden: pb::Submission,
    unranked: pb::Submission,
    season: pb::Season,
}

/// A race on the oval, open now, with a description that needs escaping.
pub(crate) async fn oval_race(admin: &mut slipstream_league::client::Clients, name: &str, private: bool) -> pb::Race {
    let spec = pb::RaceSpec {
        private,
        description: "Three trials <b>on the oval</b>".into(),
        ..open_spec(name, "oval")
    };
    create_race(admin, spec).await
}

async fn league() -> League {
    let s = TestServer::start(1).await;
    let mut admin = s.admin().await;
    let public = oval_race(&mut admin, "Spring Cup", false).await;
    let private = oval_race(&mut admin, "Secret Invitational", true).await;
    let (alice, _, mut alice_c) = s.user("alice", pb::Role::Racer).await;
    let (_, _, mut bob_c) = s.user("bob", pb::Role::Racer).await;
    let trained = tokio::task::spawn_blocking(trained_model).await.unwrap();
    let m = upload(&mut alice_c, &trained, "alice-fast", None).await.unwrap();
    let ranked = submit(&mut alice_c, &public.id, &m.id).await.unwrap().into_inner();
    let am = upload(&mut admin, &trained, "admin-secret-model", None).await.unwrap();
    let hidden = submit(&mut admin, &private.id, &am.id).await.unwrap().into_inner();
    let bm = upload(&mut bob_c, &random_model(5), "bob-random", None).await.unwrap();
    let unranked = submit(&mut bob_c, &public.id, &bm.id).await.unwrap().into_inner();
    let ranked = wait_finished(&mut alice_c, &ranked.id).await;
    let hidden = wait_finished(&mut admin, &hidden.id).await;
    let unranked = wait_finished(&mut bob_c, &unranked.id).await;
    assert!(ranked.qualified && hidden.qualified && !unranked.qualified);
    let admin_id = admin
        .users
        .who_am_i(pb::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner()
        .id;
    let season = admin
        .seasons
        .create_season(pb::CreateSeasonRequest {
            spec: Some(pb::SeasonSpec {
                name: "Season 2026".into(),
                points: vec![10, 6, 4],
                race_ids: vec![public.id.clone()],
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    League {
        season,
        s,
        public,
        private,
        alice,
        admin_id,
        ranked,
        hidden,
        unranked,
    }
}

#[tokio::test]
async fn races_on_uploaded_tracks_show_the_tracks_name() {
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let t = admin
        .races
        .upload_track(pb::UploadTrackRequest {
            name: "Square Speedway".into(),
            npy: npy_file(&square_rows(4.0, 0.8)),
        })
        .await
        .unwrap()
        .into_inner();
    let race = create_race(
        &mut admin,
        pb::RaceSpec {
            sensors: vec!["camera".into(), "camera+lidar".into()],
            ..open_spec("Corner Cup", &t.id)
        },
    )
    .await;
    let index = get(&s, "/").await.text();
    assert!(
        index.contains("Corner Cup") && index.contains("Square Speedway"),
        "{index}"
    );
    let page = get(&s, &format!("/races/{}", race.id)).await.text();
    assert!(
        page.contains("<dd>Square Speedway</dd>") && page.contains("Square Speedway: 16.0 m long"),
        "{page}"
    );
    assert!(
        page.contains("<dt>Sensors</dt><dd>camera or camera+lidar</dd>"),
        "the sensors it takes: {page}"
    );
    for html in [&index, &page] {
        assert!(!html.contains("upload:"), "the track's id shown: {html}");
    }
    // Students download the race's track to train on it: the file as uploaded.
    let link = format!("/races/{}/track.npy", race.id);
    assert!(page.contains(&format!("href=\"{link}\"")), "{page}");
    let file = get(&s, &link).await;
    assert_eq!(
        (file.status, file.content_type.as_str()),
        (200, "application/octet-stream")
    );
    assert_eq!(file.body, npy_file(&square_rows(4.0, 0.8)));
    // A built-in track's waypoints, as a DeepRacer file.
    let oval = create_race(&mut admin, open_spec("Oval Cup", "oval")).await;
    let file = get(&s, &format!("/races/{}/track.npy", oval.id)).await;
    assert_eq!(file.status, 200);
    let rows = slipstream_sim::track::npy::parse(&file.body).unwrap();
    assert_eq!(rows.cols, 6);
    assert!(rows.rows > 10, "{}", rows.rows);
    // Not for a race the public cannot see.
    let hidden = create_race(
        &mut admin,
        pb::RaceSpec {
            private: true,
            ..open_spec("Hidden", "oval")
        },
    )
    .await;
    assert_eq!(get(&s, &format!("/races/{}/track.npy", hidden.id)).await.status, 404);
}

#[tokio::test]
async fn pages_show_public_races_their_rankings_and_nothing_private() {
    let l = league().await;
    let s = &l.s;

    let index = get(s, "/").await;
    assert_eq!(
        (index.status, index.content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    let html = index.text();
    assert!(
        html.contains("Spring Cup") && html.contains(&format!("/races/{}", l.public.id)),
        "{html}"
    );
    assert!(!html.contains("Secret") && !html.contains(&l.private.id), "{html}");

    // The race page: settings, the track, the board with alice's row linking her and her submission.
    let page = get(s, &format!("/races/{}", l.public.id)).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    for want in [
        "<h1>Spring Cup</h1>",
        "Three trials &lt;b&gt;on the oval&lt;/b&gt;",
        "<svg class=\"track-map\"",
        "1 racer ranked",
        &format!("href=\"/racers/{}\">alice</a>", l.alice.id),
        &format!("href=\"/submissions/{}\">alice-fast</a>", l.ranked.id),
        &format!("/races/{}/events?offset=0&amp;n=100&amp;view=page", l.public.id),
        "/static/live.js",
    ] {
        assert!(html.contains(want), "the race page lacks {want:?}:\n{html}");
    }
    let score = slipstream_league::util::display_seconds(l.ranked.score_ms);
    assert!(html.contains(&score), "{score} in {html}");
    assert!(!html.contains("bob"), "bob's result does not rank: {html}");

    // The ranked submission: one row per lap, the replay.
    let sub = get(s, &format!("/submissions/{}", l.ranked.id)).await;
    assert_eq!(sub.status, 200);
    let html = sub.text();
    let laps = html
        .split("<table class=\"laps\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert_eq!(laps.matches("<tr>").count(), 1 + l.ranked.laps.len(), "{laps}");
    assert!(
        html.contains(&format!("src=\"/submissions/{}/replay.gif\"", l.ranked.id)),
        "{html}"
    );
    let gif = get(s, &format!("/submissions/{}/replay.gif", l.ranked.id)).await;
    assert_eq!((gif.status, gif.content_type.as_str()), (200, "image/gif"));
    assert!(gif.body.starts_with(b"GIF89a"));

    // The racer.
    let racer = get(s, &format!("/racers/{}", l.alice.id)).await;
    assert_eq!(racer.status, 200);
    assert!(
        racer.text().contains("Spring Cup") && racer.text().contains("1 of 1"),
        "{}",
        racer.text()
    );

    // Nothing private, nothing unranked: 404, as for an id that never existed, and no names.
    for path in [
        format!("/races/{}", l.private.id),
        format!("/races/{}/screen", l.private.id),
        format!("/races/{}/events", l.private.id),
        format!("/submissions/{}", l.hidden.id),
        format!("/submissions/{}/replay.gif", l.hidden.id),
        format!("/submissions/{}", l.unranked.id),
        format!("/racers/{}", l.admin_id),
        "/races/race_nope".to_string(),
        "/no/such/page".to_string(),
    ] {
        let got = get(s, &path).await;
        assert_eq!(got.status, 404, "{path}");
        let text = got.text();
        assert!(
            !text.contains("Secret") && !text.contains("admin-secret-model") && !text.contains("bob-random"),
            "{path}: {text}"
        );
    }
    // Bad paging is a clear 400.
    let bad = get(s, &format!("/races/{}?n=5000", l.public.id)).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("n: expected 1–1000"), "{}", bad.text());
    for (query, field) in [("offset=abc", "offset"), ("n=-1", "n"), ("view=huge", "view")] {
        for page in ["", "/screen", "/events"] {
            let bad = get(s, &format!("/races/{}{page}?{query}", l.public.id)).await;
            assert_eq!(bad.status, 400, "{page}?{query}");
            assert!(
                bad.text().contains(field) && bad.text().contains("<h1>400"),
                "{page}?{query}: {}",
                bad.text()
            );
        }
    }
    let bad = get(s, &format!("/seasons/{}?offset=x", l.season.id)).await;
    assert_eq!(bad.status, 400);

    // The big screen: the board large, live, without links.
    let screen = get(s, &format!("/races/{}/screen", l.public.id)).await;
    assert_eq!(screen.status, 200);
    let html = screen.text();
    assert!(
        html.contains("class=\"screen\"") && html.contains("alice") && html.contains("view=screen"),
        "{html}"
    );
    assert!(!html.contains("href=\"/racers/"), "{html}");

    // The season: alice first with the winner's points, on the page and through gRPC.
    let page = get(s, &format!("/seasons/{}", l.season.id)).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    let standings = html.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
    assert_eq!(standings.matches("<tr>").count(), 1, "{standings}");
    assert!(
        standings.contains(">alice</a>") && standings.contains("<strong>10</strong>") && standings.contains("1 · 10"),
        "{standings}"
    );
    assert!(get(s, "/").await.text().contains("Season 2026"));
    let st = s
        .client(None)
        .await
        .seasons
        .get_standings(pb::GetStandingsRequest {
            season_id: l.season.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        st.rows
            .iter()
            .map(|r| (r.position, r.user_name.as_str(), r.points, r.ranks.clone()))
            .collect::<Vec<_>>(),
        [(1, "alice", 10, vec![1])]
    );

    let css = get(s, "/static/style.css").await;
    assert_eq!((css.status, css.content_type.as_str()), (200, "text/css"));

    live_events_start_with_the_board_and_grpc_still_answers(&l).await;
}

/// A live stream of server-sent events, read one event at a time.
struct Events {
    body: hyper::body::Incoming,
    text: String,
}

impl Events {
    async fn open(s: &TestServer, path: &str) -> Events {
        let client = Client::builder(TokioExecutor::new()).build_http::<http_body_util::Empty<bytes::Bytes>>();
        let res = client.get(format!("{}{path}", s.addr).parse().unwrap()).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        Events {
            body: res.into_body(),
            text: String::new(),
        }
    }

    /// The next event (within 10 s).
    async fn next(&mut self) -> String {
        while !self.text.contains("\n\n") {
            let frame = tokio::time::timeout(std::time::Duration::from_secs(10), self.body.frame())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .unwrap();
            if let Ok(d) = frame.into_data() {
                self.text.push_str(std::str::from_utf8(&d).unwrap());
            }
        }
        let end = self.text.find("\n\n").unwrap() + 2;
        self.text.drain(..end).collect()
    }
}

/// The first server-sent event of a live stream (it must come at once).
async fn get_first_event(s: &TestServer, path: &str) -> String {
    Events::open(s, path).await.next().await
}

#[tokio::test]
async fn the_race_page_counts_evaluations_under_way_live() {
    // No workers: submissions wait in the queue.
    let s = TestServer::start(0).await;
    let mut admin = s.admin().await;
    let race = create_race(&mut admin, open_spec("Queue Cup", "oval")).await;
    let page = get(&s, &format!("/races/{}", race.id)).await.text();
    assert!(!page.contains("Evaluating now"), "nothing under way: {page}");
    let mut live = Events::open(&s, &format!("/races/{}/events", race.id)).await;
    assert!(!live.next().await.contains("Evaluating now"));
    let (_, _, mut racer) = s.user("quinn", pb::Role::Racer).await;
    let m = upload(&mut racer, &trained_model(), "q", None).await.unwrap();
    submit(&mut racer, &race.id, &m.id).await.unwrap();
    // The submission's arrival updates the open page, and a reload shows the same.
    let event = live.next().await;
    assert!(event.contains("Evaluating now: 0, waiting: 1."), "{event}");
    let page = get(&s, &format!("/races/{}", race.id)).await.text();
    assert!(page.contains("data-queued=\"1\" data-running=\"0\""), "{page}");
    let screen = get(&s, &format!("/races/{}/screen", race.id)).await.text();
    assert!(screen.contains("Evaluating now: 0, waiting: 1."), "{screen}");
}

/// The live events start with the board as it stands, and gRPC still answers on the site's port.
async fn live_events_start_with_the_board_and_grpc_still_answers(l: &League) {
    let s = &l.s;
    // The first event is the board as it stands, rendered as the page renders it.
    let text = get_first_event(s, &format!("/races/{}/events", l.public.id)).await;
    assert!(text.starts_with("event: board\ndata: "), "{text}");
    assert!(text.contains(&format!("data-submission=\"{}\"", l.ranked.id)), "{text}");
    let page = get(s, &format!("/races/{}", l.public.id)).await.text();
    let first_row = text.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
    assert!(page.contains(first_row), "the event's rows are the page's rows");

    // A gRPC call for a service the server lacks is still gRPC's UNIMPLEMENTED, not a web page.
    let mut c = s.admin().await;
    let health = c.users.who_am_i(pb::WhoAmIRequest {}).await;
    assert!(health.is_ok());
    let raw = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let req = hyper::Request::post(format!("{}/nope.Service/Call", s.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(&[0, 0, 0, 0, 0])))
        .unwrap();
    let res = raw.request(req).await.unwrap();
    assert_eq!(
        res.headers().get("grpc-status").map(|v| v.to_str().unwrap()),
        Some("12")
    );
}

#[tokio::test]
async fn head_to_head_pages_follow_their_races_privacy() {
    let l = league().await;
    let s = &l.s;
    let mut admin = s.admin().await;
    let ladder = |race: &pb::Race, name: &str| pb::CreateLadderRequest {
        race_id: race.id.clone(),
        name: name.into(),
        ..Default::default()
    };
    let public = admin
        .head_to_head
        .create_ladder(ladder(&l.public, "<i>Open</i> ladder"))
        .await
        .unwrap()
        .into_inner();
    let private = admin
        .head_to_head
        .create_ladder(ladder(&l.private, "Secret ladder"))
        .await
        .unwrap()
        .into_inner();

    // The public ladder: its name escaped, alice (the only entrant) at 25 ± 8.33, listed first page.
    let page = get(s, &format!("/events/{}", public.id)).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    for want in [
        "<h1>&lt;i&gt;Open&lt;/i&gt; ladder</h1>",
        &format!("href=\"/racers/{}\">alice</a>", l.alice.id),
        "25.00",
        "8.33",
        "0 of 100 matches raced",
        &format!("data-live=\"/events/{}/live\"", public.id),
    ] {
        assert!(html.contains(want), "the ladder page lacks {want:?}:\n{html}");
    }
    let index = get(s, "/").await.text();
    assert!(index.contains(&format!("/events/{}", public.id)), "{index}");
    assert!(
        !index.contains(&private.id) && !index.contains("Secret ladder"),
        "{index}"
    );
    // Its live updates begin with the body as it is.
    let live = get_first_event(s, &format!("/events/{}/live", public.id)).await;
    assert!(live.contains("event: board") && live.contains("alice"), "{live}");

    // The private race's ladder, and unknown ids: 404 without names.
    for path in [
        format!("/events/{}", private.id),
        format!("/events/{}/live", private.id),
        "/events/ladder_nope".to_string(),
        "/matches/match_nope".to_string(),
        "/matches/match_nope/replay.gif".to_string(),
    ] {
        let got = get(s, &path).await;
        assert_eq!(got.status, 404, "{path}");
        assert!(!got.text().contains("Secret"), "{path}: {}", got.text());
    }
}
