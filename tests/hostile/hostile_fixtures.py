"""Hostile input files for the battery, built once per module into one folder.

Every fixture is a file or folder name under that folder; a case names the ones it reads as
``{in}/NAME`` and gets its own copy. Pickle payloads run ``touch "$STYGAZE_HOSTILE_MARKER"``
when unpickled, so a case sees any code execution as a marker file in its own folder.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np

from stygaze.checkpoint import ASSETS_DIR
from stygaze.limits import MAX_FRAMES, MAX_NPZ_MEMBER_BYTES

MARKER_ENV = "STYGAZE_HOSTILE_MARKER"
SR = 16_000


class Payload:
    """Unpickling this runs a shell command that creates the case's marker file."""

    def __reduce__(self):
        return (os.system, (f'touch "${MARKER_ENV}"',))


def _npz(path: Path, **arrays) -> None:
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _wav(path: Path, samples: np.ndarray, sr: int = SR, subtype: str = "FLOAT") -> None:
    import soundfile as sf

    sf.write(str(path), samples, sr, subtype=subtype)


def _motion(frames: int = 100, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 0.3, (frames, 7)), axis=0).astype(np.float32)


def _deflate_bomb(path: Path, name: str, nbytes: int) -> None:
    """A zip member of ``nbytes`` zeros behind a valid .npy header (compresses ~1000:1)."""
    header = {"descr": "<f4", "fortran_order": False, "shape": (nbytes // 28, 7)}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(name, "w", force_zip64=True) as fh:
        from numpy.lib import format as npy

        npy.write_array_header_1_0(fh, header)
        chunk = bytes(1 << 22)
        for _ in range(nbytes // len(chunk) + 1):
            fh.write(chunk)


def _header_bomb(path: Path, name: str) -> None:
    """A tiny member whose .npy header claims a 10 GB array."""
    from io import BytesIO

    from numpy.lib import format as npy

    buf = BytesIO()
    npy.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": (400_000_000, 7)})
    buf.write(bytes(64))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, buf.getvalue())


# --------------------------------------------------------------------------------------
# audio
# --------------------------------------------------------------------------------------
def build_audio(root: Path) -> None:
    rng = np.random.default_rng(1)
    _wav(root / "talk.wav", (rng.standard_normal(3 * SR) * 0.1).astype(np.float32))
    (root / "empty.wav").write_bytes(b"")
    (root / "garbage.wav").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    nan = np.zeros(SR, np.float32)
    nan[100] = np.nan
    _wav(root / "nan.wav", nan)
    inf = np.zeros(SR, np.float32)
    inf[5] = np.inf
    _wav(root / "inf.wav", inf)
    _wav(root / "tiny.wav", np.zeros(4, np.float32))
    # a RIFF header that claims 4 GB of data, followed by a few samples
    data = np.zeros(64, "<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, SR, SR * 2, 2, 16)
    (root / "huge_header.wav").write_bytes(
        b"RIFF" + struct.pack("<I", 0xFFFFFFF0) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
        + b"data" + struct.pack("<I", 0xFFFFFFE0) + data
    )
    # a header that claims 5 h at 16 kHz with the samples really missing (rate: absurd)
    (root / "header_only.wav").write_bytes(
        b"RIFF" + struct.pack("<I", 36) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 0)
    )
    (root / "talk.txt").write_text("this is not audio\n" * 50)
    (root / "pickle.wav").write_bytes(pickle.dumps(Payload()))
    (root / "dir.wav").mkdir()
    os.symlink("loop.wav", root / "loop.wav")


# --------------------------------------------------------------------------------------
# motion
# --------------------------------------------------------------------------------------
def _bad_motion_arrays(good: np.ndarray) -> dict[str, dict]:
    """name -> arrays of motion files every motion reader must refuse."""
    T = len(good)
    return {
        "no_motion_key": {"fps": np.float32(25)},
        "empty_npz": {},
        "motion_1d": {"motion": good[:, 0]},
        "motion_3d": {"motion": good[None]},
        "motion_6ch": {"motion": good[:, :6]},
        "motion_8ch": {"motion": np.concatenate([good, good[:, :1]], axis=1)},
        "motion_0_frames": {"motion": np.zeros((0, 7), np.float32)},
        "motion_str": {"motion": good.astype(str)},
        "motion_bytes": {"motion": good.astype("S8")},
        "motion_complex": {"motion": good.astype(np.complex64)},
        "motion_inf": {"motion": np.where(np.arange(T)[:, None] == 3, np.inf, good).astype(np.float32)},
        "motion_scalar": {"motion": np.float32(1.0)},
        "fps_tiny": {"motion": good, "fps": np.float32(1e-4)},
        "fps_inf": {"motion": good, "fps": np.float32(np.inf)},
        "fps_nan": {"motion": good, "fps": np.float32(np.nan)},
        "fps_zero": {"motion": good, "fps": np.float32(0)},
        "fps_negative": {"motion": good, "fps": np.float32(-25)},
        "fps_huge": {"motion": good, "fps": np.float32(1e6)},
        "fps_str": {"motion": good, "fps": np.asarray("25")},
        "fps_vector": {"motion": good, "fps": np.asarray([25.0, 30.0])},
        "fps_empty": {"motion": good, "fps": np.zeros(0)},
        "blink_str": {"motion": good, "blink": np.asarray(["open"] * T)},
        "blink_numeric_str": {"motion": good, "blink": np.zeros(T).astype(str)},
        "blink_short": {"motion": good, "blink": np.zeros(T - 1, np.float32)},
        "blink_2d": {"motion": good, "blink": np.zeros((T, 2), np.float32)},
        "blink_inf": {"motion": good, "blink": np.full(T, np.inf, np.float32)},
        "shape_str": {"motion": good, "shape": np.asarray(["a", "b"])},
        "shape_2d": {"motion": good, "shape": np.zeros((3, 3), np.float32)},
        "shape_nan": {"motion": good, "shape": np.full(10, np.nan, np.float32)},
        "jaw_str": {"motion": good, "jaw": np.zeros((T, 3)).astype(str)},
        "jaw_1d": {"motion": good, "jaw": np.zeros(T, np.float32)},
        "jaw_short": {"motion": good, "jaw": np.zeros((T // 2, 3), np.float32)},
        "expression_str": {"motion": good, "expression": np.asarray([["x"] * 5] * T)},
        "expression_1d": {"motion": good, "expression": np.zeros(T, np.float32)},
        "channels_wrong": {"motion": good, "channels": np.asarray(["a"] * 7)},
        "channels_reordered": {"motion": good, "channels": np.asarray(
            ["head_yaw", "head_pitch", "head_roll", "l_eye_pitch", "l_eye_yaw", "r_eye_pitch", "r_eye_yaw"])},
        "events_not_json": {"motion": good, "events": np.asarray("{not json")},
        "events_list": {"motion": good, "events": np.asarray("[1, 2, 3]")},
    }


OPAQUE_BAD_MOTIONS: tuple[str, ...] = (
    "blink_object_pickle", "motion_object_pickle", "too_many_frames", "zip_bomb", "header_bomb",
    "not_zip", "garbage", "pickle", "npy_as", "text", "dir", "loop",
)
BAD_MOTIONS: tuple[str, ...] = tuple(_bad_motion_arrays(np.zeros((100, 7), np.float32))) + OPAQUE_BAD_MOTIONS
"""Motion files every motion reader must refuse."""


def build_motion(root: Path) -> None:
    good = _motion()
    _npz(root / "motion.npz", motion=good, fps=np.float32(25), channels=np.asarray(
        ["head_pitch", "head_yaw", "head_roll", "l_eye_pitch", "l_eye_yaw", "r_eye_pitch", "r_eye_yaw"]))
    _npz(root / "motion_b.npz", motion=_motion(seed=2), fps=np.float32(25))
    T = len(good)
    bad = _bad_motion_arrays(good)
    for name, arrays in bad.items():
        _npz(root / f"{name}.npz", **arrays)
    # object arrays whose unpickling would run code (np.save writes them with pickle)
    obj = np.empty(1, dtype=object)
    obj[0] = Payload()
    _npz(root / "blink_object_pickle.npz", motion=good, blink=obj)
    _npz(root / "motion_object_pickle.npz", motion=obj)
    # too many frames (compressed zeros: a few kB on disk)
    with open(root / "too_many_frames.npz", "wb") as fh:
        np.savez_compressed(fh, motion=np.zeros((MAX_FRAMES + 1, 7), np.float32))
    _deflate_bomb(root / "zip_bomb.npz", "motion.npy", MAX_NPZ_MEMBER_BYTES + (16 << 20))
    _header_bomb(root / "header_bomb.npz", "motion.npy")
    (root / "not_zip.npz").write_bytes(b"PK\x03\x04" + bytes(200))
    (root / "garbage.npz").write_bytes(np.random.default_rng(3).integers(0, 256, 2048, dtype=np.uint8).tobytes())
    (root / "pickle.npz").write_bytes(pickle.dumps(Payload()))
    np.save(root / "plain.npy", good)
    shutil.copy(root / "plain.npy", root / "npy_as.npz")
    (root / "text.npz").write_text("motion = [1, 2, 3]\n")
    (root / "dir.npz").mkdir()
    os.symlink("loop.npz", root / "loop.npz")
    # valid files that some readers refuse
    _npz(root / "motion_all_nan.npz", motion=np.full((100, 7), np.nan, np.float32))
    _npz(root / "motion_short.npz", motion=good[:10])
    _npz(root / "motion_nan.npz", motion=np.where(np.arange(T)[:, None] % 3 == 0, np.nan, good).astype(np.float32))


# --------------------------------------------------------------------------------------
# style vectors
# --------------------------------------------------------------------------------------
BAD_STYLES: tuple[str, ...] = (
    "style_no_encoder_id", "style_str", "style_encoder_id_number", "style_encoder_id_array", "style_wrong_encoder",
    "style_nan", "style_empty", "style_wrong_dim", "style_neither", "style_bomb",
)


def build_styles(root: Path) -> None:
    meta = json.loads((ASSETS_DIR / "stygazetalk" / "config.json").read_text())["meta"]
    enc = meta["style_encoder_id"]
    vec = np.random.default_rng(4).standard_normal(64).astype(np.float32)
    vec /= np.linalg.norm(vec)
    _npz(root / "style_no_encoder_id.npz", style=vec)
    _npz(root / "style_str.npz", style=vec.astype(str), encoder_id=np.asarray(enc))
    _npz(root / "style_encoder_id_number.npz", style=vec, encoder_id=np.asarray(3.0))
    _npz(root / "style_encoder_id_array.npz", style=vec, encoder_id=np.asarray([enc, enc]))
    _npz(root / "style_wrong_encoder.npz", style=vec, encoder_id=np.asarray("style-0000000000000000"))
    _npz(root / "style_nan.npz", style=np.full(64, np.nan, np.float32), encoder_id=np.asarray(enc))
    _npz(root / "style_empty.npz", style=np.zeros(0, np.float32), encoder_id=np.asarray(enc))
    _npz(root / "style_wrong_dim.npz", style=vec[:10], encoder_id=np.asarray(enc))
    _npz(root / "style_neither.npz", foo=vec)
    _deflate_bomb(root / "style_bomb.npz", "style.npy", MAX_NPZ_MEMBER_BYTES + (16 << 20))


# --------------------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------------------
def _edit(cfg: dict, path: str, value) -> dict:
    cfg = json.loads(json.dumps(cfg))
    *parents, last = path.split(".")
    node = cfg
    for p in parents:
        node = node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return cfg


_DELETE = object()

CHECKPOINT_EDITS: dict[str, tuple[str, object]] = {
    "format_version_null": ("format_version", None),
    "format_version_str": ("format_version", "abc"),
    "format_version_future": ("format_version", 99),
    "format_version_float": ("format_version", 1.5),
    "format_missing": ("format", _DELETE),
    "format_wrong": ("format", "pytorch"),
    "model_type_wrong": ("model_type", "cvae"),
    "model_type_number": ("model_type", 7),
    "config_str": ("config", "generator"),
    "config_list": ("config", [1, 2]),
    "meta_number": ("meta", 5),
    "d_huge": ("config.generator.d", 3_000_000),
    "hidden_huge": ("config.generator.hidden", 100_000),
    "hidden_negative": ("config.generator.hidden", -5),
    "hidden_str": ("config.generator.hidden", "128"),
    "hidden_float": ("config.generator.hidden", 128.5),
    "layers_huge": ("config.generator.num_layers", 100),
    "M_zero": ("config.generator.M", 0),
    "N_zero": ("config.generator.N", 0),
    "style_dim_huge": ("config.generator.style_dim", 10_000_000),
    "dropout_two": ("config.generator.dropout", 2.0),
    "kind_unknown": ("config.generator.kind", "mamba"),
    "unknown_key": ("config.generator.evil", 1),
    "generator_missing": ("config.generator", _DELETE),
    "se_d_model_huge": ("config.style_encoder.d_model", 1 << 20),
    "se_layers_zero": ("config.style_encoder.num_layers", 0),
}

CVAE_EDITS: dict[str, tuple[str, object]] = {
    "hidden_huge": ("config.hidden", 10**7),
    "layers_huge": ("config.layers", 1000),
    "format_version_null": ("format_version", None),
    "config_str": ("config", "x"),
    "z_dim_zero": ("config.z_dim", 0),
    "model_type_generator": ("model_type", "generator"),
}


def _save_weights(path: Path, transform) -> None:
    from safetensors.torch import load_file, save_file

    state = load_file(str(ASSETS_DIR / "stygazetalk" / "model.safetensors"))
    save_file({k: (transform(v) if v.is_floating_point() else v) for k, v in state.items()}, str(path))


def _edited_configs(src: Path, edits: dict, root: Path, prefix: str) -> None:
    """One checkpoint folder per edit: ``src``'s weights beside its ``config.json`` with one field changed."""
    cfg = json.loads((src / "config.json").read_text())
    for name, (field, value) in edits.items():
        ck = root / f"{prefix}{name}"
        ck.mkdir()
        shutil.copy(src / "model.safetensors", ck)
        (ck / "config.json").write_text(json.dumps(_edit(cfg, field, value)))


def build_checkpoints(root: Path) -> None:
    import torch

    src = ASSETS_DIR / "stygazetalk"
    _edited_configs(src, CHECKPOINT_EDITS, root, "ck_")
    extra = {
        "ck_no_weights": None,
        "ck_no_config": None,
        "ck_json_corrupt": "{not json",
        "ck_json_list": "[1, 2, 3]",
        "ck_json_deep": "[" * 100_000 + "]" * 100_000,
        "ck_json_binary": b"\xff\xfe\x00garbage",
    }
    for name, text in extra.items():
        ck = root / name
        ck.mkdir()
        if name != "ck_no_weights":
            shutil.copy(src / "model.safetensors", ck)
        if name == "ck_no_config":
            continue
        if text is None:
            shutil.copy(src / "config.json", ck)
        elif isinstance(text, bytes):
            (ck / "config.json").write_bytes(text)
        else:
            (ck / "config.json").write_text(text)
    weights = {
        "ck_weights_nan": lambda t: torch.full_like(t, float("nan")),
        "ck_weights_inf": lambda t: torch.full_like(t, float("inf")),
        "ck_weights_huge": lambda t: torch.full_like(t, 1e30),
        "ck_weights_int8": lambda t: t.to(torch.int8),
        "ck_weights_float64": lambda t: t.to(torch.float64),
        "ck_weights_truncated_shape": lambda t: t.reshape(-1)[: max(1, t.numel() // 2)].clone(),
    }
    for name, fn in weights.items():
        ck = root / name
        ck.mkdir()
        shutil.copy(src / "config.json", ck)
        _save_weights(ck / "model.safetensors", fn)
    ck = root / "ck_weights_garbage"
    ck.mkdir()
    shutil.copy(src / "config.json", ck)
    (ck / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{" + bytes(100))
    ck = root / "ck_weights_pickle"
    ck.mkdir()
    shutil.copy(src / "config.json", ck)
    (ck / "model.safetensors").write_bytes(pickle.dumps(Payload()))
    ck = root / "ck_pt_only"
    ck.mkdir()
    shutil.copy(src / "config.json", ck)
    (ck / "model.pt").write_bytes(pickle.dumps(Payload()))
    (root / "ck_file").write_text("not a folder\n")
    ck = root / "ck_weights_dir"
    ck.mkdir()
    shutil.copy(src / "config.json", ck)
    (ck / "model.safetensors").mkdir()
    _edited_configs(ASSETS_DIR / "cvae", CVAE_EDITS, root, "cvae_")  # cVAE checkpoints with a broken config


# --------------------------------------------------------------------------------------
# training configs
# --------------------------------------------------------------------------------------
BAD_CONFIGS: dict[str, str] = {
    "lr_negative": "{section}: {{lr: -1}}\n",
    "lr_str": "{section}: {{lr: x}}\n",
    "lr_inf": "{section}: {{lr: .inf}}\n",
    "lr_nan": "{section}: {{lr: .nan}}\n",
    "batch_size_zero": "{section}: {{batch_size: 0}}\n",
    "batch_size_float": "{section}: {{batch_size: 2.5}}\n",
    "seed_negative": "{section}: {{seed: -1}}\n",
    "threads_zero": "{section}: {{threads: 0}}\n",
    "unknown_key": "{section}: {{evil: 1}}\n",
    "section_list": "{section}: [1, 2]\n",
    "python_object": "{section}: !!python/object/apply:os.system ['touch \"$" + MARKER_ENV + "\"']\n",
    "python_name": "lr: !!python/name:os.system\n",
    "top_list": "- 1\n- 2\n",
    "top_str": "just a string\n",
    "invalid_yaml": "a: [1, 2\nb: }\n",
    "binary": "\udcff",
    "tab_indent": "a:\n\tb: 1\n",
    "anchors_bomb": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
}
"""name -> YAML text (``{section}``: the trainer's training section)."""

MODEL_CONFIGS: dict[str, str] = {
    "hidden_negative": "generator: {hidden: -5}\n",
    "d_huge": "generator: {d: 3000000}\n",
    "M_zero": "generator: {M: 0}\n",
    "layers_huge": "generator: {num_layers: 100}\n",
    "windows_per_epoch_zero": "generator_train: {windows_per_epoch: 0}\n",
    "se_d_model_huge": "style_encoder: {d_model: 100000}\n",
}
"""Generator/style YAML with bad model values (train style and train generator read both)."""

TRAIN_SECTIONS = {"style": "style_train", "generator": "generator_train", "cvae": "train", "omnihead": "train"}


def build_configs(root: Path) -> None:
    for trainer, section in TRAIN_SECTIONS.items():
        for name, text in BAD_CONFIGS.items():
            path = root / f"cfg_{trainer}_{name}.yaml"
            body = text.format(section=section) if "{section}" in text else text
            if name == "binary":
                path.write_bytes(b"\xff\xfe\x00\x01garbage")
            else:
                path.write_text(body)
    for name, text in MODEL_CONFIGS.items():
        (root / f"cfg_model_{name}.yaml").write_text(text)


def build_all(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    build_audio(root)
    build_motion(root)
    build_styles(root)
    build_checkpoints(root)
    build_configs(root)
    (root / "plain.txt").write_text("hello\n")
    return root
