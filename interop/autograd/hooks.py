"""Hook registration handles."""

import itertools

__all__ = ["RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """Returned by ``register_hook``; ``handle.remove()`` unregisters the hook."""

    __slots__ = ("_dict", "id")

    def __init__(self, hooks_dict, fn):
        self.id = next(_ids)
        self._dict = hooks_dict
        hooks_dict[self.id] = fn

    def remove(self):
        if self._dict is not None:
            self._dict.pop(self.id, None)
            self._dict = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False
