// SPDX-License-Identifier: MIT
#pragma once
// The binary event record that travels through the queue, and the compile-time machinery that encodes a
// log call's arguments into it (caller's thread: memcpy only) and decodes them again (backend thread:
// fmt formatting).
//
// A message is 1..255 Records of 64 bytes: a 32-byte header and 32 payload bytes each. The payload is
// the arguments, in order: trivially copyable values by memcpy (sizeof(T) bytes, unaligned), strings as
// a u32 length and the bytes. A payload longer than one record continues in the next records (same
// header, part = 1, 2, ...). The payload is at most kMaxPayload bytes: longer strings are cut (the
// record is flagged, the backend counts it in Metrics::truncated and marks the text).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

namespace ringkit::telemetry {

enum class Level : std::uint8_t { trace = 0, debug, info, warn, error, critical, off };

constexpr std::string_view to_string(Level l) noexcept {
  switch (l) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
    case Level::critical: return "critical";
    case Level::off: return "off";
  }
  return "?";
}

// How an argument's bytes are laid out in the payload, so a reader that only has the bytes (the crash
// dump, ttlog-cat) can rebuild built-in types without the C++ types.
enum class ArgTag : std::uint8_t {
  boolean = 1, chr, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, string, pointer,
  opaque,  // a user type, memcpy'd: decoded with its formatter in-process, shown as hex elsewhere
};

struct ArgInfo {
  ArgTag tag;
  std::uint16_t size;  // bytes for fixed-size tags; 0 for string
  const char* key;     // field name for a structured field, nullptr for a format argument
};

class DecodeOut;
struct Metadata;
using DecodeFn = void (*)(const Metadata&, const std::byte* payload, std::size_t len, DecodeOut& out);

// One per call site, static, built at compile time.
struct Metadata {
  Level level;
  std::uint32_t line;
  const char* file;
  std::string_view format;
  const ArgInfo* args;
  std::uint16_t nargs;
  std::uint16_t nformat;  // the first nformat args feed the format string; the rest are fields
  DecodeFn decode;
};

struct RecordHeader {
  std::uint64_t ticks;         // timestamp (TSC ticks or ns: the logger's TimestampSource)
  const Metadata* meta;        // the call site
  std::uint32_t producer;      // index of the producing thread's slot in its logger
  std::uint32_t seq;           // per-producer message number (mod 2^32): the backend counts gaps as lost
  std::uint16_t len;           // payload bytes of the whole message (all parts)
  std::uint8_t part;           // 0 .. nparts-1
  std::uint8_t nparts;         // records in this message
  std::uint8_t flags;          // kTruncated
  std::uint8_t reserved[3];
};

inline constexpr std::size_t kRecordSize = 64;
inline constexpr std::size_t kPartPayload = kRecordSize - sizeof(RecordHeader);
inline constexpr std::size_t kMaxParts = 255;
inline constexpr std::size_t kMaxPayload = kPartPayload * kMaxParts;
inline constexpr std::uint8_t kTruncated = 1;

struct alignas(8) Record {
  RecordHeader h;
  std::byte payload[kPartPayload];
};
static_assert(sizeof(RecordHeader) == 32 && sizeof(Record) == kRecordSize);
static_assert(std::is_trivially_copyable_v<Record>);

// ---- structured fields ------------------------------------------------------------------------------
template <std::size_t N>
struct FixedString {
  char chars[N]{};
  constexpr FixedString(const char (&s)[N]) noexcept {  // NOLINT: implicit on purpose
    for (std::size_t i = 0; i < N; ++i) chars[i] = s[i];
  }
};

// A key-value field: kv<"latency_us">(lat) or "latency_us"_kv = lat. The key is part of the type (so it
// lives in the call site's metadata, not in every record). Fields follow the format arguments.
template <FixedString K, class T>
struct FieldArg {
  T value;
};

template <FixedString K, class T>
constexpr FieldArg<K, const T&> kv(const T& value) noexcept {
  return {value};
}

template <FixedString K>
struct FieldKey {
  template <class T>
  constexpr FieldArg<K, const T&> operator=(const T& value) const noexcept {  // NOLINT
    return {value};
  }
};

namespace literals {
template <FixedString K>
constexpr FieldKey<K> operator""_kv() noexcept {
  return {};
}
}  // namespace literals

