//! Bake libtorch's location into every binary and test of a crate (an rpath), so they run without
//! LD_LIBRARY_PATH. torch-sys (a direct dependency) exports the folder it linked against.
//! Also record that PyTorch environment's site-packages, where reward functions find numpy.
//!
//! Shared by every crate that links libtorch (`build = "../trainer/build.rs"` in league-server and
//! tests): each must depend on torch-sys directly to see `DEP_TCH_LIBTORCH_LIB`.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys exports its lib dir (DEP_TCH_LIBTORCH_LIB)");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg=-ltorch");
    // .../site-packages/torch/lib → .../site-packages
    if let Some(site) = Path::new(&lib).parent().and_then(Path::parent) {
        println!("cargo:rustc-env=SLIPSTREAM_TORCH_SITE_PACKAGES={}", site.display());
    }
}
