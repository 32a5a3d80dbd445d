# Memory and threads (issue 16, point 4).  Included from tests/CMakeLists.txt.

# Sync end to end with the daemons and imports under valgrind's memcheck
# (tests/test_memcheck.sh): zero errors, no definite leak.  Only where
# valgrind is installed, and not in the sanitizer builds, whose runtimes
# memcheck cannot run.
find_program (CPSYNC_VALGRIND valgrind)
if (CPSYNC_VALGRIND AND NOT CPSYNC_SANITIZE AND NOT CPSYNC_TSAN AND NOT CPSYNC_FUZZ)
    add_test (NAME memcheck_sync
        COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_memcheck.sh
                ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
    set_tests_properties (memcheck_sync PROPERTIES TIMEOUT 300 LABELS memcheck)
endif ()

# The import pipeline over several chunks, so that the parser actor fills
# one while the caller writes the other (scripts/tsan.sh runs it under
# ThreadSanitizer): every line counted once, as imported or rejected.
add_test (NAME import_pipeline
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_import_pipeline.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (import_pipeline PROPERTIES TIMEOUT 300 LABELS foundation)
