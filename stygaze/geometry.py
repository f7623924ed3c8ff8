"""Rotations and directions: the one set of helpers every part of stygaze uses (pure numpy).

Convention (the motion contract, :mod:`stygaze.motion`): head frame ``x`` = the subject's
left, ``y`` = up, ``z`` = forward; pitch ``+`` = up, yaw ``+`` = towards the subject's left,
roll ``+`` = top of the head towards the subject's left shoulder. A direction with
(pitch θ, yaw ψ) is ``(cos θ sin ψ, sin θ, cos θ cos ψ)``; the head rotation is
``R = R_y(yaw) · R_x(−pitch) · R_z(−roll)``. Angles are degrees unless a name says otherwise.
"""

from __future__ import annotations

import math

import numpy as np


def rot_x(a: np.ndarray) -> np.ndarray:
    """Right-handed rotation matrices ``(..., 3, 3)`` about ``x`` by ``a`` radians ``(...)``."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(a: np.ndarray) -> np.ndarray:
    """Right-handed rotation matrices ``(..., 3, 3)`` about ``y`` by ``a`` radians ``(...)``."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(a: np.ndarray) -> np.ndarray:
    """Right-handed rotation matrices ``(..., 3, 3)`` about ``z`` by ``a`` radians ``(...)``."""
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def head_rotation_matrix(pitch: np.ndarray, yaw: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Head rotation matrices from angles in degrees.

    Args:
        pitch, yaw, roll: ``(...)`` degrees (pitch + up, yaw + left, roll + top to the left).

    Returns:
        ``(..., 3, 3)`` float64 ``R = R_y(yaw) R_x(-pitch) R_z(-roll)`` mapping head-frame
        vectors to world-frame vectors.
    """
    p, y, r = (np.deg2rad(np.asarray(v, dtype=np.float64)) for v in (pitch, yaw, roll))
    return rot_y(y) @ rot_x(-p) @ rot_z(-r)


def angles_to_vector(pitch: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Unit direction ``(..., 3)`` for (pitch, yaw) in degrees: ``(cos p sin y, sin p, cos p cos y)``."""
    p = np.deg2rad(np.asarray(pitch, dtype=np.float64))
    y = np.deg2rad(np.asarray(yaw, dtype=np.float64))
    return np.stack([np.cos(p) * np.sin(y), np.sin(p), np.cos(p) * np.cos(y)], axis=-1)


def vector_to_angles(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pitch, yaw) in degrees of directions ``(..., 3)`` (need not be unit length)."""
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pitch = np.rad2deg(np.arcsin(np.clip(v[..., 1] / n, -1.0, 1.0)))
    yaw = np.rad2deg(np.arctan2(v[..., 0], v[..., 2]))
    return pitch, yaw


def matrix_to_angles(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`head_rotation_matrix`: ``(..., 3, 3)`` → (pitch, yaw, roll) degrees.

    Valid away from pitch = ±90° (gimbal lock), far outside human head motion.
    """
    R = np.asarray(R, dtype=np.float64)
    # R = Ry(y) Rx(-p) Rz(-r); third column = R @ z = (cos p sin y, sin p, cos p cos y)
    pitch = np.rad2deg(np.arcsin(np.clip(R[..., 1, 2], -1.0, 1.0)))
    yaw = np.rad2deg(np.arctan2(R[..., 0, 2], R[..., 2, 2]))
    # second row: R[1, :] = (-cos p sin r, cos p cos r, sin p)
    roll = np.rad2deg(np.arctan2(-R[..., 1, 0], R[..., 1, 1]))
    return pitch, yaw, roll


def rotvec(R: np.ndarray) -> np.ndarray:
    """Axis-angle vectors ``(..., 3)`` in radians of rotation matrices ``(..., 3, 3)``."""
    from scipy.spatial.transform import Rotation

    R = np.asarray(R, dtype=np.float64)
    flat = R.reshape(-1, 3, 3)
    return Rotation.from_matrix(flat).as_rotvec().reshape(R.shape[:-2] + (3,))


def look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    """Camera/light pose ``(4, 4)``: its ``-z`` axis points from ``eye`` to ``target``."""
    z = np.asarray(eye, float) - np.asarray(target, float)
    z /= np.linalg.norm(z)
    x = np.cross(up, z)
    if np.linalg.norm(x) < 1e-8:
        x = np.array([1.0, 0.0, 0.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, eye
    return m


def translation(v) -> np.ndarray:
    """``(4, 4)`` homogeneous translation by ``v`` (3,)."""
    m = np.eye(4)
    m[:3, 3] = v
    return m


def rotation4(R: np.ndarray) -> np.ndarray:
    """``(4, 4)`` homogeneous matrix of the rotation ``R`` (3, 3)."""
    m = np.eye(4)
    m[:3, :3] = R
    return m


def slerp_unit(a: tuple, b: tuple, s: float) -> tuple:
    """Spherical interpolation between unit vectors ``a`` and ``b`` (3-tuples of floats; scalar
    Python for per-frame loops, where numpy's call overhead dominates)."""
    dot = max(-1.0, min(1.0, a[0] * b[0] + a[1] * b[1] + a[2] * b[2]))
    om = math.acos(dot)
    if om < 1e-9:
        return b
    so = math.sin(om)
    wa, wb = math.sin((1.0 - s) * om) / so, math.sin(s * om) / so
    v = (wa * a[0] + wb * b[0], wa * a[1] + wb * b[1], wa * a[2] + wb * b[2])
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n)
