"""Features shared by the models, the corpus and the metrics: mel filterbank, rhythm/beats, motion kinematics."""
