"""``interop.utils.tensorboard``: TensorBoard logging as ``torch.utils.tensorboard``.

``SummaryWriter`` writes standard event files through the ``tensorboard`` package (an
optional dependency: ``pip install "interop[tensorboard]"``); images need Pillow.
Importing this module works without them; constructing a writer says what to install.
"""

from .writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter"]
