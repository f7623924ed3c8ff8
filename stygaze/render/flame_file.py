"""FLAME model files read as plain arrays, never by running code from them.

A FLAME ``.pkl`` is a pickle, and unpickling an arbitrary pickle runs any code it names.
:func:`load_flame_pickle` reads one with :class:`SafeUnpickler`, which builds only:

* numpy arrays, dtypes and scalars (``numpy.core`` and numpy 2's ``numpy._core``);
* scipy.sparse csc / csr / coo matrices and arrays, captured and turned into dense arrays
  (scipy is not needed to read them);
* chumpy arrays (the original FLAME 2019/2020 releases store them; chumpy itself is not
  needed): a ``chumpy`` object's pickled state holds its value under ``x`` (or ``a``);
* plain containers (dict, list, tuple, set, ``collections.OrderedDict``) and strings/numbers.

Any other class or function the file names is refused with :class:`FlameModelError`
naming it, before it is looked up. ``.npz`` files are read with ``allow_pickle=False``
(object arrays are refused) and a bounded decompressed size. :func:`read_flame_model`
returns the checked arrays smplx needs; :func:`convert_flame` writes them (and every other
array the file holds) to a plain ``.npz`` (``stygaze render convert-flame``).
"""

from __future__ import annotations

import collections
import logging
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from stygaze.io import atomic_path, check_distinct_outputs
from stygaze.render.config import RenderError

log = logging.getLogger(__name__)

MAX_ARRAY_BYTES = 1 << 30
"""Largest array a FLAME file may hold (the real model's biggest, ``shapedirs``, is ~50 MB)."""

REQUIRED = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")
"""The arrays smplx builds a FLAME layer from."""


class FlameModelError(RenderError):
    """The FLAME model path is missing, wrong, or the file cannot be loaded safely."""


class _Refused(pickle.UnpicklingError):
    pass


class _NdarrayToken:
    """Stands for ``numpy.ndarray`` in a pickle; only :func:`_reconstruct` accepts it."""

    def __new__(cls, *args, **kwargs):
        raise pickle.UnpicklingError("numpy.ndarray can only be rebuilt through numpy's _reconstruct")


class _StandIn:
    """Captures a pickled object's constructor arguments and state; runs nothing of its own."""

    pickled_name = ""

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.args, obj.state = args, None
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.state = state


class _Sparse(_StandIn):
    fmt = ""


class _Chumpy(_StandIn):
    pass


def _check_size(shape, dtype) -> None:
    count = 1
    for n in shape:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise pickle.UnpicklingError(f"bad array shape {shape!r}")
        count *= int(n)
    if count * max(np.dtype(dtype).itemsize, 1) > MAX_ARRAY_BYTES:
        raise pickle.UnpicklingError(f"array of shape {tuple(shape)} is larger than {MAX_ARRAY_BYTES >> 20} MiB")


def _reconstruct(cls, shape, dtype):
    if cls is not _NdarrayToken:
        raise _Refused(f"numpy _reconstruct of {getattr(cls, '__name__', cls)!r}")
    dtype = np.dtype(dtype)
    if dtype.hasobject:  # object arrays hold pickled Python objects: never needed here
        raise pickle.UnpicklingError("an object array")
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    _check_size(shape, dtype)
    return np.ndarray.__new__(np.ndarray, shape, dtype)


def _frombuffer(buffer, dtype, shape, order):
    dtype = np.dtype(dtype)
    _check_size(shape, dtype)
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order).copy()


def _scalar(dtype, *data):
    try:
        from numpy._core.multiarray import scalar  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import scalar
    if np.dtype(dtype).hasobject:
        raise pickle.UnpicklingError("an object scalar")
    return scalar(dtype, *data)


def _codecs_encode(text, encoding="utf-8"):
    if not isinstance(text, str) or str(encoding).lower().replace("-", "") != "latin1":
        raise _Refused("_codecs.encode other than latin1 text")
    return text.encode("latin1")


def _copyreg_reconstructor(cls, base, state):
    if not (isinstance(cls, type) and issubclass(cls, _StandIn)) or base is not object or state is not None:
        raise _Refused(f"copyreg._reconstructor of {getattr(cls, '__name__', cls)!r}")
    return cls.__new__(cls)


_SPARSE: dict[str, type] = {}
_CHUMPY: dict[str, type] = {}


def _sparse_class(module: str, name: str) -> type:
    fmt = name[:3]
    if fmt not in _SPARSE:
        _SPARSE[fmt] = type(f"{fmt}_standin", (_Sparse,), {"fmt": fmt, "pickled_name": f"{module}.{name}"})
    return _SPARSE[fmt]


def _chumpy_class(module: str, name: str) -> type:
    full = f"{module}.{name}"
    if full not in _CHUMPY:
        _CHUMPY[full] = type(f"{name}_standin", (_Chumpy,), {"pickled_name": full})
    return _CHUMPY[full]


