"""keywatch's YAML files (marketplaces.yaml, office.yaml, retailers.yaml, the watchlist), read with errors
that name the file and the line: `marketplaces.yaml:12: unknown key 'pages'`, one line, for the CLI to show.
"""

from pathlib import Path

import yaml


class ConfigError(ValueError):
    """A config file keywatch cannot use; the message is one line, `file:line: problem` (or `file: problem`)."""


class LineDict(dict):
    """A mapping read by load_yaml, which remembers the line it starts on (see `where`)."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that builds LineDicts, so validation can point at the mapping at fault."""


def _mapping_with_line(loader, node):
    _refuse_duplicate_keys(node)
    mapping = LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


class DuplicateKey(yaml.MarkedYAMLError):
    """A key given twice in one mapping: PyYAML keeps the last silently, so half of what was written is lost."""


def _refuse_duplicate_keys(node: yaml.MappingNode) -> None:
    first_line: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        line = key.start_mark.line + 1
        if key.value in first_line:
            raise DuplicateKey(
                problem=f"duplicate key {key.value!r} (first defined on line {first_line[key.value]})",
                problem_mark=key.start_mark,
            )
        first_line[key.value] = line


def read_text(path: Path) -> str:
    """The file's text; ConfigError when it is missing, unreadable or not UTF-8."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text") from None


def syntax_error(path: Path, error: yaml.YAMLError) -> ConfigError:
    """PyYAML's complaint as `path:line: not valid YAML: problem`."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    if isinstance(error, yaml.MarkedYAMLError):
        problem = " ".join(str(part) for part in (error.context, error.problem) if part)
    else:
        problem = str(error).splitlines()[0] if str(error) else type(error).__name__
    return ConfigError(f"{path}:{line}: not valid YAML: {problem}")


def load_yaml(path: Path):
    """Parse the YAML file at `path` (safely: plain data only); every mapping in it is a LineDict.

    Raises ConfigError("path:line: problem") when the file is missing, unreadable or not valid YAML.
    """
    text = read_text(path)
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as error:
        raise syntax_error(path, error) from None


def compose_yaml(text: str, path: Path) -> yaml.Node | None:
    """PyYAML's node tree of `text` (every node knows its line), for validation that reports many problems."""
    try:
        # The watchlist's validator reports keys given twice. libyaml's composer, where PyYAML was built with it,
        # gives the same nodes and lines at a tenth of the CPU (0.12 s for the watchlist, read by every crawl and
        # its classifier's process before they start).
        return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise syntax_error(path, error) from None


def where(path: Path, node) -> str:
    """`path:line` for a mapping read by load_yaml (just `path` when the line is unknown)."""
    line = getattr(node, "line", 0)
    return f"{path}:{line}" if line else str(path)
