"""How well the model predicts, measured on real trust networks: reading rating files,
the published baselines, calibration and the replay behind ``graphsvc replay``. Not
imported by the running service (an import contract in pyproject.toml)."""
