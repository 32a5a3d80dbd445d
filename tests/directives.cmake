# Directives at the node (issue "Downlink", point 4): the receipt made
# when a directive is applied, directive done, the state kept for recover,
# referrals taken up by imported cases; the fuzz corpus of the directive's
# body and of the state a node keeps; and the node's half end to end with
# a central and two nodes.  Included from tests/CMakeLists.txt.

add_executable (test_node_directives ${CMAKE_CURRENT_LIST_DIR}/test_node_directives.c)
target_include_directories (test_node_directives PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_node_directives PRIVATE cpsync_node PkgConfig::MSGPACK)
set_target_properties (test_node_directives PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME node_directives COMMAND test_node_directives)
set_tests_properties (node_directives PROPERTIES TIMEOUT 120 LABELS foundation
    ENVIRONMENT "CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR}")

cpsync_fuzz_corpus (directive_node foundation)

#  What the central holds of a node's reports on a directive, for the
#  shell test (a reader of the central's store, beside the central)
add_executable (directive_report ${CMAKE_CURRENT_LIST_DIR}/directive_report.c)
target_link_libraries (directive_report PRIVATE cpsync_central)

add_test (NAME directives_sync
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_directives.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (directives_sync PROPERTIES TIMEOUT 300 LABELS sync)
