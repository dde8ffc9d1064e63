"""``interop.data`` (also ``interop.utils.data``): datasets, samplers and the DataLoader,
with PyTorch's names and behaviour; ready-made image datasets (``datasets``: Digits, MNIST,
FashionMNIST) and image transforms (``transforms``) with torchvision's."""

from .dataset import (Dataset, IterableDataset, TensorDataset, ConcatDataset, ChainDataset,
                      Subset, StackDataset, random_split)
from .sampler import (Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler,
                      WeightedRandomSampler, BatchSampler, DistributedSampler)
from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info, WorkerInfo
from . import datasets, transforms

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset",
           "Subset", "StackDataset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DistributedSampler", "default_collate", "default_convert", "DataLoader",
           "get_worker_info", "WorkerInfo", "datasets", "transforms"]
