# The header-hash test: abi.h may not change without a deliberate version bump (Envoy's abi_version_test idea).
#   cmake -DHEADER=sdk/include/portico/abi.h -DABI_DIR=sdk/abi -P abi_hash_test.cmake
# The live header must hash to sdk/abi/abi-MAJOR.MINOR.sha256 of the version it declares; and every kept copy
# sdk/abi/MAJOR.MINOR/portico/abi.h, a released header, must still hash to its record. The exact bytes are hashed:
# a comment edit is a change too (it may change a documented meaning), and is recorded like one.
set(advice "abi.h changed: if intended, bump PORTICO_ABI_MINOR (append-only change) or MAJOR, record the new hash \
with sdk/abi/update-hash.sh, and add the layout to the golden test")

function(recorded_hash record out)
  file(READ "${record}" text)
  if(NOT text MATCHES "^([0-9a-f]+)  ")
    message(FATAL_ERROR "${record}: not in `sha256sum` format")
  endif()
  set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
endfunction()

file(STRINGS "${HEADER}" version_lines REGEX "^#define PORTICO_ABI_(MAJOR|MINOR) [0-9]+$")
foreach(line ${version_lines})
  string(REGEX REPLACE "^#define PORTICO_ABI_(MAJOR|MINOR) ([0-9]+)$" "\\1;\\2" pair "${line}")
  list(GET pair 0 which)
  list(GET pair 1 number)
  set(${which} ${number})
endforeach()
if(NOT DEFINED MAJOR OR NOT DEFINED MINOR)
  message(FATAL_ERROR "${HEADER}: no PORTICO_ABI_MAJOR / PORTICO_ABI_MINOR\n${advice}")
endif()

file(SHA256 "${HEADER}" actual)
set(record "${ABI_DIR}/abi-${MAJOR}.${MINOR}.sha256")
if(NOT EXISTS "${record}")
  message(FATAL_ERROR "${advice}\n  abi.h declares ABI ${MAJOR}.${MINOR}, which has no recorded hash (${record})\n"
          "  abi.h now: ${actual}")
endif()
recorded_hash("${record}" expected)
if(NOT actual STREQUAL expected)
  message(FATAL_ERROR "${advice}\n  recorded for ABI ${MAJOR}.${MINOR}: ${expected}\n  abi.h now:              ${actual}")
endif()

file(GLOB kept_headers RELATIVE "${ABI_DIR}" "${ABI_DIR}/*/portico/abi.h")
foreach(kept ${kept_headers})
  string(REGEX REPLACE "/portico/abi.h$" "" version "${kept}")
  if(NOT EXISTS "${ABI_DIR}/abi-${version}.sha256")
    message(FATAL_ERROR "sdk/abi/${kept}: no abi-${version}.sha256 beside it")
  endif()
  recorded_hash("${ABI_DIR}/abi-${version}.sha256" kept_expected)
  file(SHA256 "${ABI_DIR}/${kept}" kept_actual)
  if(NOT kept_actual STREQUAL kept_expected)
    message(FATAL_ERROR "sdk/abi/${kept} was edited: it is the released ABI ${version} header, which never changes "
            "(plugins built against it must keep loading)")
  endif()
endforeach()
message(STATUS "abi.h is the recorded ABI ${MAJOR}.${MINOR} (sha256 ${actual}); kept copies intact: ${kept_headers}")
