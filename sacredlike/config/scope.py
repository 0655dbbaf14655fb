"""Config scopes: a function whose body's local variables become config entries."""

from __future__ import annotations

import ast
import inspect
import io
import textwrap
import tokenize
import types
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..errors import ConfigError
from .paths import copy_nested, recursive_update


class SourceResult(NamedTuple):
    """What a config source gives when evaluated.

    Attributes:
        values: its entries, with the fixed entries (``with`` updates) winning.
        defined: its entries as the source itself sets them, ignoring the fixed values
            (used to tell which updates add, modify or change the type of an entry).
    """

    values: dict
    defined: dict


class _ScopeLocals(dict):
    """Locals of a running config scope: assignments to fixed keys keep the fixed value.

    The value the body assigned to a fixed key is remembered in :attr:`overridden`.
    """

    def __init__(self, fixed: Mapping, preset: Mapping) -> None:
        super().__init__(preset)
        self._fixed = fixed
        self.overridden: dict[str, Any] = {}
        for key, value in fixed.items():
            earlier = preset.get(key)
            if isinstance(earlier, Mapping) and isinstance(value, Mapping):
                value = recursive_update(copy_nested(earlier), value)
            dict.__setitem__(self, key, copy_nested(value))

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in self._fixed:
            dict.__setitem__(self, key, value)
            return
        self.overridden[key] = value
        if isinstance(value, dict) and isinstance(self._fixed[key], Mapping):
            dict.__setitem__(self, key, recursive_update(dict(value), self._fixed[key]))


def _is_config_value(name: str, value: Any) -> bool:
    if name.startswith("_"):
        return False
    return not isinstance(
        value, (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType)
    )


class ConfigScope:
    """Wraps a config function; calling it returns the config its body defines.

    ``with`` updates (``fixed``) win over assignments in the body; earlier config entries
    (``preset``) can be read by the body. As in Sacred, the function may declare earlier
    entries as parameters (``def cfg(a): c = a * 2``): each must then exist when the scope
    runs. Comments on an assignment's line (or the comment lines directly above it) become
    that entry's documentation in :attr:`docs`.

    Raises:
        ConfigError: a parameter has a default or is ``*args``/``**kwargs``, or the source
            cannot be read.
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        name = getattr(function, "__name__", repr(function))
        self.arguments: tuple[str, ...] = _parameter_names(name, function)
        try:
            source_lines, first_line = inspect.getsourcelines(function)
        except (OSError, TypeError) as error:  # no source file; not a plain function
            raise ConfigError(
                f"cannot read the source of config function {name!r}: {error}"
            ) from error
        self.function = function
        self.__doc__ = function.__doc__
        self._code, self.docs = _compile_body(function, source_lines, first_line)

    def __call__(self, fixed: Mapping | None = None, preset: Mapping | None = None) -> dict:
        """Run the body and return its config entries."""
        return self.evaluate(fixed, preset).values

    def evaluate(self, fixed: Mapping | None = None, preset: Mapping | None = None) -> SourceResult:
        """Run the body; return its entries and what it assigned itself.

        Args:
            fixed: entries that win over assignments in the body (``with`` updates).
            preset: entries of earlier sources the body may read; returned only if the body
                assigns them anew.
        """
        fixed, preset = fixed or {}, preset or {}
        missing = [arg for arg in self.arguments if arg not in preset and arg not in fixed]
        if missing:
            available = ", ".join(sorted({*preset, *fixed})) or "none"
            raise ConfigError(
                f"config function {self.function.__name__!r} takes {', '.join(missing)}, which "
                f"no earlier config defines (available: {available})"
            )
        scope_locals = _ScopeLocals(fixed, preset)
        exec(self._code, self.function.__globals__, scope_locals)
        preset_keys = set(preset) - set(fixed)
        values = {
            key: value
            for key, value in scope_locals.items()
            if _is_config_value(key, value) and not (key in preset_keys and preset[key] is value)
        }
        defined = {key: value for key, value in values.items() if key not in fixed}
        defined.update(
            (key, value)
            for key, value in scope_locals.overridden.items()
            if _is_config_value(key, value)
        )
        return SourceResult(values, defined)


def _parameter_names(name: str, function: Callable[..., Any]) -> tuple[str, ...]:
    """The names of the earlier entries a config function declares as parameters."""
    names = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise ConfigError(f"config function {name!r} cannot take *args or **kwargs")
        if parameter.default is not parameter.empty:
            raise ConfigError(
                f"config function {name!r}: parameter {parameter.name!r} cannot have a default; "
                "its value comes from the earlier config"
            )
        names.append(parameter.name)
    return tuple(names)


def _compile_body(
    function: Callable[[], Any], source_lines: list[str], first_line: int
) -> tuple[types.CodeType, dict[str, str]]:
    source = textwrap.dedent("".join(source_lines))
    module = ast.parse(source)
    definition = module.body[0]
    if not isinstance(definition, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise ConfigError(f"config source of {function.__name__!r} is not a function")
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    body_module = ast.Module(body=body, type_ignores=[])
    ast.increment_lineno(body_module, first_line - 1)
    filename = inspect.getsourcefile(function) or "<config>"
    code = compile(body_module, filename, "exec")
    return code, _assignment_docs(body, source, first_line)


def _assignment_docs(body: list[ast.stmt], source: str, first_line: int) -> dict[str, str]:
    comments: dict[int, str] = {}
    full_line: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            line = token.start[0] + first_line - 1
            comments[line] = token.string.lstrip("#").strip()
            if not token.line[: token.start[1]].strip():
                full_line.add(line)
    docs: dict[str, str] = {}
    for statement in body:
        targets = _assigned_names(statement)
        if not targets:
            continue
        doc = comments.get(statement.lineno) if statement.lineno not in full_line else None
        if doc is None:
            above, line = [], statement.lineno - 1
            while line in full_line:
                above.insert(0, comments[line])
                line -= 1
            doc = " ".join(above) or None
        if doc:
            for name in targets:
                docs[name] = doc
    return docs


def _assigned_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    else:
        return []
    names: list[str] = []
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                names.append(node.id)
    return names


class ConfigDict:
    """A plain dict used as a config source (same call interface as :class:`ConfigScope`).

    Args:
        entries: the config entries.
        doc: a description (shown by ``print_named_configs``).
    """

    def __init__(self, entries: Mapping, doc: str | None = None) -> None:
        if not isinstance(entries, Mapping):
            raise ConfigError(f"a config must be a dict, got {type(entries).__name__}")
        self.entries = copy_nested(entries)
        self.docs: dict[str, str] = {}
        self.__doc__ = doc

    def __call__(self, fixed: Mapping | None = None, preset: Mapping | None = None) -> dict:
        """The entries with ``fixed`` merged over them."""
        return self.evaluate(fixed, preset).values

    def evaluate(self, fixed: Mapping | None = None, preset: Mapping | None = None) -> SourceResult:
        """The entries with ``fixed`` merged over them, and the entries themselves."""
        values = recursive_update(copy_nested(self.entries), fixed or {})
        return SourceResult(values, copy_nested(self.entries))