_SPARSE_MODULES = {f"scipy.sparse.{p}{f}" for p in ("", "_") for f in ("csc", "csr", "coo")}
_SPARSE_NAMES = {f"{f}_{k}" for f in ("csc", "csr", "coo") for k in ("matrix", "array")}
_NUMPY_CORE = ("numpy.core", "numpy._core")
_ALLOWED = {
    **{(f"{core}.multiarray", "_reconstruct"): _reconstruct for core in _NUMPY_CORE},
    **{(f"{core}.multiarray", "scalar"): _scalar for core in _NUMPY_CORE},
    **{(f"{core}.numeric", "_frombuffer"): _frombuffer for core in _NUMPY_CORE},
    ("numpy", "ndarray"): _NdarrayToken,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _codecs_encode,
    ("copyreg", "_reconstructor"): _copyreg_reconstructor,
    ("builtins", "object"): object,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "complex"): complex,
    ("collections", "OrderedDict"): collections.OrderedDict,
}


class SafeUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` that can build only arrays and plain data (module docstring)."""

    def find_class(self, module: str, name: str):
        module = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)  # Python 2 pickles
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module in _SPARSE_MODULES and name in _SPARSE_NAMES:
            return _sparse_class(module, name)
        if (module == "chumpy" or module.startswith("chumpy.")) and name.isidentifier():
            return _chumpy_class(module, name)
        raise _Refused(f"{module}.{name}")

    def persistent_load(self, pid):
        raise _Refused("a persistent id")


class _Unconvertible(ValueError):
    pass


def _dense_sparse(obj: _Sparse) -> np.ndarray:
    st = obj.state if isinstance(obj.state, dict) else {}
    shape = tuple(int(n) for n in (st.get("_shape") or st.get("shape") or ()))
    if len(shape) != 2:
        raise _Unconvertible(f"{obj.pickled_name} without a 2-D shape")
    _check_size(shape, np.float64)
    data = _plain(st.get("data"))
    dense = np.zeros(shape, dtype=data.dtype if data.dtype.kind in "biuf" else np.float64)
    if obj.fmt == "coo":
        coords = st.get("coords") or (st.get("row"), st.get("col"))
        rows, cols = (_plain(c).astype(np.int64) for c in coords)
    else:
        indices, indptr = _plain(st.get("indices")).astype(np.int64), _plain(st.get("indptr")).astype(np.int64)
        major = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        rows, cols = (major, indices) if obj.fmt == "csr" else (indices, major)
    if not (len(rows) == len(cols) == len(data)):
        raise _Unconvertible(f"{obj.pickled_name} with inconsistent index arrays")
    if len(rows) and (rows.min() < 0 or cols.min() < 0 or rows.max() >= shape[0] or cols.max() >= shape[1]):
        raise _Unconvertible(f"{obj.pickled_name} with indices outside its shape")
    np.add.at(dense, (rows, cols), data)
    return dense


def _plain(obj) -> np.ndarray:
    """``obj`` as a numpy array of numbers or strings (never ``object`` dtype)."""
    if isinstance(obj, _Sparse):
        return _dense_sparse(obj)
    if isinstance(obj, _Chumpy):
        st = obj.state if isinstance(obj.state, dict) else {}
        terms = [k for k in st if not str(k).startswith("_")]
        if "x" in st:
            return _plain(st["x"])
        if terms == ["a"]:
            return _plain(st["a"])
        raise _Unconvertible(f"{obj.pickled_name} (a chumpy expression, not a stored array)")
    if isinstance(obj, (list, tuple)):
        obj = [_plain(v) for v in obj]
    if isinstance(obj, (dict, set, frozenset, _StandIn)) or obj is None:
        raise _Unconvertible(type(obj).__name__)
    arr = np.asarray(obj)
    if arr.dtype.kind not in "biufcUS":
        raise _Unconvertible(f"an array of {arr.dtype}")
    return arr


def load_flame_pickle(path: str | os.PathLike) -> dict:
    """Unpickle ``path`` with :class:`SafeUnpickler` (``latin1`` for Python 2 pickles).

    Returns the raw top-level dict (values may be stand-ins; see :func:`flame_arrays`).

    Raises:
        FlameModelError: the file names a class outside the allowed set, is corrupt, or is
            not a dict.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = SafeUnpickler(fh, encoding="latin1").load()
    except _Refused as exc:
        raise FlameModelError(
            f"refusing {path}: it asks for {exc}, which a FLAME model never needs "
            "(only numpy arrays, scipy.sparse matrices and chumpy arrays are read)"
        ) from None
    except OSError:
        raise
    except Exception as exc:  # an untrusted file: any failure of the (restricted) unpickling is a bad file
        raise FlameModelError(f"cannot load FLAME model {path}: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        name = getattr(type(data), "pickled_name", "") or type(data).__name__
        raise FlameModelError(f"cannot load FLAME model {path}: expected a dict of arrays, got {name}")
    return data


def load_flame_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` read with ``allow_pickle=False`` (object arrays are refused)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
        if total > 4 * MAX_ARRAY_BYTES:
            raise FlameModelError(f"cannot load FLAME model {path}: {total >> 20} MiB of arrays is more than a FLAME model holds")
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except FlameModelError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise FlameModelError(f"refusing {path}: it holds object arrays (pickled Python objects), "
                                  "which a FLAME model never needs") from None
        raise FlameModelError(f"cannot load FLAME model {path}: {exc}".splitlines()[0]) from None
    except (zipfile.BadZipFile, EOFError) as exc:
        raise FlameModelError(f"cannot load FLAME model {path}: not a valid .npz ({exc})".splitlines()[0]) from None


