"""``interop.nn.utils``: gradient clipping, parameter vectors, parametrizations and the
packed-sequence helpers of recurrent layers, under PyTorch's names."""

from . import parametrize, parametrizations, rnn
from .clip_grad import (clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm,
                        clip_grads_with_norm_)
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["parametrize", "parametrizations", "rnn", "clip_grad_norm_", "clip_grad_norm",
           "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
           "parameters_to_vector", "vector_to_parameters"]