namespace detail {

template <class T>
struct is_field : std::false_type {};
template <FixedString K, class T>
struct is_field<FieldArg<K, T>> : std::true_type {};
template <class T>
inline constexpr bool is_field_v = is_field<std::remove_cvref_t<T>>::value;

template <class T>
struct field_traits {
  using value_type = T;
  static constexpr const char* key = nullptr;
};
template <FixedString K, class T>
struct field_traits<FieldArg<K, T>> {
  using value_type = std::remove_cvref_t<T>;
  static constexpr const char* key = K.chars;
};

// The argument's type as stored: strings become string_view; everything else its decayed type.
template <class T>
inline constexpr bool is_string_v =
    std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> || std::is_same_v<T, const char*> ||
    std::is_same_v<T, char*>;

template <class A>
using value_of_t = typename field_traits<std::remove_cvref_t<A>>::value_type;
template <class A>
using plain_t = std::decay_t<value_of_t<A>>;

template <class T>
constexpr ArgTag tag_of() {
  if constexpr (is_string_v<T>) return ArgTag::string;
  else if constexpr (std::is_same_v<T, bool>) return ArgTag::boolean;
  else if constexpr (std::is_same_v<T, char>) return ArgTag::chr;
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
    return sizeof(T) == 1 ? ArgTag::i8 : sizeof(T) == 2 ? ArgTag::i16 : sizeof(T) == 4 ? ArgTag::i32 : ArgTag::i64;
  else if constexpr (std::is_integral_v<T>)
    return sizeof(T) == 1 ? ArgTag::u8 : sizeof(T) == 2 ? ArgTag::u16 : sizeof(T) == 4 ? ArgTag::u32 : ArgTag::u64;
  else if constexpr (std::is_same_v<T, float>) return ArgTag::f32;
  else if constexpr (std::is_same_v<T, double>) return ArgTag::f64;
  else if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) return ArgTag::pointer;
  else return ArgTag::opaque;
}

template <class A>
constexpr ArgInfo arg_info() {
  using T = plain_t<A>;
  static_assert(is_string_v<T> || (std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>),
                "ringkit telemetry: a log argument must be a string (std::string, std::string_view, "
                "const char*) or a trivially copyable, default-constructible value");
  static_assert(is_string_v<T> || sizeof(T) <= 0xFFFF);
  return ArgInfo{tag_of<T>(), static_cast<std::uint16_t>(is_string_v<T> ? 0 : sizeof(T)),
                 field_traits<std::remove_cvref_t<A>>::key};
}

// ---- the format string over the leading non-field arguments -------------------------------------------
template <class... T>
struct TypeList {};

template <class Done, class... Rest>
struct FormatOf;
template <class... P>
struct FormatOf<TypeList<P...>> {
  using type = fmt::format_string<P...>;
};
template <class... P, class H, class... T>
struct FormatOf<TypeList<P...>, H, T...> {
  using type = typename std::conditional_t<is_field_v<H>, FormatOf<TypeList<P...>>,
                                           FormatOf<TypeList<P..., H>, T...>>::type;
};
// How many leading arguments are format arguments; kFieldsNotLast if a field comes before one.
inline constexpr std::size_t kFieldsNotLast = ~std::size_t{0};
template <class... A>
constexpr std::size_t count_format_args() {
  constexpr bool field[] = {is_field_v<A>..., false};
  std::size_t n = 0;
  bool seen_field = false;
  for (std::size_t i = 0; i < sizeof...(A); ++i) {
    if (field[i]) seen_field = true;
    else if (seen_field) return kFieldsNotLast;
    else ++n;
  }
  return n;
}

template <class... A>
using format_for = typename FormatOf<TypeList<>, A...>::type;

// ---- encoding (caller's thread) ----------------------------------------------------------------------
inline std::string_view as_view(const std::string& s) noexcept { return s; }
inline std::string_view as_view(std::string_view s) noexcept { return s; }
inline std::string_view as_view(const char* s) noexcept { return s ? std::string_view(s) : std::string_view("(null)"); }

template <class A>
inline const auto& value_ref(const A& a) noexcept {
  if constexpr (is_field_v<A>) return a.value;
  else return a;
}

template <class A>
constexpr std::size_t fixed_size() {
  using T = plain_t<A>;
  return is_string_v<T> ? 4 : sizeof(T);
}

template <class A>
inline std::size_t var_size(const A& a) noexcept {
  using T = plain_t<A>;
  if constexpr (is_string_v<T>) return as_view(value_ref(a)).size();
  else return 0;
}

