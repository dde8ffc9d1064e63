"""Summary protocol buffers from values, in the layout ``torch.utils.tensorboard`` writes.

Values are interop tensors on any backend, NumPy arrays, anything ``interop.asarray``
takes (DLPack exporters such as torch tensors), or Python numbers. The numerical work runs
on the value's own backend through the interop namespace; only what goes into a protocol
buffer comes to the host (a histogram's counts, an image's uint8 pixels).

Every function takes ``who`` (``"add_image('x')"``), the call to name in an error.
"""

import io
import math
import numbers
import operator

import interop as it

from . import _tb

__all__ = ["as_tensor", "scalar_value", "scalar", "histogram", "default_bins", "image", "text",
           "hparams", "check_step", "check_tag"]


def check_tag(tag, who):
    if not isinstance(tag, str):
        raise TypeError(f"{who}: expected the tag as a str, got {type(tag).__name__} {tag!r}")
    return tag


def check_step(step, who):
    """``global_step`` as an int (None stays None): an int, a NumPy integer or a 0-d integer
    tensor; a float is refused rather than truncated."""
    if step is None:
        return None
    if isinstance(step, bool):
        raise TypeError(f"{who}: global_step must be an integer, got the bool {step!r}")
    try:
        return operator.index(step)
    except TypeError:
        raise TypeError(f"{who}: global_step must be an integer, got "
                        f"{type(step).__name__} {step!r}") from None


def as_tensor(value, who):
    """An interop tensor (detached) for ``value``."""
    if isinstance(value, it.Tensor):
        return value.detach()
    if value is None or isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{who}: expected an interop tensor, a NumPy array or a number, got "
                        f"{type(value).__name__} {value!r:.60}")
    try:
        return it.asarray(value)
    except Exception as e:
        raise TypeError(f"{who}: expected an interop tensor, a NumPy array or a number, got "
                        f"{type(value).__name__} ({e})") from e


def _real(t, who, what="values"):
    if t.dtype.is_complex:
        raise TypeError(f"{who}: expected real {what}, got a complex tensor ({t.dtype.name}); "
                        f"log .real and .imag (or .abs()) separately")
    return t


# ---------------------------------------------------------------------------------- scalars

def scalar_value(value, who):
    """A Python float from a number or a one-element tensor/array of any shape."""
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, complex):
        raise TypeError(f"{who}: expected a real number, got the complex {value!r}")
    t = _real(as_tensor(value, who), who, "scalar")
    if t.numel() != 1:
        raise ValueError(f"{who}: expected a single value (a number or a tensor with one "
                         f"element), got a tensor of shape {tuple(t.shape)} with "
                         f"{t.numel()} elements")
    return float(t.reshape(()).item())


def scalar(tag, value, who, new_style=False, double_precision=False):
    v = scalar_value(value, who)
    Summary = _tb.summary_pb2.Summary
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=v)])
    TensorProto = _tb.tensor_pb2.TensorProto
    proto = (TensorProto(double_val=[v], dtype="DT_DOUBLE") if double_precision
             else TensorProto(float_val=[v], dtype="DT_FLOAT"))
    meta = _tb.summary_pb2.SummaryMetadata(
        plugin_data=_tb.summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=meta)])


# ------------------------------------------------------------------------------ histograms

def default_bins():
    """TensorFlow's (and torch.utils.tensorboard's) default bucket edges: +-1e-12 growing by
    a factor 1.1 up to 1e20, mirrored, with 0 in the middle (1,549 edges)."""
    pos = []
    v = 1e-12
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-x for x in reversed(pos)] + [0] + pos


_DEFAULT_BINS = None
# NumPy's bin estimators (numpy.histogram_bin_edges), which torch's writer passes through.
_ESTIMATORS = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")


def _bins(bins, who):
    global _DEFAULT_BINS
    if isinstance(bins, str):
        if bins == "tensorflow":
            if _DEFAULT_BINS is None:
                _DEFAULT_BINS = default_bins()
            return _DEFAULT_BINS
        if bins in _ESTIMATORS:
            return bins
        raise ValueError(f"{who}: bins must be 'tensorflow', one of NumPy's estimators "
                         f"{', '.join(map(repr, _ESTIMATORS))}, a number of bins or the bin "
                         f"edges; got {bins!r}")
    if isinstance(bins, bool):
        raise TypeError(f"{who}: bins must be a positive int, a str or bin edges, got {bins!r}")
    if isinstance(bins, numbers.Integral):
        bins = int(bins)
        if bins < 1:
            raise ValueError(f"{who}: bins must be a positive number of bins, got {bins}")
        return bins
    edges = _real(as_tensor(bins, who), who, "bin edges")
    if edges.ndim != 1 or edges.shape[0] < 2:
        raise ValueError(f"{who}: bin edges must be 1-D with at least 2 entries, got shape "
                         f"{tuple(edges.shape)}")
    edges = [float(e) for e in edges.tolist()]
    bad = [i for i in range(len(edges) - 1) if not edges[i] <= edges[i + 1]]
    if bad or not all(math.isfinite(e) for e in edges):
        raise ValueError(f"{who}: bin edges must be finite and increasing, got {edges[:8]}"
                         f"{' ...' if len(edges) > 8 else ''}")
    return edges


def _subsample(counts, edges, max_bins):
    """Merge runs of adjacent buckets so that at most ``max_bins`` remain (torch's rule:
    groups of ``len // max_bins`` buckets, the last group padded with empty ones)."""
    n = len(counts)
    if max_bins is None or n <= max_bins:
        return counts, edges
    k = n // max_bins
    counts = counts + [0] * ((k - n % k) % k)
    merged = [sum(counts[i:i + k]) for i in range(0, len(counts), k)]
    return merged, edges[:-1:k] + [edges[-1]]


def histogram(tag, values, bins, max_bins, who):
    """A HistogramProto summary whose buckets equal ``numpy.histogram(values, bins)`` trimmed
    to the support as torch's writer does: from one empty bucket left of the first non-empty
    one (TensorBoard stores only right edges) to the last non-empty one."""
    t = _real(as_tensor(values, who), who)
    if t.numel() == 0:
        raise ValueError(f"{who}: the values are empty (shape {tuple(t.shape)}); a histogram "
                         f"needs at least one value")
    if max_bins is not None and (isinstance(max_bins, bool) or not isinstance(max_bins, int)
                                 or max_bins < 1):
        raise ValueError(f"{who}: max_bins must be None or a positive int, got {max_bins!r}")
    b = _bins(bins, who)
    t = it.astype(t.reshape(-1), it.float64)
    bad = int(it.count_nonzero(it.logical_not(it.isfinite(t))))
    if bad:
        # torch's writer would drop them from the buckets and write NaN as min/max/sum;
        # TensorFlow's histogram op refuses them, and so does this one.
        raise ValueError(f"{who}: {bad} of the {t.numel()} values are NaN or infinite; a "
                         f"histogram needs finite values")
    try:
        counts, edges, lo, hi, total, squares = it.backends.host_histogram(t.cpu(), b)
    except (ValueError, MemoryError) as e:     # an estimator asking for too many bins
        raise ValueError(f"{who}: numpy.histogram(values, bins={bins!r}) failed: {e}") from e
    counts, edges = _subsample(counts, edges, max_bins)
    nonzero = [i for i, c in enumerate(counts) if c > 0]
    if not nonzero:
        raise ValueError(f"{who}: none of the {t.numel()} values (min {lo}, max {hi}) falls "
                         f"inside the bins, which span [{edges[0]}, {edges[-1]}]")
    start, end = nonzero[0], nonzero[-1] + 1
    counts = counts[start - 1:end] if start > 0 else [0] + counts[:end]
    edges = edges[start:end + 1]
    hist = _tb.summary_pb2.HistogramProto(min=lo, max=hi, num=t.numel(), sum=total,
                                          sum_squares=squares, bucket_limit=edges,
                                          bucket=counts)
    Summary = _tb.summary_pb2.Summary
    return Summary(value=[Summary.Value(tag=tag, histo=hist)])


# ---------------------------------------------------------------------------------- images

_AXES = {4: "NCHW", 3: "HWC", 2: "HW"}
_GRID_COLUMNS = 8      # add_images lays a batch out in rows of 8, as torch's make_grid


def _dataformats(dataformats, shape, who):
    if not isinstance(dataformats, str):
        raise TypeError(f"{who}: dataformats must be a str such as 'CHW', got "
                        f"{type(dataformats).__name__} {dataformats!r}")
    fmt = dataformats.upper()
    want = _AXES.get(len(fmt))
    if want is None or sorted(fmt) != sorted(want):
        raise ValueError(f"{who}: dataformats must be a permutation of NCHW, HWC or HW (e.g. "
                         f"'CHW', 'HWC', 'NHWC'), got {dataformats!r}")
    if len(shape) != len(fmt):
        raise ValueError(f"{who}: the image has shape {tuple(shape)} ({len(shape)} dims), but "
                         f"dataformats={dataformats!r} describes {len(fmt)} dims")
    return fmt


def _grid(t, who):
    """(N, C, H, W) -> one (H', W', C) canvas of up to 8 images a row, empty cells zero."""
    n, c, h, w = t.shape
    cols = min(n, _GRID_COLUMNS)
    rows = -(-n // cols)
    if rows * cols > n:
        t = it.concat([t, it.zeros((rows * cols - n, c, h, w), dtype=t.dtype, device=t.device)])
    t = it.permute(it.reshape(t, (rows, cols, c, h, w)), (0, 3, 1, 4, 2))
    return it.reshape(t, (rows * h, cols * w, c))


def _pixels(t, dataformats, who):
    """The (H, W, C) uint8 pixels of an image or batch (C in 1, 3, 4), torch's way: a batch
    becomes a grid, one channel becomes three, floats are scaled by 255, clipped to
    [0, 255] and truncated, uint8 passes unchanged."""
    fmt = _dataformats(dataformats, t.shape, who)
    if t.dtype.is_complex or not (t.dtype.is_floating_point or t.dtype in (it.uint8, it.bool)):
        raise TypeError(f"{who}: expected a floating image with values in [0, 1] or a uint8 "
                        f"image with values in [0, 255], got {t.dtype.name}; convert with "
                        f".to(interop.uint8) or .float() / 255")
    if 0 in t.shape:
        raise ValueError(f"{who}: the image is empty: shape {tuple(t.shape)} "
                         f"(dataformats={dataformats!r})")
    c_axis = fmt.find("C")
    channels = t.shape[c_axis] if c_axis >= 0 else 1
    if channels not in (1, 3, 4):
        raise ValueError(f"{who}: expected 1 (grey), 3 (RGB) or 4 (RGBA) channels, got "
                         f"{channels} (shape {tuple(t.shape)}, dataformats={dataformats!r})")
    if len(fmt) == 4:
        t = _grid(it.permute(t, tuple(fmt.index(a) for a in "NCHW")), who)
    elif len(fmt) == 3:
        t = it.permute(t, tuple(fmt.index(a) for a in "HWC"))
    else:
        t = it.unsqueeze(it.permute(t, tuple(fmt.index(a) for a in "HW")), 2)
    if t.shape[2] == 1:
        t = it.concat([t, t, t], axis=2)
    if t.dtype is not it.uint8:
        x = it.astype(t, it.float32) * 255
        x = it.clip(it.where(it.isnan(x), 0.0, x), 0, 255)
        t = it.astype(it.floor(x), it.uint8)
    return t


def image(tag, img, dataformats, who):
    """An image summary: the pixels of ``img`` as a PNG (encoded by Pillow)."""
    _tb.require("pillow", who)
    t = _pixels(as_tensor(img, who), dataformats, who)
    h, w, c = t.shape
    data = it.backends.to_bytes(t.cpu(), it.uint8)
    png = io.BytesIO()
    _tb.PILImage.frombytes("RGB" if c == 3 else "RGBA", (w, h), data).save(png, format="PNG")
    Summary = _tb.summary_pb2.Summary
    return Summary(value=[Summary.Value(tag=tag, image=Summary.Image(
        height=h, width=w, colorspace=c, encoded_image_string=png.getvalue()))])


# ------------------------------------------------------------------------------------ text

def text(tag, text_string, who):
    """A text-plugin summary under ``tag + "/text_summary"``, as torch writes it."""
    if not isinstance(text_string, str):
        raise TypeError(f"{who}: expected the text as a str, got "
                        f"{type(text_string).__name__} {text_string!r:.60}")
    pb = _tb.summary_pb2
    meta = pb.SummaryMetadata(plugin_data=pb.SummaryMetadata.PluginData(
        plugin_name="text",
        content=_tb.text_plugin_data_pb2.TextPluginData(version=0).SerializeToString()))
    shape = _tb.tensor_shape_pb2.TensorShapeProto(
        dim=[_tb.tensor_shape_pb2.TensorShapeProto.Dim(size=1)])
    proto = _tb.tensor_pb2.TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf-8")],
                                       tensor_shape=shape)
    return pb.Summary(value=[pb.Summary.Value(tag=tag + "/text_summary", metadata=meta,
                                              tensor=proto)])


# --------------------------------------------------------------------------------- hparams

def _plain_kind(value):
    if isinstance(value, bool):            # before int: a bool is an int in Python
        return "DATA_TYPE_BOOL"
    if isinstance(value, (int, float)):
        return "DATA_TYPE_FLOAT64"
    if isinstance(value, str):
        return "DATA_TYPE_STRING"
    return None


_FIELDS = {"DATA_TYPE_BOOL": "bool_value", "DATA_TYPE_FLOAT64": "number_value",
           "DATA_TYPE_STRING": "string_value"}


def _hparam(value, key, who):
    """(field of struct_pb2.Value, python value, DataType name) for one hyperparameter."""
    kind = _plain_kind(value)
    if kind is not None:
        return _FIELDS[kind], float(value) if kind == "DATA_TYPE_FLOAT64" else value, kind
    try:
        if isinstance(value, (list, tuple, set, dict)):
            raise TypeError(type(value).__name__)
        return "number_value", scalar_value(value, f"{who}: hparam {key!r}"), "DATA_TYPE_FLOAT64"
    except TypeError:
        raise TypeError(f"{who}: hparam {key!r} must be a bool, int, float, str, None or a "
                        f"one-element tensor, got {type(value).__name__} {value!r:.60}") from None


def _plugin_summary(tag, **content):
    pb = _tb.summary_pb2
    data = _tb.hparams_plugin_data_pb2.HParamsPluginData(
        version=_tb.hparams_metadata.PLUGIN_DATA_VERSION, **content)
    meta = pb.SummaryMetadata(plugin_data=pb.SummaryMetadata.PluginData(
        plugin_name=_tb.hparams_metadata.PLUGIN_NAME, content=data.SerializeToString()))
    return pb.Summary(value=[pb.Summary.Value(tag=tag, metadata=meta)])


def hparams(hparam_dict, metric_dict, hparam_domain_discrete, who):
    """The three hparams-plugin summaries torch writes: the experiment (hyperparameter and
    metric names, types, discrete domains), the session start (the values) and the session
    end (STATUS_SUCCESS)."""
    for name, d in (("hparam_dict", hparam_dict), ("metric_dict", metric_dict)):
        if not isinstance(d, dict):
            raise TypeError(f"{who}: {name} must be a dict, got {type(d).__name__}")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError(f"{who}: hparam_domain_discrete must be a dict of lists, got "
                        f"{type(domains).__name__}")
    api = _tb.hparams_api_pb2
    struct = _tb.struct_pb2
    start = _tb.hparams_plugin_data_pb2.SessionStartInfo()
    infos = []
    for key, value in hparam_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"{who}: hparam names must be str, got {type(key).__name__} {key!r}")
        if value is None:
            continue
        field, v, kind = _hparam(value, key, who)
        setattr(start.hparams[key], field, v)
        domain = None
        if key in domains:
            choices = domains[key]
            if not isinstance(choices, list) or not all(_plain_kind(d) == kind for d in choices):
                raise TypeError(f"{who}: hparam_domain_discrete[{key!r}] must be a list of "
                                f"values of the type of hparam_dict[{key!r}] "
                                f"({type(value).__name__}), got {choices!r:.80}")
            domain = struct.ListValue(values=[struct.Value(**{field: d}) for d in choices])
        infos.append(api.HParamInfo(name=key, type=api.DataType.Value(kind),
                                    domain_discrete=domain))
    unknown = [k for k in domains if k not in hparam_dict]
    if unknown:
        raise KeyError(f"{who}: hparam_domain_discrete names {unknown}, which are not in "
                       f"hparam_dict ({list(hparam_dict)})")
    metrics = [api.MetricInfo(name=api.MetricName(tag=check_tag(k, who))) for k in metric_dict]
    md = _tb.hparams_metadata
    return (_plugin_summary(md.EXPERIMENT_TAG,
                            experiment=api.Experiment(hparam_infos=infos, metric_infos=metrics)),
            _plugin_summary(md.SESSION_START_INFO_TAG, session_start_info=start),
            _plugin_summary(md.SESSION_END_INFO_TAG,
                            session_end_info=_tb.hparams_plugin_data_pb2.SessionEndInfo(
                                status=api.Status.Value("STATUS_SUCCESS"))))
