# The abidiff test: the probe built from today's abi.h must have exactly the ABI recorded in the baseline
# sdk/abi/abi-MAJOR.MINOR.xml (abidw output). Any difference abidiff reports fails, harmless ones included.
#   cmake -DABIDIFF=... -DPROBE=<probe .so> -DHEADER=<abi.h> -DABI_DIR=<sdk/abi> -P abidiff_test.cmake
# Skips (SKIPPED in the output; the test's SKIP_REGULAR_EXPRESSION) only when abidiff is not installed.
if(NOT ABIDIFF OR NOT EXISTS "${ABIDIFF}")
  find_program(ABIDIFF abidiff)
endif()
if(NOT ABIDIFF)
  message("SKIPPED: abidiff not found; install Debian package abigail-tools (packaging/install-deps.sh does)")
  return()
endif()

file(STRINGS "${HEADER}" version_lines REGEX "^#define PORTICO_ABI_(MAJOR|MINOR) [0-9]+$")
foreach(line ${version_lines})
  string(REGEX REPLACE "^#define PORTICO_ABI_(MAJOR|MINOR) ([0-9]+)$" "\\1;\\2" pair "${line}")
  list(GET pair 0 which)
  list(GET pair 1 number)
  set(${which} ${number})
endforeach()
set(baseline "${ABI_DIR}/abi-${MAJOR}.${MINOR}.xml")
if(NOT EXISTS "${baseline}")
  message(FATAL_ERROR "no abidiff baseline for ABI ${MAJOR}.${MINOR} (${baseline}): see sdk/abi/README.md")
endif()

execute_process(COMMAND "${ABIDIFF}" --harmless --no-show-locs "${baseline}" "${PROBE}"
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "abidiff ${baseline} ${PROBE} (exit ${result}):\n${output}\n"
          "The types of abi.h differ from the ABI ${MAJOR}.${MINOR} baseline. If intended, follow sdk/abi/README.md "
          "(bump the version, then update-hash.sh, gen_layout.py, update-baseline.sh).")
endif()
message(STATUS "the probe's ABI equals ${baseline}")
