"""stygaze.data: corpora.

* :mod:`stygaze.data.synhage` — SynHAGE, procedural physiologically grounded gaze + head
  motion from speech (:func:`~stygaze.data.synhage.synth.synthesize`, the style prior
  :class:`~stygaze.data.synhage.style.SynthStyle`, the constants :class:`~stygaze.data.synhage.config.SynthConfig`).
* :mod:`stygaze.data.procedural` — the rule-based baseline model :func:`~stygaze.data.procedural.procedural_generate`.
* :mod:`stygaze.data.synhage.speech` — espeak-ng conversations / the user's audio files.
* :mod:`stygaze.features.rhythm` — onset envelope, tempo and beat tracking in numpy.
* :mod:`stygaze.data.corpus` — the on-disk layout, the one corpus reader (sessions, splits), the checker, the SynHAGE writer.
* :mod:`stygaze.data.windows` — where training windows start (every trainer's window sampling).
* :mod:`stygaze.data.openface` — OpenFace 2.x CSV import.
* :mod:`stygaze.data.video` — talking-head video import (MediaPipe FaceMesh + iris).
* :mod:`stygaze.stygazetalk.feature_cache` — cached audio-encoder features for a corpus.
"""
