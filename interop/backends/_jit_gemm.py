"""The cpu backend's compiled float32 matrix product (numba, through :mod:`._jit`; used by
``NumpyBackend``'s ``matmul`` only where :func:`._jit.enabled` is true and the processor has
AVX-512).

Why: NumPy's matmul is OpenBLAS's sgemm, and OpenBLAS runs the kernels of the processor it
detects, or of the one ``OPENBLAS_CORETYPE`` names. On the machines this project is
measured on, that variable pins OpenBLAS to its Haswell (AVX2) kernels: about 120 GFLOP/s on
one core, against the 180-240 that PyTorch's oneDNN reaches with AVX-512 in its convolutions
and recurrent layers. interop does not override a machine's BLAS setting; it brings its own
kernel for the products its layers spend their time in instead.

How: the classic register-blocked scheme. A micro-kernel, written directly in LLVM IR (a
numba intrinsic: LLVM does not keep a 8 x 32 block of sums in registers when numba's arrays
hold them), computes an ``MR x NR`` = 8 x 32 block of ``C`` as 16 vectors of 16 floats that
stay in registers over a run of up to ``KC`` = 320 steps of ``k``: per step, two vector
loads of a row of ``B``, eight broadcasts of a column of ``A`` and sixteen fused
multiply-adds. The driver walks blocks of ``k`` (each block of ``A`` read once from
memory), then panels of columns (a block x 32 panel of ``B`` stays in the first-level cache
while the rows of ``A`` stream past it), then blocks of rows, reading ``A`` through its
strides (a transposed operand costs nothing) and ``B`` in place where its rows are
contiguous; a ``B`` whose row step is a multiple of 1 KiB (a power-of-two width: its rows
would share cache sets) or whose columns are not contiguous is copied panel by panel first.
The partial blocks at the right and bottom edges run on zero-padded copies. Sums over ``k``
go in blocks of at most 320 (as BLAS libraries block them), so rounding errors grow as they
do there: the results are not BLAS's bit for bit, but within its accuracy.

Threads: the backend passes the BLAS pool's current size (so ``set_num_threads`` and
threadpoolctl limits hold here too); a product's rows, columns or batch are cut into parts
that that many threads share (this one and the team of :mod:`._jit_team`, whose threads
wait for parts in compiled code, spinning, instead of sleeping between products), each
taking the next part not yet taken. A job and its parts are described in an int64 array
(the arrays' addresses, shapes and strides: :func:`_do_part` reads them), so that a team
thread takes and computes parts without the GIL.

Measured (one core of the AMD EPYC test machine, 2026-12-07, GFLOP/s, this / OpenBLAS
pinned): (1120, 200) @ (200, 800) 254-260 / 130; (64, 288) @ (288, 7744) 226-240 / 120;
(32, 200) @ (200, 800) 226-235 / 108; (64, 7744) @ (7744, 288)^T 222 / 116.
"""

import warnings

import numpy as np

from . import _jit, _jit_team, _threads
from ._jit import jitable, njit

__all__ = ["usable", "product", "windows_add_product", "windows_product", "product_windows"]

MR = 8                  # rows of C per micro-kernel call
NV = 2                  # vectors of 16 floats per row of the block
NR = 16 * NV            # columns of C per micro-kernel call
KC = 320                # at most this many steps of k per micro-kernel call (the blocks of
                        # the sums: k split into equal blocks, 288 = one block, 1024 = 4 x 256)
ALIAS = 256             # a row step of B that is a multiple of this many floats: copy B first
FROM = 1 << 16          # multiply-adds below which NumPy's call is the cheaper one
SPLIT = 1 << 22         # multiply-adds per thread where threads split a product
BLAS_ALONE = 1 << 18    # multiply-adds below which OpenBLAS runs a product on one thread
PARTS = 4               # parts per thread of a product split over threads

_F32 = np.dtype(np.float32)

_state = {"usable": None, "error": None}     # (decided once: see usable)


def usable():
    """Whether the compiled product runs here: the compiled path is on and the processor has
    AVX-512 (elsewhere OpenBLAS's own kernels are as fast). Decided once (imports numba and
    builds the kernel with a small trial product: where that fails, a RuntimeWarning says
    why and NumPy's matmul takes every product)."""
    if not _jit.enabled():
        return False
    if _state["usable"] is None:
        _jit.module()           # (runs _bind below, which decides on the processor)
        try:
            if _state["error"] is not None:
                raise _state["error"]
            if _state["usable"]:
                a = np.arange(8 * 40, dtype=np.float32).reshape(8, 40)
                b = np.arange(40 * 64, dtype=np.float32).reshape(40, 64) / 64
                c = np.empty((2, 8, 32), np.float32)
                _into(a[None], b[None, :, :32], c[:1], 1)
                _into(a[None], b[None, :, ::2], c[1:], 1)     # (B's panels copied)
                if not (np.allclose(c[0], a @ b[:, :32], rtol=1e-5)
                        and np.allclose(c[1], a @ b[:, ::2], rtol=1e-5)):
                    raise RuntimeError("a trial product gave wrong values")
        except Exception as e:      # (an optional accelerator: NumPy's product remains)
            _state["usable"] = False
            warnings.warn(f"interop: the compiled float32 matrix product could not be built "
                          f"here ({type(e).__name__}: {e}); NumPy's matmul takes every "
                          f"product", RuntimeWarning, stacklevel=2)
    return _state["usable"]


