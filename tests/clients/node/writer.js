#!/usr/bin/env node
// A test client that knows nothing of sqlift: Node with better-sqlite3, whose SQLite is its
// own bundled copy (not the system's).
//
// Usage: node writer.js DB SEED COUNT [EXPECTED_ROWS_FILE]
//
// The same contract as ../workload.py (disjoint key space per runtime and seed, the same
// schema, the same canonical row text), written in JavaScript with its own generator: commits
// COUNT transactions with db.transaction(...).immediate(), plus planned rollbacks (an
// exception thrown inside the transaction) and savepoints rolled back inside committed ones (a
// nested db.transaction that throws). Retries a transaction that meets SQLITE_BUSY with a
// bounded back-off. Prints one JSON line of counts. Exits 0 on success, 1 on any error.
'use strict';
const fs = require('fs');
const Database = require('better-sqlite3');

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, owner TEXT NOT NULL,' +
      ' qty INTEGER NOT NULL, price REAL, note TEXT, payload BLOB)',
  'CREATE INDEX IF NOT EXISTS items_owner ON items(owner, qty)',
  'CREATE TABLE IF NOT EXISTS tags(name TEXT PRIMARY KEY, item_id INTEGER NOT NULL,' +
      ' label TEXT) WITHOUT ROWID',
];
const ALPHABET = Array.from('abcdefghij klmnop \' " % _ é ß ø 日本語 🙂');
const MAX_ATTEMPTS = 400;
class PlannedRollback extends Error {}

// mulberry32: a small deterministic generator, seeded from the command line.
function generator(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = (list) => list[int(0, list.length - 1)];
  return {next, int, pick};
}

function hex(buf) { return buf.toString('hex').toUpperCase(); }
function cell(v) {
  if (v === null) return 'null:';
  if (Buffer.isBuffer(v)) return 'blob:' + hex(v);
  if (typeof v === 'string') return 'text:' + hex(Buffer.from(v, 'utf8'));
  const kind = Number.isInteger(v) ? 'integer:' : 'real:';
  return kind + hex(Buffer.from(String(v), 'ascii'));
}

class Workload {
  constructor(seed) {
    this.rng = generator(seed);
    this.owner = `node-${seed}`;
    this.idBase = (seed * 10 + 3) * 1000000;
    this.counter = 0;
    this.items = new Map();  // id -> [owner, qty, price, note, payload]
    this.tags = new Map();   // name -> [item_id, label]
  }
  fresh() { return ++this.counter; }
  text() {
    const r = this.rng.next();
    if (r < 0.15) return null;
    const n = r > 0.92 ? this.rng.int(5000, 20000) : this.rng.int(0, 40);
    let s = '';
    for (let i = 0; i < n; i++) s += this.rng.pick(ALPHABET);
    return s;
  }
  blob() {
    const r = this.rng.next();
    if (r < 0.3) return null;
    const n = r > 0.93 ? this.rng.int(6000, 30000) : this.rng.int(0, 64);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.rng.int(0, 255);
    return b;
  }
  price() {
    if (this.rng.next() < 0.2) return null;
    return this.rng.int(0, 99999) + this.rng.pick([0.25, 0.5, 0.75]);
  }
  qty() { return this.rng.int(-1000, 2 ** 40); }
  keyOf(map) { return this.rng.pick([...map.keys()].sort()); }
  tagName() { return `${this.owner}-t${this.fresh()}`; }
}


// One planned transaction, computed against copies of the model; kept by commit().
function plan(w) {
  const t = {steps: [], rollback: false, inserts: 0, updates: 0, deletes: 0};
  const items = new Map(w.items), tags = new Map(w.tags);
  const add = (kind, sql, ...params) => { t.steps.push({sql, params}); t[kind] += 1; };
  const ops = w.rng.int(1, 6);
  for (let n = 0; n < ops; n++) {
    itemOrTagOp(w, items, tags, add);
    if (n === 0 && w.rng.next() < 0.1) {
      // A savepoint rolled back inside a transaction that commits: its row never exists.
      const sql = 'INSERT INTO items(id, owner, qty) VALUES (?, ?, ?)';
      t.steps.push({sql, params: [w.idBase + w.fresh(), w.owner, 0], discard: true});
    }
  }
  t.rollback = w.rng.next() < 0.08;
  t.items = items;
  t.tags = tags;
  return t;
}

