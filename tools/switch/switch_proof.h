// The proof a switch rests on, made before its fence so that the pause does not grow with the
// data (docs/cutover.md, "The proof and the check inside the fence").
//
// "prove" runs while the tenant's writers go on. Its proof is a verify that matched at a log
// position P both sides were at, covering the tenant and every table: the newest one recorded
// (a held verify, or an earlier switch's check) when the log since P holds at most
// fast_verify_max_keys changed keys and no schema change; otherwise a held verify runs now, as
// long as the tables need. Then the proof is settled: an incremental held verify compares only
// the keys changed since P, with both sides at one position S (the applier held there), and,
// recorded with the counts carried, becomes the proof; again while more than
// max_changes_since_proof keys changed during the last round. A verify that differs fails the
// switch before anything changed, naming the row. Inside the fence, the check compares only
// the rows whose keys the log shows changed since S (tools/verify/verify_fast.h), and each
// table's count is the count proven at S plus the net inserts and deletes since.
//
// Thread safety: the calling thread, over the switch's connections.
#pragma once

#include <string>

#include "common/base/status.h"
#include "tools/switch/switch_steps.h"

namespace sqlift::switching {

// Sets s.proof (or leaves it empty with --no-verify or --full-verify, saying why in *note).
// The switch's --timeout guards the fence, so it counts from the end of the proof.
[[nodiscard]] Status ProveBeforeFence(Switch& s, std::string* note);

// A fallback's proof. The tenant's rows change on PostgreSQL, where no position can be held,
// so no verify runs now: the proof is the newest recorded one (usually the cutover's own
// check), and in wal capture mode the log holds every key changed since on either side (the
// reverse applier's writes are logged as REVERSE). Without one, or in recorder mode, s.proof
// stays empty and every row is compared inside the fence.
[[nodiscard]] Status ProveForFallback(Switch& s, std::string* note);

}  // namespace sqlift::switching
