"""``interop.nn.utils``: gradient clipping, parameter vectors, parametrizations (and the
older hook-based ``weight_norm`` / ``spectral_norm``) and the packed-sequence helpers of
recurrent layers, under PyTorch's names."""

from . import parametrize, parametrizations, rnn
from .clip_grad import (clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm,
                        clip_grads_with_norm_)
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .spectral_norm import spectral_norm, remove_spectral_norm
from .weight_norm import weight_norm, remove_weight_norm

__all__ = ["parametrize", "parametrizations", "rnn", "clip_grad_norm_", "clip_grad_norm",
           "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters", "weight_norm", "remove_weight_norm",
           "spectral_norm", "remove_spectral_norm"]
