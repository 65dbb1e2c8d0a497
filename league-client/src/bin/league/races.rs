//! `league tracks …` and `league races …` (the RaceService: races, tracks, invites).

use anyhow::{Context, Result};
use slipstream_league_client::client::Clients;
use slipstream_league_client::convert::{race_state_name, spec_from_pb, spec_to_pb};
use slipstream_league_client::kinds::Timing;
use slipstream_league_client::kinds::{RaceSpec, RaceType};
use slipstream_league_client::time::now_ms;
use slipstream_proto::v1 as pb;

use crate::args::{RaceArgs, RacesCmd, TracksCmd, UpdateArgs};
use crate::output::{Output, human, json, time};
use crate::{Reply, file_stem};

pub async fn tracks(c: &mut Clients, out: Output, cmd: TracksCmd) -> Result<()> {
    match cmd {
        TracksCmd::List => {
            let r = c.races.list_tracks(pb::ListTracksRequest {}).await.reply()?;
            let tracks = json::Tracks {
                tracks: r.tracks.iter().map(json::Track::from).collect(),
            };
            out.emit(&tracks, || human::tracks(&r.tracks))
        }
        TracksCmd::Upload { file, name } => {
            let npy = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = name.unwrap_or_else(|| file_stem(&file, "track"));
            let t = c
                .races
                .upload_track(pb::UploadTrackRequest { name, npy })
                .await
                .reply()?;
            out.emit(&json::UploadedTrack::from(&t), || {
                format!(
                    "uploaded {} as {} ({:.2} m, {} waypoints)",
                    t.name, t.id, t.length_m, t.waypoints
                )
            })
        }
    }
}

pub async fn races(c: &mut Clients, out: Output, cmd: RacesCmd) -> Result<()> {
    match cmd {
        RacesCmd::Create(a) => {
            let spec = spec_to_pb(&race_spec(a, now_ms()));
            let r = c
                .races
                .create_race(pb::CreateRaceRequest { spec: Some(spec) })
                .await
                .reply()?;
            out.emit(&json::Race::from(&r), || {
                format!("created race {} ({})", r.id, race_state_name(r.state))
            })
        }
        RacesCmd::List => {
            let r = c
                .races
                .list_races(pb::ListRacesRequest {
                    page_size: 500,
                    page_token: String::new(),
                })
                .await
                .reply()?;
            let races = json::Races {
                races: r.races.iter().map(json::Race::from).collect(),
            };
            out.emit(&races, || human::races(&r.races))
        }
        RacesCmd::Show { race } => {
            let r = c.races.get_race(pb::GetRaceRequest { race_id: race }).await.reply()?;
            out.emit(&json::Race::from(&r), || human::race(&r))
        }
        RacesCmd::Update(a) => {
            let r = c
                .races
                .get_race(pb::GetRaceRequest {
                    race_id: a.race.clone(),
                })
                .await
                .reply()?;
            let current = spec_from_pb(&r.spec.unwrap_or_default()).map_err(anyhow::Error::msg)?;
            let spec = spec_to_pb(&updated_spec(current, &a, now_ms()));
            let r = c
                .races
                .update_race(pb::UpdateRaceRequest {
                    race_id: a.race,
                    spec: Some(spec),
                })
                .await
                .reply()?;
            out.emit(&json::Race::from(&r), || human::race(&r))
        }
        RacesCmd::Delete { race } => {
            c.races
                .delete_race(pb::DeleteRaceRequest { race_id: race.clone() })
                .await
                .reply()?;
            out.emit(&json::Deleted { deleted: &race }, || format!("deleted {race}"))
        }
        RacesCmd::Invite { race, hours } => {
            let expires = hours.map_or(0, |h| now_ms() + (h * 3_600_000.0) as i64);
            let i = c
                .races
                .create_invite(pb::CreateInviteRequest {
                    race_id: race,
                    expires_at_ms: expires,
                })
                .await
                .reply()?;
            out.emit(&json::Invite::from(&i), || {
                format!(
                    "invite token {} (id {}, expires {})",
                    i.token,
                    i.id,
                    time(i.expires_at_ms)
                )
            })
        }
        RacesCmd::Join { invite_token } => {
            let r = c.races.join_race(pb::JoinRaceRequest { invite_token }).await.reply()?;
            out.emit(&json::Race::from(&r), || {
                let name = r.spec.as_ref().map_or("", |s| s.name.as_str());
                format!("joined {} ({name})", r.id)
            })
        }
    }
}

/// `spec` as `league races update` changes it at `now_ms`.
fn updated_spec(mut spec: RaceSpec, a: &UpdateArgs, now_ms: i64) -> RaceSpec {
    if let Some(n) = &a.name {
        spec.name = n.clone();
    }
    if let Some(d) = &a.description {
        spec.description = d.clone();
    }
    if let Some(h) = a.hours {
        spec.closes_at_ms = now_ms + (h * 3_600_000.0) as i64;
    }
    if a.close_now {
        spec.closes_at_ms = now_ms;
    }
    if a.never_close {
        spec.closes_at_ms = 0;
    }
    spec
}

