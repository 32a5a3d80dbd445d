# The downlink (issue 13, point 2): cp_downlink's entries, a node applying
# them (node_store_apply_downlink) with its cursor and refusal counts, and
# what `cpsync-node status` shows of them; the fuzz corpus of the entry's
# decoder; cpsync-fleet waiting for the downlink.  Included from
# tests/CMakeLists.txt.

add_executable (test_downlink ${CMAKE_CURRENT_LIST_DIR}/test_downlink.c)
target_include_directories (test_downlink PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_downlink PRIVATE cpsync_node PkgConfig::JANSSON PkgConfig::MSGPACK)
set_target_properties (test_downlink PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME downlink COMMAND test_downlink)
set_tests_properties (downlink PROPERTIES TIMEOUT 120 LABELS foundation
    ENVIRONMENT "CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR};CPSYNC_NODE=$<TARGET_FILE:cpsync-node>")

cpsync_fuzz_corpus (downlink foundation)

#  The central's half and delivery, with real processes
add_test (NAME downlink_sync
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_downlink_sync.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (downlink_sync PROPERTIES TIMEOUT 300 LABELS sync)

#  Key announcements over the downlink: rotations while nodes ship
add_test (NAME downlink_keys
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_downlink_keys.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (downlink_keys PROPERTIES TIMEOUT 300 LABELS security)

#  The central's log and what it sends each node, without sockets
add_executable (test_central_downlink ${CMAKE_CURRENT_LIST_DIR}/test_central_downlink.c)
target_include_directories (test_central_downlink PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_central_downlink PRIVATE cpsync_central)
set_target_properties (test_central_downlink PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME central_downlink COMMAND test_central_downlink)
set_tests_properties (central_downlink PROPERTIES TIMEOUT 120 LABELS central
    ENVIRONMENT "CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}")

#  cpsync-fleet waits until every node has applied the entries addressed to it
add_test (NAME fleet_downlink
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_fleet_downlink.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (fleet_downlink PROPERTIES TIMEOUT 300 LABELS sync)
