// The switch's sequence (switch_sequence.h) against in-memory sides: the order of the steps,
// the undo before the flip and none after it, the timeout, and the timed report.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/switch/fake_switch_sides.h"
#include "tools/switch/switch_sequence.h"

namespace sqlift::switching {
namespace {

RouteRow Route(std::string_view side, int64_t epoch, bool fenced = false) {
  RouteRow r;
  r.side = std::string(side);
  r.epoch = epoch;
  r.fenced = fenced;
  return r;
}

SwitchReport Cutover(SwitchSides& sides, bool full_verify = false) {
  SwitchReport r;
  r.direction = "cutover";
  r.tenant = "acme";
  SwitchOptions o;
  o.tenant = "acme";
  o.full_verify = full_verify;
  RunCutoverSequence(sides, o, &r);
  return r;
}

SwitchReport Fallback(SwitchSides& sides, bool full_verify = false) {
  SwitchReport r;
  r.direction = "fallback";
  r.tenant = "acme";
  SwitchOptions o;
  o.tenant = "acme";
  o.full_verify = full_verify;
  RunFallbackSequence(sides, o, &r);
  return r;
}

std::vector<std::string> StepNames(const SwitchReport& r) {
  std::vector<std::string> out;
  for (const SwitchStep& s : r.steps)
    out.push_back(s.name);
  return out;
}

// The proof and the sequences' first move come before the fence, so that only the check of
// what changed since is inside it.
const std::vector<std::string> kCutoverSteps = {"check",     "catch up", "prove", "sequences ahead",
                                                "reverse",   "fence",    "drain", "verify",
                                                "sequences", "flip",     "open"};
const std::vector<std::string> kFallbackSteps = {
    "check", "catch up", "prove", "fence", "fence postgres", "drain", "verify", "flip", "close"};

TEST(SwitchSequenceTest, CutoverRunsEveryStepInOrderAndFlips) {
  FakeSides sides("acme", Route(kSideSqlite, 3));
  SwitchReport r = Cutover(sides);
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(StepNames(r), kCutoverSteps);
  EXPECT_EQ(sides.calls, (std::vector<std::string>{
                             "Check", "CatchUp", "Prove", "SetSequencesBeforeFence",
                             "PrepareReverse", "SetRoute", "WaitApplied", "Verify", "SetSequences",
                             "SetRoute", "ExtendDeadline", "WaitApplied"}));
  ASSERT_EQ(sides.route_writes.size(), 2u);
  EXPECT_EQ(sides.route_writes[0].side, kSideSqlite);
  EXPECT_EQ(sides.route_writes[0].epoch, 3);
  EXPECT_TRUE(sides.route_writes[0].fenced);
  EXPECT_EQ(sides.route().side, kSidePostgres);
  EXPECT_EQ(sides.route().epoch, 4);
  EXPECT_FALSE(sides.route().fenced);
  EXPECT_EQ(r.fence_seq, 101u);
  EXPECT_EQ(r.flip_seq, 102u);
  EXPECT_EQ(sides.applied_seq, 102u);
  EXPECT_EQ(r.epoch_before, 3);
  EXPECT_EQ(r.epoch_after, 4);
  EXPECT_FALSE(r.undone);
  EXPECT_TRUE(r.reason.empty());
  EXPECT_EQ(sides.verify_fast, std::vector<bool>{true});
}

TEST(SwitchSequenceTest, CutoverFullVerifyIsNotTheFastPath) {
  FakeSides sides("acme", Route(kSideSqlite, 0));
  ASSERT_TRUE(Cutover(sides, /*full_verify=*/true).ok);
  EXPECT_EQ(sides.verify_fast, std::vector<bool>{false});
}

TEST(SwitchSequenceTest, FallbackRunsEveryStepInOrderAndFlips) {
  FakeSides sides("acme", Route(kSidePostgres, 4));
  SwitchReport r = Fallback(sides);
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(StepNames(r), kFallbackSteps);
  EXPECT_EQ(sides.calls,
            (std::vector<std::string>{"Check", "WaitReverseDrained", "Prove", "SetRoute",
                                      "WaitApplied", "WaitReverseDrained", "Verify", "SetRoute",
                                      "ExtendDeadline", "WaitApplied", "CloseReverse"}));
  ASSERT_EQ(sides.route_writes.size(), 2u);
  EXPECT_EQ(sides.route_writes[0].side, kSidePostgres);
  EXPECT_TRUE(sides.route_writes[0].fenced);
  EXPECT_EQ(sides.route().side, kSideSqlite);
  EXPECT_EQ(sides.route().epoch, 5);
  EXPECT_FALSE(sides.route().fenced);
  EXPECT_EQ(sides.verify_fast, std::vector<bool>{true});  // from the proof, as a cutover
}

TEST(SwitchSequenceTest, FallbackFullVerifyIsNotTheFastPath) {
  FakeSides sides("acme", Route(kSidePostgres, 4));
  ASSERT_TRUE(Fallback(sides, /*full_verify=*/true).ok);
  EXPECT_EQ(sides.verify_fast, std::vector<bool>{false});
}

// A failure at `method`'s `nth` call, the step it belongs to, and whether the fence was up.
struct FailurePoint {
  std::string method;
  int nth;
  std::string step;
  bool fenced;
};

void ExpectFailedAt(const FakeSides& sides, const SwitchReport& r, const FailurePoint& p,
                    const RouteRow& before) {
  SCOPED_TRACE(p.step);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("injected"), std::string::npos) << r.reason;
  EXPECT_EQ(r.flip_seq, 0u);
  // The route is as it was: the fence, when it was up, lifted again at the same epoch.
  EXPECT_EQ(sides.route().side, before.side);
  EXPECT_EQ(sides.route().epoch, before.epoch);
  EXPECT_FALSE(sides.route().fenced);
  EXPECT_EQ(r.undone, p.fenced);
  std::vector<std::string> names = StepNames(r);
  ASSERT_FALSE(names.empty());
  if (p.fenced) {
    ASSERT_GE(names.size(), 2u);
    EXPECT_EQ(names[names.size() - 2], p.step);
    EXPECT_EQ(names.back(), "undo");
    EXPECT_TRUE(r.steps.back().ok);
    EXPECT_EQ(sides.route_writes.size(), 2u);  // fence, undo
  } else {
    EXPECT_EQ(names.back(), p.step);
    EXPECT_TRUE(sides.route_writes.empty());
  }
  EXPECT_FALSE(r.steps[names.size() - (p.fenced ? 2 : 1)].ok);
}

TEST(SwitchSequenceTest, CutoverFailureBeforeTheFlipUndoesTheFence) {
  const std::vector<FailurePoint> points = {
      {"Check", 1, "check", false},
      {"CatchUp", 1, "catch up", false},
      {"Prove", 1, "prove", false},
      {"SetSequencesBeforeFence", 1, "sequences ahead", false},
      {"PrepareReverse", 1, "reverse", false},
      {"SetRoute", 1, "fence", false},
      {"WaitApplied", 1, "drain", true},
      {"Verify", 1, "verify", true},
      {"SetSequences", 1, "sequences", true},
      {"SetRoute", 2, "flip", true},
  };
  for (const FailurePoint& p : points) {
    FakeSides fake("acme", Route(kSideSqlite, 2));
    FaultInjectingSides sides(&fake, p.method, p.nth, Status::Unavailable("injected"));
    SwitchReport r = Cutover(sides);
    ASSERT_TRUE(sides.injected()) << p.step;
    ExpectFailedAt(fake, r, p, Route(kSideSqlite, 2));
  }
}

TEST(SwitchSequenceTest, FallbackFailureBeforeTheFlipUndoesTheFence) {
  const std::vector<FailurePoint> points = {
      {"Check", 1, "check", false},
      {"WaitReverseDrained", 1, "catch up", false},
      {"Prove", 1, "prove", false},
      {"SetRoute", 1, "fence", false},
      {"WaitApplied", 1, "fence postgres", true},
      {"WaitReverseDrained", 2, "drain", true},
      {"Verify", 1, "verify", true},
      {"SetRoute", 2, "flip", true},
  };
  for (const FailurePoint& p : points) {
    FakeSides fake("acme", Route(kSidePostgres, 6));
    FaultInjectingSides sides(&fake, p.method, p.nth, Status::Unavailable("injected"));
    SwitchReport r = Fallback(sides);
    ASSERT_TRUE(sides.injected()) << p.step;
    ExpectFailedAt(fake, r, p, Route(kSidePostgres, 6));
  }
}

TEST(SwitchSequenceTest, AVerifyThatDiffersUndoesWithItsReason) {
  FakeSides sides("acme", Route(kSideSqlite, 0));
  sides.verify_matches = false;
  SwitchReport r = Cutover(sides);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.undone);
  EXPECT_NE(r.reason.find("table t is Different"), std::string::npos) << r.reason;
  EXPECT_EQ(sides.route().side, kSideSqlite);
  EXPECT_FALSE(sides.route().fenced);
}

