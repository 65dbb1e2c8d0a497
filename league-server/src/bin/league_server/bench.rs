//! `league-server bench`: the league's performance figures against an in-process server on a
//! temporary SQLite database — evaluation CPU time, leaderboard latency under load, the web site's
//! page times at the leaderboard's size, upload speed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use clap::Args;
use serde_json::json;
use slipstream_league::races::{RaceRun, race_seed};
use slipstream_league::store::{BoardRow, Role, Store};
use slipstream_league::{Config, client, evaluation, serve};
use slipstream_proto::v1 as pb;
use slipstream_trainer::config::TrainConfig;
use slipstream_trainer::model::{Model, ModelSpec};
use slipstream_trainer::network::NetworkSpec;
use slipstream_trainer::{Budget, DeviceChoice, TrainOptions};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// A model to evaluate (default: train one on --track for 100,000 steps first).
    #[arg(long)]
    model: Option<PathBuf>,
    /// The evaluation's track: a built-in name or a DeepRacer .npy file.
    #[arg(long, default_value = "oval")]
    track: String,
    /// Ranked entries on the benchmark leaderboard.
    #[arg(long, default_value_t = 10_000)]
    entries: usize,
    /// Concurrent clients querying and submitting (each a racer, so at most --entries).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    clients: u64,
    /// Seconds of load.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// Requests per second each client sends (open loop: on a schedule, whatever the answers'
    /// speed, like browsers polling a live board); 0 = each client sends its next request as soon
    /// as the last is answered (closed loop: measures saturation throughput, not latency).
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    /// In-process evaluation workers racing the submissions during the load (a racer's first
    /// result changes the leaderboard).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Size of the uploaded model, MiB.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1024))]
    upload_mib: u64,
    /// Calls timed for the sequential case: one client, a 20-row page, one call after another
    /// (after 50 untimed), with no other load.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    sequential_calls: u64,
    /// Requests timed per web page (after 10 untimed), one after another.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    page_calls: u64,
    /// A Python with grpcio (`scripts/grpc-python` prints one): time the sequential case from
    /// `--python-client` too, the client hobbyists use.
    #[arg(long)]
    python: Option<PathBuf>,
    /// The Python client run with `--python` (its `latency` command).
    #[arg(long, default_value = "proto/examples/python/league_client.py")]
    python_client: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Rows per page in the sequential case.
const SEQUENTIAL_ROWS: u32 = 20;

/// CPU time (user + system) this process has used, seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the zeroed struct we pass it.
    let u = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut u) != 0 {
            return f64::NAN;
        }
        u
    };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The benchmark, step by step: 1. evaluation CPU time (and head-to-head matches), 2. a league
