//! The networks a policy is built from, as a model file declares them: multi-layer perceptrons over
//! the observation vector, and convolutional networks over the camera's 8-bit images.
//!
//! | `[network] type` | input | layers | actor / critic |
//! |---|---|---|---|
//! | `mlp` | observation vector | `hidden` dense layers (tanh or ReLU) | separate |
//! | `deep_convolutional_network_shallow` (DeepRacer's "3-layer CNN", its default) | image | conv 32@8×8/4 → 64@4×4/2 → 64@3×3/1, ReLU → dense 512, ReLU | separate |
//! | `deep_convolutional_network` (DeepRacer's "5-layer CNN") | image | conv 32@5×5/2 → 32@3×3/1 → 64@3×3/2 → 64@3×3/1, tanh → dense 64, tanh → dense 512, ReLU | separate |
//! | `cnn` (Slipstream's, for CPU training) | image | `convs`, `activation` → `dense` | one shared trunk, two heads |
//!
//! DeepRacer's layers are deepracer-simapp's `sensors/utils.py` (`get_front_camera_embedders`: the
//! conv lists and the 5-layer network's dense 64) and its default middleware (dense 512);
//! convolutions use valid padding and the images are divided by 255 on the learner's device.
//!
//! A camera with a lidar beside it (DeepRacer's two-sensor set-ups) is DeepRacer's layout too: each
//! sensor has its input embedder — the camera's convolutions (and the 5-layer network's dense 64),
//! the lidar's readings through dense 256 → 256, ReLU (`get_lidar_embedders`, the same for every
//! network) — their outputs are joined, and the middleware (dense 512, or the `cnn` type's `dense`)
//! reads both. The lidar embedder reads only the lidar's readings, not the speed and steering after
//! them, as DeepRacer's does.
//! DeepRacer's clipped PPO gives the policy and the value function separate networks; the `cnn`
//! type shares one trunk between them, which halves the cost of a forward pass.

use serde::{Deserialize, Serialize};
use slipstream_sim::ObsConfig;
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// The policy network, a declared part of the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum NetworkSpec {
    /// Separate actor and critic multi-layer perceptrons over the observation vector.
    Mlp {
        hidden: Vec<usize>,
        #[serde(default = "default_activation")]
        activation: Activation,
    },
    /// DeepRacer's 3-layer CNN (`DEEP_CONVOLUTIONAL_NETWORK_SHALLOW`). (Struct variants, not unit
    /// ones: serde refuses unknown keys only in struct variants, so a misplaced key is an error.)
    DeepConvolutionalNetworkShallow {},
    /// DeepRacer's 5-layer CNN (`DEEP_CONVOLUTIONAL_NETWORK`).
    DeepConvolutionalNetwork {},
    /// A convolutional trunk shared by the actor and the critic.
    Cnn {
        #[serde(default = "default_convs")]
        convs: Vec<ConvLayer>,
        #[serde(default = "default_dense")]
        dense: Vec<usize>,
        #[serde(default = "default_cnn_activation")]
        activation: Activation,
    },
}

/// One convolution: `filters` output channels, a `kernel`×`kernel` window moved `stride` pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvLayer {
    pub filters: usize,
    pub kernel: usize,
    pub stride: usize,
}

const fn conv(filters: usize, kernel: usize, stride: usize) -> ConvLayer {
    ConvLayer {
        filters,
        kernel,
        stride,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Tanh,
    Relu,
}

fn default_activation() -> Activation {
    Activation::Tanh
}

fn default_cnn_activation() -> Activation {
    Activation::Relu
}

/// Slipstream's camera trunk: 160 × 120 → 29 × 39 × 16 → 13 × 18 × 32 → 6 × 8 × 32 (1,536).
fn default_convs() -> Vec<ConvLayer> {
    vec![conv(16, 8, 4), conv(32, 4, 2), conv(32, 3, 2)]
}

fn default_dense() -> Vec<usize> {
    vec![256]
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec::Mlp {
            hidden: vec![64, 64],
            activation: Activation::Tanh,
        }
    }
}

