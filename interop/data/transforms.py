"""Image transforms with torchvision's names and semantics, on tensors.

There is no PIL here: an image is a ``Tensor`` (or anything ``it.asarray`` takes, such as a
NumPy array). The datasets of :mod:`interop.data.datasets` return a grayscale image as a
``uint8`` tensor of shape ``(H, W)``, the place of torchvision's PIL image of mode ``"L"``.

* :class:`ToTensor`: ``(H, W)`` or ``(H, W, C)`` to ``(C, H, W)``; ``uint8`` data is scaled
  to float in ``[0, 1]`` (divided by 255), any other dtype is kept unscaled (torchvision's
  rule for ndarrays).
* :class:`Normalize`: ``(x - mean) / std`` per channel on ``(..., C, H, W)`` float tensors.
* :class:`Compose`: the transforms one after the other.
* :class:`Lambda`: a user function as a transform.
* :class:`RandomCrop`, :class:`RandomHorizontalFlip`: on ``(..., H, W)`` tensors; they draw
  from interop's global generator (``it.manual_seed`` makes them repeat), as torchvision's
  draw from torch's.
"""

import interop as it

__all__ = ["Compose", "Lambda", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip"]


def _image_tensor(img, who, min_ndim=2):
    if not isinstance(img, it.Tensor):
        raise TypeError(f"{who}: expected an image Tensor of shape (..., H, W), got "
                        f"{type(img).__name__}")
    if img.ndim < min_ndim:
        raise ValueError(f"{who}: expected an image tensor of shape (..., H, W) (at least "
                         f"{min_ndim} dimensions), got shape {tuple(img.shape)}")
    return img


class Compose:
    """Applies ``transforms`` in order: ``Compose([ToTensor(), Normalize(m, s)])(img)``."""

    def __init__(self, transforms):
        transforms = list(transforms)
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose: transform {i} is a {type(t).__name__}, which is "
                                f"not callable")
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class Lambda:
    """``lambd`` as a transform, as torchvision's: ``Lambda(lambda x: x.flatten())(img)``."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: expected a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ToTensor:
    """An image as a ``(C, H, W)`` tensor, as torchvision's ``ToTensor`` does for an ndarray.

    The input is a tensor or array of shape ``(H, W)`` (one channel) or ``(H, W, C)``.
    ``uint8`` data becomes the default float dtype divided by 255 (values in ``[0, 1]``);
    other dtypes keep their dtype and values, only the axes move.
    """

    def __call__(self, pic):
        if not isinstance(pic, it.Tensor):
            if not (hasattr(pic, "__dlpack__") or hasattr(pic, "__array_interface__")
                    or hasattr(pic, "__array__")):
                raise TypeError(f"ToTensor: pic should be a Tensor or an array (H, W) or "
                                f"(H, W, C), got {type(pic).__name__}")
            pic = it.asarray(pic)
        if pic.ndim not in (2, 3):
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional ((H, W) or "
                             f"(H, W, C)), got shape {tuple(pic.shape)}")
        img = pic[None] if pic.ndim == 2 else pic.permute(2, 0, 1)
        if img.dtype == it.uint8:
            return img.astype(it.get_default_dtype()) / 255
        return img.contiguous() if pic.ndim == 3 else img

    def __repr__(self):
        return f"{type(self).__name__}()"


class Normalize:
    """``(tensor - mean) / std`` per channel of a float tensor ``(..., C, H, W)``.

    ``mean`` and ``std`` are sequences of one value per channel (or one value for all);
    with ``inplace=True`` the input tensor is overwritten and returned.
    """

    def __init__(self, mean, std, inplace=False):
        self.mean = list(mean) if isinstance(mean, (list, tuple)) else [mean]
        self.std = list(std) if isinstance(std, (list, tuple)) else [std]
        if not self.mean or not self.std:
            raise ValueError(f"Normalize: mean and std need at least one value, got "
                             f"mean={mean!r}, std={std!r}")
        self.inplace = inplace

    def __call__(self, tensor):
        if not isinstance(tensor, it.Tensor):
            raise TypeError(f"Normalize: expected a Tensor, got {type(tensor).__name__}")
        if not tensor.is_floating_point():
            raise TypeError(f"Normalize: expected a float tensor, got {tensor.dtype} "
                            f"(apply ToTensor first, or cast)")
        if tensor.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image of shape (..., C, H, W), "
                             f"got shape {tuple(tensor.shape)}")
        channels = int(tensor.shape[-3])
        for name, vals in (("mean", self.mean), ("std", self.std)):
            if len(vals) not in (1, channels):
                raise ValueError(f"Normalize: {name} has {len(vals)} values but the image has "
                                 f"{channels} channels (shape {tuple(tensor.shape)})")
        mean = it.asarray(self.mean, dtype=tensor.dtype, device=tensor.device)
        std = it.asarray(self.std, dtype=tensor.dtype, device=tensor.device)
        if bool(it.any(std == 0)):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to "
                             f"{tensor.dtype}, leading to division by zero (std={self.std})")
        mean, std = mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        return (tensor - mean) / std

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _pair(size, who):
    if isinstance(size, int) and not isinstance(size, bool):
        return size, size
    if isinstance(size, (list, tuple)) and len(size) in (1, 2) \
            and all(isinstance(s, int) and not isinstance(s, bool) for s in size):
        return (size[0], size[0]) if len(size) == 1 else tuple(size)
    raise TypeError(f"{who}: size should be an int or a sequence of one or two ints "
                    f"(h, w), got {size!r}")


def _padding4(padding, who):
    """(left, top, right, bottom) from torchvision's int / (lr, tb) / (l, t, r, b)."""
    if isinstance(padding, int) and not isinstance(padding, bool):
        pads = [padding] * 4
    elif isinstance(padding, (list, tuple)) and len(padding) in (1, 2, 4) \
            and all(isinstance(p, int) and not isinstance(p, bool) for p in padding):
        pads = {1: lambda p: p * 4, 2: lambda p: [p[0], p[1], p[0], p[1]],
                4: list}[len(padding)](list(padding))
    else:
        raise TypeError(f"{who}: padding should be an int or a sequence of 1, 2 or 4 ints, "
                        f"got {padding!r}")
    if any(p < 0 for p in pads):
        raise ValueError(f"{who}: padding must be non-negative, got {padding!r}")
    return pads


