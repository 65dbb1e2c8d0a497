//! Where a race writes its SIM_TRACE_LOG CSV: a file, or memory the caller keeps (the league reads
//! a race's trace without a temporary file).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use slipstream_sim::StepBuffers;
use slipstream_sim::trace::TraceWriter;

use crate::error::TrainError;

/// Where a race's trace goes.
#[derive(Clone, Debug)]
pub enum TraceTo {
    /// A file (created, or truncated).
    File(PathBuf),
    /// Memory shared with the caller: [`TraceBuffer::take`] once the race is finished.
    Buffer(TraceBuffer),
}

impl From<PathBuf> for TraceTo {
    fn from(p: PathBuf) -> Self {
        TraceTo::File(p)
    }
}

/// An in-memory trace (a cheap handle: clones share the bytes).
#[derive(Clone, Debug, Default)]
pub struct TraceBuffer(Arc<Mutex<Vec<u8>>>);

impl TraceBuffer {
    /// The bytes written so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Write for TraceBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An open trace: rows written as a race steps, errors naming where it goes.
pub(crate) struct Trace {
    to: TraceTo,
    w: TraceWriter<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace").field("to", &self.to).finish_non_exhaustive()
    }
}

impl Trace {
    /// Open `to` and write the header.
    pub(crate) fn open(to: &TraceTo) -> Result<Self, TrainError> {
        let sink: Box<dyn Write + Send> = match to {
            TraceTo::File(p) => Box::new(BufWriter::new(
                File::create(p).map_err(|e| TrainError::file(p, format!("cannot create trace: {e}")))?,
            )),
            TraceTo::Buffer(b) => Box::new(b.clone()),
        };
        let w = TraceWriter::new(sink).map_err(|e| write_error(to, e))?;
        Ok(Trace { to: to.clone(), w })
    }

    fn check(&self, r: std::io::Result<()>) -> Result<(), TrainError> {
        r.map_err(|e| write_error(&self.to, e))
    }

    /// Car `car`'s prepare row after a reset.
    pub(crate) fn record_reset(&mut self, out: &StepBuffers, car: usize) -> Result<(), TrainError> {
        let r = self.w.record_reset(out, car);
        self.check(r)
    }

    /// Car `car`'s row for the step just taken.
    pub(crate) fn record_step(&mut self, out: &StepBuffers, car: usize) -> Result<(), TrainError> {
        let r = self.w.record_step(out, car);
        self.check(r)
    }

    pub(crate) fn flush(&mut self) -> Result<(), TrainError> {
        let r = self.w.flush();
        self.check(r)
    }
}

fn write_error(to: &TraceTo, e: std::io::Error) -> TrainError {
    match to {
        TraceTo::File(p) => TrainError::file(p, format!("cannot write trace: {e}")),
        // Memory does not refuse a write.
        TraceTo::Buffer(_) => TrainError::Internal(format!("writing a trace to memory: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_holds_what_was_written_until_taken() {
        let b = TraceBuffer::default();
        let mut w = b.clone();
        w.write_all(b"episode,steps\n").unwrap();
        assert_eq!(b.take(), b"episode,steps\n");
        assert!(b.take().is_empty());
    }

    #[test]
    fn a_file_that_cannot_be_created_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing-folder").join("trace.csv");
        let e = Trace::open(&TraceTo::File(p)).unwrap_err().to_string();
        assert!(e.contains("missing-folder") && e.contains("cannot create trace"), "{e}");
    }
}
