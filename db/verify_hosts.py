"""Verify's check of where captures came from: each from a host its run declared for the listing's marketplace."""

from db.hosts import MEDIA_PURPOSES, foreign_host, writer_of
from db.verify_result import Problem


def check_hosts(store, problems, seq_of, *, after=0):
    """Every capture of a crawl run was fetched from a host that run declared for its listing's marketplace, and
    every marketplace is written by one spider: a page fetched from one site cannot stand as another's listing."""
    spiders: dict[str, set[str]] = {}
    # Runs record their spider (crawl_runs) since the first store: this part also reads stores made before runs
    # declared their hosts, where a page filed under another site's listing came from a run of another spider.
    # Past an anchor, the captures after it (their ids are above every capture chained before it).
    first_capture = (
        next(
            store.query(
                "SELECT coalesce(max(record_id), 0) AS id FROM chain WHERE record_type = 'capture' AND seq <= ?",
                [after],
            )
        )["id"]
        if after
        else -(2**63)
    )
    for row in store.query(
        "SELECT DISTINCT l.marketplace, r.spider FROM captures c JOIN listings l ON l.pk = c.listing_pk "
        "JOIN crawl_runs r ON r.id = c.run_id WHERE c.id > ?",
        [first_capture],
    ):
        spiders.setdefault(row["marketplace"], set()).add(writer_of(row["marketplace"], row["spider"]))
    declared: dict[int, dict[str, list[str]]] = {}
    rows = (
        store.query("SELECT run_id, spider, marketplace, host FROM marketplace_hosts ORDER BY id")
        if store["marketplace_hosts"].exists()
        else ()
    )
    for row in rows:
        declared.setdefault(row["run_id"], {}).setdefault(row["marketplace"], []).append(row["host"])
        spiders.setdefault(row["marketplace"], set()).add(writer_of(row["marketplace"], row["spider"]))
    for marketplace, names in sorted(spiders.items()):
        if len(names) > 1:
            problems.append(
                Problem(
                    None, f"marketplace {marketplace}", f"written by more than one spider ({', '.join(sorted(names))})"
                )
            )
    if not declared:
        return
    captures = store.query(
        "SELECT c.id, c.run_id, l.marketplace, c.request_url, c.url FROM captures c "
        "JOIN listings l ON l.pk = c.listing_pk WHERE c.run_id IN (SELECT run_id FROM marketplace_hosts) "
        f"AND c.id > ? AND coalesce(c.purpose, '') NOT IN ({', '.join('?' * len(MEDIA_PURPOSES))}) ORDER BY c.id",
        [first_capture, *MEDIA_PURPOSES],
    )
    for capture in captures:
        problem = foreign_host(
            declared[capture["run_id"]], capture["marketplace"], [capture["request_url"], capture["url"]]
        )
        if problem:
            problems.append(
                Problem(
                    seq_of.get(("capture", capture["id"])),
                    f"capture {capture['id']}",
                    f"fetched off its listing's marketplace: {problem} (run {capture['run_id']})",
                )
            )
