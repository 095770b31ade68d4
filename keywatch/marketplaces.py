"""marketplaces.yaml: which spiders the weekly job (`keywatch crawl --all`) runs, with what arguments and settings."""

from dataclasses import dataclass, field
from pathlib import Path

from common.yamlfile import ConfigError, load_yaml, where


@dataclass
class MarketplaceJob:
    spider: str
    enabled: bool = True
    args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)


_ENTRY_KEYS = {"spider", "enabled", "args", "settings"}


def _scalar(value, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigError(f"{where}: expected a single value, got {type(value).__name__}")


def load_config(path: Path, known_spiders=None) -> list[MarketplaceJob]:
    """Read and check the marketplaces config; raises ConfigError("FILE:LINE: problem").

    With `known_spiders`, a spider that is not one of them is a problem too.
    """
    path = Path(path)
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("marketplaces"), list):
        raise ConfigError(f"{path}: expected a top-level 'marketplaces:' list")
    jobs = []
    for entry in data["marketplaces"]:
        job = _job(entry, where(path, entry))
        if any(job.spider == other.spider for other in jobs):
            raise ConfigError(
                f"{where(path, entry)}: {job.spider} is listed twice (give several shops as one comma-separated "
                "start_url)"
            )
        if known_spiders is not None and job.spider not in known_spiders:
            raise ConfigError(
                f"{where(path, entry)}: unknown spider {job.spider!r}; known: {', '.join(sorted(known_spiders))}"
            )
        jobs.append(job)
    if not any(job.enabled for job in jobs):
        raise ConfigError(f"{path}: no marketplace is enabled")
    return jobs


def _job(entry, where: str) -> MarketplaceJob:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: each marketplace is a mapping with at least 'spider:'")
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_ENTRY_KEYS))})")
    spider = entry.get("spider")
    if not isinstance(spider, str) or not spider.strip():
        raise ConfigError(f"{where}: 'spider:' must name a spider")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: 'enabled:' must be true or false")
    if not isinstance(entry.get("args") or {}, dict) or not isinstance(entry.get("settings") or {}, dict):
        raise ConfigError(f"{where}: 'args:' and 'settings:' are mappings of NAME: value")
    args = {}
    for name, value in (entry.get("args") or {}).items():
        if isinstance(value, list):  # queries: [a, b] -> "a,b", as -a queries=a,b
            value = ",".join(_scalar(v, f"{where}: args.{name}") for v in value)
        if value is None or value == "":
            continue  # left empty: the spider's default applies
        args[str(name)] = _scalar(value, f"{where}: args.{name}")
    settings = {str(k): _scalar(v, f"{where}: settings.{k}") for k, v in (entry.get("settings") or {}).items()}
    if enabled and spider.strip() == "webshop" and not args.get("start_url"):
        raise ConfigError(f"{where}: webshop is enabled but has no args.start_url")
    return MarketplaceJob(spider.strip(), enabled, args, settings)
