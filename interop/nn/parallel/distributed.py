"""``DistributedDataParallel``: one replica of a model per process, gradients averaged.

How a step goes (as PyTorch's reducer does it):

* construction: rank 0's parameters and buffers are broadcast to every rank (one flat
  tensor per dtype), after checking that every rank holds the same parameter shapes; the
  parameters are split into *buckets*, in the reverse order of ``parameters()`` (roughly
  the order backward produces their gradients): the first of at most 1 MiB, the others of
  at most ``bucket_cap_mb`` (default 25 MiB, PyTorch's), one dtype per bucket;
* forward: the wrapped module's forward; with ``find_unused_parameters`` the graph from
  the outputs is walked to find the parameters it does not reach;
* backward: each parameter's post-accumulate-grad hook fires as soon as its gradient is
  complete, during the backward walk. When every parameter of a bucket is ready, the
  bucket's gradients are copied into one flat tensor and an asynchronous ``all_reduce``
  is launched (buckets launch in order, so every rank issues the same collectives), while
  backward goes on to the earlier layers. After the last bucket the reductions are
  awaited, divided by the world size, and copied back into the ``.grad``s.

``no_sync()`` skips all of that (gradients accumulate locally); the first backward after
it averages the accumulated gradients.
"""

import contextlib
import time

import interop as it
import interop.distributed as dist
from interop.utils._pytree import tensors_in

from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25


def _leaf_of(node):
    """The tensor an AccumulateGrad node feeds (None for other nodes)."""
    v = getattr(node, "variable", None)
    if v is None:
        return None
    return v if isinstance(v, it.Tensor) else v()


class _Bucket:
    __slots__ = ("params", "indices", "numel", "pending", "flat", "work")

    def __init__(self, indices, params):
        self.indices = indices
        self.params = params
        self.numel = sum(p.numel() for p in params)
        self.pending = len(params)
        self.flat = None
        self.work = None


