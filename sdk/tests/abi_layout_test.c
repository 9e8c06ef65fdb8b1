/* The golden layout test, C view: every struct size and alignment, every field's offset and size, every typedef's
 * size and every constant's value and type in portico/abi.h must equal what abi_layout_golden.h recorded for
 * x86_64 LP64. A moved field fails the build here (static assertions), before any plugin meets it.
 * Compiled as C11 (for _Static_assert and _Generic); abi.h itself stays C99. */
#include <portico/abi.h>

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) && defined(__LP64__)

#define PORTICO_GOLDEN_RECORD(tag, size, align)                               \
    _Static_assert(sizeof(struct tag) == (size), "sizeof(" #tag ") changed"); \
    _Static_assert(_Alignof(struct tag) == (align), "alignment of " #tag " changed");
#define PORTICO_GOLDEN_FIELD(tag, field, offset, size)                                 \
    _Static_assert(offsetof(struct tag, field) == (offset), #tag "." #field " moved"); \
    _Static_assert(sizeof(((struct tag*)0)->field) == (size), #tag "." #field " changed size");
#define PORTICO_GOLDEN_TYPE(name, size) _Static_assert(sizeof(name) == (size), "sizeof(" #name ") changed");
#define PORTICO_GOLDEN_INT(name, value, type)                  \
    _Static_assert((name) == (value), #name " changed value"); \
    _Static_assert(_Generic((name), type : 1, default : 0), #name " is no longer of type " #type);
#define PORTICO_GOLDEN_STRING(name, value)
#include "abi_layout_golden.h"
#undef PORTICO_GOLDEN_RECORD
#undef PORTICO_GOLDEN_FIELD
#undef PORTICO_GOLDEN_TYPE
#undef PORTICO_GOLDEN_INT
#undef PORTICO_GOLDEN_STRING

int main(void) {
    int failures = 0;
    /* C has no constant-expression string comparison: string constants are checked when the test runs. */
#define PORTICO_GOLDEN_RECORD(tag, size, align)
#define PORTICO_GOLDEN_FIELD(tag, field, offset, size)
#define PORTICO_GOLDEN_TYPE(name, size)
#define PORTICO_GOLDEN_INT(name, value, type)
#define PORTICO_GOLDEN_STRING(name, value)                                                      \
    if (strcmp((name), (value)) != 0) {                                                         \
        fprintf(stderr, "%s is \"%s\", the golden file says \"%s\"\n", #name, (name), (value)); \
        ++failures;                                                                             \
    }
#include "abi_layout_golden.h"
    if (failures == 0) printf("ABI %d.%d layout matches the golden file\n", PORTICO_ABI_MAJOR, PORTICO_ABI_MINOR);
    return failures == 0 ? 0 : 1;
}

#else
int main(void) {
    printf("SKIPPED: the golden layout is recorded for x86_64 LP64 only\n");
    return 77;
}
#endif
