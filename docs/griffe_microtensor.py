"""A griffe extension for this site (mkdocs.yml loads it), so that the API reference
shows what Python sees:

- each doctest block of a docstring is fenced as a ```pycon code block: the docstrings
  use `>>>` examples (not Examples sections), which Markdown would otherwise render as
  nested quotes, reading their output lines (`['w', 'b']`) as links;
- what a module makes at import time, which static analysis cannot see, is added from
  the imported module: the op functions that `microtensor/ops/__init__.py` gathers from
  its families (so `nn.functional.elu`, imported from there, resolves), the functions a
  family makes in a loop (`bitwise_and`, `eq`, ...), the classes a module builds from a
  table (nn's activation modules) and the `__all__` it computes, so that wildcard
  imports of it (`from .activation import *`) bring them along.
"""

from __future__ import annotations

import importlib
import inspect

import griffe

# the op functions are documented by family (docs/api/ops.md), not again as mt.NAME
OWN_PAGE = {"microtensor", "microtensor.ops"}


def fence_doctests(text: str) -> str:
    """Wrap every doctest block (a `>>>` line up to the next blank line, as doctest reads
    it) in a fenced block at the same indentation, after a blank line."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.lstrip().startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if out and out[-1].strip():
            out.append("")
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


def gather_ops(ops: griffe.Module) -> None:
    """What ops/__init__.py does at import: every family's exports become ops members."""
    families = [m for m in ops.members.values() if not m.is_alias and m.is_module]
    for family in families:
        for name in family.exports or ():
            if name not in ops.members:
                ops.set_member(name, griffe.Alias(name, f"{family.path}.{name}", parent=ops))


def function_from(name: str, value, parent: griffe.Module) -> griffe.Function:
    """A griffe Function for a function made at import time: its signature and
    docstring as Python sees them."""
    parameters = griffe.Parameters(
        *(
            griffe.Parameter(
                p.name,
                kind=griffe.ParameterKind[p.kind.name.lower()],
                default=None if p.default is p.empty else repr(p.default),
            )
            for p in inspect.signature(value).parameters.values()
        )
    )
    function = griffe.Function(name, parameters=parameters, parent=parent)
    if value.__doc__:
        function.docstring = griffe.Docstring(inspect.cleandoc(value.__doc__), parent=function)
    return function


def find(root: griffe.Module, path: str) -> bool:
    """Whether the tree under `root` has an object at this dotted path."""
    try:
        root[path.removeprefix(root.path + ".")]
    except (KeyError, ValueError, griffe.AliasResolutionError):
        return False
    return path.startswith(root.path + ".")


def add_made_at_import(module: griffe.Module, root: griffe.Module) -> None:
    """Add the exports a module makes at import time (in a loop, from a table), which its
    source does not show as such: a class from griffe's inspection of the imported
    module, a function made by a factory from its signature, and an alias for what a
    wildcard import brought; and take the module's `__all__` from the import where the
    source computes it. Submodules first, so that aliases find what they point to."""
    for member in list(module.members.values()):
        if not member.is_alias and member.is_module:
            add_made_at_import(member, root)
    runtime = importlib.import_module(module.path)
    exports = getattr(runtime, "__all__", None)
    if exports is None or module.path in OWN_PAGE:
        return
    if set(exports) != {str(name) for name in module.exports or ()}:
        module.exports = list(exports)
    inspected = None
    for name in (n for n in exports if n not in module.members):
        value = getattr(runtime, name)
        origin = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
        if isinstance(value, type) and value.__module__ == module.path:
            inspected = inspected or griffe.inspect(module.path, filepath=module.filepath)
            module.set_member(name, inspected.members[name])
        elif find(root, origin):
            module.set_member(name, griffe.Alias(name, origin, parent=module))
        elif inspect.isfunction(value):
            module.set_member(name, function_from(name, value, module))


class MicrotensorDocs(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        if pkg.path == "microtensor":
            gather_ops(pkg["ops"])
            add_made_at_import(pkg, pkg)

            self.on_object(obj=pkg)  # the package's own docstring (not always visited)

    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        text = obj.docstring.value if obj.docstring is not None else ""
        if ">>>" in text and "```pycon" not in text:
            obj.docstring.value = fence_doctests(text)