/// The layers of a convolutional network, whichever way it was declared.
#[derive(Clone, Debug, PartialEq)]
pub struct CnnLayers {
    pub convs: Vec<ConvLayer>,
    pub conv_activation: Activation,
    /// The camera embedder's dense layers after the convolutions, each with its activation.
    pub embedder: Vec<(usize, Activation)>,
    /// The middleware: dense layers reading the embedders' joined outputs.
    pub middleware: Vec<(usize, Activation)>,
    /// One trunk for actor and critic (else each has its own copy).
    pub shared: bool,
}

/// DeepRacer's lidar embedder (`get_lidar_embedders`): dense 256 → 256, ReLU.
pub const LIDAR_EMBEDDER: [usize; 2] = [256, 256];

impl NetworkSpec {
    /// Slipstream's default camera network.
    pub fn camera_default() -> Self {
        NetworkSpec::Cnn {
            convs: default_convs(),
            dense: default_dense(),
            activation: default_cnn_activation(),
        }
    }

    /// The name in `model_metadata.json`: DeepRacer's for its networks.
    pub fn name(&self) -> String {
        let join = |v: &mut dyn Iterator<Item = String>| v.collect::<Vec<_>>().join("_");
        match self {
            NetworkSpec::Mlp { hidden, .. } => format!("MLP_{}", join(&mut hidden.iter().map(|h| h.to_string()))),
            NetworkSpec::DeepConvolutionalNetworkShallow {} => "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW".into(),
            NetworkSpec::DeepConvolutionalNetwork {} => "DEEP_CONVOLUTIONAL_NETWORK".into(),
            NetworkSpec::Cnn { convs, dense, .. } => format!(
                "CNN_{}_{}",
                join(&mut convs.iter().map(|c| format!("{}x{}s{}", c.filters, c.kernel, c.stride))),
                join(&mut dense.iter().map(|d| d.to_string()))
            ),
        }
    }

    /// The convolutional layers (`None` for an MLP).
    pub fn cnn(&self) -> Option<CnnLayers> {
        use Activation::{Relu, Tanh};
        match self {
            NetworkSpec::Mlp { .. } => None,
            NetworkSpec::DeepConvolutionalNetworkShallow {} => Some(CnnLayers {
                convs: vec![conv(32, 8, 4), conv(64, 4, 2), conv(64, 3, 1)],
                conv_activation: Relu,
                embedder: vec![],
                middleware: vec![(512, Relu)],
                shared: false,
            }),
            NetworkSpec::DeepConvolutionalNetwork {} => Some(CnnLayers {
                convs: vec![conv(32, 5, 2), conv(32, 3, 1), conv(64, 3, 2), conv(64, 3, 1)],
                conv_activation: Tanh,
                embedder: vec![(64, Tanh)],
                middleware: vec![(512, Relu)],
                shared: false,
            }),
            NetworkSpec::Cnn {
                convs,
                dense,
                activation,
            } => Some(CnnLayers {
                convs: convs.clone(),
                conv_activation: *activation,
                embedder: vec![],
                middleware: dense.iter().map(|&d| (d, *activation)).collect(),
                shared: true,
            }),
        }
    }

