"""``interop.distributions``: PyTorch's ``torch.distributions`` for the distributions VAE and
reinforcement-learning code reaches for, written against ``import interop as it``.

``Normal``, ``Uniform`` and ``MultivariateNormal`` have ``rsample`` (reparameterised,
differentiable in their parameters); ``Bernoulli`` and ``Categorical`` take ``probs`` or
``logits``; ``Independent`` turns batch dims into event dims; ``kl_divergence`` dispatches
through the ``register_kl`` registry. Samples come from interop's generator, so
``it.manual_seed`` makes them reproducible (they are not PyTorch's numbers).
"""

from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = ["Distribution", "Normal", "Bernoulli", "Categorical", "Uniform",
           "MultivariateNormal", "Independent", "kl_divergence", "register_kl", "constraints"]