def _pad_index(n, before, after, mode, who, axis):
    """Source index along one axis for every position of the padded axis."""
    if mode == "edge":
        return [0] * before + list(range(n)) + [n - 1] * after
    if mode == "reflect":            # mirror without repeating the edge: 3 2 | 1 2 3 4 | 3 2
        if max(before, after) >= n:
            raise ValueError(f"{who}: reflect padding of {max(before, after)} needs a larger "
                             f"input along {axis} (size {n}); it must be less than the size")
        return list(range(before, 0, -1)) + list(range(n)) + list(range(n - 2, n - 2 - after, -1))
    # symmetric: mirror repeating the edge: 2 1 | 1 2 3 4 | 4 3
    if max(before, after) > n:
        raise ValueError(f"{who}: symmetric padding of {max(before, after)} needs a larger "
                         f"input along {axis} (size {n}); it must be at most the size")
    return list(range(before - 1, -1, -1)) + list(range(n)) + list(range(n - 1, n - 1 - after, -1))


def pad(img, padding, fill=0, padding_mode="constant"):
    """torchvision's ``F.pad`` on a tensor image ``(..., H, W)``: ``padding`` is an int, a
    pair (left/right, top/bottom) or four values (left, top, right, bottom); modes
    ``constant`` (with ``fill``), ``edge``, ``reflect`` and ``symmetric``."""
    who = "pad"
    img = _image_tensor(img, who)
    left, top, right, bottom = _padding4(padding, who)
    if padding_mode == "constant":
        if not isinstance(fill, (int, float)) or isinstance(fill, bool):
            raise TypeError(f"{who}: fill for a tensor image must be an int or a float, got "
                            f"{fill!r}")
        if not img.is_floating_point() and not float(fill).is_integer():
            raise TypeError(f"{who}: fill {fill!r} is not a whole number but the image is "
                            f"{img.dtype}")
        out = it.full((*img.shape[:-2], img.shape[-2] + top + bottom,
                       img.shape[-1] + left + right), fill, dtype=img.dtype, device=img.device)
        out[..., top:top + img.shape[-2], left:left + img.shape[-1]] = img
        return out
    if padding_mode not in ("edge", "reflect", "symmetric"):
        raise ValueError(f"{who}: padding_mode should be 'constant', 'edge', 'reflect' or "
                         f"'symmetric', got {padding_mode!r}")
    h, w = int(img.shape[-2]), int(img.shape[-1])
    rows = it.asarray(_pad_index(h, top, bottom, padding_mode, who, "H"), dtype=it.int64,
                      device=img.device)
    cols = it.asarray(_pad_index(w, left, right, padding_mode, who, "W"), dtype=it.int64,
                      device=img.device)
    return it.index_select(it.index_select(img, -2, rows), -1, cols)


