"""FLAME head on the user's own model file, loaded through ``smplx.FLAME``.

FLAME is licensed (https://flame.is.tue.mpg.de): stygaze never ships it. Point at your
copy with ``--flame-model PATH`` or the environment variable ``STYGAZE_FLAME_MODEL``; the
path is a folder holding ``FLAME_NEUTRAL.pkl`` (or ``generic_model.pkl``,
``flame2023.pkl``, ``flame2020.pkl``, or a ``.npz`` with the same arrays) or that file
itself. ``flame_static_embedding.pkl`` next to it is read (the same way) when present;
rendering needs no landmarks, so a placeholder embedding is given to smplx otherwise.

Mapping (stygaze and FLAME share the frame: ``x`` = subject's left, ``y`` up, ``z``
forward):

* head rotation ``head_rotation_matrix(pitch, yaw, roll)`` → ``global_orient`` (default,
  the EMOCA/DECA convention) or ``neck_pose`` (``head_joint="neck"``), as axis-angle;
* eye-in-head ``head_rotation_matrix(eye_pitch, eye_yaw, 0)`` → ``leye_pose`` /
  ``reye_pose``; which FLAME eye joint is the subject's left is read from the model's
  joint positions (the one at ``+x``);
* optional ``shape`` (S,) → ``betas``, ``expression`` (T, E) → ``expression``, ``jaw``
  (T, 3) axis-angle radians → ``jaw_pose``, truncated or zero-padded to the model's sizes
  (visual fusion only).

FLAME has no eyelid joint, so ``blink`` is not shown on this head. Eyeball vertices (the
ones skinned to the eye joints) are coloured sclera / iris / pupil by their angle from the
eye's forward axis, so gaze is visible without a texture.

The file is never unpickled as such: :mod:`stygaze.render.flame_file` reads it with a
restricted unpickler that builds only numpy arrays, scipy.sparse matrices (made dense) and
chumpy arrays (the FLAME 2019/2020 releases store them; chumpy is not needed), and refuses
anything else; a ``.npz`` is read with ``allow_pickle=False``. smplx then builds the layer
from files stygaze writes itself from the checked arrays.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from stygaze.geometry import head_rotation_matrix, rotvec, translation
from stygaze.motion import Motion
from stygaze.render.config import HeadColors, RenderError
from stygaze.render.flame_file import FlameModelError, read_flame_model, read_landmark_embedding
from stygaze.render.heads import (
    FrameGeometry,
    HeadModel,
    MeshPart,
    _mix,
    _smoothstep,
    fill_nan,
)

log = logging.getLogger(__name__)

FLAME_ENV = "STYGAZE_FLAME_MODEL"
"""Environment variable naming the FLAME model when ``--flame-model`` is not given."""

_CANDIDATES = (
    "FLAME_NEUTRAL.pkl",
    "FLAME_NEUTRAL.npz",
    "generic_model.pkl",
    "flame2023.pkl",
    "flame2023_no_jaw.pkl",
    "flame2020.pkl",
)
EYE_TARGET = np.array([0.0, 0.112, 0.083])
"""Where the midpoint of the eyes is placed in the world (matches the procedural head's
framing, so camera presets fit both heads)."""


def resolve_flame_path(path: str | os.PathLike | None) -> Path:
    """The FLAME model file for ``path`` (a file, or a folder holding one), else ``$STYGAZE_FLAME_MODEL``.

    Raises:
        FlameModelError: no path given, path missing, or no model file in the folder.
    """
    if path is None or str(path) == "":
        path = os.environ.get(FLAME_ENV) or None
    if path is None:
        raise FlameModelError(
            f"--head flame needs your FLAME model: pass --flame-model PATH or set {FLAME_ENV} (see docs/rendering.md)"
        )
    p = Path(path).expanduser()
    if not p.exists():
        raise FlameModelError(f"FLAME model not found: {p} (download it from https://flame.is.tue.mpg.de)")
    if p.is_dir():
        for name in _CANDIDATES:
            if (p / name).is_file():
                return p / name
        raise FlameModelError(f"no FLAME model file in {p}: expected one of {', '.join(_CANDIDATES)}")
    if p.suffix.lower() not in (".pkl", ".npz"):
        raise FlameModelError(f"FLAME model must be a .pkl or .npz file, got {p.name}")
    return p


def _load_smplx_flame(model_file: Path, num_betas: int, num_expression: int):
    """Build ``smplx.FLAME`` from ``model_file``'s arrays, read by the restricted loader.

    smplx.FLAME only loads from a folder (``FLAME_NEUTRAL.npz`` + ``flame_static_embedding.pkl``);
    it gets a private temporary folder holding files stygaze writes itself from the checked
    arrays, so nothing of the user's file is ever unpickled by smplx.
    """
    import smplx

    arrays = read_flame_model(model_file)
    emb = model_file.parent / "flame_static_embedding.pkl"
    if emb.is_file():
        landmarks = read_landmark_embedding(emb)
    else:  # landmarks are not used for rendering: give smplx a one-landmark placeholder
        landmarks = {"lmk_face_idx": np.zeros(1, np.int64), "lmk_b_coords": np.array([[1.0, 0.0, 0.0]])}
    with tempfile.TemporaryDirectory(prefix="stygaze_flame_") as tmp:  # mode 0700: only this user
        tmp = Path(tmp)
        np.savez(tmp / "FLAME_NEUTRAL.npz", **arrays)  # numbers only: np.load never unpickles it
        with open(tmp / "flame_static_embedding.pkl", "wb") as fh:
            pickle.dump(landmarks, fh)  # two int/float arrays stygaze made
        chatter = io.StringIO()
        try:
            with contextlib.redirect_stdout(chatter):  # smplx prints warnings with print()
                model = smplx.FLAME(
                    model_path=str(tmp),
                    gender="neutral",
                    ext="npz",
                    num_betas=num_betas,
                    num_expression_coeffs=num_expression,
                    batch_size=1,
                )
        except (KeyError, AttributeError, ValueError, TypeError, IndexError, AssertionError, RuntimeError) as exc:
            raise FlameModelError(f"cannot load FLAME model {model_file}: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
        for line in chatter.getvalue().splitlines():
            if line.strip():
                log.info("smplx: %s", line.strip())
    return model


class FlameHead(HeadModel):
    """The motion on a FLAME mesh (see the module docstring).

    Args:
        model_path: FLAME file or folder (None: ``$STYGAZE_FLAME_MODEL``).
        colors: skin and eye colours.
        head_joint: ``"global"`` or ``"neck"``: which FLAME joint receives the head rotation.
        batch_frames: frames per smplx forward pass.
    """

    name = "flame"

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        *,
        colors: HeadColors | None = None,
        head_joint: str = "global",
        batch_frames: int = 64,
    ):
        if head_joint not in ("global", "neck"):
            raise RenderError(f"head_joint must be 'global' or 'neck', got {head_joint!r}")
        self.model_file = resolve_flame_path(model_path)  # before the heavy imports: fail fast
        import torch

        self.colors = colors or HeadColors()
        self.head_joint = head_joint
        self.batch_frames = int(batch_frames)
        self.model = _load_smplx_flame(self.model_file, num_betas=300, num_expression=100)
        self.model.requires_grad_(False)
        self._torch = torch
        faces = np.asarray(self.model.faces, dtype=np.int64)
        v0 = self.model.v_template.detach().cpu().numpy().astype(np.float64)
        joints = (self.model.J_regressor @ self.model.v_template).detach().cpu().numpy()
        if joints.shape[0] < 5:
            raise FlameModelError(f"{self.model_file}: expected 5 FLAME joints, got {joints.shape[0]}")
        # FLAME joints: 0 global, 1 neck, 2 jaw, 3 and 4 eyes; the subject's left eye is at +x
        self._left_joint = 3 if joints[3, 0] >= joints[4, 0] else 4
        eye_mid = 0.5 * (joints[3] + joints[4])
        self._offset = translation(EYE_TARGET - eye_mid)
        self._faces = faces.astype(np.int32)
        self._colors = self._vertex_colors(v0)

    def _vertex_colors(self, v0: np.ndarray) -> np.ndarray:
        col = self.colors
        colors = np.tile(np.asarray(col.skin, np.float64), (len(v0), 1))
        w = self.model.lbs_weights.detach().cpu().numpy()
        owner = np.argmax(w, axis=1)
        for j in (3, 4):
            idx = np.where((owner == j) & (w[:, j] > 0.5))[0]
            if len(idx) < 4:
                continue
            c = v0[idx].mean(axis=0)
            d = v0[idx] - c
            d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-12
            ang = np.rad2deg(np.arccos(np.clip(d[:, 2], -1, 1)))
            eye = np.tile(np.asarray(col.sclera, np.float64), (len(idx), 1))
            iris = np.asarray(col.iris) * (0.75 + 0.4 * (1 - np.clip(ang / 33.0, 0, 1)))[:, None]
            iris = _mix(iris, np.asarray(col.iris) * 0.35, _smoothstep(26, 33, ang))
            eye = np.where((ang <= 33)[:, None], iris, eye)
            eye = np.where((ang <= 13)[:, None], np.asarray(col.pupil, np.float64), eye)
            colors[idx] = eye
        return colors.astype(np.float32)

    def parts(self) -> list[MeshPart]:
        v0 = self.model.v_template.detach().cpu().numpy().astype(np.float32)
        return [MeshPart("flame", v0, self._faces, self._colors, roughness=0.55, dynamic=True)]

    # --- parameters -----------------------------------------------------------------
    def pose_params(self, motion: Motion, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
        """smplx FLAME inputs for frames ``[start, stop)`` (float32 numpy, axis-angle radians)."""
        m = motion
        d = m.data[start:stop].astype(np.float64)
        B = len(d)
        zeros = np.zeros((B, 3))
        head = rotvec(head_rotation_matrix(d[:, 0], d[:, 1], d[:, 2]))
        left = rotvec(head_rotation_matrix(d[:, 3], d[:, 4], np.zeros(B)))
        right = rotvec(head_rotation_matrix(d[:, 5], d[:, 6], np.zeros(B)))
        leye, reye = (left, right) if self._left_joint == 3 else (right, left)
        nb, ne = self.model.num_betas, self.model.num_expression_coeffs
        betas = np.zeros((B, nb))
        if "shape" in m.extras:
            s = np.asarray(m.extras["shape"], np.float64).reshape(-1)[:nb]
            betas[:, : len(s)] = s
        expr = np.zeros((B, ne))
        if "expression" in m.extras:
            e = np.asarray(m.extras["expression"], np.float64).reshape(len(m), -1)[start:stop, :ne]
            expr[:, : e.shape[1]] = e
        jaw = zeros
        if "jaw" in m.extras:
            jaw = np.asarray(m.extras["jaw"], np.float64).reshape(len(m), -1)[start:stop, :3]
        out = {
            "betas": betas,
            "expression": expr,
            "global_orient": head if self.head_joint == "global" else zeros,
            "neck_pose": head if self.head_joint == "neck" else zeros,
            "jaw_pose": jaw,
            "leye_pose": leye,
            "reye_pose": reye,
            "transl": zeros,
        }
        return {k: v.astype(np.float32) for k, v in out.items()}

    def vertices(self, motion: Motion, start: int = 0, stop: int | None = None) -> np.ndarray:
        """FLAME vertices ``(B, V, 3)`` float32 (model frame, metres) for frames ``[start, stop)``."""
        torch = self._torch
        params = self.pose_params(motion, start, stop)
        dtype = self.model.v_template.dtype
        device = self.model.v_template.device
        with torch.no_grad():
            out = self.model(**{k: torch.as_tensor(v, dtype=dtype, device=device) for k, v in params.items()})
        return out.vertices.detach().cpu().numpy().astype(np.float32)

    def frame(self, motion: Motion, t: int) -> FrameGeometry:
        verts = self.vertices(motion, t, t + 1)[0]
        return FrameGeometry({"flame": self._offset}, {"flame": verts})

    def frames(self, motion: Motion) -> Iterator[FrameGeometry]:
        motion = fill_nan(motion)
        for start in range(0, len(motion), self.batch_frames):
            stop = min(len(motion), start + self.batch_frames)
            for verts in self.vertices(motion, start, stop):
                yield FrameGeometry({"flame": self._offset}, {"flame": verts})
