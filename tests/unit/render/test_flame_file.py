"""The restricted FLAME loader: hostile files never run code, real layouts load to the right arrays."""

import os
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest
import scipy.sparse as sp

from stygaze.render.flame import FlameHead
from stygaze.render.flame_file import (
    FlameModelError,
    convert_flame,
    read_flame_arrays,
    read_landmark_embedding,
)

from render_helpers import write_tiny_flame


class _System:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Open:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import builtins

        return builtins.open, (str(self.marker), "w")


class _Subprocess:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return subprocess.call, (["touch", str(self.marker)],)


HOSTILE = {"os.system": _System, "builtins.open": _Open, "subprocess": _Subprocess}


def hostile_pickle(path, kind, marker):
    """A FLAME-looking dict whose ``f`` would run code when unpickled."""
    with open(path, "wb") as fh:
        pickle.dump({"v_template": np.zeros((3, 3)), "f": HOSTILE[kind](marker)}, fh)
    return path


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path, kind):
    marker = tmp_path / "marker"
    path = hostile_pickle(tmp_path / "FLAME_NEUTRAL.pkl", kind, marker)
    with pytest.raises(FlameModelError, match="refusing") as info:
        read_flame_arrays(path)
    assert "\n" not in str(info.value)
    assert not marker.exists()


def test_hostile_static_embedding_is_refused(tmp_path):
    marker = tmp_path / "marker"
    model = write_tiny_flame(tmp_path / "flame")
    hostile_pickle(model.parent / "flame_static_embedding.pkl", "os.system", marker)
    with pytest.raises(FlameModelError, match="refusing .*posix.system|refusing .*os.system"):
        FlameHead(model)
    assert not marker.exists()


def test_npz_with_object_array_is_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "FLAME_NEUTRAL.npz"
    np.savez(path, v_template=np.zeros((3, 3)), f=np.array([_System(marker)], dtype=object))
    with pytest.raises(FlameModelError, match="object arrays"):
        read_flame_arrays(path)
    assert not marker.exists()


def _fake_chumpy():
    """A stand-in ``chumpy`` module so the test can pickle Ch objects the way FLAME 2020 stores them."""
    ch_module = types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = x
            self._dirty_vars = {"x"}
            self._itr = None

        def __reduce_ex__(self, protocol):  # chumpy: NEWOBJ + a state dict holding 'x'
            import copyreg

            return copyreg.__newobj__, (type(self),), dict(self.__dict__)

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    ch_module.Ch = Ch
    package = types.ModuleType("chumpy")
    package.ch = ch_module
    return package, ch_module, Ch


@pytest.mark.parametrize("protocol", [2, 4])
def test_benign_flame_pickle_with_chumpy_and_sparse_loads(tmp_path, monkeypatch, protocol):
    package, ch_module, Ch = _fake_chumpy()
    monkeypatch.setitem(sys.modules, "chumpy", package)
    monkeypatch.setitem(sys.modules, "chumpy.ch", ch_module)
    v = np.arange(12, dtype=np.float64).reshape(4, 3)
    J = np.array([[0.5, 0.5, 0, 0], [0, 0, 1.0, 0]])
    with open(tmp_path / "m.pkl", "wb") as fh:
        pickle.dump({"v_template": Ch(v), "f": np.array([[0, 1, 2]], np.uint32), "J_regressor": sp.csc_matrix(J),
                     "bs_style": "lbs", "scale": np.float64(2.0)}, fh, protocol=protocol)
    monkeypatch.delitem(sys.modules, "chumpy")  # reading needs no chumpy
    monkeypatch.delitem(sys.modules, "chumpy.ch")
    arrays = read_flame_arrays(tmp_path / "m.pkl")
    np.testing.assert_array_equal(arrays["v_template"], v)
    np.testing.assert_array_equal(arrays["J_regressor"], J)
    np.testing.assert_array_equal(arrays["f"], [[0, 1, 2]])
    assert arrays["f"].dtype == np.uint32 and str(arrays["bs_style"]) == "lbs" and float(arrays["scale"]) == 2.0


def test_chumpy_expression_without_a_stored_array_is_left_out(tmp_path):
    # NEWOBJ chumpy.ch_ops.add with state {'a': .., 'b': ..}: an expression, not a stored array
    path = tmp_path / "m.pkl"
    path.write_bytes(b"\x80\x02}q\x00X\x01\x00\x00\x00Jq\x01cchumpy.ch_ops\nadd\nq\x02)\x81q\x03}q\x04"
                     b"(X\x01\x00\x00\x00aq\x05K\x01X\x01\x00\x00\x00bq\x06K\x02ubs.")
    assert read_flame_arrays(path) == {}


def test_convert_flame_writes_plain_npz_that_loads_the_same(tmp_path):
    src = write_tiny_flame(tmp_path / "flame")
    out = convert_flame(src, tmp_path / "plain.npz")
    with np.load(out, allow_pickle=False) as npz:
        plain = {k: npz[k] for k in npz.files}
    with open(src, "rb") as fh:
        original = pickle.load(fh)  # the test's own file
    for key, value in original.items():
        np.testing.assert_array_equal(plain[key], value)
    a = FlameHead(src).model.v_template.numpy()
    b = FlameHead(out).model.v_template.numpy()
    np.testing.assert_array_equal(a, b)


def test_convert_flame_refuses_output_that_is_the_input(tmp_path):
    src = write_tiny_flame(tmp_path / "flame", name="FLAME_NEUTRAL.npz".replace(".npz", ".pkl"))
    link = tmp_path / "link.npz"
    converted = convert_flame(src, tmp_path / "m.npz")
    os.symlink(converted, link)
    before = converted.read_bytes()
    with pytest.raises(Exception, match="one of the inputs"):
        convert_flame(converted, link)
    assert converted.read_bytes() == before


def test_landmark_embedding_needs_both_arrays(tmp_path):
    path = tmp_path / "flame_static_embedding.pkl"
    with open(path, "wb") as fh:
        pickle.dump({"lmk_face_idx": np.arange(2)}, fh)
    with pytest.raises(FlameModelError, match="lmk_b_coords"):
        read_landmark_embedding(path)


def test_huge_declared_array_is_refused_before_allocation(tmp_path):
    path = tmp_path / "big.pkl"
    # numpy _reconstruct(ndarray, (2**40,), b'b'): a terabyte declared in a few bytes
    path.write_bytes(b"\x80\x02}q\x00X\x01\x00\x00\x00fq\x01cnumpy.core.multiarray\n_reconstruct\nq\x02cnumpy\nndarray\nq\x03"
                     b"\x8a\x06\x00\x00\x00\x00\x00\x01\x85q\x04C\x01bq\x05\x87q\x06Rq\x07s.")
    with pytest.raises(FlameModelError, match="larger than"):
        read_flame_arrays(path)
