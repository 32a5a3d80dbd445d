# Catalogue revisions (issue 13, point 3): a revision reaching a node as a
# downlink entry, and the node's import and views before and after it
# (test_revision); `cpsync-central catalogue publish|list` and their
# refusals (test_catalogue_cli.sh).  Included from tests/CMakeLists.txt.

add_executable (test_revision ${CMAKE_CURRENT_LIST_DIR}/test_revision.c)
target_include_directories (test_revision PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_revision PRIVATE cpsync_node PkgConfig::JANSSON)
set_target_properties (test_revision PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME catalogue_revision COMMAND test_revision)
set_tests_properties (catalogue_revision PROPERTIES TIMEOUT 120 LABELS foundation
    ENVIRONMENT "CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR};CPSYNC_NODE=$<TARGET_FILE:cpsync-node>")

add_test (NAME catalogue_cli
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_catalogue_cli.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (catalogue_cli PROPERTIES TIMEOUT 180 LABELS governance)