class DistributedDataParallel(Module):
    """Data parallelism with PyTorch's API: wrap the model after ``init_process_group``,
    train it as usual with each rank on its own share of the data (``DistributedSampler``),
    and every rank ends each step with the same averaged gradients. ``module`` is the
    wrapped model; ``state_dict()`` keys carry its ``module.`` prefix, as PyTorch's."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, init_sync=True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected an interop.nn.Module, got "
                            f"{type(module).__name__}")
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel: the default process group has not been "
                               "initialized; call interop.distributed.init_process_group first")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError(f"DistributedDataParallel: one device per process, got device_ids="
                             f"{device_ids}")
        if dim != 0:
            raise ValueError("DistributedDataParallel: dim must be 0 (each process gives the "
                             "module its own batch)")
        if bucket_cap_mb is None:
            bucket_cap_mb = _DEFAULT_BUCKET_CAP_MB
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb}")
        self.module = module
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.process_group = process_group
        self.bucket_bytes_cap = int(bucket_cap_mb * 1024 * 1024)
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.world_size = dist.get_world_size(process_group)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._param_names = [n for n, _ in named]
        self._params = [p for _, p in named]
        if not self._params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self._check_same_shapes()
        if init_sync:
            self._sync(list(module.parameters()) + list(module.buffers()))
        self._buckets = self._assign_buckets()
        self._bucket_of = {}
        for b, bucket in enumerate(self._buckets):
            for i in bucket.indices:
                self._bucket_of[i] = b
        self._handles = [p.register_post_accumulate_grad_hook(self._make_hook(i))
                         for i, p in enumerate(self._params)]
        self._expect = False        # this backward is to be reduced
        self._started = False       # a hook of this backward has fired
        self._finished = True
        self._next_bucket = 0
        self._unused = ()
        self._ready = [False] * len(self._params)
        self.comm_seconds = 0.0     # host time spent launching and waiting for reductions

    # ------------------------------------------------------------ construction
    def _check_same_shapes(self):
        shapes = [s for p in self._params for s in (p.ndim,) + tuple(p.shape)]
        mine = it.tensor([len(self._params), len(shapes), sum(shapes),
                          sum((k + 1) * s for k, s in enumerate(shapes))], dtype=it.int64)
        lo, hi = mine.clone(), mine.clone()
        dist.all_reduce(lo, dist.ReduceOp.MIN, group=self.process_group)
        dist.all_reduce(hi, dist.ReduceOp.MAX, group=self.process_group)
        if not bool(it.all(lo == hi)):
            raise ValueError(f"DistributedDataParallel: the ranks' models differ: rank "
                             f"{dist.get_rank(self.process_group)} has {len(self._params)} "
                             f"parameters of shapes {[tuple(p.shape) for p in self._params]}, "
                             f"and another rank has different ones")

    def _sync(self, tensors):
        """Every rank's ``tensors`` become rank 0's (of the group): one broadcast per dtype."""
        src = dist.get_global_rank(self.process_group, 0) if self.process_group is not None \
            else 0
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        with it.no_grad():
            for ts in by_dtype.values():
                flat = it.cat([t.detach().reshape(-1) for t in ts])
                dist.broadcast(flat, src=src, group=self.process_group)
                off = 0
                for t in ts:
                    n = t.numel()
                    t.detach().copy_(flat[off:off + n].reshape(t.shape))
                    off += n

    def _assign_buckets(self):
        """PyTorch's assignment: parameters in reverse order, a first bucket of at most
        1 MiB (or ``bucket_cap_mb`` if smaller), the others of at most ``bucket_cap_mb``; a
        bucket holds one dtype."""
        buckets, open_ = [], {}
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            key = (p.dtype, str(p.device))
            cur = open_.get(key)
            if cur is None:
                cur = open_[key] = [[], 0]
            cur[0].append(i)
            cur[1] += p.numel() * p.dtype.itemsize
            cap = min(_FIRST_BUCKET_BYTES, self.bucket_bytes_cap) if not buckets \
                else self.bucket_bytes_cap
            if cur[1] >= cap:
                buckets.append(cur[0])
                del open_[key]
        buckets.extend(c[0] for c in open_.values())
        return [_Bucket(ix, [self._params[i] for i in ix]) for ix in buckets]

    @property
    def bucket_sizes(self):
        """The buckets' sizes in parameters' elements, in launch order."""
        return [b.numel for b in self._buckets]

    # ------------------------------------------------------------ forward
    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally and communicates nothing; the
        first backward outside averages what was accumulated."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def forward(self, *inputs, **kwargs):
        if self._started and not self._finished:
            missing = [self._param_names[i] for i, r in enumerate(self._ready) if not r]
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`interop.nn.parallel.DistributedDataParallel`, and by making sure all "
                "`forward` function outputs participate in calculating loss. Parameters that "
                f"did not receive a gradient on rank {dist.get_rank(self.process_group)}: "
                f"{', '.join(missing)}")
        sync = it.is_grad_enabled() and self.require_backward_grad_sync and self.world_size > 1
        if sync and self.broadcast_buffers and self.training:
            bufs = list(self.module.buffers())
            if bufs:
                self._sync(bufs)
        out = self.module(*inputs, **kwargs)
        self._expect = sync
        self._started = False
        self._finished = not sync
        if sync:
            self._ready = [False] * len(self._params)
            for b in self._buckets:
                b.pending = len(b.params)
                b.flat = b.work = None
            self._next_bucket = 0
            self._unused = self._find_unused(out) if self.find_unused_parameters else ()
        return out

    def _find_unused(self, out):
        """Indices of the parameters the graph from ``out``'s tensors does not reach."""
        index = {id(p): i for i, p in enumerate(self._params)}
        used = set()
        seen = set()
        stack = [t.grad_fn for t in tensors_in(out) if t.grad_fn is not None]
        for t in tensors_in(out):
            if t.requires_grad and t.grad_fn is None and id(t) in index:
                used.add(index[id(t)])
        while stack:
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            for nxt, _ in n.next_functions:
                if nxt is None:
                    continue
                leaf = _leaf_of(nxt)
                if leaf is not None:
                    if id(leaf) in index:
                        used.add(index[id(leaf)])
                elif id(nxt) not in seen:
                    stack.append(nxt)
        return [i for i in range(len(self._params)) if i not in used]

    # ------------------------------------------------------------ backward
    def _make_hook(self, i):
        def hook(param):
            if self._expect:
                self._ready_param(i)
        return hook

    def _ready_param(self, i):
        if not self._started:
            self._started = True
            for u in self._unused:       # they get no gradient: their buckets need not wait
                self._mark(u)
        self._mark(i)

    def _mark(self, i):
        if self._ready[i]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self._param_names[i]} received its "
                f"gradient twice in one backward (a second backward through the same forward, "
                f"or a module reused after the gradient was reduced); call forward again")
        self._ready[i] = True
        b = self._buckets[self._bucket_of[i]]
        b.pending -= 1
        if b.pending == 0:
            while self._next_bucket < len(self._buckets) and \
                    self._buckets[self._next_bucket].pending == 0:
                self._launch(self._buckets[self._next_bucket])
                self._next_bucket += 1
            if self._next_bucket == len(self._buckets):
                self._finalize()
        else:
            dist._progress(self.process_group)

    def _launch(self, bucket):
        t0 = time.perf_counter()
        with it.no_grad():
            bucket.flat = it.cat([(p.grad.detach() if p.grad is not None else it.zeros_like(p))
                                  .reshape(-1) for p in bucket.params])
        bucket.work = dist.all_reduce(bucket.flat, group=self.process_group, async_op=True)
        self.comm_seconds += time.perf_counter() - t0

    def _finalize(self):
        t0 = time.perf_counter()
        used_anywhere = None
        if self.find_unused_parameters:     # (every rank: the collectives must match)
            used = it.ones(len(self._params), dtype=it.int32)
            for u in self._unused:
                used[u] = 0
            dist.all_reduce(used, group=self.process_group)
            used_anywhere = used.tolist()
        for b in self._buckets:
            b.work.wait()
        self.comm_seconds += time.perf_counter() - t0
        with it.no_grad():
            for b in self._buckets:
                flat = b.flat
                flat /= self.world_size
                off = 0
                for i, p in zip(b.indices, b.params):
                    n = p.numel()
                    if used_anywhere is None or used_anywhere[i]:
                        avg = flat[off:off + n].reshape(p.shape)
                        if p.grad is None:          # unused here, used on another rank
                            p.grad = avg.clone()
                        else:                       # (a copy: a .grad is never a view)
                            p.grad.detach().copy_(avg)
                    off += n
                b.flat = b.work = None
        self._finished = True
        self._expect = False
