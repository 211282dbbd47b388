// The SQL text of routes and fences in PostgreSQL: the table sqlift.route and the PL/pgSQL
// functions behind the fence triggers (see apply/pg_route.h for the rules they enforce).
//
// The two trigger functions are SECURITY DEFINER with search_path = pg_catalog, pg_temp, and
// every object is named with its schema, so a role that may write the application's tables but
// not sqlift.route gets the real refusal, and no object of the caller's search_path can stand
// in for ours. The helpers they call (fence_check, fence_no_tenant, fence_token) run inside that
// context and so need neither clause: each SECURITY DEFINER ... SET costs a GUC save and restore
// per call, per row. EXECUTE is revoked from PUBLIC on all of them: the trigger functions only
// run as triggers (their privilege is checked when the trigger is created) and the helpers only
// as their owner, from inside them.
//
// Nothing a session can set lets it past a fence. The applier is recognised by the `role`
// setting, which only a member of the role named (or a superuser) can set; the per-transaction
// memory of an allowed tenant (sqlift.fence_allowed) holds a token that only the fence functions
// can compute: a SHA-256 of a secret, the transaction id and the tenant. The secret is the value
// of the sequence sqlift.fence_key, which only its owner (and superusers) may read; every
// EnsureRouteSchema draws a new one from gen_random_uuid() (a strong random source, unlike
// random(), which setseed() makes predictable).
#include <string>

#include "apply/pg_sink/pg_route.h"

namespace sqlift {
namespace {

// The route that applies to p_tenant, under the fence's locks, raising when it refuses the
// write. p_what names the write in messages ("write to table public.orders"). A fenced route
// refuses with SL001 ("being switched ... retry") whatever its side: between a cutover's fence
// and the flip reaching PostgreSQL, SQLite already answers "postgres", so "write through SQLite"
// would send the writer back and forth.
//
// Locks: the tenant's key and the "*" key, shared, to the end of the writer's transaction
// (ApplyRoute takes the tenant's key exclusively), in one statement. The route is read in the
// next one, after the locks are granted (a single statement would read with the snapshot it
// took before waiting): under READ COMMITTED each statement of a volatile function takes a new
// snapshot, so it sees every route change committed before the locks were granted. Under
// REPEATABLE READ or SERIALIZABLE
// the snapshot is the transaction's, possibly older than a route change, so the row read is
// locked FOR SHARE: a row changed after the snapshot fails with 40001 (serialization
// failure). A tenant row inserted after the snapshot is invisible, but ApplyRoute touches the
// "*" row whenever it inserts one, so the "*" row read in its place fails the same way.
constexpr char kFenceCheck[] = R"sql(
CREATE OR REPLACE FUNCTION sqlift.fence_check(p_tenant text, p_what text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  v_row text;
  v_side text;
  v_epoch bigint;
  v_fenced boolean;
  v_route text;
  v_ignored text;
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock_shared(@CLASS@, pg_catalog.hashtext(p_tenant)),
          pg_catalog.pg_advisory_xact_lock_shared(@CLASS@, pg_catalog.hashtext('*'));
  IF pg_catalog.current_setting('transaction_isolation') = 'read committed' THEN
    SELECT r.tenant, r.side, r.epoch, r.fenced INTO v_row, v_side, v_epoch, v_fenced
      FROM sqlift.route r WHERE r.tenant IN (p_tenant, '*')
      ORDER BY r.tenant = '*' LIMIT 1;
  ELSE
    SELECT r.tenant, r.side, r.epoch, r.fenced INTO v_row, v_side, v_epoch, v_fenced
      FROM sqlift.route r WHERE r.tenant IN (p_tenant, '*')
      ORDER BY r.tenant = '*' LIMIT 1 FOR SHARE;
  END IF;
  IF v_row IS NULL THEN
    v_side := 'sqlite';
    v_route := 'no route yet, epoch 0';
  ELSIF v_row = p_tenant THEN
    v_route := pg_catalog.format('route epoch %s', v_epoch);
  ELSE
    v_route := pg_catalog.format('route "*", epoch %s', v_epoch);
  END IF;
  IF v_fenced THEN
    RAISE EXCEPTION USING ERRCODE = 'SL001', MESSAGE = pg_catalog.format(
      'sqlift: tenant "%s" is being switched (%s): %s refused; retry shortly',
      p_tenant, v_route, p_what);
  ELSIF v_side = 'sqlite' THEN
    RAISE EXCEPTION USING ERRCODE = 'SL002', MESSAGE = pg_catalog.format(
      'sqlift: tenant "%s" is routed to sqlite (%s): %s refused on PostgreSQL; '
      'write through SQLite until cutover', p_tenant, v_route, p_what);
  END IF;
  v_ignored := pg_catalog.set_config('sqlift.fence_allowed', sqlift.fence_token(p_tenant), true);
END
$fn$;
)sql";

// Refuses a row without a tenant: its tenant column is NULL, or gone since the fence was
// installed (renamed or dropped).
constexpr char kFenceNoTenant[] = R"sql(
CREATE OR REPLACE FUNCTION sqlift.fence_no_tenant(p_row jsonb, p_column text, p_what text)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'SL003', MESSAGE = pg_catalog.format(
    'sqlift: a row with no tenant (column %I is %s): %s refused on PostgreSQL; '
    'every row of a tenant table needs a tenant',
    p_column, CASE WHEN p_row OPERATOR(pg_catalog.?) p_column THEN 'NULL'
                   ELSE 'missing: renamed or dropped since the fence was installed?' END,
    p_what);
END
$fn$;
)sql";

// The token sqlift.fence_allowed holds once fence_check has allowed p_tenant in this
// transaction. An SQL function, so the planner inlines it into fence()'s test: no call per row.
constexpr char kFenceToken[] = R"sql(
CREATE OR REPLACE FUNCTION sqlift.fence_token(p_tenant text) RETURNS text
LANGUAGE sql VOLATILE AS $fn$
  SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.textsend(
    pg_catalog.pg_sequence_last_value('sqlift.fence_key'::pg_catalog.regclass)::text
    OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) pg_catalog.pg_current_xact_id()::text
    OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) p_tenant)), 'hex')