/// The race `league races create` asks for, its window opening `--opens-in-minutes` after `now_ms`.
/// The server validates it.
fn race_spec(a: RaceArgs, now_ms: i64) -> RaceSpec {
    let timing = Timing::from(a.timing);
    let opens_at_ms = now_ms + (a.opens_in_minutes * 60_000.0) as i64;
    RaceSpec {
        name: a.name,
        description: a.description,
        track: a.track,
        reverse: a.reverse,
        race_type: RaceType::from(a.race_type),
        // Sent only for the race type that uses them.
        obstacle_count: a.obstacles,
        obstacle_positions: vec![],
        bot_count: a.bots,
        bot_speed_mps: a.bot_speed,
        bot_lane_change: true,
        timing,
        min_laps: a
            .min_laps
            .unwrap_or(if timing == Timing::TotalTime { a.laps } else { 1 }),
        laps: a.laps,
        off_track_penalty_s: a.off_track_penalty,
        collision_penalty_s: a.collision_penalty,
        continuous: a.continuous,
        number_of_resets: a.number_of_resets,
        reverse_penalty_s: a.reverse_penalty,
        immobilized_penalty_s: a.immobilized_penalty,
        opens_at_ms,
        closes_at_ms: opens_at_ms + (a.hours * 3_600_000.0) as i64,
        max_submissions_per_user: a.max_submissions,
        private: a.private,
        sensors: a.sensors,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    fn create(args: &[&str]) -> RaceArgs {
        let cli = Cli::try_parse_from([&["league", "races", "create"][..], args].concat()).unwrap();
        match cli.command {
            Command::Races(RacesCmd::Create(a)) => a,
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn races_are_created_as_asked() {
        let s = race_spec(create(&["--name", "Cup", "--track", "oval"]), 1_000);
        let expected = RaceSpec {
            bot_count: 3,
            bot_speed_mps: 0.6,
            bot_lane_change: true,
            obstacle_count: 3,
            ..RaceSpec::time_trial("Cup", "oval", 1_000, 1_000 + 24 * 3_600_000)
        };
        assert_eq!(s, expected, "the defaults");
        let pb = spec_to_pb(&s);
        assert!(pb.obstacles.is_none() && pb.bots.is_none(), "a time trial has neither");

        let s = race_spec(
            create(&[
                "--name",
                "Finals",
                "--track",
                "upload:ab",
                "--timing",
                "total-time",
                "--laps",
                "5",
                "--type",
                "head-to-bot",
                "--bots",
                "2",
                "--opens-in-minutes",
                "1",
                "--hours",
                "0.5",
                "--reverse",
                "--private",
            ]),
            1_000,
        );
        assert_eq!(
            (s.timing, s.min_laps),
            (Timing::TotalTime, 5),
            "total time needs every lap"
        );
        assert_eq!((s.opens_at_ms, s.closes_at_ms), (61_000, 61_000 + 1_800_000));
        assert!(s.reverse && s.private);
        let bots = spec_to_pb(&s).bots.expect("head-to-bot sends its bots");
        assert_eq!((bots.count, bots.speed_mps, bots.lane_change), (2, 0.6, true));
        let s = race_spec(create(&["--name", "x", "--track", "oval", "--min-laps", "2"]), 0);
        assert_eq!(s.min_laps, 2);
        let update = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["league", "races", "update", "race_1"][..], args].concat()).unwrap();
            match cli.command {
                Command::Races(RacesCmd::Update(a)) => updated_spec(s.clone(), &a, 5_000),
                c => panic!("{c:?}"),
            }
        };
        assert_eq!(update(&["--close-now"]).closes_at_ms, 5_000);
        assert_eq!(update(&["--never-close"]).closes_at_ms, 0);
        assert_eq!(update(&["--hours", "1"]).closes_at_ms, 5_000 + 3_600_000);
        let renamed = update(&["--name", "Finals", "--description", "Bring snacks."]);
        assert_eq!(
            (renamed.name.as_str(), renamed.description.as_str()),
            ("Finals", "Bring snacks.")
        );
        assert_eq!(
            RaceSpec {
                name: s.name.clone(),
                description: s.description.clone(),
                ..renamed
            },
            s,
            "nothing else"
        );
        assert!(Cli::try_parse_from(["league", "races", "update", "r", "--close-now", "--never-close"]).is_err());
        let s = race_spec(
            create(&[
                "--name",
                "x",
                "--track",
                "oval",
                "--sensor",
                "camera",
                "--sensor",
                "camera+lidar",
            ]),
            0,
        );
        assert_eq!(s.sensors, ["camera", "camera+lidar"]);
        assert_eq!(spec_to_pb(&s).sensors, ["camera", "camera+lidar"]);
    }
}
