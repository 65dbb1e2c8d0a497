//! `sim`: tracks, a scripted driver and benchmarks from the command line.

mod alloc;
mod bench;
mod camera_cmd;
mod drive;
mod plot_cmd;
mod replay_cmd;
mod track_cmd;
mod view;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// Slipstream's track simulator: inspect and generate tracks, drive a scripted car round a track,
/// render what its camera sees, plot traces, and measure simulation speed.
#[derive(Parser, Debug)]
#[command(name = "sim", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List, inspect and generate tracks.
    #[command(subcommand)]
    Track(track_cmd::TrackCommand),
    /// Drive a scripted pure-pursuit car round a track in race mode and print lap times.
    Drive(drive::DriveArgs),
    /// Measure simulation throughput (car-steps per second).
    Bench(bench::BenchArgs),
    /// Render one frame of the car's camera (mono or stereo) as a PNG.
    Camera(camera_cmd::CameraArgs),
    /// Plot a trace: the track map with the driven line coloured by speed and off-tracks marked,
    /// lap times, and a histogram of the actions (PNG files).
    Plot(plot_cmd::PlotArgs),
    /// An animated replay of a trace (GIF, or MP4 with ffmpeg): the track from above with the car
    /// and its trail coloured by speed, the car's camera view and the lap timer, in real time.
    Replay(replay_cmd::ReplayArgs),
    /// Watch a car in 3-D: a model racing live, a trace replayed, or the scripted driver (runs the
    /// separately built `slipstream-viewer` with these arguments; `sim view --help` shows them).
    View(view::ViewArgs),
}

fn main() -> ExitCode {
    slipstream_cli::init_tracing("warn");
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Track(c) => track_cmd::run(c),
        Command::Drive(a) => drive::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Camera(a) => camera_cmd::run(a),
        Command::Plot(a) => plot_cmd::run(a),
        Command::Replay(a) => replay_cmd::run(a),
        Command::View(a) => view::run(a),
    };
    slipstream_cli::exit(result)
}
