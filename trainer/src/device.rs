//! Choosing where the learner's tensors live. The PyPI libtorch is a CUDA build: the same binary uses
//! a GPU where a driver is present and the CPU otherwise.

use std::str::FromStr;

use tch::Device;

use crate::error::TrainError;

/// `--device auto|cpu|cuda|cuda:N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceChoice {
    /// CUDA device 0 if available, else the CPU.
    Auto,
    Cpu,
    Cuda(usize),
}

impl FromStr for DeviceChoice {
    type Err = TrainError;
    fn from_str(s: &str) -> Result<Self, TrainError> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(DeviceChoice::Cuda(n)),
                _ => Err(TrainError::option(
                    "--device",
                    format!("expected auto, cpu, cuda or cuda:N, got {s:?}"),
                )),
            },
        }
    }
}

impl DeviceChoice {
    /// Resolve to a device, or explain why the requested GPU cannot be used.
    pub fn resolve(self) -> Result<Device, TrainError> {
        match self {
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Cuda(n) => {
                if !tch::Cuda::is_available() {
                    return Err(TrainError::Device(
                        "CUDA was requested but no CUDA device is available (no NVIDIA GPU or driver found); use --device cpu or auto"
                            .into(),
                    ));
                }
                let count = tch::Cuda::device_count() as usize;
                if n >= count {
                    return Err(TrainError::Device(format!(
                        "cuda:{n} was requested but only {count} CUDA device(s) exist"
                    )));
                }
                Ok(Device::Cuda(n))
            }
        }
    }
}

/// Keep the memory of freed CPU tensors in the process instead of handing it back to the OS.
///
/// A PPO update allocates and frees the same few-hundred-kilobyte activations for every minibatch.
/// glibc's defaults return such blocks to the kernel (`munmap`, or trimming the heap's top) as soon
/// as they are freed, so the next minibatch page-faults them back in, zeroed: 1.6 M page faults and
/// ~5 s of system time per 1.5 M training steps on the default configuration. With blocks below
/// 32 MiB served from the heap and up to 256 MiB of free heap kept, training on the CPU is ~15 %
/// faster (BENCHMARKS.md). Process-wide; call it once at start-up, before threads start. A no-op
/// where the C library is not glibc.
pub fn keep_freed_tensor_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's thresholds; it is called before other threads run.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// A short name for a device (`cpu`, `cuda:0`).
pub fn device_name(d: Device) -> String {
    match d {
        Device::Cpu => "cpu".into(),
        Device::Cuda(n) => format!("cuda:{n}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        assert_eq!("cuda:1".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cuda(1));
        let e = "tpu".parse::<DeviceChoice>().unwrap_err().to_string();
        assert!(e.contains("--device") && e.contains("tpu"), "{e}");
        assert_eq!(DeviceChoice::Cpu.resolve().unwrap(), Device::Cpu);
        if !tch::Cuda::is_available() {
            let e = DeviceChoice::Cuda(0).resolve().unwrap_err().to_string();
            assert!(e.contains("no CUDA device"), "{e}");
        }
    }
}
