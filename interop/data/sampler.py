"""Samplers: which indices a map-style dataset is read at, in which order, and how they
are grouped into batches. Random ones draw from interop's host RNG (a ``generator=``, or a
fresh seed from the default generator per epoch), so a seeded run repeats exactly."""

import math

import interop as it
import interop.distributed as dist

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DistributedSampler"]


def _generator(generator):
    """The generator of one epoch: the given one, or one seeded from the default one."""
    if generator is not None:
        return generator
    seed = int(it.randint(0, 2 ** 62, (), device="cpu"))
    return it.Generator().manual_seed(seed)


class Sampler:
    """Base class: subclasses define ``__iter__`` (and ``__len__`` where known)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices (``replacement=False``) or ``num_samples``
    independent draws (``replacement=True``); without replacement, ``num_samples`` larger
    than the dataset chains several permutations, as PyTorch does."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement="
                            f"{replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        g = _generator(self.generator)
        if self.replacement:
            yield from it.randint(0, n, (self.num_samples,), generator=g,
                                  device="cpu").tolist()
            return
        left = self.num_samples
        while left > 0:
            perm = it.randperm(n, generator=g, device="cpu").tolist()
            yield from perm[:left]
            left -= n

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        perm = it.randperm(len(self.indices), generator=_generator(self.generator),
                           device="cpu").tolist()
        return (self.indices[i] for i in perm)

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (with or
    without replacement)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or \
                num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement="
                             f"{replacement}")
        w = it.asarray(weights, dtype=it.float64, device="cpu")
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        if bool((w < 0).any()) or not bool(it.isfinite(w).all()) or float(w.sum()) <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > int((w > 0).sum()):
            raise ValueError(f"cannot draw {num_samples} samples without replacement from "
                             f"{int((w > 0).sum())} indices of non-zero weight")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        g = _generator(self.generator)
        if self.replacement:
            cdf = it.cumulative_sum(self.weights / self.weights.sum())
            u = it.rand(self.num_samples, generator=g, dtype=it.float64, device="cpu")
            idx = it.searchsorted(cdf, u, side="right")
            return iter(it.clamp(idx, max=len(cdf) - 1).tolist())
        # without replacement: the largest keys u^(1/w) (Efraimidis-Spirakis)
        u = it.rand(len(self.weights), generator=g, dtype=it.float64, device="cpu")
        positive = self.weights > 0
        keys = it.where(positive, it.log(u) / it.where(positive, self.weights, 1.0), -it.inf)
        return iter(it.topk(keys, self.num_samples).indices.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``; the last one shorter unless
    ``drop_last``."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last="
                             f"{drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class DistributedSampler(Sampler):
    """The share of replica ``rank`` of ``num_replicas`` (every replica the same number of
    indices: padded by repeating, or trimmed with ``drop_last``); call ``set_epoch`` each
    epoch so that shuffling differs between epochs and agrees between replicas."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            if not dist.is_initialized():
                raise ValueError("DistributedSampler: pass num_replicas and rank, or call "
                                 "interop.distributed.init_process_group first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = it.Generator().manual_seed(self.seed + self.epoch)
            indices = it.randperm(n, generator=g, device="cpu").tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            while pad > 0:
                indices += indices[:pad]
                pad = self.total_size - len(indices)
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        self.epoch = epoch
