"""Variable-length sequences for the recurrent layers, as PyTorch's ``nn.utils.rnn``.

A :class:`PackedSequence` stores a batch of sequences time step by time step: ``data``
holds, for each step ``t``, the ``batch_sizes[t]`` sequences still running at ``t`` (the
batch sorted by decreasing length), so a recurrent layer never computes on padding.
``sorted_indices`` maps sorted position to original batch index (None when the batch came
sorted) and ``unsorted_indices`` is its inverse. Packing and padding are slices and joins of
the data, so gradients flow through them.
"""

from collections import namedtuple

import interop as it

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence_",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """``PackedSequence(data, batch_sizes, sorted_indices=None, unsorted_indices=None)``.

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence` rather than by hand.
    ``unsorted_indices`` is computed from ``sorted_indices`` when left out.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:      # the legacy form: one (data, batch_sizes) pair
            data, batch_sizes = data
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = it.argsort(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data):
        if data is self.data:
            return self
        move = (lambda t: t if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def to(self, *args, **kwargs):
        """The data moved or cast as ``Tensor.to``; the indices follow the data's device."""
        return self._with_data(self.data.to(*args, **kwargs))

    def cuda(self, *args, **kwargs):
        return self._with_data(self.data.cuda(*args, **kwargs))

    def cpu(self):
        return self._with_data(self.data.cpu())

    def double(self):
        return self._with_data(self.data.double())

    def float(self):
        return self._with_data(self.data.float())

    def half(self):
        return self._with_data(self.data.half())

    def long(self):
        return self._with_data(self.data.long())

    def int(self):
        return self._with_data(self.data.int())

    def short(self):
        return self._with_data(self.data.short())

    @property
    def is_cuda(self):
        return self.data.is_cuda


def _lengths_list(lengths, who):
    """``lengths`` (a sequence of ints or a 1-D integer tensor) as a list of Python ints."""
    if isinstance(lengths, it.Tensor):
        if lengths.ndim != 1 or lengths.dtype.is_floating_point or lengths.dtype == it.bool:
            raise TypeError(f"{who}: expected lengths as a 1-D integer tensor or a list of ints, "
                            f"got a {lengths.ndim}-D tensor of {lengths.dtype}")
        return lengths.tolist()
    out = list(lengths)
    for n in out:
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"{who}: expected lengths as ints, got {out!r}")
    return out


def _batch_sizes(lengths):
    """How many of the (decreasingly sorted) ``lengths`` exceed each step ``t``."""
    sizes, b = [], len(lengths)
    for t in range(lengths[0] if lengths else 0):
        while lengths[b - 1] <= t:
            b -= 1
        sizes.append(b)
    return sizes


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with
    ``batch_first``), ``T = max L_i``, filling with ``padding_value`` on ``padding_side``."""
    who = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise ValueError(f"{who}: expected padding_side to be 'left' or 'right', got "
                         f"{padding_side!r}")
    if isinstance(sequences, it.Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise ValueError(f"{who}: received an empty list of sequences")
    first = sequences[0]
    for i, s in enumerate(sequences):
        if not isinstance(s, it.Tensor):
            raise TypeError(f"{who}: expected a list of Tensors, got a {type(s).__name__} at "
                            f"position {i}")
        if s.ndim < 1 or tuple(s.shape[1:]) != tuple(first.shape[1:]):
            raise it.ShapeError(f"{who}: expected every sequence of shape (L, "
                                f"{', '.join(map(str, first.shape[1:]))}) like the first "
                                f"{tuple(first.shape)}, got {tuple(s.shape)} at position {i}")
    T = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        if s.dtype != first.dtype:
            s = it.astype(s, first.dtype)
        n = T - s.shape[0]
        if n:
            fill = s.new_full((n, *s.shape[1:]), padding_value)
            s = it.concat([s, fill] if padding_side == "right" else [fill, s], axis=0)
        rows.append(s)
    return it.stack(rows, axis=0 if batch_first else 1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of
    the given ``lengths``. With ``enforce_sorted`` the lengths must be non-increasing; else
    the batch is sorted here and the order is kept in the result's indices."""
    who = "pack_padded_sequence"
    lengths = _lengths_list(lengths, who)
    if input.ndim < 2:
        raise it.ShapeError(f"{who}: expected a padded batch with at least 2 dims (T, B, *), got "
                            f"shape {tuple(input.shape)}")
    if batch_first:
        input = input.transpose(0, 1)
    T, B = input.shape[0], input.shape[1]
    if len(lengths) != B:
        raise it.ShapeError(f"{who}: expected len(lengths) to be equal to batch_size, but got "
                            f"{len(lengths)} (batch_size={B})")
    if B == 0:
        raise ValueError(f"{who}: expected at least one sequence, got an empty batch")
    if min(lengths) <= 0:
        raise ValueError(f"{who}: length of all samples has to be greater than 0, got lengths "
                         f"{lengths}")
    if max(lengths) > T:
        raise ValueError(f"{who}: a length ({max(lengths)}) exceeds the padded sequence length "
                         f"{T} of input {tuple(input.shape)}")
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(f"{who}: `lengths` array must be sorted in decreasing order when "
                               f"`enforce_sorted` is True, got {lengths}. You can pass "
                               f"`enforce_sorted=False` to pack_padded_sequence and/or "
                               f"pack_sequence to sidestep this requirement if you do not need "
                               f"ONNX exportability.")
    else:
        order = sorted(range(B), key=lambda b: -lengths[b])
        lengths = [lengths[b] for b in order]
        sorted_indices = input.new_tensor(order, dtype=input.backend.default_int)
        input = it.index_select(input, 1, sorted_indices)
    sizes = _batch_sizes(lengths)
    data = it.concat([input[t, :n] for t, n in enumerate(sizes)], axis=0)
    return PackedSequence(data, input.new_tensor(sizes, dtype=input.backend.default_int), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo :func:`pack_padded_sequence`: ``(padded, lengths)``, padded ``(T, B, *)`` (``(B, T,
    *)`` with ``batch_first``) in the original batch order, ``T`` the longest length or
    ``total_length``; lengths an int64 tensor."""
    data, sizes_t = sequence.data, sequence.batch_sizes
    sizes = sizes_t.tolist()
    T, B = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: expected total_length to be at least the "
                             f"length of the longest sequence in input, but got total_length="
                             f"{total_length} and max sequence length being {T}")
    else:
        total_length = T
    feat = tuple(data.shape[1:])
    pieces, start = [], 0
    for n in sizes:
        pieces.append(data[start:start + n])
        if n < B:
            pieces.append(data.new_full((B - n, *feat), padding_value))
        start += n
    if total_length > T:
        pieces.append(data.new_full(((total_length - T) * B, *feat), padding_value))
    padded = it.concat(pieces, axis=0).reshape(total_length, B, *feat)
    lengths = it.sum(sizes_t[None, :] > it.arange(B, device=sizes_t.device)[:, None], axis=1,
                     dtype=sizes_t.backend.default_int)
    if sequence.unsorted_indices is not None:
        padded = it.index_select(padded, 1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices]
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors ``(L_i, *)`` (by decreasing length unless ``enforce_sorted`` is
    False)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences ``(L_i, *)`` in a padded batch, cut to their ``lengths``."""
    lengths = _lengths_list(lengths, "unpad_sequence")
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :n] for i, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """The list of sequences in a :class:`PackedSequence`, in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
