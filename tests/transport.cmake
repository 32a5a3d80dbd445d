# Transport hardening (issue 12, points 3, 4 and 6), with real processes on
# loopback: a revoked node cut off, floods that must not grow the central,
# a fault-injecting relay the central must survive.  Included from
# tests/CMakeLists.txt.  Each script takes the binaries, the source tree
# and a directory for its work; the hostile peers are test_transport_client.

add_executable (test_transport_client ${CMAKE_CURRENT_LIST_DIR}/test_transport_client.c)
target_link_libraries (test_transport_client PRIVATE cpsync_node)
set_target_properties (test_transport_client PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_RUNTIME_OUTPUT_DIRECTORY})

foreach (name revoke flood faults)
    add_test (NAME transport_${name}
        COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_transport_${name}.sh
                ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
    set_tests_properties (transport_${name} PROPERTIES TIMEOUT 180 LABELS transport)
    if (CPSYNC_SANITIZE)
        set_tests_properties (transport_${name} PROPERTIES ENVIRONMENT CPSYNC_TEST_SANITIZED=1)
    endif ()
endforeach ()
