// Resetting a parse result's fields in place, cheaply. Internal: not part of
// the parser's public API.
#ifndef SMTP_PARSER_INTERNAL_RESET_H_
#define SMTP_PARSER_INTERNAL_RESET_H_

#include <cstddef>
#include <cstring>
#include <type_traits>

namespace smtp::internal {

// Copies the bytes [From, To) of a default-constructed T over `*obj`, so the
// fields in that range (which must be whole fields) are back to their
// defaults. The copy goes in pieces of at most 64 octets: GCC turns a larger
// constant-size copy or fill into "rep movs" / "rep stos", slow to start,
// and a small one into plain vector stores; the source being a constant, it
// stores the constant's (zero) bytes directly. Field-by-field assignment
// takes twice the stores (padding breaks them up) and a tenth of the time of
// a short command.
template <class T, std::size_t From, std::size_t To>
inline void ResetBytes(T* obj) {
  static_assert(std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T>);
  static_assert(From <= To && To <= sizeof(T));
  static constexpr T kDefault{};
  auto* dst = reinterpret_cast<unsigned char*>(obj) + From;
  const auto* src = reinterpret_cast<const unsigned char*>(&kDefault) + From;
  if constexpr (To - From > 64) {
    std::memcpy(dst, src, 64);
    ResetBytes<T, From + 64, To>(obj);
  } else {
    std::memcpy(dst, src, To - From);
  }
}

}  // namespace smtp::internal

#endif  // SMTP_PARSER_INTERNAL_RESET_H_
