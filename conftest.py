"""Collection for the doctests under src/lamina: a module that exists only to hold an optional
package's compiled code is not imported when that package is missing (CI installs them all)."""
import importlib.util

collect_ignore = []
if importlib.util.find_spec("numba") is None:
    collect_ignore += ["src/lamina/optimizers/_numba_kernels.py", "src/lamina/losses/_link_kernels.py",
                       "src/lamina/trainers/_plan_kernels.py", "src/lamina/_numba_jit.py"]
if importlib.util.find_spec("optuna") is None:
    collect_ignore.append("src/lamina/tuner")
