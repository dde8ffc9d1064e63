"""``interop.onnx``: export a model to ONNX, as ``torch.onnx.export`` does.

``export(model, args, f, input_names=, output_names=, dynamic_axes=, opset_version=)``
runs the model once and writes what it computed as an ONNX graph (built with the ``onnx``
package's helper API and checked by ``onnx.checker``), weights as initializers under
their ``state_dict`` names. Needs the optional ``onnx`` package (``pip install
'interop[onnx]'``, which also brings ``onnxruntime`` to run the result).

How the graph is recorded (measured 2026-12-07, before choosing):

* Layers ONNX has as operators are written as those operators by the converters of
  ``_layers.py`` (``Gemm``/``MatMul``, ``Conv``, ``ConvTranspose``, pooling,
  ``BatchNormalization``, ``LayerNormalization``, activations, ``Gather``, ``LSTM``/``GRU``/
  ``RNN``, attention as ``MatMul``/``Softmax``), chosen through interop's module forward
  hooks: while such a layer runs, op-level recording is off and its values are still
  computed; when it returns, its converter writes its nodes. The functional forms
  (``F.conv2d``, ``F.max_pool2d``, ``F.relu``...) reach the same converters through one
  hook in ``interop.nn.functional`` (``_hook.py``) that the export sets.
* Everything between layers (reshape, concat, indexing, arithmetic, a functional call)
  is recorded op by op by a tracing backend: interop runs on any Array API namespace, so
  the export registers one (``_graph.TracingNamespace``) that wraps the model's own
  backend namespace, computes every value on the real arrays (Python control flow sees
  real numbers) and emits one or two ONNX nodes per standard function. An op with no
  ONNX equivalent raises ``UnsupportedOperatorError`` naming it and the module path.

The design the issue proposed, ndonnx (an Array API namespace that builds ONNX graphs) as
the backend, was measured first with interop's unmodified layers on it: it records a
correct graph, but Linear(4, 3) became 152 nodes (91 Constant, Reshape/Slice/Expand from
interop's shape checks and ndonnx's own dtype handling), Conv2d(1, 4, 3) 213 nodes (the
convolution as strided Slices), GELU 1105 nodes, LSTM failed on its tuple output, the
weights were inlined as Constant nodes rather than initializers, and a dynamic batch
failed (interop's reshape needs int sizes; ndonnx gives None). Every layer would still
need the layer-level hook, and the glue between layers would still carry ndonnx's
constant overhead, so the exporter keeps the layer hooks and records the glue with its
own thin tracing namespace (one node per op, concrete values, int shapes, dynamic axes
tracked per dimension) instead.
"""

from ._export import export
from ._graph import UnsupportedOperatorError

__all__ = ["export", "UnsupportedOperatorError"]