class RandomCrop:
    """A crop of ``size`` (an int for a square, or ``(h, w)``) at a random place of a tensor
    image ``(..., H, W)``, as torchvision's ``RandomCrop``.

    ``padding`` is applied first (an int, ``(left/right, top/bottom)`` or ``(left, top,
    right, bottom)``), with ``padding_mode`` ``constant`` (value ``fill``), ``edge``,
    ``reflect`` or ``symmetric``. With ``pad_if_needed=True`` an image narrower (shorter)
    than the crop is padded on both sides by the shortfall; otherwise a crop larger than the
    image is a ``ValueError``. The offsets are drawn uniformly from interop's generator.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _pair(size, "RandomCrop")
        if min(self.size) <= 0:
            raise ValueError(f"RandomCrop: size must be positive, got {size!r}")
        if padding is not None:
            _padding4(padding, "RandomCrop")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: padding_mode should be 'constant', 'edge', "
                             f"'reflect' or 'symmetric', got {padding_mode!r}")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img, output_size):
        """``(i, j, h, w)``: the top, left, height and width of a random crop of
        ``output_size`` ``(h, w)`` inside ``img`` ``(..., H, W)``."""
        img = _image_tensor(img, "RandomCrop")
        h, w = int(img.shape[-2]), int(img.shape[-1])
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the "
                             f"input image size {(h, w)}")
        if h == th and w == tw:
            return 0, 0, h, w
        i = int(it.randint(0, h - th + 1, (1,)).item())
        j = int(it.randint(0, w - tw + 1, (1,)).item())
        return i, j, th, tw

    def __call__(self, img):
        img = _image_tensor(img, "RandomCrop")
        if self.padding is not None:
            img = pad(img, self.padding, self.fill, self.padding_mode)
        h, w = int(img.shape[-2]), int(img.shape[-1])
        if self.pad_if_needed and w < self.size[1]:
            img = pad(img, [self.size[1] - w, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and h < self.size[0]:
            img = pad(img, [0, self.size[0] - h], self.fill, self.padding_mode)
        i, j, th, tw = self.get_params(img, self.size)
        return img[..., i:i + th, j:j + tw]

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Flips a tensor image ``(..., H, W)`` left-right with probability ``p``."""

    def __init__(self, p=0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be a probability in [0, 1], got {p!r}")
        self.p = p

    def __call__(self, img):
        img = _image_tensor(img, "RandomHorizontalFlip")
        if it.rand(1).item() < self.p:
            return it.flip(img, (-1,))
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"
