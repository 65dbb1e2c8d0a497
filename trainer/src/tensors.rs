//! Tensors ↔ `.safetensors` entries, shared by the model file and the checkpoint: encoding a
//! tensor's bytes, and reading an entry back with its shape, dtype and finiteness checked.

use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};
use tch::{Device, Kind, Tensor};

/// An encoded entry: dtype, shape and little-endian bytes.
pub(crate) type Encoded = (Dtype, Vec<usize>, Vec<u8>);

/// Encode a tensor: `f64` and `i64` tensors keep their type, everything else is stored as `f32`.
pub(crate) fn encode(t: &Tensor) -> Encoded {
    let t = t.to_device(Device::Cpu).contiguous();
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let n = t.numel();
    match t.kind() {
        Kind::Double => {
            let mut v = vec![0f64; n];
            t.copy_data(&mut v, n);
            (Dtype::F64, shape, v.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
        Kind::Int64 => {
            let mut v = vec![0i64; n];
            t.copy_data(&mut v, n);
            (Dtype::I64, shape, v.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
        _ => {
            let t = t.to_kind(Kind::Float);
            let mut v = vec![0f32; n];
            t.copy_data(&mut v, n);
            (Dtype::F32, shape, v.iter().flat_map(|x| x.to_le_bytes()).collect())
        }
    }
}

/// Serialise named entries (sorted by name, so the bytes are reproducible) with `metadata`.
pub(crate) fn serialize(
    mut entries: Vec<(String, Encoded)>,
    metadata: Option<std::collections::HashMap<String, String>>,
) -> Result<Vec<u8>, String> {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let views: Vec<(String, TensorView<'_>)> = entries
        .iter()
        .map(|(name, (dtype, shape, data))| {
            let view = TensorView::new(*dtype, shape.clone(), data).expect("consistent tensor");
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize(views, metadata).map_err(|e| format!("cannot encode: {e}"))
}

/// Read the `f32` entry `name`, which must have `shape` (`None`: any 1-D shape) and hold only
/// finite values. Errors name the entry and what was expected.
pub(crate) fn read_f32(st: &SafeTensors<'_>, name: &str, shape: Option<&[usize]>) -> Result<Tensor, String> {
    let view = st.tensor(name).map_err(|_| format!("tensor '{name}' is missing"))?;
    match shape {
        Some(shape) if view.shape() != shape => {
            return Err(format!(
                "tensor '{name}' has shape {:?}, expected {shape:?}",
                view.shape()
            ));
        }
        None if view.shape().len() != 1 => {
            return Err(format!("tensor '{name}' has shape {:?}, expected 1-D", view.shape()));
        }
        _ => {}
    }
    if view.dtype() != Dtype::F32 {
        return Err(format!("tensor '{name}' has dtype {:?}, expected F32", view.dtype()));
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(format!("tensor '{name}' holds a non-finite value at element {i}"));
    }
    let dims: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
    Ok(Tensor::from_slice(&values).reshape(dims))
}

/// Camera images (`u8`, `shape` = `[B, C, H, W]`) as a tensor on `device`.
pub(crate) fn images(bytes: &[u8], shape: [i64; 4], device: Device) -> Tensor {
    Tensor::from_slice(bytes).view(shape).to_device(device)
}

/// Copy `bytes` into `dst` (a contiguous `u8` tensor of as many elements, on any device): one copy,
/// host → device, with no intermediate host allocation (the rollout's per-step image store).
pub(crate) fn copy_bytes_into(dst: &Tensor, bytes: &[u8]) {
    assert_eq!(dst.numel(), bytes.len(), "image bytes");
    assert_eq!(dst.kind(), Kind::Uint8);
    // SAFETY: `src` views `bytes` (contiguous, `len` elements of one byte) and is dropped before
    // this function returns; `copy_` is synchronous for pageable host memory.
    let src = unsafe { Tensor::from_blob(bytes.as_ptr(), &[bytes.len() as i64], &[1], Kind::Uint8, Device::Cpu) };
    dst.view([-1]).copy_(&src);
}
