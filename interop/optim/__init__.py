"""``interop.optim``: PyTorch's optimizers and learning-rate schedulers, written against the
interop namespace only, so they run on every backend. Parameter groups, ``state_dict``
layouts, defaults and error messages are PyTorch's; a PyTorch optimizer's state_dict
(tensors converted) loads here and ours loads there."""

from .optimizer import (Optimizer, required, register_optimizer_step_pre_hook,
                        register_optimizer_step_post_hook)
from .sgd import SGD, ASGD
from .adam import Adam, AdamW, Adamax, NAdam, RAdam, SparseAdam
from .adaptive import Adagrad, Adadelta, RMSprop, Rprop
from .lbfgs import LBFGS
from . import lr_scheduler

__all__ = ["Optimizer", "required", "SGD", "ASGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
           "SparseAdam", "Adagrad", "Adadelta", "RMSprop", "Rprop", "LBFGS", "lr_scheduler",
           "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]
