"""Drives libsqlift_capture.so from Python's standard sqlite3 module.

Usage: /usr/bin/python3 extension_test.py LIBRARY DATABASE
DATABASE has the sqlift outbox and items(id INTEGER PRIMARY KEY, name, qty). Prints "ok" when
every check holds; extension_test.cc then decodes the outbox. isolation_level=None: the script,
not the module, issues BEGIN and COMMIT.
"""
import sqlite3
import sys


def expect_error(conn, sql, kind, errorname, text):
    try:
        conn.execute(sql)
    except kind as e:
        assert e.sqlite_errorname == errorname, (sql, e.sqlite_errorname, str(e))
        assert text in str(e), (sql, str(e))
        return
    raise AssertionError(f"{sql!r} did not fail")


def outbox_rows(conn):
    return conn.execute("SELECT count(*) FROM _sqlift_outbox").fetchone()[0]


def main(library, database):
    conn = sqlite3.connect(database, isolation_level=None)
    conn.enable_load_extension(True)
    conn.load_extension(library)
    conn.enable_load_extension(False)

    # Flushed, then committed: one outbox row with the net changes.
    conn.execute("BEGIN")
    conn.execute("INSERT INTO items VALUES (1, 'py', 5)")
    conn.execute("INSERT INTO items VALUES (2, 'blob', ?)", (b"\x00\xff",))
    conn.execute("UPDATE items SET qty = 7 WHERE id = 1")
    assert conn.execute("SELECT sqlift_pending()").fetchone()[0] == 2
    assert conn.execute("SELECT sqlift_flush()").fetchone()[0] == 2
    conn.execute("COMMIT")
    assert outbox_rows(conn) == 1

    # Rolled back, flushed or not: nothing.
    conn.execute("BEGIN")
    conn.execute("INSERT INTO items VALUES (3, 'gone', 0)")
    assert conn.execute("SELECT sqlift_flush()").fetchone()[0] == 1
    conn.execute("ROLLBACK")
    conn.execute("BEGIN")
    conn.execute("DELETE FROM items")
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT sqlift_pending()").fetchone()[0] == 0

    # Committed without a flush: refused and rolled back. SQLite lets a commit hook set no
    # message, so the reason comes from sqlift_last_refusal().
    conn.execute("BEGIN")
    conn.execute("INSERT INTO items VALUES (4, 'unflushed', 0)")
    expect_error(conn, "COMMIT", sqlite3.IntegrityError, "SQLITE_CONSTRAINT_COMMITHOOK",
                 "constraint failed")
    assert not conn.in_transaction
    assert "sqlift_flush()" in conn.execute("SELECT sqlift_last_refusal()").fetchone()[0]

    # An autocommit write to a captured table is refused the same way.
    expect_error(conn, "INSERT INTO items VALUES (5, 'auto', 0)", sqlite3.IntegrityError,
                 "SQLITE_CONSTRAINT_COMMITHOOK", "constraint failed")
    # Flushing outside a transaction is an error that says what to do.
    expect_error(conn, "SELECT sqlift_flush()", sqlite3.OperationalError, "SQLITE_ERROR",
                 "no transaction is open")

    assert [r[0] for r in conn.execute("SELECT id FROM items ORDER BY id")] == [1, 2]
    assert outbox_rows(conn) == 1
    conn.close()
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
