"""Render settings: camera, lighting, colours and image size, as small dataclasses.

Everything a caller may want to vary (for example to randomise SynHAGE renders when
training a video recogniser) lives here; the head models and the backend only read it.

World frame = the head frame at the neutral pose (see :mod:`stygaze.motion`): ``x`` = the
subject's left, ``y`` = up, ``z`` = forward (out of the face). Lengths are metres, angles
degrees, colours RGB in 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from stygaze.errors import StygazeError

RGB = tuple[float, float, float]


class RenderError(StygazeError):
    """A render request that cannot be met: unknown preset, bad size, no GL platform, no ffmpeg."""


@dataclass
class CameraConfig:
    """A perspective camera orbiting the head.

    Attributes:
        azimuth_deg: rotation of the camera about the vertical axis through ``target``;
            0 = in front of the face, + = towards the subject's left side.
        elevation_deg: + = camera above the target, looking down.
        distance: camera-to-target distance (m).
        yfov_deg: vertical field of view (degrees).
        target: look-at point (m) in the world frame; the default is mid-face height.
    """

    azimuth_deg: float = 0.0
    elevation_deg: float = 4.0
    distance: float = 0.74
    yfov_deg: float = 30.0
    target: tuple[float, float, float] = (0.0, 0.045, 0.0)


@dataclass
class LightConfig:
    """Three directional lights (key, fill, rim) plus ambient light.

    Directions are given as the position of the light seen from the head (azimuth about the
    vertical axis, + = subject's left; elevation + = above). Intensities are pyrender's
    directional-light intensities (≈ W/m²; 2–4 is a normal key light).
    """

    key_intensity: float = 3.6
    key_azimuth_deg: float = -35.0
    key_elevation_deg: float = 35.0
    fill_intensity: float = 1.3
    fill_azimuth_deg: float = 50.0
    fill_elevation_deg: float = 5.0
    rim_intensity: float = 1.5
    rim_azimuth_deg: float = 160.0
    rim_elevation_deg: float = 40.0
    ambient: float = 0.25
    color: RGB = (1.0, 0.98, 0.95)


@dataclass
class HeadColors:
    """Colours of the procedural head (RGB 0..1) and of the background."""

    skin: RGB = (0.86, 0.64, 0.52)
    lips: RGB = (0.72, 0.40, 0.40)
    hair: RGB = (0.22, 0.15, 0.11)
    brows: RGB = (0.20, 0.13, 0.10)
    sclera: RGB = (0.96, 0.95, 0.93)
    iris: RGB = (0.30, 0.52, 0.72)
    pupil: RGB = (0.03, 0.03, 0.04)
    shirt: RGB = (0.22, 0.30, 0.42)
    background: RGB = (0.90, 0.91, 0.93)


@dataclass
class RenderConfig:
    """Everything that decides how a frame looks.

    Attributes:
        size: output width and height in pixels (square frames; even for H.264).
        camera: camera placement (see :func:`camera_preset`).
        light: lighting.
        colors: head and background colours.
        supersample: render at ``size * supersample`` and box-filter down (anti-aliasing;
            1 = off, 2 = 4x the pixels, slower).
        flat: unlit shading (pure base colours), e.g. for masks and colour-based tests.
        msaa: 4x multisample anti-aliasing (EGL). Off is about twice as fast on a CPU
            (Mesa llvmpipe) with jagged edges; OSMesa never multisamples.
    """

    size: int = 512
    camera: CameraConfig = field(default_factory=CameraConfig)
    light: LightConfig = field(default_factory=LightConfig)
    colors: HeadColors = field(default_factory=HeadColors)
    supersample: int = 1
    flat: bool = False
    msaa: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.camera, str):
            self.camera = camera_preset(self.camera)
        size = int(self.size)
        if size < 16 or size > 4096:
            raise RenderError(f"image size must be between 16 and 4096 pixels, got {self.size}")
        self.size = size
        if int(self.supersample) < 1 or int(self.supersample) > 4:
            raise RenderError(f"supersample must be 1..4, got {self.supersample}")
        self.supersample = int(self.supersample)


CAMERA_PRESETS: dict[str, CameraConfig] = {
    "front": CameraConfig(),
    "three-quarter": CameraConfig(azimuth_deg=35.0, elevation_deg=8.0),
}
"""Named camera placements accepted by ``--camera``."""


def camera_preset(name: str) -> CameraConfig:
    """The :class:`CameraConfig` of a preset name (``front``, ``three-quarter``).

    Raises:
        RenderError: unknown preset.
    """
    key = str(name).strip().lower().replace("_", "-")
    if key in ("3/4", "threequarter", "three-quarters"):
        key = "three-quarter"
    if key not in CAMERA_PRESETS:
        raise RenderError(f"unknown camera {name!r}: choose one of {', '.join(CAMERA_PRESETS)}")
    return replace(CAMERA_PRESETS[key])
