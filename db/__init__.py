"""The evidence store: SQLite with append-only evidence tables, a hash chain, verification and WARC export.

See docs/evidence.md for the model. Everything other packages need is importable from here.
"""

from db.anchors import latest_anchor, record_anchor
from db.canonical import GENESIS, canonical_json, utc_now
from db.captures import save_capture, save_captures, save_classification, save_classifications
from db.chain import RECORD_TYPES, append_chain, chain_head, chain_length
from db.connection import (
    StoreChanged,
    StoreError,
    StoreNotFound,
    StoreTooNew,
    connect,
    connect_group_writer,
    read_only,
    read_snapshot,
    write_transaction,
)
from db.hosts import ForeignHost, declare_hosts
from db.purge import PurgeResult, purge_dismissed
from db.queries import captures_to_classify, get_listing, hits, last_capture_id, listing_history
from db.rechecks import captured_since_interruption, recheck_targets
from db.reindex import ReindexResult, reindex
from db.runs import captures_of_run, finish_run, get_run, start_run, stat_total_since
from db.schema import protect
from db.status import record_status
from db.verify_result import VerifyResult
from db.verify_store import verify

__all__ = [
    "ForeignHost",
    "GENESIS",
    "PurgeResult",
    "RECORD_TYPES",
    "ReindexResult",
    "StoreChanged",
    "StoreError",
    "StoreNotFound",
    "StoreTooNew",
    "VerifyResult",
    "append_chain",
    "canonical_json",
    "captured_since_interruption",
    "captures_of_run",
    "captures_to_classify",
    "last_capture_id",
    "chain_head",
    "chain_length",
    "connect",
    "connect_group_writer",
    "declare_hosts",
    "finish_run",
    "get_listing",
    "get_run",
    "hits",
    "latest_anchor",
    "listing_history",
    "protect",
    "purge_dismissed",
    "read_only",
    "read_snapshot",
    "recheck_targets",
    "reindex",
    "record_anchor",
    "record_status",
    "save_capture",
    "save_captures",
    "save_classification",
    "save_classifications",
    "start_run",
    "stat_total_since",
    "utc_now",
    "verify",
    "write_transaction",
]
