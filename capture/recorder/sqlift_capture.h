/* sqlift_capture.h: the recorder for C programs (docs/design.md, capture). Plain C; link
 * libsqlift_capture.so, or the sqlift_capture static library.
 *
 *   sqlift_recorder* rec;
 *   if (sqlift_recorder_attach(db, &rec) != SQLITE_OK) { puts(sqlift_recorder_errmsg(rec)); }
 *   sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0);
 *   ...the application's writes...
 *   if (sqlift_recorder_flush(rec, NULL) == SQLITE_OK) sqlite3_exec(db, "COMMIT", 0, 0, 0);
 *   else sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
 *   ...
 *   sqlift_recorder_free(rec);   before sqlite3_close(db)
 *
 * The recorder owns the connection's commit and rollback hooks: a COMMIT (or an autocommit
 * statement) whose changes to captured tables were not flushed fails with
 * SQLITE_CONSTRAINT_COMMITHOOK and is rolled back; sqlift_recorder_errmsg() says why.
 *
 * Results are SQLite result codes: SQLITE_OK; SQLITE_MISUSE when called in the wrong state
 * (flush outside a transaction, a second recorder on one connection, no outbox table: run
 * `sqlift init`); SQLITE_BUSY when another connection holds the lock (roll back and retry);
 * others as SQLite reports them.
 *
 * Lifetime: the connection must outlive the recorder. Thread safety: that of the connection. */
#ifndef SQLIFT_CAPTURE_H_
#define SQLIFT_CAPTURE_H_

#include <sqlite3.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SQLIFT_CAPTURE_API __attribute__((visibility("default")))
#else
#define SQLIFT_CAPTURE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sqlift_recorder sqlift_recorder;

/* Attaches a recorder to `db`. *out receives a handle even on failure (except SQLITE_NOMEM,
 * where it is NULL), so that sqlift_recorder_errmsg() can say why; free it in both cases. */
SQLIFT_CAPTURE_API int sqlift_recorder_attach(sqlite3* db, sqlift_recorder** out);

/* Inside a transaction, after its last change: writes the changes into the outbox. *changes
 * (if not NULL) receives the number of row changes written; 0 writes no row. */
SQLIFT_CAPTURE_API int sqlift_recorder_flush(sqlift_recorder* rec, int64_t* changes);

/* The number of row changes not yet flushed (builds the changeset to count them: not cheap). */
SQLIFT_CAPTURE_API int sqlift_recorder_pending(sqlift_recorder* rec, int64_t* changes);

/* After a ROLLBACK: drops the recorded changes (the rollback hook normally does this). */
SQLIFT_CAPTURE_API int sqlift_recorder_discard(sqlift_recorder* rec);

/* Which side takes writes for `tenant` ("*" for the whole database): *on_postgres is 1 when
 * the tenant is routed to PostgreSQL, *fenced 1 while a cutover or fallback is switching it
 * (wait and ask again, whatever *on_postgres says), *epoch the route's epoch. Any out-pointer may
 * be NULL. A flush that writes a fenced tenant fails with SQLITE_BUSY (roll back, retry); one that
 * writes a tenant routed to PostgreSQL with SQLITE_MISUSE (roll back, write on PostgreSQL);
 * sqlift_recorder_errmsg() names the tenant and the epoch. */
SQLIFT_CAPTURE_API int sqlift_recorder_route(sqlift_recorder* rec, const char* tenant,
                                             int* on_postgres, int64_t* epoch, int* fenced);

/* Why the last sqlift_recorder_* call on `rec` failed, or why the connection's last COMMIT was
 * refused, whichever happened later; "not an error" when neither did. Valid until the next call
 * on `rec`. */
SQLIFT_CAPTURE_API const char* sqlift_recorder_errmsg(sqlift_recorder* rec);

/* Detaches and frees the recorder (NULL is allowed). Commits are no longer guarded. */
SQLIFT_CAPTURE_API void sqlift_recorder_free(sqlift_recorder* rec);

#ifdef __cplusplus
}
#endif

#endif /* SQLIFT_CAPTURE_H_ */
