"""stygaze.data: corpora.

* :mod:`stygaze.data.synth` — SynHAGE, procedural physiologically grounded gaze + head
  motion from speech (:func:`~stygaze.data.synth.synthesize`, the rule-based baseline
  :func:`~stygaze.data.synth.procedural_generate`, the :class:`~stygaze.data.synth.SynthStyle`).
* :mod:`stygaze.data.speech` — espeak-ng conversations / the user's audio files.
* :mod:`stygaze.data.rhythm` — onset envelope, tempo and beat tracking in numpy.
* :mod:`stygaze.data.corpus` — the on-disk layout, splits, the checker, the SynHAGE writer.
* :mod:`stygaze.data.windows` — PyTorch datasets: training windows and style pairs.
* :mod:`stygaze.data.openface` — OpenFace 2.x CSV import.
* :mod:`stygaze.data.video` — talking-head video import (MediaPipe FaceMesh + iris).
* :mod:`stygaze.data.features` — cached audio-encoder features for a corpus.
"""
