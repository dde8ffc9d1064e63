"""ONNX export: node count and onnxruntime latency of ``interop.onnx.export``'s graph against
``torch.onnx.export``'s for the same model and weights (``python -m benchmarks onnx``).

Models: the digits CNN (1x8x8 input: conv/relu/pool twice, flatten, linear) and a
2-layer TransformerEncoder (d_model 64, 4 heads, feed-forward 128, batch-first). Each is
built in interop; its ``state_dict`` is loaded into the PyTorch twin (the keys match), and
each is exported with a dynamic batch at the same opset, by interop and by both of
PyTorch's exporters (``dynamo=False``, the TorchScript tracer; ``dynamo=True``, the default
in torch 2.13, which needs the ``onnxscript`` package: "n/a" where it is missing). The
onnxruntime sessions (one intra-op thread each) run the same input, alternating, and the
median of many samples is reported.
"""

from __future__ import annotations

import io
import json
import statistics
import time
import warnings

import numpy as np

import interop as it

OPSET = 18


def digits_cnn(nn):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


def transformer(nn):
    layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.1, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


MODELS = {"digits CNN": (digits_cnn, (1, 8, 8), 64),
          "TransformerEncoder": (transformer, (16, 64), 32)}


def _torch_twin(build, model):
    import torch
    twin = build(torch.nn)
    twin.load_state_dict({k: torch.from_numpy(np.array(v.detach().numpy()))
                          for k, v in model.state_dict().items()})
    return twin.eval()


def _export_torch(twin, x, opset, dynamo):
    import torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            try:
                import onnxscript  # noqa: F401  (the dynamo exporter needs it)
            except ImportError:
                return None
            prog = torch.onnx.export(twin, (torch.from_numpy(x),), None, input_names=["x"],
                                     output_names=["y"], opset_version=opset, dynamo=True,
                                     dynamic_shapes=({0: torch.export.Dim("batch")},),
                                     verbose=False)
            return prog.model_proto.SerializeToString()
        buf = io.BytesIO()
        torch.onnx.export(twin, (torch.from_numpy(x),), buf, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                          opset_version=opset, dynamo=False)
        return buf.getvalue()


def _session(blob):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])


def _time(sessions, x, reps, samples):
    out = [[] for _ in sessions]
    for s in sessions:       # warm-up
        for _ in range(5):
            s.run(None, {"x": x})
    for _ in range(samples):
        for i, s in enumerate(sessions):
            t0 = time.perf_counter()
            for _ in range(reps):
                s.run(None, {"x": x})
            out[i].append((time.perf_counter() - t0) / reps)
    return [statistics.median(o) * 1e6 for o in out]


def measure(quick=False):
    import onnx
    rows = []
    for name, (build, shape, batch) in MODELS.items():
        it.manual_seed(0)
        model = build(it.nn).eval()
        x = np.random.default_rng(0).standard_normal((2,) + shape).astype("float32")
        ours = it.onnx.export(model, it.asarray(x), None, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                              opset_version=OPSET).SerializeToString()
        twin = _torch_twin(build, model)
        blobs = {"interop": ours, "torch": _export_torch(twin, x, OPSET, False),
                 "torch dynamo": _export_torch(twin, x, OPSET, True)}
        blobs = {k: v for k, v in blobs.items() if v is not None}
        xb = np.random.default_rng(1).standard_normal((batch,) + shape).astype("float32")
        sessions = {k: _session(v) for k, v in blobs.items()}
        with it.no_grad():
            ref = model(it.asarray(xb)).numpy()
        us = _time(list(sessions.values()), xb, 5 if quick else 50, 5 if quick else 21)
        for (k, blob), t in zip(blobs.items(), us):
            rows.append(dict(model=name, batch=batch, exporter=k,
                             nodes=len(onnx.load_from_string(blob).graph.node), us=t,
                             ratio_to_interop=t / us[0],
                             max_diff=float(np.abs(sessions[k].run(None, {"x": xb})[0]
                                                   - ref).max())))
    return rows


def main(quick=False, json_path=None):
    import torch
    rows = measure(quick)
    print(f"ONNX export, opset {OPSET}, onnxruntime CPU with one thread, dynamic batch, "
          f"torch {torch.__version__} (latency: median, noisy on shared cores)")
    print(f"{'model':20s} {'batch':>5s} {'exporter':14s} {'nodes':>5s} {'latency us':>10s} "
          f"{'x interop':>9s} {'max |diff| to interop':>21s}")
    for r in rows:
        print(f"{r['model']:20s} {r['batch']:5d} {r['exporter']:14s} {r['nodes']:5d} "
              f"{r['us']:10.1f} {r['ratio_to_interop']:9.2f} {r['max_diff']:21.1e}")
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0


if __name__ == "__main__":
    main()
