# TEST DOUBLE of Immich v3.2.0's machine-learning/immich_ml package (see __main__.py and config.py
# for the upstream files mirrored). Simplified: standard library only, no models.