TEST(SwitchSequenceTest, AFailedUndoIsReported) {
  FakeSides fake("acme", Route(kSideSqlite, 0));
  FaultInjectingSides sides(&fake, "SetRoute", 2, Status::IOError("disk full"));
  fake.verify_matches = false;
  SwitchReport r = Cutover(sides);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.undone);
  EXPECT_NE(r.reason.find("the undo failed too"), std::string::npos) << r.reason;
  EXPECT_TRUE(fake.route().fenced);  // left fenced: the operator runs the switch again
}

TEST(SwitchSequenceTest, CutoverFailureAfterTheFlipIsNotUndone) {
  FakeSides fake("acme", Route(kSideSqlite, 1));
  FaultInjectingSides sides(&fake, "WaitApplied", 2, Status::Aborted("timed out"));
  SwitchReport r = Cutover(sides);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.undone);
  EXPECT_NE(r.reason.find("the route is flipped"), std::string::npos) << r.reason;
  EXPECT_EQ(StepNames(r), kCutoverSteps);
  EXPECT_FALSE(r.steps.back().ok);
  EXPECT_EQ(fake.route().side, kSidePostgres);
  EXPECT_EQ(fake.route().epoch, 2);
  EXPECT_EQ(fake.route_writes.size(), 2u);  // fence and flip, no undo
}

