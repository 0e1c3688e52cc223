"""The model and its plumbing: loading (models), MEMIT hyperparameters (hparams), hooks (nethook),
token rows (tokens), crash-safe writes (atomic), the user-facing error (errors). Imports nothing of logos_core."""
