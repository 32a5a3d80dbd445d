# Operations: the systemd units, verified for this build's programs.
# Included from tests/CMakeLists.txt.
add_test (NAME units
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_units.sh
            ${PROJECT_BINARY_DIR}/dist/systemd-test ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (units PROPERTIES TIMEOUT 120 LABELS operations)

# The central's HTTP face (cpsync-central serve, user): every endpoint
# with every role, the 4xx paths, tokens, HTTPS, with real processes.
add_test (NAME http
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_http.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (http PROPERTIES TIMEOUT 600 LABELS operations)

# The dashboard served at /, opened in headless Chromium by each role; its
# figures against the command line's; screenshots in artifacts/.
add_test (NAME dashboard
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_dashboard.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}
            ${PROJECT_BINARY_DIR}/artifacts)
set_tests_properties (dashboard PROPERTIES TIMEOUT 600 LABELS operations)
