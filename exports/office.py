"""The sending office's details and the notice wording, from office.yaml (see exports/templates/office.yaml)."""

from dataclasses import dataclass, field
from pathlib import Path

from common import settings
from common.yamlfile import ConfigError, load_yaml, where

REQUIRED = ("name", "address", "email", "legal_paragraph")
TEXT_FIELDS = (
    "name",
    "address",
    "email",
    "phone",
    "website",
    "signatory",
    "signatory_role",
    "subject",
    "intro",
    "legal_paragraph",
    "request",
    "footer",
)


@dataclass
class Office:
    name: str
    address: str
    email: str
    legal_paragraph: str
    phone: str = ""
    website: str = ""
    signatory: str = ""
    signatory_role: str = ""
    subject: str = "Listings of devices used for keyless vehicle theft"
    intro: str = ""
    request: str = ""
    footer: str = ""
    reference_prefix: str = "KW"
    template: Path | None = None
    source: Path | None = field(default=None, compare=False)


def load_office(path: Path | None = None) -> Office:
    """Read and check office.yaml; raise ConfigError("office.yaml:LINE: problem")."""
    path = Path(path) if path else settings.office_path()
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of office details")
    known = set(TEXT_FIELDS) | {"reference_prefix", "template"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{where(path, data)}: unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    for key in REQUIRED:
        if not str(data.get(key) or "").strip():
            raise ConfigError(f"{where(path, data)}: missing required field '{key}'")
    for key in TEXT_FIELDS:
        if key in data and data[key] is not None and not isinstance(data[key], str):
            raise ConfigError(f"{where(path, data)}: '{key}' must be text")
    prefix = str(data.get("reference_prefix") or "KW")
    if not prefix.replace("-", "").isalnum():
        raise ConfigError(f"{where(path, data)}: reference_prefix must be letters/digits, got {prefix!r}")
    template = data.get("template")
    if template:
        # Relative to office.yaml, so an office can keep its letter template next to its details.
        template = (path.parent / template).resolve()
        if not template.is_file():
            raise ConfigError(f"{where(path, data)}: template {template} does not exist")
    fields = {k: (data.get(k) or "").strip() for k in TEXT_FIELDS if data.get(k)}
    return Office(**fields, reference_prefix=prefix, template=template, source=path)