/// seeded with `--entries` racers served in-process — the first query, sequential calls, web pages,
/// then `--clients` querying and submitting for `--seconds` — and 3. a large upload; then the report.
pub async fn run(a: BenchArgs) -> Result<()> {
    if !(a.rate.is_finite() && (0.0..=1000.0).contains(&a.rate)) {
        anyhow::bail!(
            "--rate: expected requests per second per client from 0 to 1000, got {}",
            a.rate
        );
    }
    let dir = tempfile::tempdir()?;
    // ---- 1. Evaluation CPU time ----
    let model_bytes = bench_model(&a, dir.path()).await?;
    tch::set_num_threads(1);
    let run = bench_race(&a.track)?;
    let (eval_cpu, laps_done, race_s) = evaluation_cpu(&model_bytes, &run)?;
    // ---- 1b. Head-to-head: the same model in 2- and 4-car matches of the same 3 laps ----
    let h2h = head_to_head_cpu(&model_bytes, &run)?;

    // ---- 2. Leaderboard latency under load ----
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let league = seed_league(&a, &db).await?;
    let server = BenchServer::start(&db, a.workers).await?;
    let addr = server.addr.clone();
    // Each racer uploads the small model once; the load loop then queries and submits.
    let mut racers = Vec::new();
    for t in &league.racer_tokens {
        let mut c = client::connect(&addr, Some(t)).await.map_err(|e| anyhow!(e))?;
        let id = upload(&mut c, &model_bytes, "bench").await?;
        racers.push((c, id));
    }
    let mut c = client::connect(&addr, Some(ADMIN_TOKEN))
        .await
        .map_err(|e| anyhow!(e))?;
    let cold_ms = cold_query_ms(&mut c, &league.race_id).await?;
    let seq = sequential_ms(&mut c, &league.race_id, a.sequential_calls).await?;
    let web = web_pages(&addr, &league, a.page_calls).await?;
    let python_seq = match &a.python {
        None => None,
        Some(py) => Some(python_latency(py, &a.python_client, &addr, &league.race_id, a.sequential_calls).await?),
    };
    let (lat, submits) = load(&a, racers, &league.race_id).await?;
    let evaluated = evaluated(&mut c, &league.race_id).await?;

    // ---- 3. A large upload over loopback ----
    let big = big_model(a.upload_mib as usize)?;
    let t0 = Instant::now();
    upload(&mut c, &big, "big").await?;
    let upload_s = t0.elapsed().as_secs_f64();
    server.stop().await?;

    let report = json!({
        "evaluation_cpu_s_median": percentile(&eval_cpu, 0.5), "evaluation_cpu_s_max": eval_cpu.last(),
        "evaluation_track": run.track_name, "evaluation_laps": run.rules.laps, "evaluation_completed_laps": laps_done,
        "evaluation_race_time_s": race_s,
        "head_to_head": h2h,
        "leaderboard_entries": a.entries, "clients": a.clients, "workers": a.workers, "seconds": a.seconds, "rate_per_client": a.rate,
        "leaderboard_queries_per_s": lat.len() as f64 / a.seconds as f64,
        "leaderboard_cold_query_ms": cold_ms, "leaderboard_queries": lat.len(), "submissions": submits, "evaluated_during_load": evaluated,
        "leaderboard_p50_ms": percentile(&lat, 0.5), "leaderboard_p99_ms": percentile(&lat, 0.99), "leaderboard_max_ms": lat.last(),
        "upload_mib": big.len() as f64 / (1 << 20) as f64, "upload_s": upload_s,
        "sequential_rows": SEQUENTIAL_ROWS, "sequential_calls": seq.len(),
        "sequential_rust_p50_ms": percentile(&seq, 0.5), "sequential_rust_p99_ms": percentile(&seq, 0.99),
        "sequential_python": python_seq,
        "web_pages": web,
    });
    if a.json {
        println!("{report}");
    } else {
        println!(
            "3-lap time-trial evaluation on {}: median {:.3} s of CPU ({} of {} laps completed, {:.1} s of racing)",
            run.track_name,
            percentile(&eval_cpu, 0.5),
            laps_done,
            run.rules.laps,
            race_s
        );
        for m in &h2h {
            println!(
                "{}-car head-to-head match of the same laps: median {:.3} s of CPU ({} cars finished)",
                m["cars"],
                m["cpu_s_median"].as_f64().unwrap_or(0.0),
                m["cars_finished"]
            );
        }
        let pace = if a.rate > 0.0 {
            format!("{} requests/s each", a.rate)
        } else {
            "as fast as answered".into()
        };
        println!(
            "leaderboard with {} entries, {} clients ({pace}) querying and submitting for {} s: {} queries, {} submissions ({} raced meanwhile by {} worker(s)), p50 {:.2} ms, p99 {:.2} ms",
            a.entries,
            a.clients,
            a.seconds,
            lat.len(),
            submits,
            evaluated,
            a.workers,
            percentile(&lat, 0.5),
            percentile(&lat, 0.99)
        );
        println!(
            "first leaderboard query after the start (reads {} rows from the database): {cold_ms:.1} ms",
            a.entries
        );
        println!(
            "sequential client, {SEQUENTIAL_ROWS}-row pages one after another ({} calls): Rust (tonic) p50 {:.2} ms, p99 {:.2} ms",
            seq.len(),
            percentile(&seq, 0.5),
            percentile(&seq, 0.99)
        );
        if let Some(p) = &python_seq {
            println!(
                "sequential client, {SEQUENTIAL_ROWS}-row pages one after another ({} calls): {} p50 {:.2} ms, p99 {:.2} ms",
                p["calls"],
                p["client"].as_str().unwrap_or("python"),
                p["p50_ms"].as_f64().unwrap_or(f64::NAN),
                p["p99_ms"].as_f64().unwrap_or(f64::NAN)
            );
        }
        for w in &web {
            println!(
                "web page {} ({} entries, {} KiB): p50 {:.2} ms, p99 {:.2} ms",
                w["page"].as_str().unwrap_or(""),
                a.entries,
                w["bytes"].as_u64().unwrap_or(0) / 1024,
                w["p50_ms"].as_f64().unwrap_or(f64::NAN),
                w["p99_ms"].as_f64().unwrap_or(f64::NAN)
            );
        }
        println!(
            "upload of a {:.1} MiB model over loopback: {upload_s:.2} s",
            big.len() as f64 / (1 << 20) as f64
        );
    }
    Ok(())
}

