# portico_add_plugin(): how every Portico plugin is built, in this tree (sdk/CMakeLists.txt includes this file
# before plugins/ is read) and out of it (portico-sdkConfig.cmake includes the installed copy).
#
#   portico_add_plugin(<name> [SOURCES] <source>...
#                      [INSTALL] [DESTINATION <dir>] [COMPONENT <component>]
#                      [OUTPUT_DIRECTORY <dir>] [SDK_TARGET <target>])
#
# Makes the MODULE library target `portico-<name>`, file `portico-<name>.so`, SONAME `portico-<name>.so.<ABI
# major>` (issue 3: the major in the SONAME says which host a file is for). Only the entry symbol is exported
# (hidden visibility plus a version script, so no bundled static library leaks symbols into the host), and
# -z defs makes a missing symbol a link error instead of a refusal at load time.
#   INSTALL        install the .so to DESTINATION (default: the host's plugin directory relative to the install
#                  prefix, lib/portico/plugins) as COMPONENT (default: plugin-<name>).
#   SDK_TARGET     the headers to build against (default portico::sdk); the ABI 1.0 fixture uses a kept copy.
#
# The includer sets PORTICO_SDK_ABI_MAJOR and PORTICO_SDK_PLUGIN_INSTALL_DIR first. They are kept as global
# properties: the function runs in its caller's directory scope, where the includer's variables are not
# visible (in the tree, plugins/ is a sibling of sdk/).
include_guard(GLOBAL)
if(CMAKE_VERSION VERSION_LESS 3.18)  # file(CONFIGURE)
  message(FATAL_ERROR "portico_add_plugin needs CMake 3.18 or newer")
endif()

if(NOT DEFINED PORTICO_SDK_ABI_MAJOR OR NOT DEFINED PORTICO_SDK_PLUGIN_INSTALL_DIR)
  message(FATAL_ERROR "PorticoPlugin.cmake: set PORTICO_SDK_ABI_MAJOR and PORTICO_SDK_PLUGIN_INSTALL_DIR first")
endif()
set_property(GLOBAL PROPERTY PORTICO_SDK_ABI_MAJOR "${PORTICO_SDK_ABI_MAJOR}")
set_property(GLOBAL PROPERTY PORTICO_SDK_PLUGIN_INSTALL_DIR "${PORTICO_SDK_PLUGIN_INSTALL_DIR}")

function(portico_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "INSTALL" "DESTINATION;COMPONENT;OUTPUT_DIRECTORY;SDK_TARGET" "SOURCES")
  set(sources ${arg_SOURCES} ${arg_UNPARSED_ARGUMENTS})
  if(NOT name MATCHES "^[a-z0-9_-]+$")
    message(FATAL_ERROR "portico_add_plugin: name \"${name}\" must match [a-z0-9_-]+ (it names the file)")
  endif()
  if(NOT sources)
    message(FATAL_ERROR "portico_add_plugin(${name}): no sources")
  endif()
  get_property(abi_major GLOBAL PROPERTY PORTICO_SDK_ABI_MAJOR)
  set(sdk_target portico::sdk)
  if(arg_SDK_TARGET)
    set(sdk_target ${arg_SDK_TARGET})
  endif()

  # Exactly one exported symbol, whose name carries the ABI major. Written into the build tree so that the map
  # follows the header's major; file(CONFIGURE) rewrites it only when it changes.
  set(map "${CMAKE_BINARY_DIR}/portico-sdk/portico-plugin-v${abi_major}.map")
  file(CONFIGURE OUTPUT "${map}" CONTENT "{\n  global: portico_plugin_v${abi_major};\n  local: *;\n};\n")

  set(target portico-${name})
  add_library(${target} MODULE ${sources})
  target_link_libraries(${target} PRIVATE ${sdk_target})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    OUTPUT_NAME portico-${name}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${map}")
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(CXX IN_LIST languages)
    target_compile_features(${target} PRIVATE cxx_std_17)  # portico/sdk.hpp needs it; C sources ignore it
  endif()
  target_link_options(${target} PRIVATE
    "LINKER:-soname,portico-${name}.so.${abi_major}"
    "LINKER:--version-script=${map}"
    "LINKER:--exclude-libs,ALL")

  # -z defs, except where it cannot hold: clang links the sanitizer runtime into executables only, so an
  # instrumented shared object legitimately leaves __asan_* / __ubsan_* undefined for the host to provide.
  get_directory_property(dir_options COMPILE_OPTIONS)
  set(flags "${CMAKE_C_FLAGS} ${CMAKE_CXX_FLAGS} ${dir_options}")
  if(NOT (flags MATCHES "-fsanitize" AND (CMAKE_CXX_COMPILER_ID MATCHES "Clang" OR CMAKE_C_COMPILER_ID MATCHES "Clang")))
    target_link_options(${target} PRIVATE "LINKER:-z,defs")
  endif()

  if(arg_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${arg_OUTPUT_DIRECTORY}")
  endif()
  if(arg_INSTALL)
    set(destination "${arg_DESTINATION}")
    if(NOT destination)
      get_property(destination GLOBAL PROPERTY PORTICO_SDK_PLUGIN_INSTALL_DIR)
    endif()
    set(component "${arg_COMPONENT}")
    if(NOT component)
      set(component plugin-${name})
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION "${destination}" COMPONENT "${component}")
  endif()
endfunction()
