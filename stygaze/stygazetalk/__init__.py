"""StyGazeTalk: speech (+ style) -> gaze and head motion.

Audio encoder (:mod:`.audio_encoder`) -> contrastive style encoder (:mod:`.style_encoder`) ->
windowed LSTM generator (:mod:`.generator`) -> optional saccade stage (:mod:`.saccades`);
the public API is :class:`~stygaze.stygazetalk.pipeline.StyGazeTalk`. Training:
:mod:`.train_style`, :mod:`.train_generator`; cached audio features: :mod:`.feature_cache`.
"""