@_jit.on_import
def _bind(numba):
    """Build the micro-kernel intrinsic (needs numba and llvmlite to be defined at all) and
    decide whether this processor runs it well (:func:`usable` then tries it)."""
    import llvmlite.binding as llvm     # (numba's own dependency; imported with numba)
    from llvmlite import ir
    global _micro, _micro_rows, _micro_b_rows, _micro_a_rows
    try:
        build = (lambda **flags: numba.extending.intrinsic(
            _micro_template(ir, numba.core.cgutils, numba.types, **flags)))
        _micro, _micro_rows = build(), build(scattered=True)
        _micro_b_rows, _micro_a_rows = build(b_rows=True), build(a_rows=True)
        _state["usable"] = bool(llvm.get_host_cpu_features().get("avx512f"))
    except Exception as e:      # (llvmlite's API moved, say: usable() warns, NumPy's runs)
        _state["error"] = e


def _micro_template(ir, cgutils, types, scattered=False, b_rows=False, a_rows=False):
    """The micro-kernel, as a numba intrinsic template:
    ``_micro(a, a_rs, a_cs, b, b_rs, c, c_rs, kc, accumulate)`` with float32 addresses
    (``a``, ``b``, ``c``) and steps in elements: ``C[:8, :32] (+)= A[:8, :kc] @ B[:kc, :32]``
    where ``A[i, p]`` is at ``a + i * a_rs + p * a_cs``, ``B[p, j]`` at ``b + p * b_rs + j``
    and ``C[i, j]`` at ``c + i * c_rs + j``; ``accumulate`` nonzero adds to C. With
    ``scattered``, ``c`` is the address of 8 int64 addresses, of the rows of C (``c_rs``
    unread): what a col2im epilogue adds its block into. With ``b_rows``, row ``p`` of B is
    at ``b + 4 * offsets[p]``, where ``b_rs`` is the address of the int64 ``offsets``; with
    ``a_rows``, ``A[i, p]`` is at ``rows[i] + 4 * offsets[p]``, where ``a`` is the address of
    8 int64 addresses ``rows`` and ``a_cs`` of the int64 ``offsets`` (``a_rs`` unread): the
    matrix of an image's windows, read in place (see :func:`_window_offsets`)."""

    def micro(typingctx, a, a_rs, a_cs, b, b_rs, c, c_rs, kc, accumulate):
        sig = types.void(*([types.intp] * 9))

        def codegen(context, builder, signature, args):
            a, a_rs, a_cs, b, b_rs, c, c_rs, kc, accumulate = args
            f32 = ir.FloatType()
            vec = ir.VectorType(f32, 16)
            vptr = vec.as_pointer()
            index = a_rs.type
            A = builder.inttoptr(a, f32.as_pointer())
            B = builder.inttoptr(b, f32.as_pointer())
            C = builder.inttoptr(c, f32.as_pointer())
            fma = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vec, [vec, vec, vec]), "llvm.fma.v16f32")
            zero = ir.Constant(vec, [0.0] * 16)
            splat = ir.Constant(ir.VectorType(ir.IntType(32), 16), [0] * 16)
            # the sums: allocas, which LLVM promotes to registers
            sums = [[cgutils.alloca_once_value(builder, zero) for _ in range(NV)]
                    for _ in range(MR)]
            table = index.as_pointer()
            if a_rows:      # (the rows' addresses, read once)
                arow = [builder.inttoptr(builder.load(builder.gep(builder.inttoptr(a, table),
                                                                  [ir.Constant(index, i)])),
                                         f32.as_pointer()) for i in range(MR)]
            with cgutils.for_range(builder, kc) as loop:
                p = loop.index
                if b_rows:
                    row = builder.gep(B, [builder.load(builder.gep(builder.inttoptr(b_rs, table),
                                                                   [p]))])
                else:
                    row = builder.gep(B, [builder.mul(p, b_rs)])
                bv = [builder.load(builder.bitcast(builder.gep(row, [ir.Constant(index, 16 * v)]),
                                                   vptr), align=4) for v in range(NV)]
                if a_rows:
                    off = builder.load(builder.gep(builder.inttoptr(a_cs, table), [p]))
                else:
                    col = builder.gep(A, [builder.mul(p, a_cs)])
                for i in range(MR):
                    if a_rows:
                        x = builder.load(builder.gep(arow[i], [off]))
                    else:
                        x = builder.load(builder.gep(col, [builder.mul(ir.Constant(index, i),
                                                                       a_rs)]))
                    xv = builder.insert_element(ir.Constant(vec, ir.Undefined), x,
                                                ir.Constant(ir.IntType(32), 0))
                    xv = builder.shuffle_vector(xv, ir.Constant(vec, ir.Undefined), splat)
                    for v in range(NV):
                        s = sums[i][v]
                        builder.store(builder.call(fma, [xv, bv[v], builder.load(s)]), s)
            add = builder.icmp_signed("!=", accumulate, ir.Constant(index, 0))
            with builder.if_else(add) as (adding, storing):
                for branch, with_old in ((adding, True), (storing, False)):
                    with branch:
                        for i in range(MR):
                            if scattered:
                                crow = builder.inttoptr(builder.load(builder.gep(
                                    builder.inttoptr(c, index.as_pointer()),
                                    [ir.Constant(index, i)])), f32.as_pointer())
                            else:
                                crow = builder.gep(C, [builder.mul(ir.Constant(index, i),
                                                                   c_rs)])
                            for v in range(NV):
                                ptr = builder.bitcast(
                                    builder.gep(crow, [ir.Constant(index, 16 * v)]), vptr)
                                value = builder.load(sums[i][v])
                                if with_old:
                                    value = builder.fadd(builder.load(ptr, align=4), value)
                                builder.store(value, ptr, align=4)
            return context.get_dummy_value()

        return sig, codegen

    return micro


