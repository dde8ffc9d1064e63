"""``interop.special``: PyTorch's ``torch.special`` names for the special functions of
``interop._ops.special`` (values and gradients computed with standard functions only; see there
for the method and its accuracy), and the ones that are other names of existing ops."""

from ._ops.special import erf, erfc, erfcx, erfinv, expit, log_ndtr, logit, ndtr, ndtri, xlogy
from ._ops.unary import expm1, log1p

__all__ = ["erf", "erfc", "erfcx", "erfinv", "expit", "logit", "xlogy", "ndtr", "log_ndtr",
           "ndtri", "expm1", "log1p"]
