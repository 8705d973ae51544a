"""Every public class and function of lamina has a docstring, and every public function has type
hints: the walk covers each public module (none whose name has a part starting with ``_``), and in
each the classes and functions defined there (those in ``__all__`` when the module has one)."""
import importlib
import inspect
import pkgutil

import lamina


def public_objects():
    """(dotted name, object) for every public class and function defined in a public module."""
    found = []
    for info in pkgutil.walk_packages(lamina.__path__, "lamina."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        module = importlib.import_module(info.name)
        exported = getattr(module, "__all__", None)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != info.name:
                continue  # private, or imported from the module that defines it (checked there)
            if exported is not None and name not in exported:
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                found.append((f"{info.name}.{name}", obj))
    return found


def has_hints(function) -> bool:
    """Whether the function's return, or one of its named parameters, is annotated (a function
    with no named parameter needs its return annotated)."""
    signature = inspect.signature(function)
    if signature.return_annotation is not inspect.Signature.empty:
        return True
    named = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return any(p.annotation is not inspect.Parameter.empty for p in named)


PUBLIC = public_objects()


def test_the_walk_finds_the_api():
    names = {name for name, _ in PUBLIC}
    assert len(PUBLIC) > 1000
    for expected in ("lamina.models.sequential.Sequential", "lamina.layers.dense.Dense", "lamina.ops.shape_ops.reshape",
                     "lamina.callbacks.early_stopping.EarlyStopping", "lamina.saving.saving_lib.load_model",
                     "lamina.data.dataset.Dataset"):
        assert expected in names, expected


def test_every_public_class_and_function_has_a_docstring():
    missing = [name for name, obj in PUBLIC if not (obj.__doc__ or "").strip()]
    assert not missing, f"{len(missing)} public classes and functions have no docstring: {missing}"


def test_every_public_function_has_type_hints():
    missing = [name for name, obj in PUBLIC if inspect.isfunction(obj) and not has_hints(obj)]
    assert not missing, f"{len(missing)} public functions have no type hints: {missing}"


def test_the_checks_catch_what_they_look_for():
    def bare(x, y=1):
        return x

    def hinted(x) -> int:
        """One."""
        return x

    def returns_only():
        return 1

    assert not has_hints(bare) and has_hints(hinted) and not has_hints(returns_only)


def unannotated_init_parameters(cls) -> list:
    """The named parameters (not ``self``, ``*args``, ``**kwargs``) of the class's own
    ``__init__`` that have no annotation."""
    init = vars(cls).get("__init__")
    if not inspect.isfunction(init):
        return []
    parameters = list(inspect.signature(init).parameters.values())[1:]
    return [p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            and p.annotation is inspect.Parameter.empty]


def test_every_public_class_init_has_annotated_parameters():
    missing = {name: unannotated_init_parameters(obj) for name, obj in PUBLIC if inspect.isclass(obj)}
    missing = {name: params for name, params in missing.items() if params}
    assert not missing, f"public classes whose __init__ has unannotated parameters: {missing}"


def test_the_init_check_catches_an_unannotated_parameter():
    class Bare:
        def __init__(self, x, *args, y: int = 1, **kwargs):
            pass

    class Typed:
        def __init__(self, x: int, *args, **kwargs):
            pass
    assert unannotated_init_parameters(Bare) == ["x"] and unannotated_init_parameters(Typed) == []
