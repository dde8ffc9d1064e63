"""interop.data.datasets (Digits, MNIST, FashionMNIST, IDX files) and interop.data.transforms,
checked against scikit-learn's data, NumPy's IDX bytes and PyTorch's padding/interpolation."""

import gzip
import re

import numpy as np
import pytest
import torch

import interop as it
from interop.data import datasets, transforms as T
from interop.utils.data import DataLoader


def _np(t):
    return np.asarray(it.to_numpy(t)) if hasattr(it, "to_numpy") else np.from_dlpack(t.cpu())


# ------------------------------------------------------------------------------- Digits

def test_digits_split_values_and_targets(be):
    from sklearn.datasets import load_digits
    ref = load_digits()
    train, test = datasets.Digits(), datasets.Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    assert train.data.dtype == it.uint8 and tuple(train.data.shape) == (1437, 8, 8)
    assert train.data._be is be and train.targets.dtype == it.int64
    want = np.round(ref.images * 255 / 16).astype(np.uint8)
    np.testing.assert_array_equal(_np(train.data), want[:1437])
    np.testing.assert_array_equal(_np(test.data), want[1437:])
    np.testing.assert_array_equal(_np(test.targets), ref.target[1437:])
    img, target = test[5]
    assert isinstance(target, int) and target == int(ref.target[1437 + 5])
    assert img.dtype == it.uint8 and tuple(img.shape) == (8, 8)
    assert int(_np(train.data).max()) == 255 and train.class_to_idx["7"] == 7


def test_digits_upsampled_matches_torch_bilinear(be):
    from sklearn.datasets import load_digits
    ds = datasets.Digits(train=False, upsample=True)
    assert tuple(ds.data.shape) == (360, 28, 28) and ds.data.dtype == it.uint8
    src = torch.tensor(load_digits().images[1437:], dtype=torch.float32) * (255 / 16)
    want = torch.nn.functional.interpolate(src[:, None], size=(28, 28), mode="bilinear",
                                           align_corners=False)[:, 0].clamp(0, 255).round()
    got = _np(ds.data).astype(np.int16)
    assert np.abs(got - want.numpy().astype(np.int16)).max() <= 1   # float rounding at .5
    assert "Image size: (28, 28)" in repr(ds) and "Split: Test" in repr(ds)


def test_digits_transforms_and_dataloader(be):
    ds = datasets.Digits(transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,))]),
                         target_transform=lambda y: y % 2)
    img, target = ds[3]
    raw = _np(ds.data[3]).astype(np.float32)
    np.testing.assert_allclose(_np(img)[0], (raw / 255 - 0.5) / 0.25, rtol=1e-6, atol=1e-6)
    assert target == int(ds.targets[3]) % 2
    x, y = next(iter(DataLoader(ds, batch_size=16)))
    assert tuple(x.shape) == (16, 1, 8, 8) and x.dtype == it.float32
    assert tuple(y.shape) == (16,) and y.dtype == it.int64
    assert "Transform: Compose(" in repr(ds)


# ---------------------------------------------------------------------------- IDX files

def _idx(array, code):
    head = bytes([0, 0, code, array.ndim]) + b"".join(int(d).to_bytes(4, "big")
                                                      for d in array.shape)
    return head + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype,code", [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B),
                                        (np.int32, 0x0C), (np.float32, 0x0D),
                                        (np.float64, 0x0E)])
def test_read_idx_every_type_plain_and_gzipped(tmp_path, dtype, code):
    a = (np.arange(24).reshape(2, 3, 4) * 37 - 300).astype(dtype)
    if dtype in (np.float32, np.float64):
        a = a / 7
    (tmp_path / "a").write_bytes(_idx(a, code))
    (tmp_path / "a.gz").write_bytes(gzip.compress(_idx(a, code)))
    for name in ("a", "a.gz"):
        t = datasets.read_idx(tmp_path / name)
        assert t.dtype == getattr(it, np.dtype(dtype).name)
        np.testing.assert_array_equal(_np(t), a)


def test_read_idx_refuses_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(_idx(np.zeros((2, 3), np.uint8), 0x08)[:-1])
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*needs 6 bytes.*has 5"):
        datasets.read_idx(tmp_path / "short")
    (tmp_path / "x.gz").write_bytes(_idx(np.zeros(3, np.uint8), 0x08))
    with pytest.raises(ValueError, match="not a gzip file"):
        datasets.read_idx(tmp_path / "x.gz")


