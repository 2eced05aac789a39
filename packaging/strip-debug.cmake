# CPACK_PRE_BUILD_SCRIPTS (packaging/CMakeLists.txt): the packages ship the gateway and the static
# library without their debug info (most of a -O2 -g build's 117 MB gateway) but with their symbol
# tables, so a backtrace still names functions: what the Dockerfile does for the image.
file(GLOB_RECURSE staged LIST_DIRECTORIES false "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*")
foreach(file IN LISTS staged)
  if(file MATCHES "/bin/switchboard$" OR file MATCHES "/libswitchboard_functions\\.a$")
    execute_process(COMMAND "${CPACK_SB_STRIP}" --strip-debug "${file}" RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "strip --strip-debug ${file} failed: ${result}")
    endif()
  endif()
endforeach()
