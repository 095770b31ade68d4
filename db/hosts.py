"""Which hosts a marketplace is fetched from: declared by each crawl run before any page is read, and checked
for every capture that run stores (and again by `verify`).

A page can claim anything about itself (a canonical URL, a listing id on another site); what it cannot choose is
the host it was fetched from. So each run records, as chained evidence, the marketplaces its spider writes and
the hosts each is served from, and a capture of a listing is only stored when its request and final URLs are on
a host of that listing's marketplace. A marketplace is written by one spider only: a web shop whose host name
happens to equal a marketplace's name cannot write that marketplace's listings.
"""

from urllib.parse import urlsplit

from db.canonical import utc_now
from db.chain import append_chain
from db.connection import write_transaction

# Marketplaces that more than one of keywatch's own spiders write. eBay's Browse API (spider ebay_api) and eBay's web
# pages (spider ebay_uk) show the same listings under the same legacy item numbers: one marketplace, `ebay_uk`, whose
# hosts each run still declares for itself (the API host for ebay_api, ebay.co.uk for ebay_uk). No other spider may
# write it, a web shop that names itself "ebay_uk" included.
SHARED_MARKETPLACES = {"ebay_uk": frozenset({"ebay_uk", "ebay_api"})}

# Captures of media a page pointed at (db/media.py): a listing's photos and the responses its rendering loaded,
# often from a CDN. They are linked to the page capture that named them, which is host-checked; they never say
# which listing anything is, so the host rule does not bind them.
MEDIA_PURPOSES = ("attachment:photo", "attachment:resource")


def writer_of(marketplace: str, spider: str) -> str:
    """Who writes `marketplace` when `spider` runs: the spiders sharing a marketplace count as one writer."""
    shared = SHARED_MARKETPLACES.get(marketplace, frozenset())
    return "+".join(sorted(shared)) if spider in shared else spider


class ForeignHost(ValueError):
    """A capture, or a run's declaration, that would let one site write another's listings."""


def host_of(url: str | None) -> str:
    """`host` or `host:port` (lower-case, the port only when the URL names one); "" for a URL without a host."""
    try:
        parts = urlsplit(str(url or ""))
        host, port = (parts.hostname or ""), parts.port
    except ValueError:  # a port that is not a number, a broken IPv6 literal
        return ""
    if parts.scheme not in ("http", "https") or not host:
        return ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address
    return f"{host}:{port}" if port is not None else host


def _name_and_port(host: str) -> tuple[str, str]:
    name, sep, port = host.lower().rpartition(":")
    if not sep or name.endswith(":") or (name.startswith("[") and not name.endswith("]")):
        return host.lower(), ""  # no port (a bare IPv6 literal has colons of its own)
    return name, port


def host_matches(host: str, domain: str) -> bool:
    """`domain` covers `host`: the same host or a subdomain of it; on the port `domain` names, if it names one
    (two local servers on two ports are two sites), else on any (whoever runs a host runs all its ports)."""
    name, port = _name_and_port(host)
    domain_name, domain_port = _name_and_port(domain)
    return (
        bool(name)
        and (not domain_port or port == domain_port)
        and (name == domain_name or name.endswith("." + domain_name))
    )


def declare_hosts(store, run_id: int, spider: str, hosts: dict[str, list[str]]) -> None:
    """Record, for run `run_id` of `spider`, the hosts each of its marketplaces is fetched from.

    Raises ForeignHost when a marketplace is already written by another spider.
    """
    with write_transaction(store):
        for marketplace, domains in hosts.items():
            others = [
                row["spider"]
                for row in store.query(
                    "SELECT DISTINCT spider FROM marketplace_hosts WHERE marketplace = ? AND spider != ?",
                    [marketplace, spider],
                )
            ]
            other = next((o for o in others if writer_of(marketplace, o) != writer_of(marketplace, spider)), None)
            if other:
                raise ForeignHost(f"marketplace {marketplace!r} is written by spider {other!r}, not {spider!r}")
            for domain in sorted({d.lower() for d in domains if d}):
                cursor = store.execute(
                    "INSERT INTO marketplace_hosts (run_id, spider, marketplace, host, declared_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [run_id, spider, marketplace, domain, utc_now()],
                )
                append_chain(store, "marketplace_host", cursor.lastrowid)


def declared_hosts(store, run_id: int) -> dict[str, list[str]] | None:
    """{marketplace: [host, ...]} declared by a run; None for a run that declared nothing (tests, older runs)."""
    declared: dict[str, list[str]] = {}
    for row in store.query("SELECT marketplace, host FROM marketplace_hosts WHERE run_id = ?", [run_id]):
        declared.setdefault(row["marketplace"], []).append(row["host"])
    return declared or None


def foreign_host(declared: dict[str, list[str]], marketplace: str, urls) -> str | None:
    """Why a capture of `marketplace` fetched at `urls` may not be stored under this declaration, or None."""
    domains = declared.get(marketplace)
    if domains is None:
        return f"the run does not crawl marketplace {marketplace!r}"
    for url in urls:
        if url and not any(host_matches(host_of(url), domain) for domain in domains):
            return f"{url} is not on a host of marketplace {marketplace!r} ({', '.join(domains)})"
    return None


def refuse_foreign_host(declared: dict[str, list[str]] | None, marketplace: str, urls) -> None:
    """Raise ForeignHost unless every URL of a capture is on a host its run declared for `marketplace`
    (`declared`: the run's declared_hosts; None, a run that declared nothing or no run, checks nothing)."""
    problem = foreign_host(declared, marketplace, urls) if declared is not None else None
    if problem:
        raise ForeignHost(f"capture refused: {problem}")
