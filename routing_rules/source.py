"""YAML that remembers where every value came from.

Rule files and the directory are reviewed like code, so an error must point at a file and a line.
PyYAML's C parser builds the node tree (fast enough for thousands of rules); this module turns
it into plain Python values while recording the line of every mapping key and list item, and
refuses what YAML itself lets through silently: duplicate keys, non-string keys, anchors'
merge keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

try:  # the C parser when PyYAML was built with libyaml (the wheels are)
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceError:
    """One problem in a source file, at a line a person can open."""

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.reason}"


class SourceErrors(Exception):
    """Every problem found in a set of files; nothing from them was loaded."""

    def __init__(self, errors: list[SourceError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class Document:
    """A parsed YAML file: its data and the line of every path inside it."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """The line of ``path``, or of the nearest enclosing value that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def error(self, path: Path_, reason: str) -> SourceError:
        return SourceError(self.file, self.line(path), reason)


def read_document(path: Path | str, display_name: str | None = None) -> Document:
    """Parse one YAML file; raise :class:`SourceErrors` with the line on any syntax problem."""
    path = Path(path)
    name = display_name or shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceErrors([SourceError(name, None, f"not UTF-8 text ({exc.reason})")]) from exc
    except OSError as exc:
        raise SourceErrors([SourceError(name, None, f"cannot read: {exc.strerror}")]) from exc
    return parse_document(text, name)


def shown(path: Path) -> str:
    """A path as a person at this shell would type it: relative when under the current folder."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parse_document(text: str, name: str) -> Document:
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        context = exc.context or ""
        if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            context += f" (started at line {exc.context_mark.line + 1})"
        reason = " ".join(p for p in (context, exc.problem) if p) or "invalid YAML"
        raise SourceErrors([SourceError(name, line, f"YAML syntax: {reason}")]) from exc
    except yaml.YAMLError as exc:
        raise SourceErrors([SourceError(name, None, f"YAML syntax: {exc}")]) from exc

    doc = Document(name, None)
    if node is None:
        doc.data = {}
        return doc
    errors: list[SourceError] = []
    doc.data = _build(node, (), doc, errors)
    if errors:
        raise SourceErrors(errors)
    return doc


_scalars = yaml.SafeLoader("")


def _build(node: yaml.Node, path: Path_, doc: Document, errors: list[SourceError]) -> Any:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        return _scalars.construct_object(node)
    if isinstance(node, yaml.SequenceNode):
        out = []
        for i, item in enumerate(node.value):
            doc.lines[path + (i,)] = item.start_mark.line + 1
            out.append(_build(item, path + (i,), doc, errors))
        return out
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                errors.append(SourceError(doc.file, line, "keys must be plain names"))
                continue
            key = _scalars.construct_object(key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                errors.append(SourceError(doc.file, line, f"duplicate key '{key}'"))
                continue
            doc.lines[path + (key,)] = line
            result[key] = _build(value_node, path + (key,), doc, errors)
        return result
    errors.append(SourceError(doc.file, node.start_mark.line + 1, "unsupported YAML node"))
    return None


def validate(model: type, data: Any, doc: Document, base: Path_ = ()) -> tuple[Any, list[SourceError]]:
    """Validate ``data`` with a pydantic model, turning its errors into file-and-line errors."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_explain(err, doc, base) for err in exc.errors()]


def _explain(err: dict, doc: Document, base: Path_) -> SourceError:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))  # drop union tags
    path = base + loc
    where = ".".join(str(p) for p in path) or "the file"
    kind = err["type"]
    if kind == "extra_forbidden":
        reason = f"unknown field '{loc[-1]}' in {'.'.join(map(str, path[:-1])) or 'the file'}"
    elif kind == "missing":
        reason = f"'{where}' is required"
    else:
        got = err.get("input")
        shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
        reason = f"{where}: {err['msg'][0].lower()}{err['msg'][1:]} (got {shown})"
    return doc.error(path, reason)