TEST(SwitchSequenceTest, FallbackFailureAfterTheFlipIsNotUndone) {
  for (const std::string method : {"WaitApplied", "CloseReverse"}) {
    FakeSides fake("acme", Route(kSidePostgres, 1));
    FaultInjectingSides sides(&fake, method, method == "WaitApplied" ? 2 : 1,
                              Status::Unavailable("injected"));
    SwitchReport r = Fallback(sides);
    EXPECT_TRUE(r.ok) << method;  // the tenant is back on SQLite; the close step says the rest
    EXPECT_FALSE(r.undone);
    EXPECT_EQ(StepNames(r), kFallbackSteps);
    EXPECT_FALSE(r.steps.back().ok);
    EXPECT_EQ(fake.route().side, kSideSqlite);
    EXPECT_EQ(fake.route().epoch, 2);
  }
}

TEST(SwitchSequenceTest, TheTimeoutBeforeTheFlipUndoes) {
  FakeSides sides("acme", Route(kSideSqlite, 0));
  sides.time_out_after = "Verify";
  SwitchReport r = Cutover(sides);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.undone);
  EXPECT_NE(r.reason.find("the timeout passed before the flip"), std::string::npos) << r.reason;
  EXPECT_EQ(StepNames(r),
            (std::vector<std::string>{"check", "catch up", "prove", "sequences ahead", "reverse",
                                      "fence", "drain", "verify", "undo"}));
  EXPECT_EQ(sides.route().side, kSideSqlite);
  EXPECT_FALSE(sides.route().fenced);
}

TEST(SwitchSequenceTest, AStoppedApplierTimesOutTheDrainAndUndoes) {
  for (bool cutover : {true, false}) {
    FakeSides sides("acme", Route(cutover ? kSideSqlite : kSidePostgres, 0));
    sides.applier_runs = false;
    SwitchReport r = cutover ? Cutover(sides) : Fallback(sides);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.undone);
    EXPECT_NE(r.reason.find("timed out"), std::string::npos) << r.reason;
    EXPECT_FALSE(sides.route().fenced);
    EXPECT_EQ(sides.route().epoch, 0);
  }
}

TEST(SwitchSequenceTest, TheTimedReportListsEveryStep) {
  FakeSides sides("acme", Route(kSideSqlite, 0));
  SwitchReport r = Cutover(sides);
  ASSERT_EQ(r.steps.size(), kCutoverSteps.size());
  for (const SwitchStep& s : r.steps) {
    EXPECT_TRUE(s.ok) << s.name;
    EXPECT_GE(s.ms, 0) << s.name;
  }
  EXPECT_NE(r.steps[5].note.find("seq 101"), std::string::npos) << r.steps[5].note;
  EXPECT_NE(r.steps[9].note.find("route postgres, epoch 1, at seq 102"), std::string::npos)
      << r.steps[9].note;
  EXPECT_GE(r.pause_ms, 0);
}

TEST(SwitchSequenceTest, TheRouteDecidesWhichDirectionMayStart) {
  EXPECT_TRUE(CutoverRouteAllows(Route(kSideSqlite, 0), "acme").ok());
  EXPECT_TRUE(CutoverRouteAllows(Route(kSideSqlite, 2, true), "acme").ok());  // an interrupted one
  Status on_pg = CutoverRouteAllows(Route(kSidePostgres, 1, true), "acme");
  EXPECT_EQ(on_pg.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(on_pg.message().find("run `sqlift fallback`"), std::string::npos);
  EXPECT_TRUE(FallbackRouteAllows(Route(kSidePostgres, 1), "acme").ok());
  Status on_sqlite = FallbackRouteAllows(Route(kSideSqlite, 0), "*");
  EXPECT_EQ(on_sqlite.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(on_sqlite.message().find("nothing to fall back"), std::string::npos);
}

TEST(SwitchSequenceTest, ARefusedCheckChangesNothing) {
  FakeSides fake("acme", Route(kSidePostgres, 5));
  FaultInjectingSides sides(&fake, "Check", 1, CutoverRouteAllows(Route(kSidePostgres, 5), "acme"));
  SwitchReport r = Cutover(sides);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.undone);
  EXPECT_EQ(r.epoch_before, 5);
  EXPECT_EQ(StepNames(r), std::vector<std::string>{"check"});
  EXPECT_TRUE(fake.route_writes.empty());
}

}  // namespace
}  // namespace sqlift::switching
