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
    let bytes = safetensors::serialize(views, metadata).map_err(|e| format!("cannot encode: {e}"))?;
    Ok(canonical_header(bytes))
}

/// `bytes` with the safetensors header's JSON keys in sorted order. safetensors writes its
/// `__metadata__` map in a hash map's order, which differs from one write to the next: equal models
/// must be equal bytes. The header keeps its length (the same JSON reordered, padded with spaces
/// as safetensors pads it), so the tensors' offsets hold.
fn canonical_header(mut bytes: Vec<u8>) -> Vec<u8> {
    fn sorted(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<(String, serde_json::Value)> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(sorted).collect()),
            other => other,
        }
    }
    let Some(n) = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
    else {
        return bytes;
    };
    let Some(Ok(header)) = bytes.get(8..8 + n).map(std::str::from_utf8) else {
        return bytes;
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(header) else {
        return bytes;
    };
    let text = sorted(value).to_string();
    if text.len() <= n {
        let mut padded = text.into_bytes();
        padded.resize(n, b' ');
        bytes[8..8 + n].copy_from_slice(&padded);
    }
    bytes
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write() -> Vec<u8> {
        let metadata: std::collections::HashMap<String, String> =
            (0..12).map(|i| (format!("key{i}"), format!("value {i}"))).collect();
        let entries = vec![
            ("b".to_string(), (Dtype::F32, vec![2], vec![0u8; 8])),
            ("a".to_string(), (Dtype::F32, vec![1], vec![1u8; 4])),
        ];
        serialize(entries, Some(metadata)).unwrap()
    }

    /// Each write's metadata map has its own hash order; the bytes must not.
    #[test]
    fn equal_entries_and_metadata_are_equal_bytes_and_read_back() {
        let first = write();
        for _ in 0..8 {
            assert_eq!(write(), first);
        }
        let (_, header) = SafeTensors::read_metadata(&first).unwrap();
        let meta = header.metadata().as_ref().unwrap();
        assert_eq!((meta.len(), meta["key7"].as_str()), (12, "value 7"));
        let st = SafeTensors::deserialize(&first).unwrap();
        assert_eq!(st.tensor("a").unwrap().data(), &[1u8; 4]);
        assert_eq!(st.tensor("b").unwrap().shape(), &[2]);
    }
}
