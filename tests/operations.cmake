# Operations: the systemd units, verified for this build's programs.
# Included from tests/CMakeLists.txt.
add_test (NAME units
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_units.sh
            ${PROJECT_BINARY_DIR}/dist/systemd-test ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (units PROPERTIES TIMEOUT 120 LABELS operations)