$fn$;
)sql";

// The row trigger. TG_ARGV[0] is the tenant column ('' for none: the tenant is "*"); a row's
// tenant is the column's value as JSON text. TG_ARGV[1] is the applier's role, which the
// trigger's WHEN clause already leaves out without calling any function (triggers installed
// before that argument existed have only the first).
//
// sqlift.fence_allowed (transaction-local, set by fence_check) holds the token of the last
// tenant allowed in this transaction: its route cannot change before the transaction ends, as
// the transaction holds that tenant's locks, so the next rows of the same tenant skip the check
// (and its queries). A session cannot forge the token (see the top of this file), and a token
// read in one transaction is worth nothing in the next; a NULL tenant is never skipped. A
// rolled-back savepoint takes back both the setting and the locks it took.
constexpr char kFence[] = R"sql(
CREATE OR REPLACE FUNCTION sqlift.fence() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  v_column text := TG_ARGV[0];
  v_what text;
  v_new text;
  v_old text;
BEGIN
  IF TG_NARGS NOT IN (1, 2) THEN
    RAISE EXCEPTION 'sqlift.fence() on %.% needs the tenant column and the applier role',
      TG_TABLE_SCHEMA, TG_TABLE_NAME;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    v_new := CASE WHEN v_column = '' THEN '*'
                  ELSE pg_catalog.to_jsonb(NEW) OPERATOR(pg_catalog.->>) v_column END;
    IF v_new IS NULL OR pg_catalog.current_setting('sqlift.fence_allowed', true)
                        IS DISTINCT FROM sqlift.fence_token(v_new) THEN
      v_what := pg_catalog.format('write to table %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
      IF v_new IS NULL THEN
        PERFORM sqlift.fence_no_tenant(pg_catalog.to_jsonb(NEW), v_column, v_what);
      END IF;
      PERFORM sqlift.fence_check(v_new, v_what);
    END IF;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    v_old := CASE WHEN v_column = '' THEN '*'
                  ELSE pg_catalog.to_jsonb(OLD) OPERATOR(pg_catalog.->>) v_column END;
    IF (TG_OP = 'DELETE' OR v_old IS DISTINCT FROM v_new)
       AND (v_old IS NULL OR pg_catalog.current_setting('sqlift.fence_allowed', true)
                             IS DISTINCT FROM sqlift.fence_token(v_old)) THEN
      v_what := pg_catalog.format('write to table %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
      IF v_old IS NULL THEN
        PERFORM sqlift.fence_no_tenant(pg_catalog.to_jsonb(OLD), v_column, v_what);
      END IF;
      PERFORM sqlift.fence_check(v_old, v_what);
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$fn$;
)sql";

// The TRUNCATE trigger. TG_ARGV as the row trigger's; its first test lets the applier through
// (the `role` setting is the session's, also inside this SECURITY DEFINER function). A table
// without a tenant column follows the "*" route. On a tenant table TRUNCATE removes every
// tenant's rows, so it needs the "*" route (for the tenants without a row of their own) and
// every tenant route to allow it; the SHARE lock on sqlift.route keeps every route as read until
// the truncating transaction ends.
constexpr char kFenceTruncate[] = R"sql(
CREATE OR REPLACE FUNCTION sqlift.fence_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  v_what text := pg_catalog.format('TRUNCATE of table %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME);
  v_tenant text;
BEGIN
  IF TG_NARGS = 2 AND pg_catalog.current_setting('role') = TG_ARGV[1] THEN
    RETURN NULL;
  END IF;
  IF TG_NARGS NOT IN (1, 2) THEN
    RAISE EXCEPTION 'sqlift.fence_truncate() on %.% needs the tenant column and the applier role',
      TG_TABLE_SCHEMA, TG_TABLE_NAME;
  END IF;
  IF TG_ARGV[0] <> '' THEN
    LOCK TABLE sqlift.route IN SHARE MODE;
    v_what := v_what || ' (every tenant''s rows)';
    FOR v_tenant IN SELECT r.tenant FROM sqlift.route r WHERE r.tenant <> '*'
                    ORDER BY r.tenant LOOP
      PERFORM sqlift.fence_check(v_tenant, v_what);
    END LOOP;
  END IF;
  PERFORM sqlift.fence_check('*', v_what);
  RETURN NULL;
END
$fn$;
)sql";

// Installs both triggers on one table in one statement (so in one transaction), for the applier
// role session_user: the caller's login. Values reach the DDL only through format(%I / %L) on the
// server.
constexpr char kInstallFence[] = R"sql(
CREATE OR REPLACE FUNCTION sqlift.install_fence(p_schema text, p_table text, p_column text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  v_rel regclass := pg_catalog.format('%I.%I', p_schema, p_table)::pg_catalog.regclass;
  v_role text := session_user;
BEGIN
  IF p_column <> '' AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_attribute a
       WHERE a.attrelid = v_rel AND a.attname = p_column AND a.attnum > 0
         AND NOT a.attisdropped) THEN
    RAISE EXCEPTION USING ERRCODE = '42703', MESSAGE = pg_catalog.format(
      'sqlift: table %s has no column %I to take the tenant from', v_rel, p_column);
  END IF;
  EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS sqlift_fence ON %s', v_rel);
  EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS sqlift_fence_truncate ON %s', v_rel);
  EXECUTE pg_catalog.format(
    'CREATE TRIGGER sqlift_fence BEFORE INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW'
    ' WHEN (pg_catalog.current_setting(%L) IS DISTINCT FROM %L)'
    ' EXECUTE FUNCTION sqlift.fence(%L, %L)', v_rel, 'role', v_role, p_column, v_role);
  EXECUTE pg_catalog.format(
    'CREATE TRIGGER sqlift_fence_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT'
    ' EXECUTE FUNCTION sqlift.fence_truncate(%L, %L)', v_rel, p_column, v_role);
  EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER sqlift_fence', v_rel);
  EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER sqlift_fence_truncate', v_rel);
END
$fn$;
)sql";

