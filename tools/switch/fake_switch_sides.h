// Fakes of SwitchSides (switch_sides.h) for unit tests of the switch's sequence.
//
// FakeSides keeps both databases in memory: SQLite's route table with an outbox seq per route
// change, PostgreSQL's applied seq (an applier that applies at once, or a stopped one whose
// waits time out), a verify that matches or not, and a deadline that passes after a chosen
// call. Every call is recorded in order. FaultInjectingSides wraps any SwitchSides and fails the
// n-th call of one method with a given status, passing everything else through.
//
// Thread safety: none; one test thread.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tools/switch/switch_sides.h"

namespace sqlift::switching {

class FakeSides : public SwitchSides {
 public:
  FakeSides(std::string tenant, RouteRow route) : tenant_(std::move(tenant)) {
    route.tenant = tenant_;
    routes[tenant_] = route;
  }

  // SQLite's route table and outbox, PostgreSQL's applier.
  std::map<std::string, RouteRow> routes;
  std::vector<RouteRow> route_writes;
  uint64_t outbox_seq = 100;
  uint64_t applied_seq = 100;
  bool applier_runs = true;    // false: WaitApplied times out
  bool verify_matches = true;  // false: Verify fails as a difference does
  std::string time_out_after;  // the call after which TimedOut() holds ("" never)
  std::vector<std::string> calls;
  std::vector<bool> verify_fast;  // the `fast` of each Verify

  const RouteRow& route() const { return routes.at(tenant_); }

  Status Check(RouteRow* route, std::string* note) override {
    Record("Check");
    *route = routes.at(tenant_);
    *note = "fake";
    return Status::OK();
  }
  Status CatchUp(std::string*) override { return Call("CatchUp"); }
  Status Prove(std::string*) override { return Call("Prove"); }
  Status PrepareReverse(std::string*) override { return Call("PrepareReverse"); }
  Status WaitReverseDrained(std::string*) override { return Call("WaitReverseDrained"); }
  Result<uint64_t> SetRoute(const RouteRow& row) override {
    Record("SetRoute");
    routes[row.tenant] = row;
    route_writes.push_back(row);
    return ++outbox_seq;
  }
  Status WaitApplied(uint64_t seq, std::string*) override {
    Record("WaitApplied");
    if (applier_runs) applied_seq = std::max(applied_seq, std::min(seq, outbox_seq));
    if (applied_seq >= seq) return Status::OK();
    timed_out_ = true;
    return Status::Aborted("timed out waiting for the applier to apply seq " + std::to_string(seq));
  }
  Status Verify(bool fast, std::string*) override {
    Record("Verify");
    verify_fast.push_back(fast);
    if (verify_matches) return Status::OK();
    return Status::FailedPrecondition("verify: table t is Different");
  }
  Status SetSequences(bool fenced, std::string*) override {
    return Call(fenced ? "SetSequences" : "SetSequencesBeforeFence");
  }
  Status CloseReverse(std::string*) override { return Call("CloseReverse"); }
  bool TimedOut() const override { return timed_out_; }
  void ExtendDeadline(std::chrono::milliseconds) override {
    calls.push_back("ExtendDeadline");
    timed_out_ = false;
  }

 private:
  void Record(const std::string& name) {
    calls.push_back(name);
    if (name == time_out_after) timed_out_ = true;
  }
  Status Call(const std::string& name) {
    Record(name);
    return Status::OK();
  }

  std::string tenant_;
  bool timed_out_ = false;
};

class FaultInjectingSides : public SwitchSides {
 public:
  // Fails the `nth` (1-based) call of `method` ("SetRoute", "WaitApplied", ...) with `failure`.
  FaultInjectingSides(SwitchSides* base, std::string method, int nth, Status failure)
      : base_(base), method_(std::move(method)), nth_(nth), failure_(std::move(failure)) {}

  bool injected() const { return injected_; }

  Status Check(RouteRow* route, std::string* note) override {
    Status st = base_->Check(route, note);
    return Fail("Check") ? failure_ : st;
  }
  Status CatchUp(std::string* n) override { return Fail("CatchUp") ? failure_ : base_->CatchUp(n); }
  Status Prove(std::string* n) override { return Fail("Prove") ? failure_ : base_->Prove(n); }
  Status PrepareReverse(std::string* n) override {
    return Fail("PrepareReverse") ? failure_ : base_->PrepareReverse(n);
  }
  Status WaitReverseDrained(std::string* n) override {
    return Fail("WaitReverseDrained") ? failure_ : base_->WaitReverseDrained(n);
  }
  Result<uint64_t> SetRoute(const RouteRow& row) override {
    if (Fail("SetRoute")) return failure_;
    return base_->SetRoute(row);
  }
  std::optional<std::chrono::steady_clock::time_point> LastRouteCommit() const override {
    return base_->LastRouteCommit();
  }
  Status WaitApplied(uint64_t seq, std::string* n) override {
    return Fail("WaitApplied") ? failure_ : base_->WaitApplied(seq, n);
  }
  Status Verify(bool fast, std::string* n) override {
    return Fail("Verify") ? failure_ : base_->Verify(fast, n);
  }
  Status SetSequences(bool fenced, std::string* n) override {
    return Fail(fenced ? "SetSequences" : "SetSequencesBeforeFence")
               ? failure_
               : base_->SetSequences(fenced, n);
  }
  Status CloseReverse(std::string* n) override {
    return Fail("CloseReverse") ? failure_ : base_->CloseReverse(n);
  }
  bool TimedOut() const override { return base_->TimedOut(); }
  void ExtendDeadline(std::chrono::milliseconds d) override { base_->ExtendDeadline(d); }

 private:
  bool Fail(const std::string& method) {
    if (method != method_ || ++seen_ != nth_) return false;
    injected_ = true;
    return true;
  }

  SwitchSides* base_;
  std::string method_;
  int nth_;
  Status failure_;
  int seen_ = 0;
  bool injected_ = false;
};

}  // namespace sqlift::switching
