"""The operations of the tensor layer, one module per family.

Each module pairs, for its family, the forward functions (on tensors, running the
backend's kernels on raw arrays), the backward node of every differentiable primitive
(directly beside its forward; see ``interop.autograd.graph.Node``) and the Tensor-method
mixin that ``interop._tensor.Tensor`` inherits. The public namespaces
(``interop`` and ``interop.array_api``) import from here; nothing here imports them.

==================  =====================================================================
``binary``          binary elementwise ops: arithmetic, comparisons, logical, bitwise
``unary``           unary elementwise ops, from a table of derivative formulas
``compound``        addcmul, addcdiv, lerp
``special``         erf, erfc, erfinv, logit, xlogy...
``activation``      gelu, silu (one primitive over a backend kernel each)
``loss``            class_cross_entropy (cross_entropy's primitive over a backend kernel)
``reduce``          sums, means, extrema, var/std, softmax, cumulative sums
``statistics``      var_mean, std_mean, bincount, histc
``matmul``          matmul, mm, bmm, dot, outer, einsum, tensordot, vecdot, norm
``distance``        cdist
``views``           reshape, permute, squeeze, expand... (results sharing memory)
``join``            concat/stack, split/chunk/unbind
``rearrange``       roll, tile, repeat_interleave, narrow, triu/tril, diagonal; Tensor.flip
``flip``            flip (below indexing, which reads negative-step slices with it)
``stacks``          atleast_nd, hstack, vstack, dstack
``indexing``        x[key], gather, scatter, take, index_select, windows
``select``          where, clamp, masked_fill
``mutation``        every in-place op and setitem
``fused``           optimizer updates on raw arrays, in place (Adam's)
``inplace_twins``   PyTorch's in-place twins of out-of-place ops (asin_, eq_...)
``sorting``         sort, argsort, topk
``sets``            searchsorted, isin, unique_*, diff
``unique``          PyTorch's unique, unique_consecutive, argwhere
``sampling``        multinomial
``cast``            astype, clone, Tensor.to
``tensor_equal``    Tensor.equal
==================  =====================================================================
"""
