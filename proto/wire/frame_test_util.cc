#include "proto/wire/frame_test_util.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace sqlift::proto::testing {

wire::Value NullValue() {
  wire::Value v;
  v.mutable_null();
  return v;
}

wire::Value Int(int64_t i) {
  wire::Value v;
  v.set_integer(i);
  return v;
}

wire::Value Real(double d) {
  wire::Value v;
  v.set_real(d);
  return v;
}

wire::Value Text(std::string_view bytes) {
  wire::Value v;
  v.set_text(std::string(bytes));
  return v;
}

wire::Value Blob(std::string_view bytes) {
  wire::Value v;
  v.set_blob(std::string(bytes));
  return v;
}

wire::Value Absent() {
  return wire::Value();
}

namespace {

void AddTable(wire::ChangeBatch* batch) {
  wire::TableShape* t = batch->add_tables();
  t->set_name("users");
  for (const char* c : {"id", "name", "score", "avatar", "note"})
    t->add_columns(c);
  t->add_pk_columns(0);
  for (const char* d : {"INTEGER", "TEXT", "REAL", "BLOB", ""})
    t->add_declared_types(d);
}

void Fill(google::protobuf::RepeatedPtrField<wire::Value>* out, std::vector<wire::Value> in) {
  for (wire::Value& v : in)
    *out->Add() = std::move(v);
}

void AddChanges(wire::Transaction* tx) {
  tx->set_seq(41);
  tx->set_committed_at_us(1717236000123456);
  tx->set_kind(wire::Transaction::CHANGES);
  wire::RowChange* ins = tx->add_changes();
  ins->set_op(wire::RowChange::INSERT);
  Fill(ins->mutable_pk(), {Int(7)});
  Fill(ins->mutable_new_values(),
       {Int(7), Text("ada"), Real(1.5), Blob(std::string_view("\x01\x00", 2)), NullValue()});
  wire::RowChange* upd = tx->add_changes();
  upd->set_op(wire::RowChange::UPDATE);
  Fill(upd->mutable_pk(), {Int(7)});
  Fill(upd->mutable_old_values(), {Int(7), Absent(), Real(1.5), Absent(), Absent()});
  Fill(upd->mutable_new_values(), {Absent(), Absent(), Real(-2.25), Absent(), Absent()});
  wire::RowChange* del = tx->add_changes();
  del->set_op(wire::RowChange::DELETE);
  Fill(del->mutable_pk(), {Int(-3)});
  Fill(del->mutable_old_values(), {Int(-3), Text(""), Real(0), Blob(""), NullValue()});
}

}  // namespace

wire::Frame SampleChangeBatch() {
  wire::Frame f;
  wire::ChangeBatch* batch = f.mutable_change_batch();
  batch->set_first_seq(41);
  batch->set_last_seq(42);
  AddTable(batch);
  AddChanges(batch->add_transactions());
  wire::Transaction* ddl = batch->add_transactions();
  ddl->set_seq(42);
  ddl->set_committed_at_us(1717236000223456);
  ddl->set_kind(wire::Transaction::DDL);
  ddl->set_ddl_table("users");
  ddl->set_ddl_sql(
      "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, score REAL, "
      "avatar BLOB, note, extra TEXT)");
  return f;
}

wire::Frame SampleSnapshotChunk() {
  wire::Frame f;
  wire::SnapshotChunk* chunk = f.mutable_snapshot_chunk();
  chunk->set_snapshot_seq(40);
  chunk->mutable_table()->set_name("tags");
  chunk->mutable_table()->add_columns("tag");
  chunk->mutable_table()->add_pk_columns(0);
  Fill(chunk->add_rows()->mutable_values(), {Text("red")});
  Fill(chunk->add_rows()->mutable_values(), {Text("blue")});
  chunk->set_chunk_no(3);
  chunk->set_last_in_table(true);
  chunk->set_last_chunk(false);
  chunk->set_table_rows_total_hint(2);
  return f;
}

wire::Frame SampleHello() {
  wire::Frame f;
  f.mutable_hello()->set_protocol_version(kProtocolVersion);
  f.mutable_hello()->set_source_id("app");
  f.mutable_hello()->set_token("s3cret");
  f.mutable_hello()->set_agent_version("0.1.0");
  return f;
}

wire::Frame SampleHelloReply() {
  wire::Frame f;
  wire::HelloReply* r = f.mutable_hello_reply();
  r->set_accepted(true);
  r->set_has_position(true);
  r->set_applied_seq(40);
  r->set_snapshot_needed(false);
  r->set_protocol_version(kProtocolVersion);
  return f;
}

wire::Frame SampleAck() {
  wire::Frame f;
  f.mutable_ack()->set_applied_seq(std::numeric_limits<uint64_t>::max());
  f.mutable_ack()->set_snapshot_chunk_no(0);  // present although zero
  return f;
}

wire::Frame SampleHeartbeat(uint64_t seq) {
  wire::Frame f;
  f.mutable_heartbeat()->set_captured_seq(seq + 2);
  f.mutable_heartbeat()->set_logged_seq(seq + 1);
  f.mutable_heartbeat()->set_shipped_seq(seq);
  f.mutable_heartbeat()->set_sent_at_us(-1);
  return f;
}

wire::Frame SampleError() {
  wire::Frame f;
  f.mutable_error()->set_code(wire::Error::SEQ_GAP);
  f.mutable_error()->set_message("expected seq 43, got 45");
  f.mutable_error()->set_retryable(false);
  return f;
}

std::vector<wire::Frame> SampleFramesOfEveryType() {
  return {SampleChangeBatch(), SampleSnapshotChunk(), SampleAck(),  SampleHeartbeat(9),
          SampleHello(),       SampleHelloReply(),    SampleError()};
}

std::string Encode(const wire::Frame& frame) {
  std::string out;
  Status s = EncodeFrame(frame, kDefaultMaxFrameBytes, &out);
  if (!s.ok()) {
    std::fprintf(stderr, "Encode in a test: %s\n", s.ToString().c_str());
    std::abort();
  }
  return out;
}

Decoded DecodeStream(std::string_view stream, size_t piece, size_t max_frame_bytes) {
  Decoded d;
  FrameDecoder decoder(max_frame_bytes);
  wire::Frame frame;
  while (d.status.ok() && !stream.empty()) {
    d.status = decoder.Feed(stream.substr(0, piece));
    stream.remove_prefix(std::min(piece, stream.size()));
    while (d.status.ok()) {
      Result<bool> got = decoder.Next(&frame);
      if (!got.ok()) d.status = got.status();
      if (!got.ok() || !*got) break;
      d.frames.push_back(frame);
    }
  }
  if (d.status.ok()) d.status = decoder.Finish();
  return d;
}

std::vector<std::string> Serialized(const std::vector<wire::Frame>& frames) {
  std::vector<std::string> out;
  for (const wire::Frame& f : frames)
    out.push_back(f.SerializeAsString());
  return out;
}

}  // namespace sqlift::proto::testing
