"""Beat alignment: head movements that land on the stressed syllables of the speech.

People time their head movements to their speech: a nod or a turn tends to end on a stressed
syllable. The generator reads the speech beats (the beat channel) but its movements land on
them only loosely; on real speech, its head beat alignment with its own audio was no better
than with another speaker's audio. This stage retimes the generated motion, after the style
statistics matching and before the avatar stages:

1. *movement ends* are the local minima of the head's angular speed smoothed by a Gaussian of
   :data:`SIGMA` frames (:func:`stygaze.features.kinematics.speed_minima`: the turning point
   of a nod, the end of a turn; the same definition the beat alignment score uses);
2. each end is paired with the nearest speech beat (:func:`stygaze.features.rhythm.rhythmic_beats`,
   the beats of the beat channel) when that beat is at most :data:`MAX_SHIFT_S` away, keeping
   the pairs in order and the local playback rate within ``[1 / MAX_RATE, MAX_RATE]``;
3. a monotone piecewise-linear time map through those pairs (and the clip's first and last
   frame) resamples all seven channels, so eyes and head keep their coordination.

Only timing changes: every movement keeps its shape and size (the head's per-axis standard
deviation moves by well under 1 %, its mean speed by a few per cent). Clip length, first and
last frame are unchanged. The stage needs the motion a little ahead of each movement's end, so
it runs on whole clips (:meth:`~stygaze.StyGazeTalk.generate`); streams leave the timing as the
generator made it.
"""

from __future__ import annotations

import numpy as np

from stygaze.features.kinematics import speed_minima

MAX_SHIFT_S = 0.2
"""Farthest a movement's end is moved onto a beat (seconds): about half the interval between
speech beats (2–3 per second), so an end only ever goes to its nearest beat."""
SIGMA = 5.0
"""Gaussian smoothing (frames) of the head speed before its minima are taken."""
MAX_RATE = 1.6
"""Largest local speed-up of playback (and inverse of the largest slow-down) the time map may use."""


def movement_ends(head: np.ndarray) -> np.ndarray:
    """``(E,)`` float64 times (frames) where head movements end: the speed minima, each at the
    middle of its step (``t + 0.5``)."""
    return speed_minima(np.asarray(head, dtype=np.float64), SIGMA).astype(np.float64) + 0.5


def beat_time_map(ends: np.ndarray, beats: np.ndarray, num_frames: int, fps: float = 25.0,
                  max_shift_s: float = MAX_SHIFT_S) -> tuple[np.ndarray, np.ndarray]:
    """Anchor pairs ``(source, target)`` of the time map, first and last frame included.

    Each movement end (``ends``, frames) goes to the nearest beat (``beats``, frames) at most
    ``max_shift_s`` away; a pair that would break the order or push the local rate outside
    ``[1 / MAX_RATE, MAX_RATE]`` is skipped.
    """
    last = float(num_frames - 1)
    src, dst = [0.0], [0.0]
    beats = np.sort(np.asarray(beats, dtype=np.float64).reshape(-1))
    beats = beats[(beats > 0) & (beats < last)]
    limit = max_shift_s * fps
    for end in np.asarray(ends, dtype=np.float64).reshape(-1):
        if beats.size == 0:
            break
        beat = float(beats[np.argmin(np.abs(beats - end))])
        if abs(beat - end) > limit or not 0.0 < end < last:
            continue
        ds, dd = end - src[-1], beat - dst[-1]
        if ds <= 0 or dd <= 0 or not 1.0 / MAX_RATE <= ds / dd <= MAX_RATE:
            continue
        src.append(end)
        dst.append(beat)
    # the last segment must keep the rate too: drop anchors from the end until it does
    while len(src) > 1:
        ds, dd = last - src[-1], last - dst[-1]
        if ds > 0 and dd > 0 and 1.0 / MAX_RATE <= ds / dd <= MAX_RATE:
            break
        src.pop()
        dst.pop()
    src.append(last)
    dst.append(last)
    return np.asarray(src), np.asarray(dst)


def align_to_beats(motion: np.ndarray, beats: np.ndarray, fps: float = 25.0, max_shift_s: float = MAX_SHIFT_S,
                   head: tuple[int, ...] = (0, 1, 2)) -> tuple[np.ndarray, int]:
    """Retime ``motion`` ``(T, C)`` so its head movements end on ``beats`` (frame indices).

    Args:
        motion: ``(T, C)`` degrees without NaN; every channel is retimed the same way.
        beats: speech beat frames (:func:`stygaze.features.rhythm.rhythmic_beats`).
        fps: frame rate.
        max_shift_s: farthest a movement end moves (seconds); 0 leaves the motion as it is.
        head: the head channels whose speed defines the movement ends.

    Returns:
        ``(motion, moved)``: the retimed ``(T, C)`` float32 motion and how many movement ends
        were put on a beat. With no beat, no movement end, or a clip under 3 frames the motion
        comes back unchanged (``moved`` 0).
    """
    x = np.asarray(motion, dtype=np.float64)
    if x.ndim != 2 or len(x) < 3 or max_shift_s <= 0 or not np.isfinite(x).all():
        return np.asarray(motion, dtype=np.float32), 0
    src, dst = beat_time_map(movement_ends(x[:, list(head)]), beats, len(x), fps, max_shift_s)
    if len(src) == 2:
        return x.astype(np.float32), 0
    frames = np.arange(len(x), dtype=np.float64)
    source_time = np.interp(frames, dst, src)  # output frame t shows the source motion at source_time[t]
    out = np.stack([np.interp(source_time, frames, x[:, c]) for c in range(x.shape[1])], axis=1)
    return out.astype(np.float32), len(src) - 2
