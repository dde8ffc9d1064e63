"""How a gradient returns to an input that the forward broadcast or promoted: summed over
the broadcast axes, and cast back to the input's dtype (the real part where a real input
joined a complex result, as in PyTorch). Used by the nodes of ops that broadcast and
promote their inputs (binary ops, ``where``, ``concat``); the promotion rules themselves
are in ``interop._dtype_rules``."""

__all__ = ["cast_back", "unbroadcast"]


def cast_back(be, input_dtype, output_dtype):
    """How a gradient in ``output_dtype`` returns to an input of ``input_dtype``: None (same
    dtype) or (native dtype, take the real part first). A real input promoted into a complex
    result gets the real part of its gradient, as in PyTorch."""
    if input_dtype == output_dtype:
        return None
    c = be.complex_natives
    return (input_dtype, output_dtype in c and input_dtype not in c)


def unbroadcast(xp, g, shape, cast):
    """Reduce ``g`` to ``shape`` (sum over broadcast axes) and apply ``cast`` (see
    :func:`cast_back`) when the forward promoted the input."""
    if g.shape != shape:
        g = xp.sum_to(g, shape)
    if cast is not None:
        if cast[1]:
            g = xp.real(g)
        g = xp.astype(g, cast[0])
    return g
