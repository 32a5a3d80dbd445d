# Directives (issue "Downlink", point 4, the central's half): the body of
# a directive entry (cp_directive) with its fuzz corpus; the states the
# central gives each municipality's copy of a directive
# (central_directives); `cpsync-central directive send` and `list` with
# real processes.  Included from tests/CMakeLists.txt.

add_executable (test_directive ${CMAKE_CURRENT_LIST_DIR}/test_directive.c)
target_include_directories (test_directive PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_directive PRIVATE cpsync_protocol)
set_target_properties (test_directive PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME directive COMMAND test_directive)
set_tests_properties (directive PROPERTIES TIMEOUT 120 LABELS foundation)

cpsync_fuzz_corpus (directive foundation)

#  The states of a directive at each municipality, from what the nodes
#  report through the store, and the durable downlink cursor
add_executable (test_central_directives ${CMAKE_CURRENT_LIST_DIR}/test_central_directives.c)
target_include_directories (test_central_directives PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_central_directives PRIVATE cpsync_central PkgConfig::JANSSON
                       PkgConfig::MSGPACK)
set_target_properties (test_central_directives PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME central_directives COMMAND test_central_directives)
set_tests_properties (central_directives PROPERTIES TIMEOUT 120 LABELS central
    ENVIRONMENT "CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}")

#  directive send and list with real processes: every bad input refused,
#  sent → delivered, a node offline while directives are sent
add_test (NAME directive_sync
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_directive_sync.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (directive_sync PROPERTIES TIMEOUT 300 LABELS sync)