def flame_arrays(data: dict, path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every value of ``data`` that is an array (chumpy and sparse converted) as plain numpy.

    Values that are not arrays (nested dicts, chumpy expressions) are left out with a log line.
    """
    out = {}
    for key, value in data.items():
        if not isinstance(key, str):
            continue
        try:
            out[key] = _plain(value)
        except _Unconvertible as exc:
            log.info("%s: skipping %r (%s)", path, key, exc)
        except (ValueError, TypeError, IndexError, MemoryError, pickle.UnpicklingError) as exc:
            raise FlameModelError(f"cannot load FLAME model {path}: {key!r}: {exc}".splitlines()[0]) from None
    return out


def read_flame_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of a FLAME ``.pkl`` or ``.npz``, read without running code from the file."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return load_flame_npz(path)
    return flame_arrays(load_flame_pickle(path), path)


def check_flame_arrays(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The :data:`REQUIRED` arrays, checked against each other (numeric, consistent shapes)."""
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise FlameModelError(f"cannot load FLAME model {path}: missing array(s) {', '.join(missing)}")
    a = {k: arrays[k] for k in REQUIRED}
    for k, v in a.items():
        if v.dtype.kind not in "biuf":
            raise FlameModelError(f"cannot load FLAME model {path}: {k} is not numeric ({v.dtype})")
    V = a["v_template"].shape[0] if a["v_template"].ndim == 2 else -1
    J = a["kintree_table"].shape[1] if a["kintree_table"].ndim == 2 else -1
    checks = [
        (a["v_template"].ndim == 2 and a["v_template"].shape[1] == 3 and V > 0, "v_template must be (V, 3)"),
        (a["f"].ndim == 2 and a["f"].shape[1] == 3, "f must be (F, 3)"),
        (a["shapedirs"].ndim in (2, 3) and a["shapedirs"].shape[:2] == (V, 3), "shapedirs must be (V, 3, K)"),
        (a["posedirs"].size % max(3 * V, 1) == 0 and a["posedirs"].shape[0] in (V, 3 * V), "posedirs must be (V, 3, P)"),
        (a["kintree_table"].ndim == 2 and a["kintree_table"].shape[0] == 2 and J >= 5, "kintree_table must be (2, J), J >= 5"),
        (a["J_regressor"].shape == (J, V), "J_regressor must be (J, V)"),
        (a["weights"].shape == (V, J), "weights must be (V, J)"),
    ]
    for ok, message in checks:
        if not ok:
            raise FlameModelError(f"cannot load FLAME model {path}: {message}")
    if a["f"].size and (a["f"].min() < 0 or a["f"].max() >= V):
        raise FlameModelError(f"cannot load FLAME model {path}: f indexes vertices outside v_template")
    for k, v in a.items():
        if v.dtype.kind == "f" and not np.isfinite(v).all():
            raise FlameModelError(f"cannot load FLAME model {path}: {k} has NaN or infinite values")
    return a


def read_flame_model(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The checked :data:`REQUIRED` arrays of a FLAME ``.pkl`` / ``.npz`` (no code from the file runs)."""
    return check_flame_arrays(read_flame_arrays(path), path)


def read_landmark_embedding(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``lmk_face_idx`` (L,) and ``lmk_b_coords`` (L, 3) of ``flame_static_embedding.pkl``, read safely."""
    arrays = read_flame_arrays(path)
    idx, bary = arrays.get("lmk_face_idx"), arrays.get("lmk_b_coords")
    if idx is None or bary is None or idx.dtype.kind not in "iu" or bary.dtype.kind != "f" or bary.shape != (len(idx.reshape(-1)), 3):
        raise FlameModelError(f"cannot load landmark embedding {path}: expected lmk_face_idx (L,) and lmk_b_coords (L, 3)")
    return {"lmk_face_idx": idx.reshape(-1).astype(np.int64), "lmk_b_coords": bary.astype(np.float64)}


def convert_flame(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Write the arrays of FLAME model ``src`` (``.pkl`` or ``.npz``) to a plain ``.npz`` ``dst``.

    Read with the restricted loader (chumpy and sparse arrays become dense numpy); the
    :data:`REQUIRED` arrays are checked first. ``dst`` is written atomically and loads with
    ``np.load(dst, allow_pickle=False)``.
    """

    src, dst = Path(src), Path(dst)
    if dst.suffix.lower() != ".npz":
        raise FlameModelError(f"convert-flame writes a .npz file, got {dst.name}")
    check_distinct_outputs({"-o": dst}, {"IN": src})
    if not src.is_file():
        raise FlameModelError(f"FLAME model not found: {src}")
    arrays = read_flame_arrays(src)
    check_flame_arrays(arrays, src)
    with atomic_path(dst) as tmp:
        np.savez(tmp, **arrays)
    return dst
