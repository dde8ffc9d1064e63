"""The optional packages this writer stands on, imported once here: ``tensorboard`` (its
event-file writer and protocol buffers) and Pillow (PNG encoding, as torch's writer uses
it; Pillow is also a dependency of matplotlib). Each is ``None`` when it is missing, and
:func:`require` says what to install."""

try:
    from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
    from tensorboard.compat.proto import graph_pb2, node_def_pb2, attr_value_pb2, versions_pb2
    from tensorboard.plugins.hparams import api_pb2 as hparams_api_pb2
    from tensorboard.plugins.hparams import metadata as hparams_metadata
    from tensorboard.plugins.hparams import plugin_data_pb2 as hparams_plugin_data_pb2
    from tensorboard.plugins.text import plugin_data_pb2 as text_plugin_data_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from google.protobuf import struct_pb2
    TENSORBOARD_ERROR = None
except ImportError as e:     # the tensorboard extra is not installed
    TENSORBOARD_ERROR = e

try:
    from PIL import Image as PILImage
    PILLOW_ERROR = None
except ImportError as e:
    PILImage = None
    PILLOW_ERROR = e


def require(what, who):
    """Raise ModuleNotFoundError naming the package to install when ``what`` ("tensorboard"
    or "pillow") could not be imported."""
    err = TENSORBOARD_ERROR if what == "tensorboard" else PILLOW_ERROR
    if err is None:
        return
    pkg = "tensorboard" if what == "tensorboard" else "Pillow"
    raise ModuleNotFoundError(
        f"{who} needs the {pkg!r} package, which could not be imported ({err}); install it "
        f"with `pip install {pkg.lower()}` or `pip install \"interop[tensorboard]\"`")
