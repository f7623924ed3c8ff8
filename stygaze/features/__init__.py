"""Audio features shared by the models, the corpus and the metrics: mel filterbank, rhythm/beats."""
