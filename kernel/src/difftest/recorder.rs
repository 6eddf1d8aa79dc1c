//! [`Tap`]s that keep layer outputs: every activation layer's ([`Recorder`], what localization
//! votes on), or every layer a deployment runs under MPC as a nonlinear one, batch norms
//! included ([`LayerRecorder`]).

use super::plan::nonlinear_layers;
use crate::error::{Error, Result};
use crate::nn::deploy::Deployment;
use crate::nn::forward::Tap;
use crate::nn::model::Model;
use crate::nn::spec::LAYERS_MAX;

/// The recorder taps activations only (a folded deployment has no batch norm under MPC).
const ACTIVATIONS_ONLY: Deployment = Deployment::Folded;

/// Records the activation layers of one forward pass into one flat buffer, layer after layer
/// in spec order, each `batch × neurons` values.
pub struct Recorder<'b> {
    /// Per spec layer: where its values start in `buf` (`usize::MAX` if not recorded).
    starts: [usize; LAYERS_MAX],
    buf: &'b mut [f64],
}

impl<'b> Recorder<'b> {
    /// Values a recorder needs for `batch` samples of `model`.
    pub fn len(model: &Model<'_>, batch: usize) -> usize {
        nonlinear_layers(model, ACTIVATIONS_ONLY).fold(0usize, |acc, l| {
            acc.saturating_add(l.neurons.saturating_mul(batch))
        })
    }

    /// A recorder writing into `buf` (at least [`Recorder::len`] long).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn new(model: &Model<'_>, batch: usize, buf: &'b mut [f64]) -> Result<Self> {
        let need = Self::len(model, batch);
        if buf.len() < need {
            return Err(Error::BufferTooSmall {
                needed: need,
                got: buf.len(),
            });
        }
        let mut starts = [usize::MAX; LAYERS_MAX];
        let mut at = 0;
        for l in nonlinear_layers(model, ACTIVATIONS_ONLY) {
            starts[l.index] = at;
            at = at.saturating_add(l.neurons.saturating_mul(batch));
        }
        Ok(Recorder { starts, buf })
    }
}

impl Tap for Recorder<'_> {
    fn activation(&mut self, index: usize, _layer: &str, offset: usize, values: &[f64]) {
        let Some(&start) = self.starts.get(index) else {
            return;
        };
        if start == usize::MAX {
            return;
        }
        // Offsets past the buffer (or past `usize`) are not this recorder's: ignored.
        let Some(at) = start.checked_add(offset) else {
            return;
        };
        let Some(end) = at.checked_add(values.len()) else {
            return;
        };
        if let Some(dst) = self.buf.get_mut(at..end) {
            dst.copy_from_slice(values);
        }
    }
}

/// Records the outputs of every layer `deploy` runs under MPC as a nonlinear layer (the
/// activations and the batch norms it does not fuse away: [`nonlinear_layers`]) into one flat
/// buffer, layer after layer in spec order, each `batch ×` its output length.
pub struct LayerRecorder<'b> {
    /// Per spec layer: where its values start in `buf` (`usize::MAX` if not recorded).
    starts: [usize; LAYERS_MAX],
    buf: &'b mut [f64],
}

/// One sample's output length of layer `index`.
fn output_len(model: &Model<'_>, index: usize) -> usize {
    model.shapes.get(index).map_or(0, |s| s.len())
}

impl<'b> LayerRecorder<'b> {
    /// Values a recorder needs for `batch` samples of `model` under `deploy`.
    pub fn len(model: &Model<'_>, deploy: Deployment, batch: usize) -> usize {
        nonlinear_layers(model, deploy).fold(0usize, |acc, l| {
            acc.saturating_add(output_len(model, l.index).saturating_mul(batch))
        })
    }

    /// A recorder writing into `buf` (at least [`LayerRecorder::len`] long).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn new(
        model: &Model<'_>,
        deploy: Deployment,
        batch: usize,
        buf: &'b mut [f64],
    ) -> Result<Self> {
        let need = Self::len(model, deploy, batch);
        if buf.len() < need {
            return Err(Error::BufferTooSmall {
                needed: need,
                got: buf.len(),
            });
        }
        let mut starts = [usize::MAX; LAYERS_MAX];
        let mut at = 0usize;
        for l in nonlinear_layers(model, deploy) {
            if let Some(slot) = starts.get_mut(l.index) {
                *slot = at;
            }
            at = at.saturating_add(output_len(model, l.index).saturating_mul(batch));
        }
        Ok(LayerRecorder { starts, buf })
    }
}

impl Tap for LayerRecorder<'_> {
    fn activation(&mut self, _index: usize, _layer: &str, _offset: usize, _values: &[f64]) {}

    fn wants_layers(&self) -> bool {
        true
    }

    fn layer(&mut self, index: usize, _layer: &str, offset: usize, values: &[f64]) {
        let Some(&start) = self.starts.get(index) else {
            return;
        };
        if start == usize::MAX {
            return;
        }
        let Some(at) = start.checked_add(offset) else {
            return;
        };
        let Some(end) = at.checked_add(values.len()) else {
            return;
        };
        if let Some(dst) = self.buf.get_mut(at..end) {
            dst.copy_from_slice(values);
        }
    }
}
