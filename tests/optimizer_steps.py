"""Two optimizer steps on a float64 Variable, shared by the optimizer test files."""
import numpy as np

import lamina

W0 = np.array([1.0, -2.0])
G1 = np.array([0.5, -1.0])
G2 = np.array([0.2, 0.3])


def two_steps(optimizer, w0=W0, grads=(G1, G2)):
    """Apply ``grads`` one by one to a float64 copy of ``w0``; return the weights after each."""
    w = lamina.Variable(np.array(w0, dtype=np.float64), name="w")
    seen = []
    for g in grads:
        optimizer.apply([np.array(g, dtype=np.float64)], [w])
        seen.append(w.numpy())
    return seen


def check(optimizer, expected1, expected2):
    w1, w2 = two_steps(optimizer)
    np.testing.assert_allclose(w1, expected1, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(w2, expected2, rtol=1e-6, atol=1e-12)
