#!/usr/bin/python3
"""python_writer.py DB EXTENSION WRITER_ID TRANSACTIONS SEED

An application written in Python with the standard sqlite3 module, capturing through the
loadable extension: BEGIN, writes, SELECT sqlift_flush(), COMMIT. About one transaction in five
is rolled back on purpose (its event carries a negative n). Prints "committed N rolled_back M".
"""
import random
import sqlite3
import sys

db, ext, writer, count, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)
conn = sqlite3.connect(db, isolation_level=None, timeout=20)
conn.enable_load_extension(True)
conn.load_extension(ext)
conn.enable_load_extension(False)
committed = rolled_back = 0
n = 1
while n <= count:
    rollback = rng.random() < 0.2
    key = -n if rollback else n
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO events VALUES (?, ?, ?)", (writer, key, f"python {writer} txn {key}"))
        account = writer * 1_000_000 + rng.randrange(50)
        conn.execute("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)",
                     (account, "py", rng.randrange(1000), bytes(rng.randrange(256) for _ in range(8))))
        if rollback:
            conn.execute("ROLLBACK")
            rolled_back += 1
        else:
            conn.execute("SELECT sqlift_flush()")
            conn.execute("COMMIT")
            committed += 1
        n += 1
    except sqlite3.OperationalError as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if "locked" not in str(e) and "busy" not in str(e):
            raise
print(f"committed {committed} rolled_back {rolled_back}")
