# Node tests: the node's store driven through node_store.h (and its LMDB
# environment read directly for the confidentiality of the indexes), and
# the node's command line under faults: a full disk, SIGKILL during an
# import, a corrupt data file.  Included from tests/CMakeLists.txt.

add_executable (test_node_store ${CMAKE_CURRENT_LIST_DIR}/test_node_store.c)
target_include_directories (test_node_store PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_node_store PRIVATE cpsync_node PkgConfig::LMDB)
set_target_properties (test_node_store PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME node_store COMMAND test_node_store)
set_tests_properties (node_store PROPERTIES
    TIMEOUT 300 LABELS foundation ENVIRONMENT CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR})

# Arguments: the binary, the event generator, and a directory under which
# the script makes (and removes) its own temporary directory.
add_test (NAME node_faults
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_node_faults.sh
            $<TARGET_FILE:cpsync-node> $<TARGET_FILE:gen_events> ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (node_faults PROPERTIES TIMEOUT 300 LABELS foundation)

# The sync actor against a central played by the test: a window never
# acknowledged while PINGs are answered, HELLOs never answered.
add_executable (test_node_sync ${CMAKE_CURRENT_LIST_DIR}/test_node_sync.c)
target_include_directories (test_node_sync PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_node_sync PRIVATE cpsync_node cpsync_central)
set_target_properties (test_node_sync PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME node_sync COMMAND test_node_sync)
#  COST: the longest of the ThreadSanitizer pass (scripts/tsan.sh), started
#  first there when ctest has no timings of its own yet (a fresh clone).
set_tests_properties (node_sync PROPERTIES
    TIMEOUT 120 LABELS sync COST 60 ENVIRONMENT CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR})
