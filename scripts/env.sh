# Shared environment for the scripts (sourced, not run).
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
command -v cargo >/dev/null || { echo "error: cargo (Rust) is needed: https://rustup.rs" >&2; exit 1; }
