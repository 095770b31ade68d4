"""What every layer of keywatch shares, kept at the bottom so that the layers above stay independent.

`common` imports nothing of ours (an import-linter contract in pyproject.toml says so): the version, every
path and KEYWATCH_* knob (`common.settings`), the one YAML loader with line-numbered errors
(`common.yamlfile`) and files written whole or not at all (`common.atomic`). Only what two or more layers
need belongs here.
"""

# The single source of the version: pyproject.toml reads it from here ([tool.setuptools.dynamic]).
VERSION = "0.1.0"
