// Result<T>: a parsed value or the ParseError that rejected the input.
// The parser's own StatusOr (parser/ depends on the standard library only).
#ifndef SMTP_PARSER_RESULT_H_
#define SMTP_PARSER_RESULT_H_

#include <cassert>
#include <utility>
#include <variant>

#include "parser/parse_error.h"

namespace smtp {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Result(ParseError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // Only valid when !ok().
  const ParseError& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, ParseError> v_;
};

}  // namespace smtp

#endif  // SMTP_PARSER_RESULT_H_
