"""stygaze.data: corpora.

* :mod:`stygaze.data.synhage.synth` — SynHAGE, procedural physiologically grounded gaze + head
  motion from speech (:func:`~stygaze.data.synhage.synth.synthesize`, the rule-based baseline
  :func:`~stygaze.data.synhage.synth.procedural_generate`, the :class:`~stygaze.data.synhage.synth.SynthStyle`).
* :mod:`stygaze.data.synhage.speech` — espeak-ng conversations / the user's audio files.
* :mod:`stygaze.features.rhythm` — onset envelope, tempo and beat tracking in numpy.
* :mod:`stygaze.data.corpus` — the on-disk layout, the one corpus reader (sessions, splits), the checker, the SynHAGE writer.
* :mod:`stygaze.data.windows` — where training windows start (every trainer's window sampling).
* :mod:`stygaze.data.openface` — OpenFace 2.x CSV import.
* :mod:`stygaze.data.video` — talking-head video import (MediaPipe FaceMesh + iris).
* :mod:`stygaze.stygazetalk.feature_cache` — cached audio-encoder features for a corpus.
"""
