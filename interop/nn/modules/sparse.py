"""Embedding tables: ``Embedding`` and ``EmbeddingBag`` (with ``from_pretrained``), with
PyTorch's parameter names, N(0, 1) initialization (the padding row zeroed) and repr.
Gradients are dense: ``sparse=True`` is refused."""

import interop as it
from .module import Module
from .. import init
from ..functional import _linear as F
from ..parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


def _padding_row(padding_idx, num, cls):
    if padding_idx is None:
        return None
    if not -num <= padding_idx < num:
        raise ValueError(f"{cls}: padding_idx must be within num_embeddings ({-num} through "
                         f"{num - 1}), got {padding_idx}")
    return padding_idx + num if padding_idx < 0 else padding_idx


def _no_sparse(sparse, cls):
    if sparse:
        raise NotImplementedError(f"{cls}: sparse gradients (sparse=True) are not supported by "
                                  f"interop; use sparse=False (dense gradients)")


def _table(self, num_embeddings, embedding_dim, _weight, freeze, device, dtype, cls):
    """Sets ``self.weight``: a new N(0, 1) table, or ``_weight`` (shape checked) as is."""
    if _weight is None:
        self.weight = Parameter(it.empty((num_embeddings, embedding_dim), device=device,
                                         dtype=dtype), requires_grad=not freeze)
        self.reset_parameters()
    else:
        if tuple(_weight.shape) != (num_embeddings, embedding_dim):
            raise ValueError(f"{cls}: the shape of _weight {tuple(_weight.shape)} does not match "
                             f"(num_embeddings, embedding_dim) = ({num_embeddings}, "
                             f"{embedding_dim})")
        self.weight = Parameter(_weight, requires_grad=not freeze)


def _reset_table(self):
    init.normal_(self.weight)
    if self.padding_idx is not None:
        with it.no_grad():
            self.weight[self.padding_idx].fill_(0)


def _norm_options(m):
    """The max_norm, norm_type and scale_grad_by_freq parts of an embedding's repr (those not
    at their defaults), as PyTorch prints them."""
    s = ""
    if m.max_norm is not None:
        s += f", max_norm={m.max_norm}"
    if m.norm_type != 2:
        s += f", norm_type={m.norm_type}"
    if m.scale_grad_by_freq is not False:
        s += f", scale_grad_by_freq={m.scale_grad_by_freq}"
    return s


def _pretrained(embeddings):
    if not isinstance(embeddings, it.Tensor) or embeddings.ndim != 2:
        got = (f"shape {tuple(embeddings.shape)}" if isinstance(embeddings, it.Tensor)
               else type(embeddings).__name__)
        raise ValueError(f"from_pretrained: embeddings are expected to be a 2-d Tensor "
                         f"(num_embeddings, embedding_dim), got {got}")
    return embeddings.shape


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``: input
    integer indices (any shape), output their rows (``input.shape + (embedding_dim,)``).
    ``padding_idx``'s row starts at zero and gets no gradient; ``max_norm`` renormalizes
    looked-up rows in place."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        _no_sparse(sparse, "Embedding")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_row(padding_idx, num_embeddings, "Embedding")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        _table(self, num_embeddings, embedding_dim, _weight, _freeze, device, dtype, "Embedding")

    def reset_parameters(self):
        _reset_table(self)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        s += _norm_options(self)
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding over the 2-d tensor ``embeddings`` (shared, not copied; its padding
        row is kept as is); ``freeze`` stops its gradient."""
        rows, cols = _pretrained(embeddings)
        return cls(rows, cols, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=embeddings,
                   _freeze=freeze)


class EmbeddingBag(Module):
    """Sums, means or maxima (``mode``) of bags of embeddings: ``forward(input, offsets=None,
    per_sample_weights=None)`` as :func:`interop.nn.functional.embedding_bag`."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        _no_sparse(sparse, "EmbeddingBag")
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        self.padding_idx = _padding_row(padding_idx, num_embeddings, "EmbeddingBag")
        _table(self, num_embeddings, embedding_dim, _weight, False, device, dtype,
               "EmbeddingBag")

    def reset_parameters(self):
        _reset_table(self)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}" + _norm_options(self)
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """An EmbeddingBag over the 2-d tensor ``embeddings`` (shared, not copied);
        ``freeze`` stops its gradient."""
        rows, cols = _pretrained(embeddings)
        bag = cls(rows, cols, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  _weight=embeddings, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag
