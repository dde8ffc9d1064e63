"""``SummaryWriter`` and ``FileWriter`` with ``torch.utils.tensorboard``'s signatures, run
directory layout and event contents, written by the ``tensorboard`` package's own
``EventFileWriter`` (a background thread, a queue of ``max_queue`` events, a flush every
``flush_secs``).

Directory layout (as torch's): the writer's events go to ``log_dir``; ``add_scalars``
writes each of its series to a sub-run ``log_dir/<main_tag with / as _>_<key>`` under the
tag ``main_tag``; ``add_hparams`` writes a sub-run ``log_dir/<run_name>`` (default: the
time) holding the hparams-plugin summaries and the metrics as scalars.
"""

import os
import socket
import time
from datetime import datetime

from . import _tb
from . import _summary
from ._graph import graph_def

__all__ = ["FileWriter", "SummaryWriter"]


class FileWriter:
    """One event file in ``log_dir``: wraps summaries into ``Event`` protos with a wall time
    and a step (torch's ``FileWriter``)."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        _tb.require("tensorboard", "FileWriter")
        self.event_writer = _tb.EventFileWriter(str(log_dir), max_queue, flush_secs,
                                                filename_suffix)

    def get_logdir(self):
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None):
        event.wall_time = time.time() if walltime is None else float(walltime)
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None):
        self.add_event(_tb.event_pb2.Event(summary=summary), global_step, walltime)

    def add_graph(self, graph, walltime=None):
        self.add_event(_tb.event_pb2.Event(graph_def=graph.SerializeToString()), None, walltime)

    def flush(self):
        self.event_writer.flush()

    def close(self):
        self.event_writer.close()

    def reopen(self):
        self.event_writer.reopen()


class SummaryWriter:
    """Writes TensorBoard event files into ``log_dir``, as ``torch.utils.tensorboard
    .SummaryWriter``.

    ``log_dir`` defaults to ``runs/<Mon DD_HH-MM-SS>_<hostname><comment>`` (``comment`` is
    used only then). ``purge_step``: TensorBoard hides the events of an earlier, crashed
    run of this directory at steps >= ``purge_step``. ``max_queue`` events are buffered
    before a write; pending events are flushed every ``flush_secs`` seconds, on
    :meth:`flush` and on :meth:`close`; ``filename_suffix`` ends every event file's name.
    After :meth:`close` the writer may be used again: it opens a new event file.

    Values may be interop tensors on any backend (they are not part of any graph: the
    writer detaches them), NumPy arrays, DLPack exporters or Python numbers.
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10,
                 flush_secs=120, filename_suffix=""):
        _tb.require("tensorboard", "SummaryWriter")
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = os.fspath(log_dir)
        self.purge_step = _summary.check_step(purge_step, "SummaryWriter(purge_step=...)")
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()

    def _get_file_writer(self):
        """The writer of ``log_dir``'s own events, opened anew after close()."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                Event = _tb.event_pb2.Event
                self.file_writer.add_event(Event(step=self.purge_step,
                                                 file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=self.purge_step, session_log=
                                                 _tb.event_pb2.SessionLog(
                                                     status=_tb.event_pb2.SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self):
        """The directory the events are written to."""
        return self.log_dir

    def _write(self, summary, global_step, walltime, who):
        step = _summary.check_step(global_step, who)
        self._get_file_writer().add_summary(summary, step, walltime)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """Log one number (a Python number or a one-element tensor/array) under ``tag``.
        ``new_style`` writes it as a tensor (scalars plugin), in float32 unless
        ``double_precision``."""
        who = f"add_scalar({tag!r})"
        _summary.check_tag(tag, who)
        self._write(_summary.scalar(tag, scalar_value, who, new_style, double_precision),
                    global_step, walltime, who)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several series in one chart ``main_tag``: each key of ``tag_scalar_dict``
        goes to its own sub-run ``log_dir/<main_tag>_<key>`` (``/`` in ``main_tag`` becomes
        ``_``), all under the tag ``main_tag``, as torch does."""
        who = f"add_scalars({main_tag!r})"
        _summary.check_tag(main_tag, who)
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(f"{who}: expected a dict of tag -> scalar, got "
                            f"{type(tag_scalar_dict).__name__}")
        step = _summary.check_step(global_step, who)
        walltime = time.time() if walltime is None else walltime
        summaries = [(_summary.check_tag(tag, who),
                      _summary.scalar(main_tag, v, f"add_scalars({main_tag!r}, {tag!r})"))
                     for tag, v in tag_scalar_dict.items()]
        root = self._get_file_writer().get_logdir()
        for tag, summary in summaries:
            sub = root + "/" + main_tag.replace("/", "_") + "_" + tag
            fw = self.all_writers.get(sub)
            if fw is None:
                fw = self.all_writers[sub] = FileWriter(sub, self.max_queue, self.flush_secs,
                                                        self.filename_suffix)
            fw.add_summary(summary, step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        """Log the histogram of ``values`` (any shape, real, finite). ``bins``: "tensorflow"
        (TensorFlow's exponential buckets, the default), a NumPy estimator name ("auto",
        "fd", ...), a number of equal bins, or the bin edges; ``max_bins`` merges adjacent
        buckets down to at most that many. Counts are ``numpy.histogram``'s, trimmed to the
        non-empty range as torch writes them."""
        who = f"add_histogram({tag!r})"
        _summary.check_tag(tag, who)
        self._write(_summary.histogram(tag, values, bins, max_bins, who), global_step,
                    walltime, who)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log an image: shape as ``dataformats`` says ("CHW", "HWC", "HW", or a batch
        "NCHW"/"NHWC" drawn as a grid), with 1, 3 or 4 channels; floats in [0, 1] (scaled by
        255, clipped, truncated) or uint8 in [0, 255]. Encoded as PNG with Pillow."""
        who = f"add_image({tag!r})"
        _summary.check_tag(tag, who)
        self._write(_summary.image(tag, img_tensor, dataformats, who), global_step, walltime,
                    who)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """Log a batch of images as one grid of up to 8 a row (``dataformats`` "NCHW" or
        "NHWC"; values as for :meth:`add_image`)."""
        who = f"add_images({tag!r})"
        _summary.check_tag(tag, who)
        self._write(_summary.image(tag, img_tensor, dataformats, who), global_step, walltime,
                    who)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a (Markdown) string; TensorBoard shows it under ``tag + "/text_summary"``."""
        who = f"add_text({tag!r})"
        _summary.check_tag(tag, who)
        self._write(_summary.text(tag, text_string, who), global_step, walltime, who)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None):
        """Log one run's hyperparameters (bool, int, float, str; None is skipped) with its
        metrics, for TensorBoard's HParams tab: written to the sub-run
        ``log_dir/<run_name>`` (default: the current time), the metrics as scalars there.
        ``hparam_domain_discrete`` maps a hyperparameter to the list of values it takes."""
        who = "add_hparams"
        step = _summary.check_step(global_step, who)
        exp, start, end = _summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete, who)
        metrics = [(k, _summary.scalar(k, v, f"add_hparams: metric {k!r}"))
                   for k, v in metric_dict.items()]
        if not run_name:
            run_name = str(time.time())
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as w:
            fw = w._get_file_writer()
            for summary in (exp, start, end):
                fw.add_summary(summary, step)
            for _, summary in metrics:
                fw.add_summary(summary, step)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Log the graph of ``model`` run on ``input_to_model`` (a tensor or a tuple of
        them): the operations its forward records for autograd, grouped by the module that
        ran them (``Net/Linear[fc1]/...``), with the parameters and the inputs and outputs
        as nodes. ``use_strict_trace`` is accepted for torch's signature and unused."""
        self._get_file_writer().add_graph(graph_def(model, input_to_model, verbose))

    def flush(self):
        """Write every pending event of this writer and its sub-runs to disk."""
        if self.all_writers is None:
            return
        for w in self.all_writers.values():
            w.flush()

    def close(self):
        """Flush and close every event file; a later ``add_*`` opens new ones."""
        if self.all_writers is None:
            return
        for w in self.all_writers.values():
            w.flush()
            w.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