// Re-installs, for session_user, every fence that names no applier role (installed before
// fences did), names a role that no longer exists, or (p_take_over) names another role; returns
// the fences left naming another existing role ("public.orders (role alice)").
constexpr char kRefreshFences[] = R"sql(
CREATE OR REPLACE FUNCTION sqlift.refresh_fences(p_take_over boolean) RETURNS text[]
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  r record;
  v_args text[];
  v_rest bytea;
  v_at integer;
  v_others text[] := '{}';
BEGIN
  FOR r IN SELECT n.nspname, c.relname, t.tgrelid::pg_catalog.regclass AS rel, t.tgnargs,
                  t.tgargs
             FROM pg_catalog.pg_trigger t
             JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
            WHERE p.proname = 'fence' AND p.pronamespace = 'sqlift'::pg_catalog.regnamespace
            ORDER BY n.nspname, c.relname LOOP
    v_args := '{}';
    v_rest := r.tgargs;
    FOR i IN 1 .. r.tgnargs LOOP  -- each argument ends with a zero byte
      v_at := pg_catalog.position(v_rest, '\x00'::bytea);
      v_args := v_args || pg_catalog.convert_from(pg_catalog.substr(v_rest, 1, v_at - 1),
                                                  pg_catalog.getdatabaseencoding());
      v_rest := pg_catalog.substr(v_rest, v_at + 1);
    END LOOP;
    IF r.tgnargs < 2 OR (p_take_over AND v_args[2] <> session_user)
       OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = v_args[2]) THEN
      PERFORM sqlift.install_fence(r.nspname, r.relname, v_args[1]);
    ELSIF v_args[2] <> session_user THEN
      v_others := v_others || pg_catalog.format('%s (role %I)', r.rel, v_args[2]);
    END IF;
  END LOOP;
  RETURN v_others;
