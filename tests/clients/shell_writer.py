#!/usr/bin/env python3
"""A test client that knows nothing of sqlift: the sqlite3 shell reading a generated SQL script.

Usage: shell_writer.py DB SEED COUNT [EXPECTED_ROWS_FILE]   (the shell: $SQLIFT_SQLITE3 or
`sqlite3` on PATH)

Renders the workload in workload.py as one SQL script of literal statements (BEGIN IMMEDIATE
... COMMIT or ROLLBACK, each followed by a marker row) and feeds it to one `sqlite3 -bail`
process, which does all the writing with the shell's own SQLite. When the shell stops on
SQLITE_BUSY (it waits .timeout first), the markers it printed say which transactions are
done; after a bounded back-off the rest of the script runs in a new shell. Prints one JSON line
of counts and writes the rows it owns, canonical, to EXPECTED_ROWS_FILE. Exits 0 or 1.
"""
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload  # noqa: E402

MAX_RESTARTS = 400
MARKER = "sqlift-done"


def literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return "X'" + bytes(v).hex() + "'"


def render(sql, params):
    parts = sql.split("?")
    assert len(parts) == len(params) + 1, sql
    return "".join(p + (literal(params[i]) if i < len(params) else "") for i, p in enumerate(parts))


def script(txns, first):
    out = [".timeout 20", "PRAGMA journal_mode=WAL;"]
    for n, txn in enumerate(txns[first:], start=first):
        out.append("BEGIN IMMEDIATE;")
        out += [render(sql, params) + ";" for sql, params in txn.steps]
        out.append("ROLLBACK;" if txn.rollback else "COMMIT;")
        out.append(f"SELECT '{MARKER}', {n};")
    return "\n".join(out) + "\n"


def run(shell, db, txns, counts):
    """Runs every transaction of txns through the shell, restarting it after SQLITE_BUSY."""
    done, jitter = 0, random.Random(len(txns))
    for attempt in range(MAX_RESTARTS):
        p = subprocess.run([shell, "-bail", "-batch", db], input=script(txns, done).encode(),
                           capture_output=True)
        for line in p.stdout.decode().splitlines():
            if line.startswith(MARKER + "|"):
                done = int(line.split("|")[1]) + 1
        if p.returncode == 0 and done == len(txns):
            return
        err = p.stderr.decode()
        if "locked" not in err and "busy" not in err:
            raise RuntimeError(f"sqlite3 exited with {p.returncode}: {err.strip()}")
        counts.busy_retries += 1
        time.sleep(min(0.05, 0.001 * (1 << min(attempt, 6))) * (0.5 + jitter.random()))
    raise RuntimeError(f"still busy after {MAX_RESTARTS} restarts of the shell")


def main():
    db, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    expected = sys.argv[4] if len(sys.argv) > 4 else None
    shell = os.environ.get("SQLIFT_SQLITE3", "sqlite3")
    work, counts, txns = workload.Workload("shell", seed), workload.Counts(), []
    txns.append(workload.Txn())
    txns[0].steps = [(sql, ()) for sql in workload.SCHEMA]
    committed = 0
    while committed < count:
        txns.append(work.next_transaction())
        if not txns[-1].rollback:
            work.commit()
            committed += 1
    run(shell, db, txns, counts)
    for txn in txns[1:]:
        counts.add(txn)
    version = subprocess.run([shell, ":memory:", "SELECT sqlite_version()"], check=True,
                             capture_output=True).stdout.decode().strip()
    if expected:
        workload.write_expected(expected, work)
    print(json.dumps(counts.report("sqlite3-shell", seed, version), separators=(",", ":")), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the process boundary: one message, exit 1
        print(f"shell_writer: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
