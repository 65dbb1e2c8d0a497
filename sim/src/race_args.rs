//! The race-rule options of every command that races (`sim drive`, `trainer evaluate`), written
//! once: a `clap` argument group that builds a [`RaceConfig`] (the `cli` feature).

use clap::Args;

use crate::episode::RaceConfig;

/// Race rules on the command line, DeepRacer's evaluation defaults unless given.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct RaceArgs {
    /// Laps to drive: separate trials, each from standstill at the start line, or with
    /// --continuous one run of this many laps (DeepRacer's number_of_trials).
    #[arg(long, default_value_t = 3)]
    pub laps: u32,
    /// Drive the laps one after another without stopping (DeepRacer's is_continuous).
    #[arg(long)]
    pub continuous: bool,
    /// Incidents (off-track, crash, reversing, immobilized) per trial — per race with
    /// --continuous — after which the car is held for the penalty and put back on the track
    /// instead of the trial ending; a number or "unlimited" (DeepRacer's number_of_resets).
    #[arg(long, default_value = "0", value_parser = parse_resets)]
    pub number_of_resets: u32,
    /// Seconds the car is held after an off-track.
    #[arg(long, default_value_t = 2.0)]
    pub off_track_penalty: f64,
    /// Seconds the car is held after hitting a box or a bot car.
    #[arg(long, default_value_t = 5.0)]
    pub collision_penalty: f64,
    /// Seconds the car is held after driving the wrong way [default: the off-track penalty].
    #[arg(long)]
    pub reverse_penalty: Option<f64>,
    /// Seconds the car is held after being immobilized.
    #[arg(long, default_value_t = 0.0)]
    pub immobilized_penalty: f64,
    /// Stop the race after this many simulated seconds (Slipstream's limit; DeepRacer has none)
    /// [default: 60 per lap].
    #[arg(long)]
    pub max_time: Option<f64>,
}

fn parse_resets(s: &str) -> Result<u32, String> {
    if s.eq_ignore_ascii_case("unlimited") {
        return Ok(u32::MAX);
    }
    s.parse()
        .map_err(|_| format!("expected a number of resets or \"unlimited\", got {s:?}"))
}

impl RaceArgs {
    /// The race rules these options set (checked when the environment is built).
    pub fn config(&self) -> RaceConfig {
        RaceConfig {
            laps: self.laps,
            continuous: self.continuous,
            number_of_resets: self.number_of_resets,
            off_track_penalty_s: self.off_track_penalty,
            collision_penalty_s: self.collision_penalty,
            reverse_penalty_s: self.reverse_penalty,
            immobilized_penalty_s: self.immobilized_penalty,
            max_time_s: self.max_time.unwrap_or(60.0 * f64::from(self.laps.max(1))),
            ..RaceConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        race: RaceArgs,
    }

    #[test]
    fn defaults_are_deepracers_and_every_option_reaches_the_config() {
        let c = Cli::parse_from(["x"]).race.config();
        assert_eq!((c.laps, c.continuous, c.number_of_resets), (3, false, 0));
        assert_eq!((c.off_track_penalty_s, c.collision_penalty_s), (2.0, 5.0));
        assert_eq!(
            (c.reverse_penalty_s, c.immobilized_penalty_s, c.max_time_s),
            (None, 0.0, 180.0)
        );
        let c = Cli::parse_from([
            "x",
            "--laps=5",
            "--continuous",
            "--number-of-resets=unlimited",
            "--off-track-penalty=1",
            "--collision-penalty=3",
            "--reverse-penalty=4",
            "--immobilized-penalty=0.5",
            "--max-time=99",
        ])
        .race
        .config();
        assert_eq!((c.laps, c.continuous, c.number_of_resets), (5, true, u32::MAX));
        assert_eq!((c.off_track_penalty_s, c.collision_penalty_s), (1.0, 3.0));
        assert_eq!(
            (c.reverse_penalty_s, c.immobilized_penalty_s, c.max_time_s),
            (Some(4.0), 0.5, 99.0)
        );
        let e = Cli::try_parse_from(["x", "--number-of-resets=lots"])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("\"unlimited\""), "{e}");
    }
}