END
$fn$;
)sql";

constexpr char kTable[] = R"sql(
CREATE SCHEMA IF NOT EXISTS sqlift;
CREATE TABLE IF NOT EXISTS sqlift.route (
  tenant text PRIMARY KEY,
  side text NOT NULL CHECK (side IN ('sqlite', 'postgres')),
  epoch bigint NOT NULL CHECK (epoch >= 0),
  fenced boolean NOT NULL,
  source text,
  seq bigint,
  updated_at timestamptz NOT NULL DEFAULT now());
CREATE SEQUENCE IF NOT EXISTS sqlift.fence_key;
)sql";

// A new secret for the fence tokens (60 random bits of a version 4 UUID; never 0), readable
// by the sequence's owner only: every grant on it is revoked, also those that default
// privileges may have given.
constexpr char kFenceKey[] = R"sql(
SELECT pg_catalog.setval('sqlift.fence_key', 1 OPERATOR(pg_catalog.+) ('x' OPERATOR(pg_catalog.||)
  pg_catalog.substr(pg_catalog.translate(pg_catalog.gen_random_uuid()::text, '-', ''), 1, 12)
  OPERATOR(pg_catalog.||)
  pg_catalog.substr(pg_catalog.translate(pg_catalog.gen_random_uuid()::text, '-', ''), 14, 3)
  )::bit(60)::bigint, true);
DO $do$
DECLARE
  v_grantee oid;
BEGIN
  FOR v_grantee IN SELECT DISTINCT a.grantee
                     FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
                    WHERE c.oid = 'sqlift.fence_key'::pg_catalog.regclass
                      AND a.grantee <> c.relowner LOOP
    EXECUTE pg_catalog.format('REVOKE ALL ON SEQUENCE sqlift.fence_key FROM %s',
      CASE WHEN v_grantee = 0 THEN 'PUBLIC'
           ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(v_grantee)) END);
  END LOOP;
END
$do$;
)sql";

constexpr char kRevoke[] = R"sql(
REVOKE ALL ON FUNCTION sqlift.fence_check(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sqlift.fence_no_tenant(jsonb, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sqlift.fence() FROM PUBLIC;
REVOKE ALL ON FUNCTION sqlift.fence_truncate() FROM PUBLIC;
REVOKE ALL ON FUNCTION sqlift.install_fence(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sqlift.fence_token(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sqlift.refresh_fences(boolean) FROM PUBLIC;
)sql";

}  // namespace

std::string RouteSchemaSql() {
  std::string sql = std::string(kTable) + kFenceKey + kFenceToken + kFenceCheck + kFenceNoTenant +
                    kFence + kFenceTruncate + kInstallFence + kRefreshFences + kRevoke;
  const std::string token = "@CLASS@";
  const std::string value = std::to_string(kRouteLockClass);
  for (size_t p = sql.find(token); p != std::string::npos; p = sql.find(token, p)) {
    sql.replace(p, token.size(), value);
  }
  return sql;
}

}  // namespace sqlift
