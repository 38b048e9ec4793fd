"""The operators Tensor gets after its class body (`Tensor.__add__ = ...`, setattr) are
declared to mypy in an `if TYPE_CHECKING:` block of the class; the two lists must stay
the same, or mypy would accept an operator Tensor lacks (or refuse one it has)."""

import ast
import importlib
import inspect

import microtensor as mt

tensor_module = importlib.import_module("microtensor.tensor")  # mt.tensor is the function


def _class_body() -> list:
    tree = ast.parse(inspect.getsource(tensor_module))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor"]
    return cls.body


def _declared_for_mypy() -> set:
    """Names the TYPE_CHECKING block of class Tensor defines or assigns."""
    (block,) = [
        n
        for n in _class_body()
        if isinstance(n, ast.If) and isinstance(n.test, ast.Name) and n.test.id == "TYPE_CHECKING"
    ]
    names = set()
    for n in block.body:
        if isinstance(n, ast.FunctionDef):
            names.add(n.name)
        elif isinstance(n, ast.Assign):
            names.update(t.id for t in n.targets if isinstance(t, ast.Name))
    return names


def _set_after_the_class() -> set:
    """Tensor's dunder methods that its class body does not define."""
    in_body = set()
    for n in _class_body():
        if isinstance(n, ast.FunctionDef):
            in_body.add(n.name)
        elif isinstance(n, ast.Assign):
            for t in n.targets:
                elts = t.elts if isinstance(t, ast.Tuple) else [t]
                in_body.update(e.id for e in elts if isinstance(e, ast.Name))
    return {
        name
        for name, value in vars(mt.Tensor).items()
        if name.startswith("__") and callable(value) and name not in in_body
    }


def test_the_operators_declared_to_mypy_are_those_set_on_tensor_after_its_class():
    declared = _declared_for_mypy() - {"__getattr__"}  # the named op methods, via getattr
    assert declared == _set_after_the_class()


def test_tensor_has_no_runtime_getattr_the_declaration_is_for_mypy_only():
    # a missing attribute must still raise AttributeError, not return a stub
    assert "__getattr__" not in vars(mt.Tensor)
    try:
        mt.zeros(1).no_such_method  # noqa: B018
    except AttributeError:
        return
    raise AssertionError("Tensor.no_such_method did not raise AttributeError")
