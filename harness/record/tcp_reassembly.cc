#include "harness/record/tcp_reassembly.h"

#include <algorithm>
#include <iterator>

namespace smtp::harness::pcap {

void TcpReassembler::Start(std::uint32_t first, bool midstream) {
  started_ = true;
  midstream_ = midstream;
  first_seq_ = first;
  base_ = first;
  next_ = 0;
}

std::int64_t TcpReassembler::Abs(std::uint32_t seq) const {
  const auto next_seq = static_cast<std::uint32_t>(base_ + static_cast<std::uint64_t>(next_));
  return next_ + static_cast<std::int32_t>(seq - next_seq);
}

void TcpReassembler::Syn(std::uint32_t isn) {
  if (!started_) Start(isn + 1, false);
}

void TcpReassembler::Segment(std::uint32_t seq, std::string_view payload, std::size_t wire_length,
                             bool fin, StreamOutput& out) {
  if (closed_) return;
  wire_length = std::max(wire_length, payload.size());
  if (!started_) Start(seq, true);
  std::int64_t start = Abs(seq);
  if (fin && !fin_) fin_ = start + static_cast<std::int64_t>(wire_length);
  std::uint64_t missing = wire_length - payload.size();
  const std::int64_t end = start + static_cast<std::int64_t>(wire_length);
  if (end <= next_) {
    duplicate_bytes_ += wire_length;
    CompareDelivered(start, payload, out);
    CheckFin();
    return;
  }
  if (start < next_) {  // the front was delivered already: first data wins
    const auto cut = static_cast<std::size_t>(next_ - start);
    CompareDelivered(start, payload.substr(0, std::min(cut, payload.size())), out);
    if (cut <= payload.size()) {
      payload.remove_prefix(cut);
    } else {
      missing -= cut - payload.size();
      payload = {};
    }
    duplicate_bytes_ += cut;
    start = next_;
  }
  if (start == next_ && pending_.empty()) {
    Deliver(payload, missing, out);
  } else {
    Buffer(start, payload, missing, out);
    while (pending_bytes_ > options_.max_pending_bytes ||
           pending_.size() > options_.max_pending_segments) {
      Lose(static_cast<std::uint64_t>(pending_.begin()->first - next_), "out-of-order buffer full",
           out);
      Drain(out);
    }
    Drain(out);
  }
  CheckFin();
}

void TcpReassembler::CompareDelivered(std::int64_t start, std::string_view copy,
                                      StreamOutput& out) {
  const std::int64_t window_start = next_ - static_cast<std::int64_t>(window_.size());
  const std::int64_t a = std::max(start, window_start);
  const std::int64_t b = std::min(start + static_cast<std::int64_t>(copy.size()), next_);
  if (a >= b) return;
  Conflict(a,
           std::string_view(window_).substr(static_cast<std::size_t>(a - window_start),
                                            static_cast<std::size_t>(b - a)),
           copy.substr(static_cast<std::size_t>(a - start), static_cast<std::size_t>(b - a)), out);
}

void TcpReassembler::Conflict(std::int64_t at, std::string_view first, std::string_view copy,
                              StreamOutput& out) {
  if (first == copy) return;
  std::size_t i = 0;
  while (first[i] == copy[i]) ++i;  // they differ somewhere
  std::size_t j = first.size();
  while (first[j - 1] == copy[j - 1]) --j;
  conflicting_bytes_ += j - i;
  out.OnConflict(static_cast<std::uint64_t>(at) + i, j - i);
}

void TcpReassembler::Buffer(std::int64_t start, std::string_view captured, std::uint64_t missing,
                            StreamOutput& out) {
  const std::int64_t end = start + static_cast<std::int64_t>(captured.size() + missing);
  const std::int64_t captured_end = start + static_cast<std::int64_t>(captured.size());
  std::uint64_t kept = 0;
  auto insert = [&](std::int64_t a, std::int64_t b) {
    Piece piece;
    if (a < captured_end) {
      piece.data.assign(captured.substr(static_cast<std::size_t>(a - start),
                                        static_cast<std::size_t>(std::min(b, captured_end) - a)));
    }
    piece.missing = static_cast<std::uint64_t>(b - a) - piece.data.size();
    kept += piece.data.size();
    pending_bytes_ += piece.data.size();
    pending_.emplace(a, std::move(piece));
  };
  std::int64_t pos = start;
  auto it = pending_.upper_bound(start);
  if (it != pending_.begin()) {
    const auto prev = std::prev(it);
    pos = std::max(pos, prev->first + static_cast<std::int64_t>(prev->second.length()));
  }
  // The overlap of the new copy with a buffered piece: compared, not kept.
  auto compare = [&](std::int64_t piece_start, const Piece& piece) {
    const std::int64_t a = std::max(start, piece_start);
    const std::int64_t b =
        std::min(captured_end, piece_start + static_cast<std::int64_t>(piece.data.size()));
    if (a >= b) return;
    Conflict(
        a,
        std::string_view(piece.data)
            .substr(static_cast<std::size_t>(a - piece_start), static_cast<std::size_t>(b - a)),
        captured.substr(static_cast<std::size_t>(a - start), static_cast<std::size_t>(b - a)), out);
  };
  if (it != pending_.begin()) compare(std::prev(it)->first, std::prev(it)->second);
  while (pos < end) {
    const bool inside = it != pending_.end() && it->first < end;
    const std::int64_t stop = inside ? it->first : end;
    if (stop > pos) insert(pos, stop);
    if (!inside) break;
    compare(it->first, it->second);
    pos = std::max(pos, it->first + static_cast<std::int64_t>(it->second.length()));
    ++it;
  }
  duplicate_bytes_ += captured.size() - kept;
}

void TcpReassembler::Deliver(std::string_view data, std::uint64_t missing, StreamOutput& out) {
  if (!data.empty()) out.OnData(data);
  next_ += static_cast<std::int64_t>(data.size());
  if (data.size() >= kConflictWindow) {
    window_.assign(data.substr(data.size() - kConflictWindow));
  } else {
    window_.append(data);
    if (window_.size() > kConflictWindow) window_.erase(0, window_.size() - kConflictWindow);
  }
  if (missing > 0) Lose(missing, "not captured (snapshot length)", out);
}

void TcpReassembler::Drain(StreamOutput& out) {
  while (!pending_.empty() && pending_.begin()->first <= next_) {
    auto node = pending_.extract(pending_.begin());
    pending_bytes_ -= node.mapped().data.size();
    const std::int64_t end = node.key() + static_cast<std::int64_t>(node.mapped().length());
    if (end <= next_) continue;  // cannot happen: pieces start at or after next_
    Deliver(node.mapped().data, node.mapped().missing, out);
  }
}

void TcpReassembler::Lose(std::uint64_t bytes, std::string_view why, StreamOutput& out) {
  if (bytes == 0) return;
  out.OnGap(bytes, why);
  next_ += static_cast<std::int64_t>(bytes);
  window_.clear();  // the window holds only bytes right before next_
}

void TcpReassembler::Finish(StreamOutput& out) {
  if (!started_ || closed_) return;
  while (!pending_.empty()) {
    Lose(static_cast<std::uint64_t>(pending_.begin()->first - next_), "never captured", out);
    Drain(out);
  }
  if (fin_ && next_ < *fin_) Lose(static_cast<std::uint64_t>(*fin_ - next_), "never captured", out);
  CheckFin();
}

void TcpReassembler::CheckFin() {
  if (!fin_ || next_ < *fin_) return;
  closed_ = true;
  pending_.clear();  // anything past the FIN is not part of the stream
  pending_bytes_ = 0;
  window_ = std::string();
}

}  // namespace smtp::harness::pcap
