# smtp_add_c_program(NAME SOURCE file [DEPENDS file...] [AFL_ASAN]
#                    PATH_VAR var COMMENT text)
#
# A small C program the tests run as a peer (a planted-bug server or client
# in a testdata/ directory), built as ${CMAKE_CURRENT_BINARY_DIR}/NAME with
# -O1 -g -Wall into target smtp_NAME, part of ALL. AFL_ASAN builds it with
# AFL++'s compiler (afl-cc, Debian afl++) and AddressSanitizer, for
# `fuzz --spawn` with AFL++ coverage; otherwise the system's cc builds it
# without a sanitizer, so crashes come by signal. SOURCE and DEPENDS are
# relative to the calling directory.
#
# PATH_VAR gets the program's path in the caller's scope even when no
# compiler was found: the tests that take it then fail and say what to
# install, they are never skipped into green.
function(smtp_add_c_program name)
  cmake_parse_arguments(ARG "AFL_ASAN" "SOURCE;PATH_VAR;COMMENT" "DEPENDS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS OR NOT ARG_SOURCE OR NOT ARG_PATH_VAR OR NOT ARG_COMMENT)
    message(FATAL_ERROR "smtp_add_c_program(${name}): SOURCE, PATH_VAR and COMMENT are required "
                        "(unknown: ${ARG_UNPARSED_ARGUMENTS})")
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name})
  set(${ARG_PATH_VAR} ${out} PARENT_SCOPE)
  if(ARG_AFL_ASAN)
    find_program(SMTP_AFL_CC NAMES afl-cc afl-clang-fast)
    if(NOT SMTP_AFL_CC)
      return()
    endif()
    set(compile ${CMAKE_COMMAND} -E env AFL_QUIET=1 AFL_USE_ASAN=1 ${SMTP_AFL_CC})
  else()
    find_program(SMTP_CC NAMES cc gcc clang)
    if(NOT SMTP_CC)
      return()
    endif()
    set(compile ${SMTP_CC})
  endif()
  list(TRANSFORM ARG_DEPENDS PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${compile} -O1 -g -Wall -o ${out} ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE} ${ARG_DEPENDS}
    COMMENT "${ARG_COMMENT}")
  add_custom_target(smtp_${name} ALL DEPENDS ${out})
endfunction()
