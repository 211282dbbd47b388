#!/usr/bin/env python3
"""A test client that knows nothing of sqlift: Python's own sqlite3 module, no extension.

Usage: python_writer.py DB SEED COUNT [EXPECTED_ROWS_FILE]

Commits COUNT transactions of the workload in workload.py (plus the planned rollbacks) in WAL
mode, each in `with conn:` with BEGIN IMMEDIATE; retries a transaction that meets SQLITE_BUSY
with a bounded back-off. Prints one JSON line of counts; writes the rows it owns, canonical,
to EXPECTED_ROWS_FILE. Exits 0 on success, 1 on any error.
"""
import json
import os
import random
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload  # noqa: E402

MAX_ATTEMPTS = 400


def with_retry(counts, jitter, fn):
    """Runs fn until it does not fail with SQLITE_BUSY; at most MAX_ATTEMPTS times."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return fn()
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            counts.busy_retries += 1
            time.sleep(min(0.05, 0.001 * (1 << min(attempt, 6))) * (0.5 + jitter.random()))
    raise RuntimeError(f"still busy after {MAX_ATTEMPTS} attempts")


def run_transaction(conn, txn):
    with conn:
        for sql, params in txn.steps:
            conn.execute(sql, params)
        if txn.rollback:
            conn.rollback()


def setup(conn):
    conn.execute("PRAGMA journal_mode=WAL")
    with conn:
        conn.execute("BEGIN IMMEDIATE")
        for sql in workload.SCHEMA:
            conn.execute(sql)


def main():
    db, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    expected = sys.argv[4] if len(sys.argv) > 4 else None
    conn = sqlite3.connect(db, timeout=0.02, isolation_level="IMMEDIATE")
    counts, jitter, work = workload.Counts(), random.Random(-seed), workload.Workload("python", seed)
    with_retry(counts, jitter, lambda: setup(conn))
    while counts.transactions < count:
        txn = work.next_transaction()
        with_retry(counts, jitter, lambda: run_transaction(conn, txn))
        if not txn.rollback:
            work.commit()
        counts.add(txn)
    version = conn.execute("SELECT sqlite_version()").fetchone()[0]
    conn.close()
    if expected:
        workload.write_expected(expected, work)
    print(json.dumps(counts.report("python", seed, version), separators=(",", ":")), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the process boundary: one message, exit 1
        print(f"python_writer: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
