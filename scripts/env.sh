# Shared environment for the scripts (sourced, not run). Safe to `source scripts/env.sh` in a shell
# to use cargo directly.
#
# libtorch: tch 0.26 needs PyTorch 2.13.0 exactly. It is installed once from PyPI (with numpy, scipy
# and shapely, for students' reward functions) into a virtual environment in a cache folder outside the checkout,
# so every clone and CI run reuses it. Binaries get an rpath to it (trainer/build.rs), so nothing
# needs LD_LIBRARY_PATH at run time.
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
command -v cargo >/dev/null || { echo "error: cargo (Rust) is needed: https://rustup.rs" >&2; return 1 2>/dev/null || exit 1; }

export SLIPSTREAM_CACHE="${SLIPSTREAM_CACHE:-$HOME/.cache/slipstream}"
TORCH_VERSION=2.13.0
export SLIPSTREAM_TORCH_VENV="$SLIPSTREAM_CACHE/torch-$TORCH_VERSION"

slipstream_install_torch() {
  local venv="$SLIPSTREAM_TORCH_VENV"
  local python="${SLIPSTREAM_BASE_PYTHON:-python3}"
  command -v "$python" >/dev/null || { echo "error: $python is needed to install PyTorch $TORCH_VERSION" >&2; return 1; }
  echo "Installing PyTorch $TORCH_VERSION and numpy into $venv (once; about 2 minutes and 4.7 GB)..." >&2
  rm -rf "$venv"
  mkdir -p "$SLIPSTREAM_CACHE"
  "$python" -m venv "$venv" &&
    "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==$TORCH_VERSION" numpy &&
    touch "$venv/.slipstream-complete"
}

if [ ! -f "$SLIPSTREAM_TORCH_VENV/.slipstream-complete" ]; then
  slipstream_install_torch || { echo "error: installing PyTorch failed" >&2; return 1 2>/dev/null || exit 1; }
fi

# Reward functions may import what DeepRacer's simulation image has: math, random, numpy, scipy and
# shapely. scipy and shapely join numpy in the same environment, once (a marker per pinned set).
SLIPSTREAM_REWARD_PACKAGES="scipy==1.17.1 shapely==2.2.0"
slipstream_reward_marker="$SLIPSTREAM_TORCH_VENV/.slipstream-reward-packages-$(echo "$SLIPSTREAM_REWARD_PACKAGES" | tr ' =' '_-')"
if [ ! -f "$slipstream_reward_marker" ]; then
  echo "Installing $SLIPSTREAM_REWARD_PACKAGES for reward functions into $SLIPSTREAM_TORCH_VENV (once)..." >&2
  # shellcheck disable=SC2086
  "$SLIPSTREAM_TORCH_VENV/bin/pip" install --quiet --disable-pip-version-check $SLIPSTREAM_REWARD_PACKAGES &&
    touch "$slipstream_reward_marker" ||
    echo "warning: installing $SLIPSTREAM_REWARD_PACKAGES failed; reward functions that import them will not load" >&2
fi

# torch-sys finds libtorch through the venv's python; pyo3 embeds the system's shared libpython.
export LIBTORCH_USE_PYTORCH=1
export VIRTUAL_ENV="$SLIPSTREAM_TORCH_VENV"
export PATH="$SLIPSTREAM_TORCH_VENV/bin:$PATH"
if [ -z "${PYO3_PYTHON:-}" ]; then
  for p in /usr/bin/python3.11 /usr/bin/python3; do
    if [ -x "$p" ]; then export PYO3_PYTHON="$p"; break; fi
  done
fi

# Chart text (`sim plot`, `trainer plot`) needs a TrueType font; slipstream_sim::plot::FONT_PATHS
# lists where it looks. scripts/test and scripts/demo call this: on Debian/Ubuntu without any of
# them (and no SLIPSTREAM_FONT), it installs fonts-dejavu-core (with sudo when not root).
slipstream_ensure_font() {
  [ -n "${SLIPSTREAM_FONT:-}" ] && return 0
  for f in /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/dejavu/DejaVuSans.ttf \
           /usr/share/fonts/TTF/DejaVuSans.ttf /usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf \
           /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf \
           /System/Library/Fonts/Supplemental/Arial.ttf /Library/Fonts/Arial.ttf; do
    [ -f "$f" ] && return 0
  done
  "$(dirname "${BASH_SOURCE[0]}")/debian-packages" "the plots' font" fonts-dejavu-core ||
    echo "warning: no font for plots; set SLIPSTREAM_FONT to a .ttf file" >&2
}