/// The model benchmarked: `--model`, or one trained on `--track` for 100,000 steps in `dir`.
async fn bench_model(a: &BenchArgs, dir: &std::path::Path) -> Result<Vec<u8>> {
    let model_path = match &a.model {
        Some(p) => p.clone(),
        None => {
            let out = dir.join("trained");
            let opts = TrainOptions {
                config: TrainConfig {
                    eval_every: 0,
                    ..Default::default()
                },
                tracks: vec![a.track.clone()],
                reward: "progress_speed".into(),
                budget: Budget::Steps(100_000),
                seed: 1,
                device: DeviceChoice::Cpu,
                out_dir: out.clone(),
                init_from: None,
                resume: false,
                show_reward_prints: false,
            };
            tokio::task::spawn_blocking(move || slipstream_trainer::train(opts, &mut |_| {})).await??;
            out.join("model_last.safetensors")
        }
    };
    std::fs::read(&model_path).with_context(|| format!("reading {}", model_path.display()))
}

/// A 3-lap time trial on `track` (a built-in name or a DeepRacer .npy file), seeded as a league's.
fn bench_race(track: &str) -> Result<RaceRun> {
    let (track_name, rows) = if slipstream_sim::track::builtin::find(track).is_some() {
        (track.to_string(), vec![])
    } else {
        let path = std::path::Path::new(track);
        let t = slipstream_sim::track::Track::load(path, &Default::default())?;
        let name = path
            .file_stem()
            .map_or("track".into(), |s| s.to_string_lossy().into_owned());
        (name, t.rows())
    };
    Ok(RaceRun {
        race_id: "bench".into(),
        track_name,
        rows,
        reverse: false,
        scenario: slipstream_sim::Scenario::TimeTrial {},
        rules: slipstream_sim::RaceConfig {
            max_time_s: 360.0,
            ..Default::default()
        },
        seed: race_seed("bench"),
    })
}

/// Five evaluations of the model: their CPU seconds (sorted), the laps completed and the seconds
/// raced (the last evaluation's).
fn evaluation_cpu(model_bytes: &[u8], run: &RaceRun) -> Result<(Vec<f64>, usize, f64)> {
    let mut eval_cpu = Vec::new();
    let mut laps_done = 0;
    let mut race_s = 0.0;
    for _ in 0..5 {
        let c0 = cpu_seconds();
        let track = Arc::new(run.track()?);
        let o = evaluation::run(model_bytes, run, track, Duration::from_secs(60)).map_err(|e| anyhow!(e))?;
        eval_cpu.push(cpu_seconds() - c0);
        laps_done = o.laps.iter().filter(|l| l.completed).count();
        race_s = o.laps.iter().map(|l| l.time_ms).sum::<i64>() as f64 / 1000.0;
    }
    eval_cpu.sort_by(f64::total_cmp);
    Ok((eval_cpu, laps_done, race_s))
}

