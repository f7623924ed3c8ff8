"""StyGazeTalk: speech (+ style) -> gaze and head motion.

Audio encoder (:mod:`.audio_encoder`) -> contrastive style encoder (:mod:`.style_encoder`) ->
windowed LSTM generator (:mod:`.generator`) -> avatar stages (:mod:`.avatar`: gaze events
:mod:`.saccades`, blinks :mod:`.blinks`, jaw :mod:`.jaw`; on by default, ``raw=True`` skips them);
the public API is :class:`~stygaze.stygazetalk.pipeline.StyGazeTalk`. Training:
:mod:`.train_style`, :mod:`.train_generator`; cached audio features: :mod:`.feature_cache`.
"""