template <class A>
inline std::byte* encode_one(std::byte* dst, const A& a, std::size_t& string_budget) noexcept {
  using T = plain_t<A>;
  if constexpr (is_string_v<T>) {
    const std::string_view s = as_view(value_ref(a));
    const std::size_t n = s.size() < string_budget ? s.size() : string_budget;
    string_budget -= n;
    const auto len = static_cast<std::uint32_t>(n);
    std::memcpy(dst, &len, 4);
    if (n) std::memcpy(dst + 4, s.data(), n);
    return dst + 4 + n;
  } else {
    const T& v = value_ref(a);
    std::memcpy(dst, &v, sizeof(T));
    return dst + sizeof(T);
  }
}

template <class... A>
inline constexpr bool has_strings_v = (is_string_v<plain_t<A>> || ...);

// ---- decoding (backend thread) -----------------------------------------------------------------------
class Reader {
 public:
  Reader(const std::byte* p, std::size_t n) noexcept : p_(p), end_(p + n) {}
  template <class T>
  T get() noexcept {
    T v{};
    if constexpr (is_string_v<T>) {
      std::uint32_t n = 0;
      take(&n, 4);
      const std::size_t avail = static_cast<std::size_t>(end_ - p_);
      if (n > avail) n = static_cast<std::uint32_t>(avail);
      std::string_view s(reinterpret_cast<const char*>(p_), n);
      p_ += n;
      return s;
    } else {
      take(&v, sizeof(T));
      return v;
    }
  }

 private:
  void take(void* out, std::size_t n) noexcept {
    const std::size_t avail = static_cast<std::size_t>(end_ - p_);
    if (n > avail) {
      std::memset(out, 0, n);
      p_ = end_;
      return;
    }
    std::memcpy(out, p_, n);
    p_ += n;
  }
  const std::byte* p_;
  const std::byte* end_;
};

template <class T>
using stored_t = std::conditional_t<is_string_v<T>, std::string_view, T>;

}  // namespace detail

// What the backend decodes one message into: the formatted text and the fields. Reused between
// messages (no allocation once its buffers have grown).
class DecodeOut {
 public:
  struct FieldRef {
    const char* key;
    std::size_t begin, end;  // the value's bytes in values()
    bool numeric;
  };
  fmt::memory_buffer message;
  fmt::memory_buffer values;
  static constexpr std::size_t kMaxFields = 64;
  FieldRef fields[kMaxFields];
  std::size_t nfields = 0;
  void clear() noexcept {
    message.clear();
    values.clear();
    nfields = 0;
  }
  std::string_view field_value(const FieldRef& f) const noexcept {
    return std::string_view(values.data() + f.begin, f.end - f.begin);
  }
};

namespace detail {

template <class T>
constexpr bool numeric_v = std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>;

template <class... A, std::size_t... I>
void decode_with(const Metadata& m, const std::byte* payload, std::size_t len, DecodeOut& out,
                 std::index_sequence<I...>) {
  [[maybe_unused]] Reader rd(payload, len);
  // Braced initialization evaluates left to right: arguments are read in order.
  std::tuple<stored_t<plain_t<A>>...> vals{rd.template get<stored_t<plain_t<A>>>()...};
  constexpr std::size_t nfmt = count_format_args<A...>();
  auto format_prefix = [&]<std::size_t... J>(std::index_sequence<J...>) {
    fmt::vformat_to(std::back_inserter(out.message), fmt::string_view(m.format.data(), m.format.size()),
                    fmt::make_format_args(std::get<J>(vals)...));
  };
  format_prefix(std::make_index_sequence<nfmt>{});
  [[maybe_unused]] auto add_field = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
    if constexpr (J >= nfmt) {
      if (out.nfields < std::size(out.fields)) {
        const std::size_t begin = out.values.size();
        fmt::format_to(std::back_inserter(out.values), "{}", std::get<J>(vals));
        using V = std::tuple_element_t<J, std::tuple<plain_t<A>...>>;
        out.fields[out.nfields++] = {m.args[J].key, begin, out.values.size(), numeric_v<V>};
      }
    }
  };
  (add_field(std::integral_constant<std::size_t, I>{}), ...);
}

template <class... A>
void decode(const Metadata& m, const std::byte* payload, std::size_t len, DecodeOut& out) {
  decode_with<A...>(m, payload, len, out, std::index_sequence_for<A...>{});
}

// The call site's metadata: one static object per (Site, argument types).
template <class Site, class... A>
struct SiteMeta {
  static constexpr std::array<ArgInfo, sizeof...(A)> args{arg_info<A>()...};
  static constexpr Metadata meta{Site::level(),  Site::line(), Site::file(), Site::format(), args.data(),
                                 sizeof...(A), static_cast<std::uint16_t>(count_format_args<A...>()),
                                 &decode<A...>};
};

}  // namespace detail
}  // namespace ringkit::telemetry