    /// Check the layer sizes; for a CNN, that its convolutions fit an image of `image` =
    /// `[channels, height, width]` (`None`: the sensor has no camera).
    pub fn validate(&self, image: Option<[i64; 3]>) -> Result<(), String> {
        let Some(layers) = self.cnn() else {
            let NetworkSpec::Mlp { hidden, .. } = self else {
                unreachable!("not a CNN")
            };
            if hidden.is_empty() || hidden.len() > 8 {
                return Err("network.hidden: expected 1–8 layer sizes".into());
            }
            if let Some((i, h)) = hidden.iter().enumerate().find(|(_, h)| !(1..=4096).contains(*h)) {
                return Err(format!("network.hidden[{i}]: expected 1–4096 units, got {h}"));
            }
            return if image.is_some() {
                // The MLP would see only the camera observation's speed and steering, never its pixels.
                Err(
                    "network: an MLP cannot see camera images; use type = \"cnn\" (Slipstream's), \
                     \"deep_convolutional_network_shallow\" or \"deep_convolutional_network\" (DeepRacer's)"
                        .into(),
                )
            } else {
                Ok(())
            };
        };
        let Some(image) = image else {
            return Err(format!(
                "network: {} reads camera images, but the sensor has no camera (use type = \"mlp\")",
                self.name()
            ));
        };
        if layers.convs.is_empty() || layers.convs.len() > 8 {
            return Err("network.convs: expected 1–8 convolutions".into());
        }
        for (i, c) in layers.convs.iter().enumerate() {
            if !(1..=512).contains(&c.filters) || !(1..=16).contains(&c.kernel) || !(1..=8).contains(&c.stride) {
                return Err(format!(
                    "network.convs[{i}]: expected filters 1–512, kernel 1–16, stride 1–8, got {c:?}"
                ));
            }
        }
        if layers.middleware.iter().any(|(d, _)| *d == 0 || *d > 4096) {
            return Err("network.dense: layer sizes must be 1–4096".into());
        }
        conv_output(&layers.convs, image).map(|_| ())
    }
}

/// The shape `[channels, height, width]` after valid-padded convolutions over `image`, or an error
/// naming the layer that the image is too small for.
pub fn conv_output(convs: &[ConvLayer], image: [i64; 3]) -> Result<[i64; 3], String> {
    let [mut c, mut h, mut w] = image;
    for (i, l) in convs.iter().enumerate() {
        let (k, s) = (l.kernel as i64, l.stride as i64);
        if h < k || w < k {
            return Err(format!(
                "network.convs[{i}]: a {k}×{k} kernel does not fit the {w}×{h} feature map (the camera image is too small for this network)"
            ));
        }
        (c, h, w) = (l.filters as i64, (h - k) / s + 1, (w - k) / s + 1);
    }
    Ok([c, h, w])
}

/// How a new network's weights start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WeightInit {
    /// Orthogonal, as in CleanRL's PPO: for training from scratch.
    Orthogonal,
    /// Zeros: the weights are about to be loaded (orthogonal init of a wide layer costs a QR
    /// decomposition, most of the time of loading a large model).
    Zeros,
}

impl WeightInit {
    fn weights(self, gain: f64) -> nn::Init {
        match self {
            WeightInit::Orthogonal => nn::Init::Orthogonal { gain },
            WeightInit::Zeros => nn::Init::Const(0.0),
        }
    }

    fn linear(self, gain: f64) -> nn::LinearConfig {
        nn::LinearConfig {
            ws_init: self.weights(gain),
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        }
    }
}

fn activate(seq: nn::Sequential, a: Activation) -> nn::Sequential {
    match a {
        Activation::Tanh => seq.add_fn(|x| x.tanh()),
        Activation::Relu => seq.add_fn(|x| x.relu()),
    }
}

/// Dense layers `{prefix}0`, `{prefix}1`, … from `input` units, each with its activation; returns
/// them and their output width.
fn dense_layers(
    p: &nn::Path<'_>,
    prefix: &str,
    mut seq: nn::Sequential,
    input: i64,
    layers: &[(usize, Activation)],
    init: WeightInit,
) -> (nn::Sequential, i64) {
    let mut last = input;
    for (i, &(d, a)) in layers.iter().enumerate() {
        seq = seq.add(nn::linear(
            p / format!("{prefix}{i}"),
            last,
            d as i64,
            init.linear(2f64.sqrt()),
        ));
        seq = activate(seq, a);
        last = d as i64;
    }
    (seq, last)
}

