# SPDX-License-Identifier: BSD-2-Clause
# cmake -DPROGRAM=… -DTEMPLATE=….in -DPAGE=… -DVERSION=… -P render_man.cmake
# Puts `PROGRAM --help` into the template as @HELP@, escaped for roff.
execute_process(COMMAND ${PROGRAM} --help OUTPUT_VARIABLE HELP RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} --help exited with ${rc}")
endif()
string(REPLACE "\\" "\\e" HELP "${HELP}")
string(REPLACE "-" "\\-" HELP "${HELP}")
# A line starting with . or ' would be a roff request.
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" HELP "${HELP}")
string(REGEX REPLACE "\n+$" "" HELP "${HELP}")
configure_file(${TEMPLATE} ${PAGE} @ONLY)
