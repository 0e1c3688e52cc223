"""Wake: facts written into MLP weights with MEMIT, one file per step of the math.

    contexts -> compute_ks (keys) + compute_z (targets; resume, graphed_z) -> memit (the solve, under
    nullspace's projector, against stats' covariance) -> edits (a scaled, removable edit); writer
    holds what every edit needs. Imports base and measure."""
