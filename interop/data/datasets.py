"""Ready-made image datasets with torchvision's interface: ``Digits``, ``MNIST``,
``FashionMNIST`` and ``FakeData``.

Every dataset is map-style: ``ds[i]`` is ``(image, target)`` with ``image`` a ``uint8``
tensor of shape ``(H, W)`` (the place of torchvision's grayscale PIL image; see
:mod:`interop.data.transforms`) and ``target`` a Python ``int``, each passed through
``transform`` / ``target_transform`` when given. ``ds.data`` holds all images as one
``uint8`` tensor ``(N, H, W)``, ``ds.targets`` the labels as ``int64``, ``ds.classes`` the
class names. Nothing is downloaded.

* :class:`Digits`: the 1,797 handwritten digits (8x8) that ship with scikit-learn
  (``sklearn.datasets.load_digits``): no file, no network.
* :class:`MNIST`, :class:`FashionMNIST`: read the standard IDX files, gzipped or not, from
  ``root/MNIST/raw/`` (``root/FashionMNIST/raw/``), the folder layout and file names of
  torchvision.
* :class:`FakeData`: random images and labels made on demand, as torchvision's (a colour
  image is ``uint8`` of shape ``(H, W, C)``, the layout ``ToTensor`` turns into ``(C, H, W)``).
"""

import gzip
import os

import interop as it

from .dataset import Dataset
from .transforms import Compose, ToTensor, Normalize, RandomCrop, RandomHorizontalFlip

__all__ = ["Digits", "MNIST", "FashionMNIST", "FakeData", "read_idx", "Compose", "ToTensor", "Normalize",
           "RandomCrop", "RandomHorizontalFlip"]


class _ImageDataset(Dataset):
    """Shared by the datasets here: ``data`` (uint8, N x H x W), ``targets`` (int64, N)."""

    classes = []

    def __getitem__(self, index):
        img, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return int(self.data.shape[0])

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def _extra_repr(self):
        return []

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        lines += [f"    {line}" for line in self._extra_repr()]
        if hasattr(self, "train"):
            lines.append(f"    Split: {'Train' if self.train else 'Test'}")
        for name in ("transform", "target_transform"):
            t = getattr(self, name)
            if t is not None:
                lines.append(f"    {name.replace('_', ' ').capitalize()}: " +
                             repr(t).replace("\n", "\n    "))
        return "\n".join(lines)


# --------------------------------------------------------------------------------- Digits

#: Digits' fixed split: the last DIGITS_TEST samples (in scikit-learn's order) are the
#: test set, the first 1,797 - DIGITS_TEST the training set.
DIGITS_TEST = 360


