"""Retailers (seller accounts or web shops) and their contact details, from retailers.yaml."""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from common.yamlfile import ConfigError, load_yaml, where

FIELDS = ("name", "marketplace", "seller_ids", "email", "address", "reporting_url")


@dataclass
class Retailer:
    """A notice recipient. With no seller ids it stands for the marketplace operator itself."""

    name: str
    marketplace: str
    seller_ids: list[str] = field(default_factory=list)
    email: str = ""
    address: str = ""
    reporting_url: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def check_retailer(data: dict, context: str = "retailer") -> Retailer:
    """Build a Retailer from a mapping; raise ValueError("<problem>") naming the field at fault."""
    unknown = sorted(set(data) - set(FIELDS) - {"seller_id"})
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)} (known: {', '.join(FIELDS)})")
    values = {}
    for key in ("name", "marketplace"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{context}: '{key}' is required and must be text")
        values[key] = value.strip()
    if "seller_id" in data and "seller_ids" in data:
        raise ValueError(f"{context}: give either 'seller_id' or 'seller_ids', not both")
    sellers = data.get("seller_ids", data.get("seller_id")) or []
    if isinstance(sellers, (str, int)):
        sellers = [sellers]
    if not isinstance(sellers, list) or not all(isinstance(s, (str, int)) and str(s).strip() for s in sellers):
        raise ValueError(f"{context}: 'seller_ids' must be a list of seller ids")
    values["seller_ids"] = [str(s).strip() for s in sellers]
    for key in ("email", "address", "reporting_url"):
        value = data.get(key) or ""
        if not isinstance(value, str):
            raise ValueError(f"{context}: '{key}' must be text")
        values[key] = value.strip()
    if values["email"] and "@" not in values["email"]:
        raise ValueError(f"{context}: email {values['email']!r} has no '@'")
    if values["reporting_url"] and urlparse(values["reporting_url"]).scheme not in ("http", "https"):
        raise ValueError(f"{context}: reporting_url must be an http(s) URL")
    return Retailer(**values)


def load_retailers(path: Path) -> list[Retailer]:
    """Read retailers.yaml (a top-level `retailers:` list); raise ConfigError("file:line: problem")."""
    path = Path(path)
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("retailers"), list):
        raise ConfigError(f"{path}: expected a top-level 'retailers:' list")
    retailers, seen = [], {}
    for entry in data["retailers"]:
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: each retailer must be a mapping (name, marketplace, ...)")
        try:
            retailer = check_retailer(entry, context=f"retailer {entry.get('name')!r}")
        except ValueError as exc:
            raise ConfigError(f"{where(path, entry)}: {exc}") from exc
        if retailer.name in seen:
            raise ConfigError(
                f"{where(path, entry)}: duplicate retailer name {retailer.name!r} (first at line {seen[retailer.name]})"
            )
        seen[retailer.name] = entry.line
        retailers.append(retailer)
    return retailers