/// Convolutions (`c0`, `c1`, …) over `[B, C, H, W]` `u8` images scaled to [0, 1], flattened;
/// returns them and their output width.
fn convolutions(p: &nn::Path<'_>, layers: &CnnLayers, image: [i64; 3], init: WeightInit) -> (nn::Sequential, i64) {
    let mut seq = nn::seq().add_fn(|x| x.to_kind(Kind::Float) * (1.0 / 255.0));
    let mut channels = image[0];
    for (i, l) in layers.convs.iter().enumerate() {
        let cfg = nn::ConvConfig {
            stride: l.stride as i64,
            ws_init: nn::Init::Const(0.0),
            bs_init: nn::Init::Const(0.0),
            ..Default::default()
        };
        let conv = nn::conv2d(p / format!("c{i}"), channels, l.filters as i64, l.kernel as i64, cfg);
        if init == WeightInit::Orthogonal {
            // tch's orthogonal init returns the [out, in·k·k] matrix without reshaping it to a
            // convolution's 4-D weight: draw the matrix, copy it in as the weight's shape.
            let (rows, cols) = (l.filters as i64, channels * (l.kernel * l.kernel) as i64);
            let q = nn::init::init(nn::Init::Orthogonal { gain: 2f64.sqrt() }, &[rows, cols], p.device());
            tch::no_grad(|| conv.ws.shallow_clone().copy_(&q.view(conv.ws.size().as_slice())));
        }
        seq = seq.add(conv);
        seq = activate(seq, layers.conv_activation);
        channels = l.filters as i64;
    }
    let [c, h, w] = conv_output(&layers.convs, image).expect("validated by ModelSpec::validate");
    (seq.add_fn(|x| x.flatten(1, -1)), c * h * w)
}

/// What reads a batch of observations and gives the features an actor or critic head reads.
#[derive(Debug)]
pub(crate) enum Trunk {
    /// An MLP's hidden layers (`l0`, `l1`, …) over the observation vector.
    Vector(nn::Sequential),
    /// Convolutions and dense layers (`c0`, …, `d0`, …) over the images.
    Image(nn::Sequential),
    /// A camera and a lidar, each through its embedder (`c0`, …, `d0`, …; `lidar/l0`, `lidar/l1`
    /// over the vector's first `readings` values), joined, then the middleware (`middleware/l0`, …).
    ImageLidar {
        camera: nn::Sequential,
        lidar: nn::Sequential,
        readings: i64,
        middleware: nn::Sequential,
    },
}

impl Trunk {
    /// Build the trunk `network` declares for `sensor` under `p`; returns it and its output width.
    pub(crate) fn new(p: &nn::Path<'_>, network: &NetworkSpec, sensor: &ObsConfig, init: WeightInit) -> (Trunk, i64) {
        let image = sensor.image_shape().map(|s| s.map(|d| d as i64));
        let (layers, image) = match (network, network.cnn(), image) {
            (NetworkSpec::Mlp { hidden, activation }, _, _) => {
                let layers: Vec<_> = hidden.iter().map(|&h| (h, *activation)).collect();
                let (seq, width) = dense_layers(p, "l", nn::seq(), sensor.dim() as i64, &layers, init);
                return (Trunk::Vector(seq), width);
            }
            (_, Some(layers), Some(image)) => (layers, image),
            _ => unreachable!("ModelSpec::validate: a CNN needs a camera"),
        };
        let (convs, width) = convolutions(p, &layers, image, init);
        let Some(readings) = sensor.lidar_readings() else {
            // The camera alone: its embedder's and the middleware's dense layers numbered on.
            let dense: Vec<_> = layers.embedder.iter().chain(&layers.middleware).copied().collect();
            let (seq, width) = dense_layers(p, "d", convs, width, &dense, init);
            return (Trunk::Image(seq), width);
        };
        let (camera, camera_width) = dense_layers(p, "d", convs, width, &layers.embedder, init);
        let lidar_layers = LIDAR_EMBEDDER.map(|d| (d, Activation::Relu));
        let (lidar, lidar_width) = dense_layers(&(p / "lidar"), "l", nn::seq(), readings as i64, &lidar_layers, init);
        let (middleware, width) = dense_layers(
            &(p / "middleware"),
            "l",
            nn::seq(),
            camera_width + lidar_width,
            &layers.middleware,
            init,
        );
        let trunk = Trunk::ImageLidar {
            camera,
            lidar,
            readings: readings as i64,
            middleware,
        };
        (trunk, width)
    }

