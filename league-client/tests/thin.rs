//! The `league` binary is a thin client: it links no libtorch, CUDA or Python (a student submits a
//! model without the 4.7 GB PyTorch install, and the binary can be handed to anyone).

use std::process::Command;

const LEAGUE: &str = env!("CARGO_BIN_EXE_league");

#[test]
fn the_client_links_no_torch_cuda_or_python() {
    let out = Command::new("ldd").arg(LEAGUE).output().expect("ldd runs");
    let libs = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(out.status.success() && libs.contains("libc.so"), "ldd {LEAGUE}: {libs}");
    for heavy in ["torch", "c10", "cuda", "python", "gomp"] {
        assert!(!libs.contains(heavy), "the league client links {heavy}:\n{libs}");
    }
}

#[test]
fn the_client_runs_on_its_own() {
    let out = Command::new(LEAGUE)
        .arg("--help")
        .output()
        .expect("the league binary runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for command in ["submit", "leaderboard", "races", "models"] {
        assert!(help.contains(command), "--help names `{command}`: {help}");
    }
}
