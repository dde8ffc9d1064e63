"""The ``interop.device`` object: where a tensor's data lives (imports nothing)."""

__all__ = ["device"]


class device:
    """``device("cpu")``, ``device("cuda:1")``, ``device("cuda", 1)``.

    Compares equal to another device with the same type and index, and to
    the string that names it (``t.device == "cpu"``).
    """

    __slots__ = ("type", "index", "_backend")

    def __init__(self, type, index=None):
        self._backend = None   # set on the device object a backend owns; routes creation there
        if isinstance(type, device):
            if index is not None:
                raise ValueError(f"device({type!r}, {index!r}): an index cannot be given with a device object")
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device() expected a string like 'cpu' or 'cuda:0', got {type!r}")
        name = type.strip()
        if ":" in name:
            if index is not None:
                raise ValueError(f"device({type!r}, {index!r}): the index is given twice")
            name, _, idx = name.partition(":")
            if not idx.isdigit():
                raise ValueError(f"device string {type!r}: expected '<type>:<index>' with a "
                                 f"non-negative integer index")
            index = int(idx)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device index must be a non-negative int, got {index!r}")
        if not name:
            raise ValueError(f"device string {type!r} names no device type")
        self.type = name
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (TypeError, ValueError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))
