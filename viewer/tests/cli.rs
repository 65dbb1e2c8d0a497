//! `slipstream-viewer`'s command line without a display: help, and one-line errors for bad input.

use std::process::{Command, Output};

fn viewer(args: &[&str], display: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_slipstream-viewer"));
    cmd.args(args).env_remove("WAYLAND_DISPLAY");
    match display {
        Some(d) => cmd.env("DISPLAY", d),
        None => cmd.env_remove("DISPLAY"),
    };
    cmd.output().expect("the viewer runs")
}

fn fails_with(args: &[&str], display: Option<&str>, needle: &str) {
    let out = viewer(args, display);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(
        err.contains(needle),
        "{args:?}: stderr does not mention {needle:?}: {err}"
    );
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
}

#[test]
fn help_lists_the_sources_cameras_and_headless_options() {
    let out = viewer(&["--help"], None);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "--track",
        "--model",
        "--trace",
        "--rival",
        "--obstacles",
        "--bots",
        "--laps",
        "--camera",
        "top-down",
        "--speed",
        "--screenshot",
        "--frames",
        "--bench",
        "Xvfb",
    ] {
        assert!(text.contains(word), "--help does not mention {word}: {text}");
    }
}

#[test]
fn bad_options_are_one_line_errors() {
    // A display that does not exist: every check below fails before a window is opened.
    let d = Some(":9999");
    fails_with(&["--track", "oval"], None, "Xvfb");
    fails_with(&["--track", "oval", "--speed", "3"], d, "--speed");
    fails_with(&["--track", "no-such-track"], d, "no-such-track");
    fails_with(&["--track", "oval", "--frames", "0"], d, "--frames");
    fails_with(
        &["--track", "oval", "--trace", "/nonexistent/t.csv"],
        d,
        "/nonexistent/t.csv",
    );
    fails_with(
        &["--track", "oval", "--model", "/nonexistent/m.safetensors"],
        d,
        "/nonexistent/m.safetensors",
    );
    fails_with(&["--track", "oval", "--screenshot", "x.png"], d, "--frames");
    fails_with(&["--track", "oval", "--laps", "0"], d, "--laps");
    fails_with(&["--track", "oval", "--rival", "r.csv"], d, "--trace");
    fails_with(
        &["--track", "oval", "--trace", "t.csv", "--rival", "/nonexistent/r.csv"],
        d,
        "--rival: reading /nonexistent/r.csv",
    );
}