class Digits(_ImageDataset):
    """scikit-learn's handwritten digits (``load_digits``): 1,797 grayscale images of 8x8
    pixels, classes ``0``..``9``, no download.

    The split is fixed: ``train=True`` gives the first 1,437 samples in scikit-learn's
    order, ``train=False`` the last 360 (``DIGITS_TEST``), a held-out block rather than a
    shuffled draw, so the test set is the same everywhere.

    Pixels (0..16 in scikit-learn) are scaled to ``uint8`` 0..255 as
    ``round(v * 255 / 16)``, so ``ToTensor`` maps them to ``[0, 1]`` as it does MNIST's.
    ``upsample=True`` resizes every image to 28x28 (bilinear, ``align_corners=False``, as
    torchvision's ``Resize((28, 28))``), so MNIST-shaped models run on it unchanged.
    The data is made on the current backend (or on ``device``).
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 upsample=False, device=None):
        try:
            from sklearn.datasets import load_digits
        except ImportError as e:
            raise ImportError("Digits needs scikit-learn, which ships the data: "
                              "pip install scikit-learn") from e
        self.root = root        # unused: the data ships with scikit-learn
        self.train = bool(train)
        self.transform, self.target_transform = transform, target_transform
        self.upsample = bool(upsample)
        bunch = load_digits()
        n = int(bunch.images.shape[0])
        part = slice(0, n - DIGITS_TEST) if self.train else slice(n - DIGITS_TEST, n)
        images = it.asarray(bunch.images[part], dtype=it.float32, device=device)
        images = images * (255 / 16)
        if self.upsample:
            images = it.nn.functional.interpolate(images[:, None], size=(28, 28),
                                                  mode="bilinear", align_corners=False)[:, 0]
        self.data = it.round(it.clip(images, 0, 255)).astype(it.uint8)
        self.targets = it.asarray(bunch.target[part], dtype=it.int64, device=device)

    def _extra_repr(self):
        return [f"Image size: {tuple(self.data.shape[1:])}"]


# ---------------------------------------------------------------------------- IDX files

# third byte of an IDX file's magic number -> (interop dtype, bytes per item)
_IDX_TYPES = {0x08: (it.uint8, 1), 0x09: (it.int8, 1), 0x0B: (it.int16, 2),
              0x0C: (it.int32, 4), 0x0D: (it.float32, 4), 0x0E: (it.float64, 8)}


def read_idx(path, device=None):
    """The tensor stored in the IDX file at ``path`` (gzipped when the name ends in
    ``.gz``): the format of MNIST's files, a 4-byte magic number (0, 0, type, ndim), the
    dimensions as big-endian int32, then the data in big-endian C order."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except gzip.BadGzipFile as e:
        raise ValueError(f"{path}: not a gzip file ({e}); an uncompressed IDX file must not "
                         f"end in .gz") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (the first bytes {raw[:4]!r} are not a "
                         f"magic number 0, 0, type in {sorted(_IDX_TYPES)}, ndim)")
    dtype, size = _IDX_TYPES[raw[2]]
    ndim = raw[3]
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, {ndim} "
                         f"dimensions need {head})")
    shape = tuple(int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
    count = 1
    for d in shape:
        count *= d
    body = raw[head:]
    if len(body) != count * size:
        raise ValueError(f"{path}: an IDX array of shape {shape} and {dtype.name} needs "
                         f"{count * size} bytes of data, the file has {len(body)}")
    if size > 1:                       # big-endian -> little-endian, item by item
        swapped = bytearray(len(body))
        for k in range(size):
            swapped[k::size] = body[size - 1 - k::size]
        body = bytes(swapped)
    return it.asarray(it.backends.from_bytes(body, dtype, shape), device=device)


class MNIST(_ImageDataset):
    """MNIST from the four IDX files in ``root/MNIST/raw/`` (torchvision's layout), each
    gzipped (``.gz``) or not: ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``
    (60,000 training images) and ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``
    (10,000 test images). Nothing is downloaded: a missing file is a
    ``FileNotFoundError`` that says which files go where. ``download=True`` is accepted as
    in torchvision, where it fetches only missing files: with all four files in place it
    reads them, with one missing it is a ``ValueError`` (interop never downloads)."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    url = "https://ossci-datasets.s3.amazonaws.com/mnist/"
    files = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False, device=None):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = bool(train)
        self.transform, self.target_transform = transform, target_transform
        if download:
            # torchvision downloads only what is missing, so download=True with the files in
            # place reads them; interop never goes to the network for the rest
            for f in (f for pair in self.files.values() for f in pair):
                self._find(f, downloading=True)
        images_path, labels_path = (self._find(f) for f in self.files[self.train])
        self.data = read_idx(images_path, device=device)
        self.targets = read_idx(labels_path, device=device).astype(it.int64)
        if self.data.ndim != 3 or self.data.dtype != it.uint8:
            raise ValueError(f"{images_path}: expected uint8 images of shape (N, H, W), got "
                             f"{self.data.dtype} of shape {tuple(self.data.shape)}")
        if self.targets.ndim != 1 or self.targets.shape[0] != self.data.shape[0]:
            raise ValueError(f"{labels_path}: expected {self.data.shape[0]} labels (one per "
                             f"image of {images_path}), got shape {tuple(self.targets.shape)}")

    @classmethod
    def _raw(cls, root):
        return os.path.join(os.path.expanduser(os.fspath(root)), cls.__name__, "raw")

    @property
    def raw_folder(self):
        return self._raw(self.root)

    def _find(self, stem, downloading=False):
        for candidate in (stem, stem + ".gz"):
            path = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(path):
                return path
        if downloading:
            raise ValueError(
                f"{type(self).__name__}: download=True and {stem} (or {stem}.gz) is missing "
                f"from {self.raw_folder}, but interop does not download data sets; fetch the "
                f"four IDX files yourself (e.g. from {self.url}) into that folder")
        wanted = ", ".join(f for pair in self.files.values() for f in pair)
        where = ("the folder does not exist" if not os.path.isdir(self.raw_folder)
                 else f"it holds {sorted(os.listdir(self.raw_folder)) or 'nothing'}")
        raise FileNotFoundError(
            f"{type(self).__name__}: {stem} (or {stem}.gz) not found in {self.raw_folder} "
            f"({where}). Put the IDX files {wanted} there (gzipped or not), e.g. from "
            f"{self.url}; interop does not download them")

    def _extra_repr(self):
        return [f"Root location: {self.root}"]


class FashionMNIST(MNIST):
    """Fashion-MNIST: the same files and layout as :class:`MNIST`, in
    ``root/FashionMNIST/raw/``; ten classes of clothing."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    url = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"


# ------------------------------------------------------------------------------ FakeData

class FakeData(_ImageDataset):
    """``size`` random images of ``image_size`` ``(C, H, W)`` with labels in
    ``0..num_classes - 1``, as torchvision's ``FakeData``: item ``i`` is drawn by a
    generator seeded with ``i + random_offset``, so it is the same on every access and
    every run (the draws differ from torchvision's, whose generator is PyTorch's).

    Pixels are made as torchvision makes them: standard normal values times 255,
    truncated and wrapped to ``uint8`` (what its ``ToPILImage`` does to a float tensor).
    An item is ``(image, target)``: the image ``uint8`` of shape ``(H, W)`` for one channel,
    ``(H, W, C)`` otherwise (a PIL image's layout); the target a Python ``int``. Nothing is
    stored: ``data`` and ``targets`` are not attributes of this dataset."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        image_size = tuple(image_size)
        if len(image_size) != 3 or any(not isinstance(d, int) or d < 1 for d in image_size):
            raise ValueError(f"FakeData: image_size must be three positive ints (C, H, W), "
                             f"got {image_size!r}")
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"FakeData: size must be a non-negative int, got {size!r}")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"FakeData: num_classes must be a positive int, got "
                             f"{num_classes!r}")
        self.size, self.image_size, self.num_classes = size, image_size, num_classes
        self.random_offset = random_offset
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError(f"FakeData: index {index} out of range for {self.size} items")
        index %= self.size
        g = it.Generator().manual_seed(index + self.random_offset)
        img = it.randn(*self.image_size, generator=g)
        target = int(it.randint(0, self.num_classes, (1,), generator=g)[0])
        img = it.remainder(it.trunc(img * 255).to(it.int64), 256).to(it.uint8)
        img = img[0] if self.image_size[0] == 1 else it.permute(img, (1, 2, 0))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _extra_repr(self):
        return [f"Image size: {self.image_size}"]