/// The same model in 2- and 4-car matches of the race: CPU seconds and cars finished.
fn head_to_head_cpu(model_bytes: &[u8], run: &RaceRun) -> Result<Vec<serde_json::Value>> {
    let mut h2h = Vec::new();
    for cars in [2usize, 4] {
        let models = vec![model_bytes.to_vec(); cars];
        let mut cpu = Vec::new();
        let mut finished = 0;
        for _ in 0..5 {
            let c0 = cpu_seconds();
            let track = Arc::new(run.track()?);
            let r = evaluation::run_match(&models, run, track, Duration::from_secs(120)).map_err(|e| anyhow!(e))?;
            cpu.push(cpu_seconds() - c0);
            finished = r
                .result
                .seats
                .iter()
                .filter(|s| s.laps.iter().filter(|l| l.completed).count() == run.rules.laps as usize)
                .count();
        }
        cpu.sort_by(f64::total_cmp);
        h2h.push(json!({"cars": cars, "cpu_s_median": percentile(&cpu, 0.5), "cpu_s_max": cpu.last(), "cars_finished": finished}));
    }
    Ok(h2h)
}

/// The benchmark's admin token.
pub(crate) const ADMIN_TOKEN: &str = "bench-admin-token-0123456789abcdef";

/// The league the load runs against, written straight into the database.
struct SeededLeague {
    race_id: String,
    season_id: String,
    first_racer: String,
    /// The tokens of the first `--clients` racers.
    racer_tokens: Vec<String>,
}

/// An open race with `--entries` ranked racers (the first `--clients` with tokens), and a season of it.
async fn seed_league(a: &BenchArgs, db: &str) -> Result<SeededLeague> {
    let store = Store::connect(db).await?;
    let admin = store.create_user("admin", Role::Admin).await?;
    store
        .ensure_token(&admin.id, &slipstream_league::util::secret_hash(ADMIN_TOKEN), "bench")
        .await?;
    let now = slipstream_league::util::now_ms();
    let spec = slipstream_league::races::RaceSpec::time_trial("bench", "oval", now - 1000, now + 86_400_000);
    let race = store.insert_race(&spec, &admin.id).await?;
    let mut racer_tokens = Vec::new();
    let mut first_racer = String::new();
    for i in 0..a.entries {
        let u = store.create_user(&format!("racer{i}"), Role::Racer).await?;
        if i == 0 {
            first_racer = u.id.clone();
        }
        let row = BoardRow {
            user_id: u.id.clone(),
            user_name: u.name.clone(),
            submission_id: format!("sub_seed_{i}"),
            score_ms: 5000 + ((i * 7919) % 20000) as i64,
            submitted_at: now - i as i64,
            achieved_at: now - i as i64,
            off_track: (i % 3) as i64,
            best_lap_ms: 5000,
            model_name: "seed".into(),
        };
        store.insert_board_row(&race.id, &row).await?;
        if (i as u64) < a.clients {
            let t = format!("bench-racer-token-{i:06}-xxxxxxxx");
            store
                .ensure_token(&u.id, &slipstream_league::util::secret_hash(&t), "bench")
                .await?;
            racer_tokens.push(t);
        }
    }
    let season = slipstream_league::seasons::SeasonSpec {
        name: "bench season".into(),
        description: String::new(),
        points: slipstream_league::seasons::DEFAULT_POINTS.to_vec(),
        race_ids: vec![race.id.clone()],
    };
    let season = store.insert_season(&season, &admin.id).await?;
    store.close().await;
    Ok(SeededLeague {
        race_id: race.id,
        season_id: season.id,
        first_racer,
        racer_tokens,
    })
}

/// A league server on a loopback port over the seeded database.
pub(crate) struct BenchServer {
    pub(crate) addr: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), slipstream_league::LeagueError>>,
}

