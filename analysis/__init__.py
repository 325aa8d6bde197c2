"""Elephant pipelines on Neo objects: statistics, rhythms, replay, validation, figures.

Nothing here imports a model: models and commands call these functions, never the reverse.
"""
