"""The gaze-conditioned head cVAE: diverse head motion for a given gaze.

Model (:mod:`.model`, :class:`~stygaze.cvae.model.HeadCVAE`), preprocessing and sampling API
(:mod:`.pipeline`), training (:mod:`.train`).
"""