def _write_mnist(root, cls, n_train=5, n_test=3, gz=False):
    raw = root / cls / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, arr, ndim in (("images", imgs, 3), ("labels", labels, 1)):
            data = _idx(arr, 0x08)
            name = f"{prefix}-{kind}-idx{ndim}-ubyte"
            if gz:
                (raw / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (raw / name).write_bytes(data)
        out[prefix] = (imgs, labels)
    return out


@pytest.mark.parametrize("cls,gz", [("MNIST", False), ("FashionMNIST", True)])
def test_mnist_reads_torchvision_layout(tmp_path, be, cls, gz):
    ref = _write_mnist(tmp_path, cls, gz=gz)
    Dataset = getattr(datasets, cls)
    train, test = Dataset(tmp_path), Dataset(str(tmp_path), train=False, transform=T.ToTensor())
    assert (len(train), len(test)) == (5, 3)
    np.testing.assert_array_equal(_np(train.data), ref["train"][0])
    np.testing.assert_array_equal(_np(train.targets), ref["train"][1])
    assert train.targets.dtype == it.int64 and train.data._be is be
    img, target = test[2]
    assert tuple(img.shape) == (1, 28, 28) and img.dtype == it.float32
    np.testing.assert_allclose(_np(img)[0], ref["t10k"][0][2] / 255, rtol=1e-6)
    assert target == int(ref["t10k"][1][2])
    assert len(train.classes) == 10 and ("Trouser" in train.classes) == (cls == "FashionMNIST")
    assert f"Dataset {cls}" in repr(train) and "Number of datapoints: 5" in repr(train)


def test_mnist_missing_files_say_where_to_put_what(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        datasets.MNIST(tmp_path)
    msg = str(e.value)
    assert str(tmp_path / "MNIST" / "raw") in msg and "does not exist" in msg
    for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
              "t10k-labels-idx1-ubyte"):
        assert f in msg
    (tmp_path / "FashionMNIST" / "raw").mkdir(parents=True)
    (tmp_path / "FashionMNIST" / "raw" / "readme.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"FashionMNIST.*readme\.txt"):
        datasets.FashionMNIST(tmp_path, train=False)
    with pytest.raises(ValueError, match="does not download"):
        datasets.MNIST(tmp_path, download=True)


def test_mnist_download_true_reads_files_already_there(tmp_path):
    """torchvision's ``download=True`` fetches only what is missing, so PyTorch's examples
    pass it on every run; with the files in place it must read them, not refuse."""
    ref = _write_mnist(tmp_path, "MNIST")
    ds = datasets.MNIST(tmp_path, train=True, download=True)
    np.testing.assert_array_equal(_np(ds.data), ref["train"][0])
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()   # the other split's
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.*does not download"):
        datasets.MNIST(tmp_path, train=True, download=True)


def test_mnist_label_count_must_match(tmp_path):
    _write_mnist(tmp_path, "MNIST")
    raw = tmp_path / "MNIST" / "raw"
    (raw / "train-labels-idx1-ubyte").write_bytes(_idx(np.zeros(4, np.uint8), 0x08))
    with pytest.raises(ValueError, match="expected 5 labels"):
        datasets.MNIST(tmp_path)


# ---------------------------------------------------------------------------- transforms

def test_to_tensor_follows_torchvision_ndarray_rule(be):
    hw = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    hwc = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    t = T.ToTensor()(it.asarray(hw))
    assert tuple(t.shape) == (1, 3, 4) and t.dtype == it.float32
    np.testing.assert_allclose(_np(t)[0], hw / 255, rtol=1e-6)
    t = T.ToTensor()(hwc)                         # a NumPy array goes through it.asarray
    np.testing.assert_allclose(_np(t), hwc.transpose(2, 0, 1) / 255, rtol=1e-6)
    f = np.linspace(-1, 3, 24, dtype=np.float64).reshape(2, 4, 3)
    t = T.ToTensor()(it.asarray(f))               # not uint8: axes move, values and dtype stay
    assert t.dtype == it.float64
    np.testing.assert_array_equal(_np(t), f.transpose(2, 0, 1))
    with pytest.raises(ValueError, match=r"2 or 3 dimensional.*\(5,\)"):
        T.ToTensor()(it.zeros(5))
    with pytest.raises(TypeError, match="got list"):
        T.ToTensor()([[1, 2]])


def test_normalize_matches_torch_and_refuses_what_torchvision_refuses(be):
    x = np.random.default_rng(1).random((2, 3, 4, 5), dtype=np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 1.5, 2.0)
    want = (torch.tensor(x) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    np.testing.assert_allclose(_np(T.Normalize(mean, std)(it.asarray(x))), want.numpy(),
                               rtol=1e-6)
    t = it.asarray(x)
    assert T.Normalize(mean, std, inplace=True)(t) is t
    np.testing.assert_allclose(_np(t), want.numpy(), rtol=1e-6)
    np.testing.assert_allclose(_np(T.Normalize([0.5], [2.0])(it.asarray(x))), (x - 0.5) / 2,
                               rtol=1e-6)
    with pytest.raises(TypeError, match="float tensor.*uint8"):
        T.Normalize([0.5], [1.0])(it.zeros((1, 2, 2), dtype=it.uint8))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize([0.5], [0.0])(it.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="mean has 2 values but the image has 3 channels"):
        T.Normalize([0.5, 0.5], [1.0])(it.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize([0.5], [1.0])(it.zeros((2, 2)))


def test_compose_applies_in_order_and_prints_like_torchvision():
    c = T.Compose([lambda x: x + 1, lambda x: x * 10])
    assert c(1) == 20
    assert repr(T.Compose([T.ToTensor(), T.RandomHorizontalFlip(0.3)])) == \
        "Compose(\n    ToTensor()\n    RandomHorizontalFlip(p=0.3)\n)"
    with pytest.raises(TypeError, match="transform 1 is a int"):
        T.Compose([T.ToTensor(), 3])


@pytest.mark.parametrize("padding", [2, (1, 3), (1, 2, 3, 0), (0, 0, 0, 4)])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_matches_torch_and_numpy(be, padding, mode):
    x = np.arange(2 * 5 * 6, dtype=np.float32).reshape(2, 5, 6)
    left, top, right, bottom = T._padding4(padding, "test")
    got = _np(T.pad(it.asarray(x), padding, fill=-1.5, padding_mode=mode))
    if mode == "symmetric":        # torch.nn.functional.pad has no symmetric mode; NumPy does
        want = np.pad(x, ((0, 0), (top, bottom), (left, right)), mode="symmetric")
    else:
        tmode = {"edge": "replicate"}.get(mode, mode)
        kw = {"value": -1.5} if mode == "constant" else {}
        want = torch.nn.functional.pad(torch.tensor(x)[None], (left, right, top, bottom),
                                       mode=tmode, **kw)[0].numpy()
    np.testing.assert_array_equal(got, want)


def test_pad_errors(be):
    x = it.zeros((3, 3), dtype=it.uint8)
    with pytest.raises(ValueError, match="reflect padding of 3.*size 3"):
        T.pad(x, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="symmetric padding of 4"):
        T.pad(x, (4, 0), padding_mode="symmetric")
    assert tuple(T.pad(x, 3, padding_mode="symmetric").shape) == (9, 9)
    with pytest.raises(TypeError, match="not a whole number.*uint8"):
        T.pad(x, 1, fill=0.5)
    with pytest.raises(ValueError, match="non-negative"):
        T.pad(x, -1)
    with pytest.raises(TypeError, match="padding should be an int or a sequence of 1, 2 or 4"):
        T.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="padding_mode"):
        T.pad(x, 1, padding_mode="wrap")


def test_random_crop_is_a_uniform_window_of_the_padded_image(be):
    x = it.asarray(np.arange(3 * 6 * 7, dtype=np.uint8).reshape(3, 6, 7))
    padded = _np(T.pad(x, (1, 2), fill=255))               # 10 x 9
    crop = T.RandomCrop((4, 5), padding=(1, 2), fill=255)
    it.manual_seed(0)
    seen = set()
    for _ in range(300):
        out = _np(crop(x))
        assert out.shape == (3, 4, 5)
        hits = [(i, j) for i in range(10 - 4 + 1) for j in range(9 - 5 + 1)
                if np.array_equal(padded[:, i:i + 4, j:j + 5], out)]
        assert len(hits) == 1
        seen.add(hits[0])
    assert len(seen) == 7 * 5                               # every offset is reached
    it.manual_seed(3)
    a = _np(crop(x))
    it.manual_seed(3)
    np.testing.assert_array_equal(_np(crop(x)), a)         # the seed decides the crop


def test_random_crop_sizes(be):
    x = it.ones((5, 4))
    assert T.RandomCrop(4).get_params(x, (5, 4)) == (0, 0, 5, 4)
    with pytest.raises(ValueError, match=r"crop size \(6, 6\) is larger than the input image "
                                         r"size \(5, 4\)"):
        T.RandomCrop(6)(x)
    out = _np(T.RandomCrop(6, pad_if_needed=True, fill=0)(x))
    assert out.shape == (6, 6)
    assert out.sum() == 20                                  # all of the image is kept
    with pytest.raises(TypeError, match="size should be an int"):
        T.RandomCrop((1, 2, 3))


def test_random_horizontal_flip(be):
    x = it.asarray(np.arange(6, dtype=np.float32).reshape(1, 2, 3))
    np.testing.assert_array_equal(_np(T.RandomHorizontalFlip(1.0)(x)), _np(x)[..., ::-1])
    assert T.RandomHorizontalFlip(0.0)(x) is x
    it.manual_seed(0)
    flips = sum(int(T.RandomHorizontalFlip(0.5)(x)[0, 0, 0].item() == 2) for _ in range(400))
    assert 150 < flips < 250
    with pytest.raises(ValueError, match="probability"):
        T.RandomHorizontalFlip(1.5)
    with pytest.raises(TypeError, match="expected an image Tensor"):
        T.RandomHorizontalFlip()(np.zeros((2, 2)))


def test_utils_data_spelling():
    import interop.utils.data.datasets as ud
    import interop.utils.data.transforms as ut
    assert ud.MNIST is datasets.MNIST and ut.RandomCrop is T.RandomCrop
    assert it.utils.data.datasets.Digits is datasets.Digits
    assert datasets.ToTensor is T.ToTensor
    assert re.search(r"Digits", datasets.__doc__)


@pytest.mark.parametrize("sub", ["sampler", "dataset", "dataloader", "distributed"])
def test_utils_data_submodules_at_pytorchs_paths(sub):
    """``from torch.utils.data.sampler import Sampler`` (mnist_hogwild) and its neighbours
    port by the import alone: each name PyTorch's submodule exports that interop.data has
    is importable from the same submodule path and is the same object."""
    import importlib
    torch = pytest.importorskip("torch")
    ref = importlib.import_module(f"torch.utils.data.{sub}")
    mine = importlib.import_module(f"interop.utils.data.{sub}")
    shared = [n for n in ref.__all__ if hasattr(it.data, n)]
    assert shared, f"torch.utils.data.{sub} shares no names with interop.data"
    for name in shared:
        assert getattr(mine, name) is getattr(it.data, name), name


def test_lambda_transform_as_torchvisions(be):
    """mnist_forward_forward composes ToTensor, Normalize and Lambda(lambda x: flatten(x))."""
    img = it.asarray(np.arange(6, dtype=np.uint8).reshape(2, 3))
    t = T.Compose([T.ToTensor(), T.Lambda(lambda x: it.flatten(x))])
    out = t(img)
    assert tuple(out.shape) == (6,) and out.dtype == it.float32
    np.testing.assert_allclose(_np(out), np.arange(6) / 255, rtol=1e-6)
    assert repr(T.Lambda(abs)) == "Lambda()" and "Lambda()" in repr(t)
    with pytest.raises(TypeError, match="expected a callable, got int"):
        T.Lambda(3)


@pytest.mark.parametrize("image_size", [(3, 5, 4), (1, 6, 7)])
def test_fake_data_as_torchvisions(be, image_size):
    """dcgan's ``--dataset fake``: FakeData(image_size=(3, 64, 64), transform=ToTensor())."""
    torch = pytest.importorskip("torch")
    ds = datasets.FakeData(size=6, image_size=image_size, num_classes=4, random_offset=7)
    assert len(ds) == 6
    img, target = ds[3]
    C, H, W = image_size
    assert tuple(img.shape) == ((H, W) if C == 1 else (H, W, C)) and img.dtype == it.uint8
    assert isinstance(target, int) and 0 <= target < 4
    again, t2 = ds[3]
    np.testing.assert_array_equal(_np(again), _np(img))        # the same on every access
    assert t2 == target
    # the pixels are torchvision's recipe (ToPILImage of randn: mul(255).byte(), which wraps)
    g = it.Generator().manual_seed(3 + 7)
    raw = torch.from_numpy(_np(it.randn(*image_size, generator=g)).copy())
    want = raw.mul(255).byte().numpy()
    want = want[0] if C == 1 else want.transpose(1, 2, 0)
    np.testing.assert_array_equal(_np(img), want)
    assert target == int(it.randint(0, 4, (1,), generator=g)[0])
    x, _ = datasets.FakeData(2, image_size, transform=T.ToTensor())[-1]
    assert tuple(x.shape) == image_size and x.dtype == it.float32
    labels = {datasets.FakeData(200, (1, 1, 1))[i][1] for i in range(200)}
    assert labels == set(range(10))
    assert "Image size" in repr(ds) and "Split" not in repr(ds)
    with pytest.raises(IndexError, match="out of range"):
        ds[6]
    with pytest.raises(ValueError, match=r"three positive ints.*\(3, 64\)"):
        datasets.FakeData(image_size=(3, 64))
