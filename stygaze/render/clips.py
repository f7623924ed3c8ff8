"""Rendering labelled training clips for the recognizer: head-crop camera, randomised scenes, clip frames."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from stygaze.config import FRACTION, NON_NEGATIVE, option
from stygaze.geometry import angles_to_vector, look_at
from stygaze.render.config import CameraConfig, HeadColors, LightConfig, RenderConfig
from stygaze.render.video import render_frames


@dataclass
class RandomizeConfig:
    """Ranges (uniform) of the per-clip render randomisation.

    Angles in degrees, lengths in metres, colours jittered by ±``color_jitter`` per channel.
    """

    azimuth_deg: tuple[float, float] = (-25.0, 25.0)
    elevation_deg: tuple[float, float] = (-4.0, 14.0)
    distance: tuple[float, float] = (0.34, 0.46)
    target_jitter: float = option(0.01, range=NON_NEGATIVE)
    key_intensity: tuple[float, float] = option((1.8, 4.5), range=NON_NEGATIVE)
    key_azimuth_deg: tuple[float, float] = (-70.0, 70.0)
    fill_intensity: tuple[float, float] = option((0.5, 1.8), range=NON_NEGATIVE)
    ambient: tuple[float, float] = option((0.2, 0.5), range=NON_NEGATIVE)
    color_jitter: float = option(0.10, range=NON_NEGATIVE)
    hflip: float = option(0.5, range=FRACTION)  # share of mirrored clips

    def __post_init__(self) -> None:
        for k, v in asdict(self).items():
            if isinstance(v, list):
                setattr(self, k, tuple(float(x) for x in v))


def camera_rotation(camera: Any) -> np.ndarray:
    """(3, 3) camera-to-world rotation (columns = image right, up, towards the camera)."""
    target = np.asarray(camera.target, float)
    eye = target + camera.distance * angles_to_vector(camera.elevation_deg, camera.azimuth_deg)
    return look_at(eye, target)[:3, :3]


def camera_gaze(motion: Any, camera: Any | None = None) -> np.ndarray:
    """(T, 3) unit world-gaze (mean eye) in camera coordinates (``x`` image right, ``y`` up, ``z`` to camera)."""
    r = camera_rotation(camera or CameraConfig())
    g = motion.world_gaze_vectors("mean")
    return (g @ r).astype(np.float32)  # R^T g per row


def head_crop_camera(**overrides: Any) -> Any:
    """The recognizer's reference camera: frontal, close (a head crop)."""
    values = dict(azimuth_deg=0.0, elevation_deg=4.0, distance=0.40, target=(0.0, 0.08, 0.0))
    values.update(overrides)
    return CameraConfig(**values)


def sample_render_config(rng: np.random.Generator, size: int, rand: RandomizeConfig, supersample: int = 2) -> Any:
    """A randomised :class:`~stygaze.render.config.RenderConfig` (camera, lights, colours)."""
    from dataclasses import replace

    u = lambda r: float(rng.uniform(r[0], r[1]))  # noqa: E731
    j = rand.target_jitter
    camera = head_crop_camera(
        azimuth_deg=u(rand.azimuth_deg),
        elevation_deg=u(rand.elevation_deg),
        distance=u(rand.distance),
        target=(float(rng.uniform(-j, j)), 0.08 + float(rng.uniform(-j, j)), 0.0),
    )
    light = LightConfig(
        key_intensity=u(rand.key_intensity),
        key_azimuth_deg=u(rand.key_azimuth_deg),
        fill_intensity=u(rand.fill_intensity),
        ambient=u(rand.ambient),
    )
    base = HeadColors()
    cj = rand.color_jitter

    def jit(c):
        return tuple(float(np.clip(v + rng.uniform(-cj, cj), 0.0, 1.0)) for v in c)

    colors = replace(base, **{k: jit(getattr(base, k)) for k in ("skin", "lips", "hair", "brows", "iris", "shirt", "background")})
    return RenderConfig(size=size, camera=camera, light=light, colors=colors, supersample=supersample)


def render_clip_frames(motion: Any, size: int = 64, config: Any | None = None, supersample: int = 2) -> np.ndarray:
    """Render a motion with the procedural head: (T, size, size, 3) uint8.

    ``config`` (a :class:`~stygaze.render.config.RenderConfig`) defaults to
    :func:`head_crop_camera` with the default lights and colours.
    """
    cfg = config or RenderConfig(size=size, camera=head_crop_camera(), supersample=supersample)
    return np.asarray(render_frames(motion, size=cfg.size, config=cfg), dtype=np.uint8)
