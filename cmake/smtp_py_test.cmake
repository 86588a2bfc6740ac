# smtp_add_py_test(NAME SCRIPT script [ARGS arg...] LABELS label... TIMEOUT seconds
#                  [SYSTEM_PYTHON] [RUN_SERIAL] [SKIP_RETURN_CODE code] [PROCESSORS n]
#                  [FIXTURES_REQUIRED fixture...] [FIXTURES_SETUP fixture...]
#                  [RESOURCE_LOCK resource...])
#
# One Python test script registered with ctest: the command is the
# interpreter, SCRIPT, then ARGS; the working directory is the calling
# CMakeLists' binary directory, as add_test gives it. Every test has LABELS
# and a TIMEOUT (a test that hangs is cut, never waited for); the other
# keywords are the ctest properties of the same names.
#
# The interpreter is ${Python3_EXECUTABLE}; SYSTEM_PYTHON runs /usr/bin/python3
# instead (Debian's interpreter, whose packages such as aiosmtpd a pyenv
# interpreter lacks), as the tests that name it have always run.
if(SMTP_BUILD_TESTS)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
endif()

function(smtp_add_py_test name)
  cmake_parse_arguments(ARG "SYSTEM_PYTHON;RUN_SERIAL"
                        "SCRIPT;TIMEOUT;SKIP_RETURN_CODE;PROCESSORS"
                        "ARGS;LABELS;FIXTURES_REQUIRED;FIXTURES_SETUP;RESOURCE_LOCK" ${ARGN})
  if(NOT SMTP_BUILD_TESTS)
    return()
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "smtp_add_py_test(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SCRIPT OR NOT ARG_LABELS OR NOT ARG_TIMEOUT)
    message(FATAL_ERROR "smtp_add_py_test(${name}): SCRIPT, LABELS and TIMEOUT are required")
  endif()
  if(ARG_SYSTEM_PYTHON)
    set(python /usr/bin/python3)
  else()
    set(python ${Python3_EXECUTABLE})
  endif()
  add_test(NAME ${name} COMMAND ${python} ${ARG_SCRIPT} ${ARG_ARGS})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
  foreach(property FIXTURES_REQUIRED FIXTURES_SETUP RESOURCE_LOCK SKIP_RETURN_CODE PROCESSORS)
    if(DEFINED ARG_${property})
      set_tests_properties(${name} PROPERTIES ${property} "${ARG_${property}}")
    endif()
  endforeach()
  if(ARG_RUN_SERIAL)
    set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE)
  endif()
endfunction()
