"""``Distribution``: the base class, with PyTorch's contract.

A distribution holds a batch of independent distributions (``batch_shape``), each over
events of shape ``event_shape``. ``sample(sample_shape)`` draws a tensor of shape
``sample_shape + batch_shape + event_shape`` outside the graph; ``rsample`` draws the same
through the reparameterisation trick (a differentiable function of the parameters and of
noise from interop's generator, so ``it.manual_seed`` makes it reproducible);
``log_prob(value)`` has shape ``batch_shape`` broadcast with ``value``'s leading dims.

With ``validate_args`` (the default, as PyTorch's under ``__debug__``) the parameters are
checked against ``arg_constraints`` when the distribution is built, and ``log_prob``'s
value against the event shape and ``support``, raising PyTorch's ``ValueError``s.
"""

import interop as it
from . import constraints
from .utils import lazy_property

__all__ = ["Distribution"]


def _size(shape, what):
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{what}: expected a shape (a tuple of ints), got "
                        f"{type(shape).__name__}") from None
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise TypeError(f"{what}: expected a shape of non-negative ints, got {shape!r}")
    return it.Size(shape)


class Distribution:
    """Base class of probability distributions."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Whether new distributions check their arguments by default (PyTorch: True under
        ``__debug__``)."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = _size(batch_shape, "batch_shape")
        self._event_shape = _size(event_shape, "event_shape")
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(getattr(type(self), param, None),
                                                             lazy_property):
                    continue        # the parameter given in the other form is checked
                value = getattr(self, param)
                if not bool(constraint.check(value).all()):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {constraint!r}, but found invalid values:\n{value}")

    def expand(self, batch_shape, _instance=None):
        """This distribution with its parameters broadcast to ``batch_shape`` (no copy)."""
        raise NotImplementedError(f"{type(self).__name__}.expand is not implemented")

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    @property
    def arg_constraints(self):
        """Parameter name -> :class:`~interop.distributions.constraints.Constraint`."""
        raise NotImplementedError

    @property
    def support(self):
        """The :class:`Constraint` of this distribution's values."""
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} has no mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} has no variance")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def sample(self, sample_shape=()):
        """A sample of shape ``sample_shape + batch_shape + event_shape``, not differentiable
        (a batch of samples when ``sample_shape`` is not empty)."""
        with it.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        """A reparameterised sample: gradients flow into the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample (it is not "
                                  f"reparameterizable); use sample()")

    def sample_n(self, n):
        return self.sample(it.Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def enumerate_support(self, expand=True):
        raise NotImplementedError(f"{type(self).__name__} has no enumerable support")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def perplexity(self):
        return it.exp(self.entropy())

    def _extended_shape(self, sample_shape=()):
        return it.Size(tuple(_size(sample_shape, "sample_shape")) + tuple(self._batch_shape)
                       + tuple(self._event_shape))

    def _validate_sample(self, value):
        """PyTorch's checks of a ``log_prob`` argument: a tensor, the event shape on the
        right, broadcastable with the batch shape, within the support."""
        if not isinstance(value, it.Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.ndim - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        actual = value.shape
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{actual} vs {it.Size(expected)}.")
        try:
            support = self.support
        except NotImplementedError:
            return
        if not bool(support.check(value).all()):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape "
                             f"{tuple(value.shape)}) to be within the support ({support!r}) of "
                             f"the distribution {self!r}, but found invalid values:\n{value}")

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                f"__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{p}: {self.__dict__[p] if self.__dict__[p].numel() == 1 else self.__dict__[p].shape}"
                         for p in names)
        return f"{type(self).__name__}({args})"