impl BenchServer {
    /// Start it and wait until it answers.
    pub(crate) async fn start(db: &str, workers: usize) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = format!("http://{}", listener.local_addr()?);
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let cfg = Config {
            workers,
            admin_token: Some(ADMIN_TOKEN.into()),
            ..Config::default()
        };
        let db = db.to_string();
        let task = tokio::spawn(async move {
            serve(listener, &db, cfg, async {
                let _ = stop_rx.await;
            })
            .await
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut c) = client::connect(&addr, Some(ADMIN_TOKEN)).await
                && c.users.who_am_i(pb::WhoAmIRequest {}).await.is_ok()
            {
                break;
            }
            if task.is_finished() || Instant::now() > deadline {
                anyhow::bail!("the benchmark's league server did not start");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(BenchServer { addr, stop, task })
    }

    pub(crate) async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}

/// The first query after a start reads the board from the database (then it is cached): timed on
/// its own, not part of the load's latencies. Milliseconds.
async fn cold_query_ms(c: &mut client::Clients, race_id: &str) -> Result<f64> {
    let t0 = Instant::now();
    c.leaderboards
        .get_leaderboard(pb::GetLeaderboardRequest {
            race_id: race_id.to_string(),
            page_size: 50,
            page_token: String::new(),
        })
        .await?;
    Ok(t0.elapsed().as_secs_f64() * 1000.0)
}

/// Sequential calls: one after another, 20-row pages, nothing else running (after 50 untimed);
/// milliseconds, sorted. (Without TCP_NODELAY on the server's sockets each call waited ~40 ms for
/// the client's delayed ACK.)
async fn sequential_ms(c: &mut client::Clients, race_id: &str, calls: u64) -> Result<Vec<f64>> {
    let mut seq = Vec::new();
    for i in 0..50 + calls {
        let t0 = Instant::now();
        c.leaderboards
            .get_leaderboard(pb::GetLeaderboardRequest {
                race_id: race_id.to_string(),
                page_size: SEQUENTIAL_ROWS,
                page_token: String::new(),
            })
            .await?;
        if i >= 50 {
            seq.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
    }
    seq.sort_by(f64::total_cmp);
    Ok(seq)
}

/// The web site's pages at this board size: loopback round trips, one after another (after 10
/// untimed).
async fn web_pages(addr: &str, league: &SeededLeague, calls: u64) -> Result<Vec<serde_json::Value>> {
    let pages = [
        ("races (index)", "/".to_string()),
        ("race page, 100 rows", format!("/races/{}", league.race_id)),
        ("race page, 1000 rows", format!("/races/{}?n=1000", league.race_id)),
        ("big screen, 10 rows", format!("/races/{}/screen", league.race_id)),
        ("racer", format!("/racers/{}", league.first_racer)),
        (
            "season standings, 100 of 10,000 racers",
            format!("/seasons/{}", league.season_id),
        ),
    ];
    let mut web = Vec::new();
    for (what, path) in &pages {
        let mut t = Vec::new();
        let mut bytes = 0;
        for i in 0..10 + calls {
            let t0 = Instant::now();
            bytes = get_page(addr, path).await?;
            if i >= 10 {
                t.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
        }
        t.sort_by(f64::total_cmp);
        web.push(json!({
            "page": what, "path": path, "bytes": bytes,
            "p50_ms": percentile(&t, 0.5), "p99_ms": percentile(&t, 0.99), "max_ms": t.last(),
        }));
    }
    Ok(web)
}

/// `--clients` racers querying leaderboard pages and submitting (one call in ten) for `--seconds`:
/// the queries' milliseconds (sorted) and the submissions accepted.
async fn load(a: &BenchArgs, racers: Vec<(client::Clients, String)>, race_id: &str) -> Result<(Vec<f64>, usize)> {
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let race_id = Arc::new(race_id.to_string());
    let mut tasks = Vec::new();
    let n_clients = racers.len().max(1);
    for (k, (mut c, model_id)) in racers.into_iter().enumerate() {
        let race_id = race_id.clone();
        let mut ticks = (a.rate > 0.0).then(|| {
            // Spread the clients' schedules evenly over one period.
            let period = Duration::from_secs_f64(1.0 / a.rate);
            let start = tokio::time::Instant::now() + period.mul_f64(k as f64 / n_clients as f64);
            let mut t = tokio::time::interval_at(start, period);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut submits = 0usize;
            let mut i = k;
            while Instant::now() < deadline {
                if let Some(t) = ticks.as_mut() {
                    t.tick().await;
                }
                i += 1;
                if i % 10 == 0 {
                    let r = c
                        .submissions
                        .submit(pb::SubmitRequest {
                            race_id: (*race_id).clone(),
                            model_id: model_id.clone(),
                        })
                        .await;
                    if r.is_ok() {
                        submits += 1;
                    }
                } else {
                    let page = (i * 31) % 200;
                    let t0 = Instant::now();
                    let r = c
                        .leaderboards
                        .get_leaderboard(pb::GetLeaderboardRequest {
                            race_id: (*race_id).clone(),
                            page_size: 50,
                            page_token: if page == 0 {
                                String::new()
                            } else {
                                (page * 50).to_string()
                            },
                        })
                        .await;
                    if r.is_ok() {
                        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                    }
                }
            }
            (lat, submits)
        }));
    }
    let mut lat = Vec::new();
    let mut submits = 0;
    for t in tasks {
        let (l, s) = t.await?;
        lat.extend(l);
        submits += s;
    }
    lat.sort_by(f64::total_cmp);
    Ok((lat, submits))
}

/// How many of the race's submissions were raced (completed) while the load ran.
async fn evaluated(c: &mut client::Clients, race_id: &str) -> Result<usize> {
    let mut evaluated = 0usize;
    let mut page_token = String::new();
    loop {
        let page = c
            .submissions
            .list_submissions(pb::ListSubmissionsRequest {
                race_id: race_id.to_string(),
                page_size: 500,
                page_token,
            })
            .await?
            .into_inner();
        evaluated += page
            .submissions
            .iter()
            .filter(|s| s.status == pb::SubmissionStatus::Completed as i32)
            .count();
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(evaluated)
}

/// `GET path` from the server's web site over a fresh HTTP/1.1 connection (as a browser opening a
/// page); the answer's size in bytes. Anything but 200 is an error.
async fn get_page(addr: &str, path: &str) -> Result<usize> {
    get_page_as(addr, path, None).await
}

/// [`get_page`] with the browser's cookies (a signed-in visitor).
pub(crate) async fn get_page_as(addr: &str, path: &str, cookie: Option<&str>) -> Result<usize> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = addr.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await?;
    s.set_nodelay(true)?;
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{cookie}Connection: close\r\n\r\n").as_bytes())
        .await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    if !buf.starts_with(b"HTTP/1.1 200") {
        anyhow::bail!("GET {path}: {}", String::from_utf8_lossy(&buf[..buf.len().min(300)]));
    }
    Ok(buf.len())
}

/// The Python client's `latency` command against the running server: its JSON report.
async fn python_latency(
    python: &std::path::Path,
    script: &std::path::Path,
    addr: &str,
    race_id: &str,
    calls: u64,
) -> Result<serde_json::Value> {
    let out = tokio::process::Command::new(python)
        .arg(script)
        .arg("latency")
        .args(["--server", addr.trim_start_matches("http://"), "--race", race_id])
        .args(["--rows", &SEQUENTIAL_ROWS.to_string(), "--calls", &calls.to_string()])
        .output()
        .await
        .with_context(|| format!("--python {}: cannot run it", python.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "--python-client {}: failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "--python-client {}: its output is not JSON: {}",
            script.display(),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

async fn upload(c: &mut client::Clients, bytes: &[u8], name: &str) -> Result<String> {
    let mut msgs = vec![pb::UploadModelRequest {
        part: Some(pb::upload_model_request::Part::Metadata(pb::ModelUploadMetadata {
            name: name.into(),
            size_bytes: bytes.len() as u64,
        })),
    }];
    for chunk in bytes.chunks(1 << 20) {
        msgs.push(pb::UploadModelRequest {
            part: Some(pb::upload_model_request::Part::Chunk(chunk.to_vec())),
        });
    }
    let r = c.models.upload_model(futures::stream::iter(msgs)).await?;
    Ok(r.into_inner().id)
}

/// A valid model of about `mib` MiB (a wide MLP).
fn big_model(mib: usize) -> Result<Vec<u8>> {
    // Two nets of width w: about 2·w² weights of 4 bytes.
    let w = (((mib << 20) as f64 / 8.0).sqrt()) as usize;
    let cfg = TrainConfig::default();
    let spec = ModelSpec {
        sensor: cfg.sensor.clone(),
        action_space: cfg.action_space.clone(),
        network: NetworkSpec::Mlp {
            hidden: vec![w, w],
            activation: slipstream_trainer::network::Activation::Tanh,
        },
        car: cfg.car.clone(),
        agent_dt: 1.0 / 15.0,
        physics_substeps: 4,
    };
    let m = Model::new(spec, -0.5, true, tch::Device::Cpu);
    let dir = tempfile::tempdir()?;
    let p = dir.path().join("big.safetensors");
    m.save(&p)?;
    Ok(std::fs::read(p)?)
}
