// The golden layout test, C++ view: the same expectations as abi_layout_test.c, compiled as C++17, so a C++ plugin
// and a C plugin are proven to see one layout (bool, extern "C", typedefs), and string constants are checked at
// compile time too.
#include <portico/abi.h>

#include <cstddef>
#include <string_view>
#include <type_traits>

#if defined(__x86_64__) && defined(__LP64__)

#define PORTICO_GOLDEN_RECORD(tag, size, align)                       \
    static_assert(sizeof(tag) == (size), "sizeof(" #tag ") changed"); \
    static_assert(alignof(tag) == (align), "alignment of " #tag " changed");
#define PORTICO_GOLDEN_FIELD(tag, field, offset, size)                         \
    static_assert(offsetof(tag, field) == (offset), #tag "." #field " moved"); \
    static_assert(sizeof(tag::field) == (size), #tag "." #field " changed size");
#define PORTICO_GOLDEN_TYPE(name, size) static_assert(sizeof(name) == (size), "sizeof(" #name ") changed");
#define PORTICO_GOLDEN_INT(name, value, type)                 \
    static_assert((name) == (value), #name " changed value"); \
    static_assert(std::is_same_v<decltype(name), type>, #name " is no longer of type " #type);
#define PORTICO_GOLDEN_STRING(name, value) \
    static_assert(std::string_view(name) == std::string_view(value), #name " changed value");
#include "abi_layout_golden.h"

#endif

int main() {
    return 0;
}
