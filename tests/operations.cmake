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

# The daemons' configuration files (cp_config): run and serve started
# from a file, a flag over a key, every refusal of a file (exit 2,
# nothing started), SIGHUP changing a running node's log level; and the
# decoder's fuzz corpus.
add_test (NAME config
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_config.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (config PROPERTIES TIMEOUT 300 LABELS operations)
cpsync_fuzz_corpus (config operations)

# The daemons' metrics: serve's GET /metrics and the node's textfile,
# checked by promtool and against nodes, stats and status, as events flow.
add_test (NAME metrics
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_metrics.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (metrics PROPERTIES TIMEOUT 300 LABELS operations)

# cp_config's decoder and command line, and cp_metrics' escaping.
add_executable (test_cp_config test_cp_config.c)
target_link_libraries (test_cp_config PRIVATE cpsync_protocol)
set_target_properties (test_cp_config PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME config_file COMMAND test_cp_config)
set_tests_properties (config_file PROPERTIES TIMEOUT 120 LABELS operations)

# The command line of every program (protocol/cp_cli): help everywhere,
# foreign flags and bad numbers refused by name, the docs' commands.
add_test (NAME cli
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_cli.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (cli PROPERTIES TIMEOUT 120 LABELS operations)

# cpsync-central export into a PostgreSQL 15 server the test starts itself,
# and to CSV, checked against query, quality, workforce and directive list.
add_test (NAME export
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_export.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (export PROPERTIES TIMEOUT 600 LABELS operations)

# cp_cli's parser alone, on a table of the test's own.
add_executable (test_cli_parse ${CMAKE_CURRENT_LIST_DIR}/test_cli_parse.c)
target_include_directories (test_cli_parse PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_cli_parse PRIVATE cpsync_protocol)
set_target_properties (test_cli_parse PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME cli_parse COMMAND test_cli_parse)
set_tests_properties (cli_parse PROPERTIES TIMEOUT 60 LABELS operations)

# run's catch-up line on a terminal (script(1) makes one), and none when
# stderr is a file.
add_test (NAME progress
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_progress.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (progress PROPERTIES TIMEOUT 300 LABELS operations)
