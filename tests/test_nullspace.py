"""Null-space projection (AlphaEdit): identities on small random matrices, against float64 references."""
import torch

from logos_core.wake.nullspace import free_dims, projector, protect, solve_update_projected


def _cov(d=24, n=400, rank_decay=3.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    # keys with a fast-decaying spectrum, like real MLP keys: a few directions carry most of the energy
    scales = torch.exp(-rank_decay * torch.linspace(0, 1, d)) ** 2
    K0 = torch.randn(d, n, generator=g, dtype=torch.float64) * scales[:, None]
    return K0, K0 @ K0.T / n


def test_projector_is_an_orthogonal_projector_onto_small_eigendirections():
    K0, C = _cov()
    P = projector(C, 1e-2)
    assert torch.allclose(P @ P, P, atol=1e-12) and torch.allclose(P, P.T, atol=1e-12)
    s, U = torch.linalg.eigh(C)
    assert free_dims(P) == int((s < 1e-2 * s[-1]).sum()) > 0
    # every retained direction has a small eigenvalue: |P C P| <= threshold * max eigenvalue
    assert torch.linalg.matrix_norm(P @ C @ P, 2) <= 1e-2 * s[-1] + 1e-12


def test_update_confined_to_null_space_leaves_preserved_keys_alone():
    K0, C = _cov()
    P = projector(C, 1e-2)
    g = torch.Generator().manual_seed(1)
    K = torch.randn(24, 3, generator=g, dtype=torch.float64)
    R = torch.randn(8, 3, generator=g, dtype=torch.float64)
    dW = solve_update_projected(R, K, P, l2=1e-3)
    assert torch.allclose(dW @ P, dW, atol=1e-10)                         # rows lie in range(P)
    # ordinary keys: |dW K0|^2 = n tr(dW P C P dW^T) <= n * threshold * max eigenvalue * |dW|^2
    s = torch.linalg.eigvalsh(C)
    assert (dW @ K0).norm() ** 2 <= K0.shape[1] * 1e-2 * s[-1] * dW.norm() ** 2 * (1 + 1e-9)
    # an unconstrained update of the same residual moves them several times more (here 4.1 vs 0.89)
    plain = R @ K.T @ torch.linalg.inv(K @ K.T + 1e-3 * torch.eye(24, dtype=torch.float64))
    assert (dW @ K0).norm() / dW.norm() < 0.5 * (plain @ K0).norm() / plain.norm()
    # against a float64 reference of the closed form: the least-squares problem in the null space
    A = P @ K @ K.T @ P + 1e-3 * torch.eye(24, dtype=torch.float64)
    ref = R @ K.T @ P @ torch.linalg.inv(A)
    assert torch.allclose(dW, ref, atol=1e-8)
    # and the d x d system exactly as AlphaEdit writes it (the code solves the n x n one instead)
    dense = torch.linalg.solve(P @ K @ K.T + 1e-3 * torch.eye(24, dtype=torch.float64), P @ K @ R.T).T
    assert torch.allclose(dW, dense, atol=1e-8)


def test_protect_removes_working_memory_keys_exactly():
    K0, C = _cov()
    P = projector(C, 1e-2)
    g = torch.Generator().manual_seed(2)
    K_keep = torch.randn(24, 2, generator=g, dtype=torch.float64)
    Pp = protect(P, K_keep)
    assert torch.allclose(Pp @ Pp, Pp, atol=1e-12) and torch.allclose(Pp, Pp.T, atol=1e-12)
    assert free_dims(Pp) == free_dims(P) - 2
    K = torch.randn(24, 2, generator=g, dtype=torch.float64)
    R = torch.randn(8, 2, generator=g, dtype=torch.float64)
    dW = solve_update_projected(R, K, Pp, l2=1e-4)
    assert (dW @ K_keep).abs().max() < 1e-10                              # held facts: untouched
    assert (dW @ P - dW).abs().max() < 1e-10
    # and the new keys are still written (most of the residual closed)
    assert ((dW @ K - R).norm() / R.norm()) < 0.5


def test_protect_without_keys_is_identity():
    _, C = _cov()
    P = projector(C, 1e-2)
    assert protect(P, None) is P
    assert protect(P, torch.zeros(24, 0, dtype=torch.float64)) is P