function itemOrTagOp(w, items, tags, add) {
  const r = w.rng.next();
  if (r < 0.30 || items.size === 0) {
    const id = w.idBase + w.fresh();
    const row = [w.owner, w.qty(), w.price(), w.text(), w.blob()];
    items.set(id, row);
    add('inserts', 'INSERT INTO items(id, owner, qty, price, note, payload) VALUES (?, ?, ?, ?, ?, ?)',
        id, ...row);
  } else if (r < 0.50) {
    const id = w.keyOf(items), qty = w.qty(), note = w.text();
    const old = items.get(id);
    items.set(id, [old[0], qty, old[2], note, old[4]]);
    add('updates', 'UPDATE items SET qty = ?, note = ? WHERE id = ?', qty, note, id);
  } else if (r < 0.60) {
    const id = w.keyOf(items);
    items.delete(id);
    add('deletes', 'DELETE FROM items WHERE id = ?', id);
  } else if (r < 0.68) {
    const id = w.keyOf(items), to = w.idBase + w.fresh();
    items.set(to, items.get(id));
    items.delete(id);
    add('updates', 'UPDATE items SET id = ? WHERE id = ?', to, id);
  } else {
    tagOp(w, items, tags, add);
  }
}

function tagOp(w, items, tags, add) {
  const r = w.rng.next();
  if (r < 0.5 || tags.size === 0) {
    const name = w.tagName(), item = w.keyOf(items), label = w.text();
    tags.set(name, [item, label]);
    add('inserts', 'INSERT INTO tags(name, item_id, label) VALUES (?, ?, ?)', name, item, label);
  } else if (r < 0.7) {
    const name = w.keyOf(tags), label = w.text();
    tags.set(name, [tags.get(name)[0], label]);
    add('updates', 'UPDATE tags SET label = ? WHERE name = ?', label, name);
  } else if (r < 0.85) {
    const name = w.keyOf(tags);
    tags.delete(name);
    add('deletes', 'DELETE FROM tags WHERE name = ?', name);
  } else {
    const name = w.keyOf(tags), to = w.tagName();
    tags.set(to, tags.get(name));
    tags.delete(name);
    add('updates', 'UPDATE tags SET name = ? WHERE name = ?', to, name);
  }
}

function sleepMs(ms) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }

// Runs fn until it does not fail with SQLITE_BUSY; at most MAX_ATTEMPTS times.
function withRetry(counts, jitter, fn) {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!String(e.code).startsWith('SQLITE_BUSY')) throw e;
      counts.busy_retries += 1;
      sleepMs(Math.min(50, 2 ** Math.min(attempt, 6)) * (0.5 + jitter.next()));
    }
  }
  throw new Error(`still busy after ${MAX_ATTEMPTS} attempts`);
}

function expectedRows(w) {
  const rows = [];
  for (const [id, row] of w.items) rows.push('items|' + [id, ...row].map(cell).join('|'));
  for (const [name, row] of w.tags) rows.push('tags|' + [name, ...row].map(cell).join('|'));
  return rows.sort();
}

function main() {
  const [dbPath, seedText, countText, expected] = process.argv.slice(2);
  const seed = Number(seedText), count = Number(countText);
  const db = new Database(dbPath, {timeout: 20});
  const statements = new Map();
  const stmt = (sql) => statements.get(sql) || statements.set(sql, db.prepare(sql)).get(sql);
  const counts = {transactions: 0, rollbacks: 0, inserts: 0, updates: 0, deletes: 0, busy_retries: 0};
  const jitter = generator(~seed);
  withRetry(counts, jitter, () => db.pragma('journal_mode = WAL'));
  withRetry(counts, jitter, () => db.transaction(() => SCHEMA.forEach((s) => db.exec(s))).immediate());
  const discard = db.transaction((s) => {
    stmt(s.sql).run(...s.params);
    throw new PlannedRollback();
  });
  const run = db.transaction((t) => {
    for (const s of t.steps) {
      if (!s.discard) { stmt(s.sql).run(...s.params); continue; }
      try { discard(s); } catch (e) { if (!(e instanceof PlannedRollback)) throw e; }
    }
    if (t.rollback) throw new PlannedRollback();
  });
  const w = new Workload(seed);
  while (counts.transactions < count) {
    const t = plan(w);
    try {
      withRetry(counts, jitter, () => run.immediate(t));
    } catch (e) {
      if (!(e instanceof PlannedRollback)) throw e;
    }
    if (t.rollback) { counts.rollbacks += 1; continue; }
    w.items = t.items;
    w.tags = t.tags;
    counts.transactions += 1;
    for (const k of ['inserts', 'updates', 'deletes']) counts[k] += t[k];
  }
  const version = db.prepare('SELECT sqlite_version() AS v').get().v;
  db.close();
  if (expected) fs.writeFileSync(expected, expectedRows(w).map((r) => r + '\n').join(''));
  console.log(JSON.stringify({client: 'node', seed, sqlite_version: version,
    transactions: counts.transactions, rollbacks: counts.rollbacks,
    row_changes: counts.inserts + counts.updates + counts.deletes, inserts: counts.inserts,
    updates: counts.updates, deletes: counts.deletes, busy_retries: counts.busy_retries}));
}

try {
  main();
} catch (e) {  // the process boundary: one message, exit 1
  console.error(`node writer: ${e.code || e.name}: ${e.message}`);
  process.exit(1);
}