    /// The features of a batch: `features` the (normalised) observation vectors `[B, dim]`,
    /// `images` the camera's `[B, C, H, W]` bytes (for trunks that read images).
    pub(crate) fn forward(&self, features: &Tensor, images: Option<&Tensor>) -> Tensor {
        let images = || images.expect("a camera policy is given images");
        match self {
            Trunk::Vector(seq) => seq.forward(features),
            Trunk::Image(seq) => seq.forward(images()),
            Trunk::ImageLidar {
                camera,
                lidar,
                readings,
                middleware,
            } => {
                let joined = Tensor::cat(
                    &[
                        camera.forward(images()),
                        lidar.forward(&features.narrow(1, 0, *readings)),
                    ],
                    1,
                );
                middleware.forward(&joined)
            }
        }
    }
}

/// A linear layer `out` (a head on a trunk).
pub(crate) fn head(p: &nn::Path<'_>, input: i64, out: i64, gain: f64, init: WeightInit) -> nn::Linear {
    nn::linear(p / "out", input, out, init.linear(gain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deepracer_networks_have_deepracer_names_and_shapes() {
        let shallow = NetworkSpec::DeepConvolutionalNetworkShallow {};
        assert_eq!(shallow.name(), "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW");
        let l = shallow.cnn().unwrap();
        // 160 × 120: (120 − 8)/4 + 1 = 29, (160 − 8)/4 + 1 = 39; then 13 × 18; then 11 × 16.
        assert_eq!(conv_output(&l.convs, [1, 120, 160]).unwrap(), [64, 11, 16]);
        assert!(!l.shared);
        let deep = NetworkSpec::DeepConvolutionalNetwork {};
        assert_eq!(deep.name(), "DEEP_CONVOLUTIONAL_NETWORK");
        assert_eq!(
            conv_output(&deep.cnn().unwrap().convs, [2, 120, 160]).unwrap(),
            [64, 25, 35]
        );
        assert_eq!(
            conv_output(&NetworkSpec::camera_default().cnn().unwrap().convs, [1, 120, 160]).unwrap(),
            [32, 6, 8]
        );
    }

    #[test]
    fn a_cnn_needs_a_camera_big_enough_for_its_kernels() {
        let e = NetworkSpec::camera_default().validate(None).unwrap_err();
        assert!(e.contains("no camera"), "{e}");
        let e = NetworkSpec::DeepConvolutionalNetworkShallow {}
            .validate(Some([1, 20, 20]))
            .unwrap_err();
        assert!(e.contains("convs[2]") && e.contains("too small"), "{e}");
        assert!(NetworkSpec::default().validate(None).is_ok());
        let bad = NetworkSpec::Cnn {
            convs: vec![conv(0, 3, 1)],
            dense: vec![],
            activation: Activation::Relu,
        };
        assert!(bad.validate(Some([1, 120, 160])).unwrap_err().contains("convs[0]"));
    }

    #[test]
    fn config_files_name_the_networks() {
        #[derive(Deserialize)]
        struct W {
            network: NetworkSpec,
        }
        let w: W = toml::from_str("[network]\ntype = \"deep_convolutional_network_shallow\"\n").unwrap();
        assert_eq!(w.network, NetworkSpec::DeepConvolutionalNetworkShallow {});
        let w: W = toml::from_str("[network]\ntype = \"cnn\"\n").unwrap();
        assert_eq!(w.network, NetworkSpec::camera_default());
        let w: W =
            toml::from_str("[network]\ntype = \"cnn\"\nconvs = [{ filters = 8, kernel = 4, stride = 2 }]\n").unwrap();
        assert_eq!(w.network.name(), "CNN_8x4s2_256");
    }
}