_micro = None           # the intrinsic, built by _bind at numba's import (before any compile)
_micro_rows = None      # the same with scattered rows of C (a col2im epilogue)
_micro_b_rows = None    # ... with B's rows at offsets from a table (an image's windows)
_micro_a_rows = None    # ... with A's rows and columns at addresses and offsets from tables


@jitable
def _copy_panel(b, panel, p0, kb, j, nr):
    """``panel[:kb, :nr] = b[p0:p0 + kb, j:j + nr]``, the rest of its NR columns zeros; read
    along ``b``'s rows, or where ``b`` is transposed (its rows strided), along its columns."""
    if b.strides[0] >= b.strides[1]:
        for p in range(kb):
            for jj in range(nr):
                panel[p, jj] = b[p0 + p, j + jj]
    else:
        for jj in range(nr):
            for p in range(kb):
                panel[p, jj] = b[p0 + p, j + jj]
    for p in range(kb):
        for jj in range(nr, NR):
            panel[p, jj] = 0.0


@jitable(inline="never", boundscheck=False)
def _product(a, b, c, j0, j1, copy_b):
    """``c[:, j0:j1] = a @ b[:, j0:j1]`` for float32 2-d ``a`` (m, k) and ``b`` (k, n) of
    any strides (``b``'s columns contiguous unless ``copy_b``) and ``c`` (m, n) with
    contiguous rows; ``j0`` a multiple of NR; ``k`` > 0.

    Blocks of ``k`` outermost (each block of ``A`` is read once from memory, however many
    panels of columns there are), then panels of columns, then blocks of rows. The blocks
    at the bottom and right edges are computed into zero-padded buffers (``bottom``,
    ``right``) that keep their sums from one block of ``k`` to the next, and copied into
    ``c`` at the end."""
    m, k = a.shape
    a_rs, a_cs = a.strides[0] // 4, a.strides[1] // 4
    b_rs = b.strides[0] // 4
    c_rs = c.strides[0] // 4
    pa, pb, pc = a.ctypes.data, b.ctypes.data, c.ctypes.data
    kc = -(-k // -(-k // KC))                   # k in equal blocks of at most KC
    m_full = m - m % MR
    j_full = j0 + (j1 - j0) // NR * NR
    panel = np.empty((kc, NR), np.float32)
    rows = np.zeros((MR, k), np.float32)        # the last partial block of rows, zero-padded
    for i in range(m_full, m):
        for p in range(k):
            rows[i - m_full, p] = a[i, p]
    right = np.empty((m_full + MR, NR), np.float32)
    bottom = np.empty((MR, j_full - j0), np.float32)
    for p0 in range(0, k, kc):
        kb = min(kc, k - p0)
        for j in range(j0, j1, NR):
            nr = min(NR, j1 - j)
            if nr < NR or copy_b:       # the panel's columns, zero-padded
                _copy_panel(b, panel, p0, kb, j, nr)
                bp, bs = panel.ctypes.data, NR
            else:
                bp, bs = pb + 4 * (p0 * b_rs + j), b_rs
            for i in range(0, m, MR):
                if i < m_full:
                    ap, ars, acs = pa + 4 * (i * a_rs + p0 * a_cs), a_rs, a_cs
                else:
                    ap, ars, acs = rows.ctypes.data + 4 * p0, k, 1
                if nr < NR:
                    cp, cs = right.ctypes.data + 4 * i * NR, NR
                elif i >= m_full:
                    cp, cs = bottom.ctypes.data + 4 * (j - j0), j_full - j0
                else:
                    cp, cs = pc + 4 * (i * c_rs + j), c_rs
                _micro(ap, ars, acs, bp, bs, cp, cs, kb, p0)
    for i in range(m):
        for jj in range(j1 - j_full):
            c[i, j_full + jj] = right[i, jj]
    for i in range(m_full, m):
        for jj in range(j_full - j0):
            c[i, j0 + jj] = bottom[i - m_full, jj]


@jitable(inline="never", boundscheck=False)
def _batched(a, b, c, copy_b):
    """:func:`_product` over the first axis of 3-d ``a``, ``b`` and ``c`` (one thread)."""
    for s in range(c.shape[0]):
        _product(a[s], b[s], c[s], 0, c.shape[2], copy_b)


@jitable(inline="never", boundscheck=False)
def _windows_columns(a, img, c, j0, j1, rowoff, coloff):
    """``c[:, j0:j1] = a @ W[:, j0:j1]``, where ``W[p, j] = img[rowoff[p] + coloff[j // NR] +
    j % NR]`` (the matrix of an image's windows, read in place: see :func:`_window_offsets`),
    for float32 2-d ``a`` (m, k = len(rowoff)) of any strides, the image's memory ``img``
    (1-d) and ``c`` (m, n) with contiguous rows; ``j0`` and ``j1`` multiples of NR. The
    order of :func:`_product`, with B's rows read from the image instead of a panel."""
    m, k = a.shape
    a_rs, a_cs = a.strides[0] // 4, a.strides[1] // 4
    c_rs = c.strides[0] // 4
    pa, pc, pi, po = a.ctypes.data, c.ctypes.data, img.ctypes.data, rowoff.ctypes.data
    kc = -(-k // -(-k // KC))
    m_full = m - m % MR
    rows = np.zeros((MR, k), np.float32)        # the last partial block of rows, zero-padded
    for i in range(m_full, m):
        for p in range(k):
            rows[i - m_full, p] = a[i, p]
    bottom = np.empty((MR, j1 - j0), np.float32)
    for p0 in range(0, k, kc):
        kb = min(kc, k - p0)
        for j in range(j0, j1, NR):
            bp = pi + 4 * coloff[j // NR]
            for i in range(0, m, MR):
                if i < m_full:
                    ap, ars, acs = pa + 4 * (i * a_rs + p0 * a_cs), a_rs, a_cs
                    cp, cs = pc + 4 * (i * c_rs + j), c_rs
                else:
                    ap, ars, acs = rows.ctypes.data + 4 * p0, k, 1
                    cp, cs = bottom.ctypes.data + 4 * (j - j0), j1 - j0
                _micro_b_rows(ap, ars, acs, bp, po + 8 * p0, cp, cs, kb, p0)
    for i in range(m_full, m):
        for jj in range(j1 - j0):
            c[i, j0 + jj] = bottom[i - m_full, jj]


@jitable(inline="never", boundscheck=False)
def _windows_rows(img, rowoff, kofs, b, c, i0, i1, j0, j1, copy_b):
    """``c[i0:i1, j0:j1] = W[i0:i1] @ b[:, j0:j1]``, where ``W[p, q] = img[rowoff[p] +
    kofs[q]]`` (the matrix of an image's windows, read in place; ``kofs[q] = coloff[q // NR]
    + q % NR``), for the image's memory ``img`` (1-d float32), ``b`` (k = len(kofs), n) of
    any strides (its panels copied where ``copy_b``) and ``c`` (rows, n) with contiguous
    rows; ``j0`` a multiple of NR. The order of :func:`_product`, with A's rows read from the
    image through a table of their addresses (a partial block repeats its last row, whose
    extra sums are dropped)."""
    k = b.shape[0]
    b_rs, c_rs = b.strides[0] // 4, c.strides[0] // 4
    pb, pc, pi, pk = b.ctypes.data, c.ctypes.data, img.ctypes.data, kofs.ctypes.data
    kc = -(-k // -(-k // KC))
    n_full = j0 + (j1 - j0) // NR * NR
    m_full = i0 + (i1 - i0) // MR * MR
    panel = np.empty((kc, NR), np.float32)
    addr = np.empty(MR, np.int64)
    right = np.empty((i1 - i0 + MR, NR), np.float32)
    bottom = np.empty((MR, n_full - j0), np.float32)
    for p0 in range(0, k, kc):
        kb = min(kc, k - p0)
        for j in range(j0, j1, NR):
            nr = min(NR, j1 - j)
            if nr < NR or copy_b:       # the panel's columns, zero-padded
                _copy_panel(b, panel, p0, kb, j, nr)
                bp, bs = panel.ctypes.data, NR
            else:
                bp, bs = pb + 4 * (p0 * b_rs + j), b_rs
            for i in range(i0, i1, MR):
                for r in range(MR):
                    addr[r] = pi + 4 * rowoff[min(i + r, i1 - 1)]
                if nr < NR:
                    cp, cs = right.ctypes.data + 4 * (i - i0) * NR, NR
                elif i >= m_full:
                    cp, cs = bottom.ctypes.data + 4 * (j - j0), n_full - j0
                else:
                    cp, cs = pc + 4 * (i * c_rs + j), c_rs
                _micro_a_rows(addr.ctypes.data, 0, pk + 8 * p0, bp, bs, cp, cs, kb, p0)
    for i in range(i0, i1):
        for jj in range(j1 - n_full):
            c[i, n_full + jj] = right[i - i0, jj]
    for i in range(m_full, i1):
        for jj in range(n_full - j0):
            c[i, j0 + jj] = bottom[i - m_full, jj]


@jitable(inline="never", boundscheck=False)
def _scatter_product(a, b, out, rowoff, coloff, first, every):
    """``out[rowoff[i] + coloff[j // NR] + j % NR] += (a @ b)[i, j]``, for the panels of
    ``NR`` columns ``first``, ``first + every``, ... (the columns of one block of samples,
    where the batch is ``every`` panels wide), for float32 2-d ``a``
    (m, k) of any strides and ``b`` (k, n) with contiguous columns (read in place: its
    caller copies a ``b`` whose rows would share cache sets, see :func:`_unaliased`), ``n``
    a multiple of NR, ``k`` > 0, and a flat float32 ``out`` (offsets in elements): the product's blocks added
    straight where they go (a col2im epilogue), never stored as a matrix. No two rows of one
    block may share a target (a convolution's kernel offsets of one output position do
    not); one thread."""
    m, k = a.shape
    n = b.shape[1]
    a_rs, a_cs = a.strides[0] // 4, a.strides[1] // 4
    b_rs = b.strides[0] // 4
    pa, pb, po = a.ctypes.data, b.ctypes.data, out.ctypes.data
    kc = -(-k // -(-k // KC))
    m_full = m - m % MR
    rows = np.zeros((MR, k), np.float32)        # the last partial block of rows, zero-padded
    for i in range(m_full, m):
        for p in range(k):
            rows[i - m_full, p] = a[i, p]
    spare = np.zeros(NR, np.float32)            # where the padded rows' sums go
    targets = np.empty(MR, np.int64)
    for p0 in range(0, k, kc):
        kb = min(kc, k - p0)
        for jp in range(first, n // NR, every):
            bp = pb + 4 * (p0 * b_rs + jp * NR)
            base = po + 4 * coloff[jp]
            for i in range(0, m, MR):
                if i < m_full:
                    ap, ars, acs = pa + 4 * (i * a_rs + p0 * a_cs), a_rs, a_cs
                else:
                    ap, ars, acs = rows.ctypes.data + 4 * p0, k, 1
                for r in range(MR):
                    targets[r] = base + 4 * rowoff[i + r] if i + r < m else spare.ctypes.data
                _micro_rows(ap, ars, acs, bp, b_rs, targets.ctypes.data, 0, kb, 1)


# the job a team of threads shares (see _jit_team.py): its kind, and where its arrays are
KIND, STEP, COPY_B, BLOCKS = 3, 4, 5, 6         # job slots (0 to 2: _jit_team's)
A_AT, B_AT, C_AT, ROWS_AT, COLS_AT = 8, 16, 24, 32, 36
BATCH, ROWS, COLUMNS, SCATTER, WCOLS, WROWS, WROWS_COLUMNS = range(1, 8)  # kinds: parts
        # of the batch, rows, columns, rows of a scattered product, columns of a product by an
        # image's windows, rows and columns of the windows' product
_NO_OFFSETS = np.zeros(0, np.int64)


@jitable(inline="never", boundscheck=False)
def _do_part(job, i):
    """Part ``i`` of the job described in ``job``: a slice of ``STEP`` products, rows or
    columns (of a plain product, of a product by an image's windows, or the rows of a
    scattered product), computed as it would be alone."""
    step, copy_b = job[STEP], job[COPY_B]
    a, b, c = _jit_team.floats3(job, A_AT), _jit_team.floats3(job, B_AT), \
        _jit_team.floats3(job, C_AT)
    rowoff, coloff = _jit_team.ints1(job, ROWS_AT), _jit_team.ints1(job, COLS_AT)
    lo = i * step
    kind = job[KIND]
    if kind == BATCH:
        hi = min(lo + step, c.shape[0])
        _batched(a[lo:hi], b[lo:hi], c[lo:hi], copy_b)
    elif kind == ROWS:
        hi = min(lo + step, c.shape[1])
        _product(a[0, lo:hi], b[0], c[0, lo:hi], 0, c.shape[2], copy_b)
    elif kind == COLUMNS:
        _product(a[0], b[0], c[0], lo, min(lo + step, c.shape[2]), copy_b)
    elif kind == WCOLS:             # (b: the image's memory)
        _windows_columns(a[0], _jit_team.floats_row(job, B_AT)[0], c[0], lo,
                         min(lo + step, c.shape[2]), rowoff, coloff)
    elif kind == WROWS:             # (a: the image's memory)
        _windows_rows(_jit_team.floats_row(job, A_AT)[0], rowoff, coloff, b[0], c[0], lo,
                      min(lo + step, c.shape[1]), 0, c.shape[2], copy_b)
    elif kind == WROWS_COLUMNS:
        _windows_rows(_jit_team.floats_row(job, A_AT)[0], rowoff, coloff, b[0], c[0], 0,
                      c.shape[1], lo, min(lo + step, c.shape[2]), copy_b)
    else:               # (parts: blocks of samples within chunks of rows)
        blocks = job[BLOCKS]
        lo = i // blocks * step
        hi = min(lo + step, a.shape[1])
        _scatter_product(a[0, lo:hi], b[0], c[0, 0], rowoff[lo:hi], coloff, i % blocks, blocks)


def _part_of(at, i):
    _do_part(_jit_team.job_at(at), i)


_part = _jit_team.part(_part_of)       # (its address, compiled at the first job)


@njit(boundscheck=False)
def _batched_alone(a, b, c, copy_b):
    _batched(a, b, c, copy_b)


@njit(boundscheck=False)
def _run(ctrl, job, helpers, fn, kind, a, b, c, step, nparts, copy_b, rowoff, coloff, blocks):
    """Post a job of ``nparts`` parts to the team (``helpers`` threads, this one included),
    take parts of it here too, and return when every part is finished."""
    gen = _jit_team.post(ctrl, job)
    job[0], job[1], job[2] = nparts, helpers, fn
    job[KIND], job[STEP], job[COPY_B], job[BLOCKS] = kind, step, copy_b, blocks
    _jit_team.describe(job, A_AT, a)
    _jit_team.describe(job, B_AT, b)
    _jit_team.describe(job, C_AT, c)
    _jit_team.describe(job, ROWS_AT, rowoff)
    _jit_team.describe(job, COLS_AT, coloff)
    _jit_team.open_(ctrl, gen)
    _jit_team.work(ctrl, job)


def _share(kind, a, b, c, step, threads, copy_b=False, rowoff=_NO_OFFSETS, coloff=_NO_OFFSETS,
           blocks=1):
    """The parts of a job (see :func:`_do_part`; 3-d float32 ``a``, ``b``, ``c``) shared by
    ``threads`` threads: this one and the team's (:mod:`._jit_team`), each taking the next
    part not yet taken, so that a thread that wakes late takes fewer. Where another thread
    of the process has the team now, this one takes every part itself."""
    total = {BATCH: c.shape[0], ROWS: c.shape[1], COLUMNS: c.shape[2], SCATTER: a.shape[1],
             WCOLS: c.shape[2], WROWS: c.shape[1], WROWS_COLUMNS: c.shape[2]}
    nparts = -(-total[kind] // step) * blocks
    _jit_team.share(_run, threads, _part(), kind, a, b, c, step, nparts, copy_b, rowoff, coloff,
                    blocks)


def _into(a, b, c, threads):
    """``c[...] = a @ b`` for float32 3-d ``a`` (s, m, k), ``b`` (s, k, n) (any strides,
    zero steps of a broadcast first axis allowed) and ``c`` (s, m, n) C-contiguous, ``k`` >
    0; with ``threads`` > 1, the products (or one product's rows or columns, whichever are
    more) are cut into ``PARTS`` parts per thread, shared by that many threads (see
    :func:`_share`): each part is computed as it would be whole, so the results are the
    same bits however the parts fall."""
    s, m, n = c.shape
    if s == 1 and b.strides[2] == 4:     # (copied once, not panel by panel: see _unaliased)
        b = _unaliased(b[0])[None]
    copy_b = b.strides[2] != 4 or (b.strides[1] // 4) % ALIAS == 0
    if threads > 1 and s > 1:                   # whole products per part
        _share(BATCH, a, b, c, -(-s // (PARTS * threads)), threads, copy_b)
    elif threads <= 1 or (n < 2 * NR and m < 2 * MR):     # (no job: one call fewer)
        _batched_alone(a, b, c, copy_b)
    elif m >= n:        # blocks of rows (each part reads its share of A once)
        _share(ROWS, a, b, c, -(-(-(-m // MR)) // (PARTS * threads)) * MR, threads, copy_b)
    else:               # panels of columns
        _share(COLUMNS, a, b, c, -(-(-(-n // NR)) // (PARTS * threads)) * NR, threads, copy_b)


def _transposed(a, b, threads):
    """``a @ b`` (2-d) where ``b``'s columns are not contiguous: either ``b`` copied
    row-major (on one thread, a column-major ``b`` panel by panel, as the kernel reads it:
    1024^2 @ (1024^2)^T 17 -> 10 ms), or ``(b.T @ a.T).T``, where ``b.T`` is read through
    its strides and only ``a.T`` (the smaller copy, or none where ``a`` is column-major) and
    the result are moved: whichever moves fewer elements."""
    (m, k), n = a.shape, b.shape[1]
    a_major = a.strides[0] == 4
    if m * n + (0 if a_major else m * k) >= k * n:
        if threads > 1 or b.strides[0] != 4:    # (one thread: its panels copied as read)
            b = np.ascontiguousarray(b)
        c = np.empty((1, m, n), np.float32)
        _into(a[None], b[None], c, threads)
        return c[0]
    at = a.T if a_major else np.ascontiguousarray(a.T)
    ct = np.empty((1, n, m), np.float32)
    _into(b.T[None], at[None], ct, threads)
    return np.ascontiguousarray(ct[0].T)


def _unaliased(b):
    """``b`` (2-d, contiguous columns), or where its row step is a multiple of ALIAS floats
    (its rows would share cache sets: the kernels then copy its panels, each part of a split
    product again), a copy with a longer row step, made once. Even on one thread the copy
    costs less than the panels' copies: (64, 128) @ (128, 9216) (the MNIST example's fc1,
    backward) 2.3-3.7 ms with its panels copied, 0.8-0.9 ms with B copied first (0.09 ms of
    it the copy)."""
    rs = b.strides[0] // 4
    if rs % ALIAS:
        return b
    padded = np.empty((b.shape[0], b.shape[1] + NR), np.float32)[:, :b.shape[1]]
    padded[...] = b
    return padded


def _threads_for(threads):
    """``threads``, or where it is None, the BLAS pool's current size (asked only once a
    product is taken here)."""
    return _threads.blas_threads() if threads is None else threads


def product(x1, x2, threads=1):
    """``x1 @ x2`` (NumPy's ``matmul`` semantics) on the compiled kernel, for float32
    arrays of at least 2 dims whose product has at least ``FROM`` multiply-adds, ``MR`` rows
    and ``NR`` columns (with ``threads`` > 1, 2-d products of ``MR`` to ``NR`` columns as
    well, from ``BLAS_ALONE`` multiply-adds); None where it does not take the product
    (NumPy's ``matmul`` then does, and raises what it raises). ``threads`` > 1 splits the
    work (see :func:`_into`); None asks the BLAS pool (:func:`_threads_for`)."""
    if x1.dtype != _F32 or x2.dtype != _F32 or x1.ndim < 2 or x2.ndim < 2:
        return None
    (m, k), (k2, n) = x1.shape[-2:], x2.shape[-2:]
    if k != k2 or k == 0 or any(st % 4 for st in x1.strides + x2.strides):
        return None             # (the kernel steps through memory by whole floats)
    thin = m < MR or n < NR
    if x1.ndim == 2 and x2.ndim == 2:               # (the common case, without the batch's work)
        work = m * n * k
        if work < FROM or not usable():
            return None
        threads = _threads_for(threads)
        if thin:
            # Mostly padding here, so NumPy's on one thread. With more, taken anyway where it
            # can be (one small block is padded): OpenBLAS's threads, once woken, spin for
            # tens of ms and take the cores from this kernel's own threads.
            if threads <= 1 or min(m, n) < MR or work < BLAS_ALONE:
                return None
            if n < NR:                              # (x2^T x1^T)^T: x2's columns as rows
                return np.ascontiguousarray(product(x2.T, x1.T, threads).T)
        threads = min(threads, max(1, work // SPLIT))
        if x2.strides[1] != 4:
            return _transposed(x1, x2, threads)
        c = np.empty((1, m, n), np.float32)
        _into(x1[None], x2[None], c, threads)
        return c[0]
    try:
        batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        return None
    s = 1
    for d in batch:
        s *= d
    work = s * m * n * k
    if thin or work < FROM or not usable():
        return None
    threads = _threads_for(threads)
    threads = min(threads, max(1, work // SPLIT))
    if x2.ndim == 2 and x1.ndim > 2 and x1.flags.c_contiguous:     # one product of all rows
        out = product(x1.reshape(-1, k), x2, threads)
        return out.reshape(batch + (m, n))
    if s == 1:                                  # one product (batch dims all 1)
        a, b = x1.reshape(m, k), x2.reshape(k, n)
        if b.strides[1] != 4:
            return _transposed(a, b, threads).reshape(batch + (m, n))
        c = np.empty((1, m, n), np.float32)
        _into(a[None], b[None], c, threads)
        return c.reshape(batch + (m, n))
    out = np.empty(batch + (m, n), np.float32)
    a = np.broadcast_to(x1, batch + (m, k))
    b = np.broadcast_to(x2, batch + (k, n))
    if b.strides[-1] != 4:
        b = np.ascontiguousarray(b)
    for lead in np.ndindex(batch[:-1]):        # (one step where the batch is 1-d)
        _into(a[lead], b[lead], out[lead], threads)
    return out


def _window_offsets(shape, kernel, stride, dilation, oh, ow):
    """Where the matrix of an image's windows, batch innermost, (C * K, L * N) (``K`` kernel
    offsets, ``L`` = ``oh * ow`` output positions), finds its elements in the image laid out
    (C, H, W, N) (``shape`` is (N, C, H, W)): row ``p``'s block of columns ``j`` to ``j + 32``
    (32 samples of one position; N a multiple of 32) is the run of 32 elements from
    ``rowoff[p] + coloff[j // 32]``."""
    nb, c, hh, ww = shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    i = np.arange(c * kh * kw, dtype=np.int64)
    ch, ki, kj = i // (kh * kw), i // kw % kh, i % kw
    rowoff = ch * (hh * ww * nb) + (ki * dh * ww + kj * dw) * nb
    j = np.arange(0, oh * ow * nb, NR, dtype=np.int64)
    pos, n0 = j // nb, j % nb
    coloff = ((pos // ow) * sh * ww + (pos % ow) * sw) * nb + n0
    return rowoff, coloff


def _image(a, x, kernel, stride, dilation):
    """For :func:`windows_product` and :func:`product_windows`: ``(memory, rowoff, coloff,
    rows, columns)`` of image ``x`` (N, C, H, W) whose memory is (C, H, W, N) C-contiguous
    (the batch innermost) and whose windows' matrix has ``rows`` x ``columns`` (C * K,
    L * N), or None where the compiled kernel does not take it (not float32, not 2-d
    windows, N not a multiple of 32, another memory layout, no windows)."""
    if (a.dtype != _F32 or x.dtype != _F32 or a.ndim != 2 or x.ndim != 4 or len(kernel) != 2
            or any(st % 4 for st in a.strides) or x.shape[0] % NR or not usable()):
        return None
    nb, c, hh, ww = x.shape
    if x.strides != (4, hh * ww * nb * 4, ww * nb * 4, nb * 4):
        return None
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh = (hh - dh * (kh - 1) - 1) // sh + 1
    ow = (ww - dw * (kw - 1) - 1) // sw + 1
    if oh <= 0 or ow <= 0 or c == 0:
        return None
    rowoff, coloff = _window_offsets(x.shape, kernel, stride, dilation, oh, ow)
    memory = x.transpose(1, 2, 3, 0).reshape(1, 1, -1)     # (a view: no copy)
    return memory, rowoff, coloff, c * kh * kw, oh * ow * nb


def windows_product(a, x, kernel, stride, dilation, threads=1):
    """The ``windows_product`` kernel (see ``_kernels.py``): ``a @ W``, ``W`` the matrix of
    the windows of ``x`` (C * K, L * N), batch innermost, read in place by the micro-kernel
    (a convolution's forward with no im2col matrix stored), for float32 ``a`` (M, C * K)
    and ``x`` laid out as :func:`_image` says; None elsewhere. Columns are shared by
    ``threads`` threads (None asks the BLAS pool)."""
    img = _image(a, x, kernel, stride, dilation)
    if img is None or a.shape[1] != img[3]:
        return None
    memory, rowoff, coloff, k, n = img
    m = a.shape[0]
    c = np.empty((1, m, n), np.float32)
    threads = min(_threads_for(threads), max(1, m * n * k // SPLIT))
    step = n if threads <= 1 else -(-(n // NR) // (PARTS * threads)) * NR
    _share(WCOLS, a[None], memory, c, step, threads, False, rowoff, coloff)
    return c[0]


def product_windows(a, x, kernel, stride, dilation, threads=1):
    """The ``product_windows`` kernel (see ``_kernels.py``): ``a @ W^T`` (a convolution's
    weight gradient with no im2col matrix stored; ``W`` as in :func:`windows_product`), for
    float32 ``a`` (M, L * N); None elsewhere. Computed as ``(W @ a^T)^T``, ``W``'s rows read
    in place, shared by ``threads`` threads in blocks of rows (each row's sums whole: the
    same bits on any number of threads)."""
    img = _image(a, x, kernel, stride, dilation)
    if img is None or a.shape[1] != img[4] or a.shape[0] == 0:
        return None
    memory, rowoff, coloff, p, k = img
    m = a.shape[0]
    kofs = (coloff[:, None] + np.arange(NR, dtype=np.int64)).reshape(-1)
    c = np.empty((1, p, m), np.float32)
    threads = min(_threads_for(threads), max(1, m * p * k // SPLIT))
    if threads <= 1:
        _share(WROWS, memory, a.T[None], c, p, 1, True, rowoff, kofs)
    elif m >= threads * NR:     # panels of a's rows per part: each copied once
        step = -(-(-(-m // NR)) // threads) * NR
        _share(WROWS_COLUMNS, memory, a.T[None], c, step, threads, True, rowoff, kofs)
    else:                       # blocks of W's rows: each part copies every panel
        step = -(-(-(-p // MR)) // threads) * MR
        _share(WROWS, memory, a.T[None], c, step, threads, True, rowoff, kofs)
    return np.ascontiguousarray(c[0].T)


# A scattered product shared by threads is cut into parts that each add into positions of
# their own: a block of samples (the columns of one panel per output position; samples lie
# innermost in the image) within a chunk of whole channels (the rows of their kernel
# offsets), blocks x chunks parts. Each part reads all of B's panels of its block once, so
# chunks of channels cost B's reads (one per chunk) and blocks do not: the MNIST example's
# input gradient ((64, 64, 24, 24) into (64, 32, 26, 26)) at two threads took 10.7 ms cut
# into 8 chunks, as at one thread (11.1), 6.0 ms into 2 chunks, 5.9 into 2 blocks x 2 chunks.
SCATTER_BLOCKS = 8


def windows_add_product(shape, a, b, kernel, stride, dilation, threads=1):
    """The ``windows_add_product`` kernel (see ``_kernels.py``) on the compiled micro-kernel,
    its blocks added straight into the image (no (C * K, L * N) matrix stored), for float32,
    2-d windows and a batch that is a multiple of NR (each block of 32 columns is then 32
    samples of one output position); None elsewhere. Within BLAS's accuracy of the
    reference's product-then-col2im; the terms of one position are summed in another order.
    ``threads`` > 1 shares parts (blocks of samples within chunks of whole channels; see
    ``SCATTER_BLOCKS``) among that many threads (see :func:`_share`): the same sums, bit for
    bit, each position's terms in the same order; None asks the BLAS pool."""
    nb, c = shape[0], shape[1]
    if (len(kernel) != 2 or len(shape) != 4 or nb % NR or a.dtype != _F32 or b.dtype != _F32
            or b.strides[1] != 4 or any(st % 4 for st in a.strides + b.strides)
            or a.shape[1] == 0 or not usable()):
        return None
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    hh, ww = shape[2], shape[3]
    oh = (hh - dh * (kh - 1) - 1) // sh + 1
    ow = (ww - dw * (kw - 1) - 1) // sw + 1
    if oh <= 0 or ow <= 0:
        return None
    rowoff, coloff = _window_offsets(shape, kernel, stride, dilation, oh, ow)
    plane = hh * ww * nb
    out = np.zeros(c * plane, np.float32)
    threads = _threads_for(threads)
    threads = min(threads, c, max(1, a.shape[0] * a.shape[1] * b.shape[1] // SPLIT))
    blocks = min(nb // NR, SCATTER_BLOCKS) if threads > 1 else 1
    step = -(-c // threads)     # (chunks of channels: one per thread)
    b = _unaliased(b)           # (rows a multiple of 1 KiB apart: copied once, with a longer
                                # row step; read in place they would share cache sets)
    _share(SCATTER, a[None], b[None], out[None, None], step * kh * kw, threads,
           rowoff=rowoff, coloff=coloff, blocks=blocks)
           # (parts: a block of samples, a chunk of whole channels: no two threads add into
           # one position)
    return out.reshape(c, hh * ww, nb)
