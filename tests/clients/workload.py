"""The deterministic workload of the Python and sqlite3-shell test clients.

A client owns a disjoint key space (item ids and tag names derived from its runtime and seed),
so several clients can write one database at once and each still knows the final state of its
own rows. plan() yields transactions computed from the seed alone; the client runs each one
until it commits (or, for a planned rollback, until it is rolled back), then calls
Workload.commit(). expected_rows() is the canonical text of every row the client owns, in the
form tests/testutil/real_clients.cc reads back from the database with SQLite's typeof() and
hex(). tests/clients/node/writer.js implements the same contract in JavaScript.
"""
import random

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, owner TEXT NOT NULL,"
    " qty INTEGER NOT NULL, price REAL, note TEXT, payload BLOB)",
    "CREATE INDEX IF NOT EXISTS items_owner ON items(owner, qty)",
    "CREATE TABLE IF NOT EXISTS tags(name TEXT PRIMARY KEY, item_id INTEGER NOT NULL,"
    " label TEXT) WITHOUT ROWID",
]

RUNTIME_NUMBER = {"python": 1, "shell": 2, "node": 3}
ALPHABET = "abcdefghij klmnop ' \" % _ é ß ø 日本語 🙂"


def cell(v):
    """One value as SQLite's typeof(v) || ':' || hex(v) would show it."""
    if v is None:
        return "null:"
    if isinstance(v, bool):
        raise TypeError("no booleans in the workload")
    if isinstance(v, int):
        return "integer:" + str(v).encode().hex().upper()
    if isinstance(v, float):
        return "real:" + repr(v).encode().hex().upper()
    if isinstance(v, str):
        return "text:" + v.encode("utf-8").hex().upper()
    return "blob:" + bytes(v).hex().upper()


class Txn:
    """One planned transaction: statements with bound values, and what it counts."""

    def __init__(self):
        self.steps = []  # (sql, params)
        self.rollback = False
        self.inserts = self.updates = self.deletes = 0

    def add(self, kind, sql, params):
        self.steps.append((sql, params))
        if kind == "insert":
            self.inserts += 1
        elif kind == "update":
            self.updates += 1
        elif kind == "delete":
            self.deletes += 1


class Workload:
    def __init__(self, runtime, seed):
        self.rng = random.Random(seed)
        self.owner = f"{runtime}-{seed}"
        self.id_base = (seed * 10 + RUNTIME_NUMBER[runtime]) * 1_000_000
        self.counter = 0
        self.items = {}  # id -> (owner, qty, price, note, payload)
        self.tags = {}  # name -> (item_id, label)
        self.pending = None

    def _fresh(self):
        self.counter += 1
        return self.counter

    def _text(self):
        r = self.rng.random()
        if r < 0.15:
            return None
        n = self.rng.randint(5000, 20000) if r > 0.92 else self.rng.randint(0, 40)
        return "".join(self.rng.choice(ALPHABET) for _ in range(n))

    def _blob(self):
        r = self.rng.random()
        if r < 0.3:
            return None
        n = self.rng.randint(6000, 30000) if r > 0.93 else self.rng.randint(0, 64)
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def _price(self):
        if self.rng.random() < 0.2:
            return None
        return self.rng.randint(0, 99999) + self.rng.choice([0.25, 0.5, 0.75])

    def _item(self):
        qty = self.rng.randint(-1000, 1 << 40)
        return (self.owner, qty, self._price(), self._text(), self._blob())

    def _op(self, txn, items, tags):
        r = self.rng.random()
        if r < 0.30 or not items:
            i, row = self.id_base + self._fresh(), self._item()
            items[i] = row
            txn.add("insert", "INSERT INTO items(id, owner, qty, price, note, payload)"
                    " VALUES (?, ?, ?, ?, ?, ?)", (i,) + row)
        elif r < 0.50:
            i = self.rng.choice(sorted(items))
            qty, note = self.rng.randint(-1000, 1 << 40), self._text()
            items[i] = (items[i][0], qty, items[i][2], note, items[i][4])
            txn.add("update", "UPDATE items SET qty = ?, note = ? WHERE id = ?", (qty, note, i))
        elif r < 0.60:
            i = self.rng.choice(sorted(items))
            del items[i]
            txn.add("delete", "DELETE FROM items WHERE id = ?", (i,))
        elif r < 0.68:
            i, j = self.rng.choice(sorted(items)), self.id_base + self._fresh()
            items[j] = items.pop(i)
            txn.add("update", "UPDATE items SET id = ? WHERE id = ?", (j, i))
        else:
            self._tag_op(txn, items, tags)

    def _tag_op(self, txn, items, tags):
        r = self.rng.random()
        if r < 0.5 or not tags:
            name, item, label = f"{self.owner}-t{self._fresh()}", self.rng.choice(sorted(items)), self._text()
            tags[name] = (item, label)
            txn.add("insert", "INSERT INTO tags(name, item_id, label) VALUES (?, ?, ?)", (name, item, label))
        elif r < 0.7:
            name, label = self.rng.choice(sorted(tags)), self._text()
            tags[name] = (tags[name][0], label)
            txn.add("update", "UPDATE tags SET label = ? WHERE name = ?", (label, name))
        elif r < 0.85:
            name = self.rng.choice(sorted(tags))
            del tags[name]
            txn.add("delete", "DELETE FROM tags WHERE name = ?", (name,))
        else:
            old, new = self.rng.choice(sorted(tags)), f"{self.owner}-t{self._fresh()}"
            tags[new] = tags.pop(old)
            txn.add("update", "UPDATE tags SET name = ? WHERE name = ?", (new, old))

    def next_transaction(self):
        """The next transaction; its effect is kept only after commit()."""
        txn, items, tags = Txn(), dict(self.items), dict(self.tags)
        for n in range(self.rng.randint(1, 6)):
            self._op(txn, items, tags)
            if n == 0 and self.rng.random() < 0.1:
                # A savepoint rolled back inside a transaction that commits: its row never exists.
                i = self.id_base + self._fresh()
                txn.steps += [("SAVEPOINT discarded", ()),
                              ("INSERT INTO items(id, owner, qty) VALUES (?, ?, ?)", (i, self.owner, 0)),
                              ("ROLLBACK TO discarded", ()), ("RELEASE discarded", ())]
        txn.rollback = self.rng.random() < 0.08
        self.pending = (items, tags)
        return txn

    def commit(self):
        self.items, self.tags = self.pending

    def expected_rows(self):
        rows = ["items|" + "|".join(cell(v) for v in (i,) + row) for i, row in self.items.items()]
        rows += ["tags|" + "|".join(cell(v) for v in (n,) + row) for n, row in self.tags.items()]
        return sorted(rows)


class Counts:
    def __init__(self):
        self.transactions = self.rollbacks = self.busy_retries = 0
        self.inserts = self.updates = self.deletes = 0

    def add(self, txn):
        if txn.rollback:
            self.rollbacks += 1
            return
        self.transactions += 1
        self.inserts += txn.inserts
        self.updates += txn.updates
        self.deletes += txn.deletes

    def report(self, client, seed, sqlite_version):
        return {"client": client, "seed": seed, "sqlite_version": sqlite_version,
                "transactions": self.transactions, "rollbacks": self.rollbacks,
                "row_changes": self.inserts + self.updates + self.deletes,
                "inserts": self.inserts, "updates": self.updates, "deletes": self.deletes,
                "busy_retries": self.busy_retries}


def write_expected(path, workload):
    with open(path, "w", encoding="ascii") as f:
        f.writelines(row + "\n" for row in workload.expected_rows())
