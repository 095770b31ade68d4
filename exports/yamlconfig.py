"""Reading the office's small YAML files (office.yaml, retailers.yaml) with errors that name the line."""

from pathlib import Path

import yaml


class ConfigError(ValueError):
    """A problem in a config file, already formatted as `file:line: problem` for a one-line CLI error."""


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, so validation errors can point at it."""


def _mapping_with_line(loader, node):
    mapping = LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


class LineDict(dict):
    line: int = 0


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def load_yaml(path: Path):
    """Parse `path`; raise ConfigError("path:line: problem") on unreadable or malformed YAML."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror if isinstance(exc, OSError) else exc})") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}{line}: invalid YAML: {problem}") from exc


def where(path: Path, node) -> str:
    """`path:line` for a mapping read by load_yaml (just `path` when the line is unknown)."""
    line = getattr(node, "line", 0)
    return f"{path}:{line}" if line else str(path)
