# Backups (issue "Recovery", point 3): cp_backup's file format and restore
# rules, its fuzz corpus replayed, and backup / restore end to end with
# real processes.  Included from tests/CMakeLists.txt.

add_executable (test_backup ${CMAKE_CURRENT_LIST_DIR}/test_backup.c)
target_include_directories (test_backup PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_backup PRIVATE cpsync_protocol)
set_target_properties (test_backup PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME backup_file COMMAND test_backup)
set_tests_properties (backup_file PROPERTIES TIMEOUT 120 LABELS recovery
    ENVIRONMENT CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR})

# The reader of backup files is a decoder of untrusted input: its fuzz
# target, and the saved corpus replayed as an ordinary test.
add_executable (replay_backup ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_backup.c
                              ${CMAKE_CURRENT_LIST_DIR}/fuzz/replay.c)
target_link_libraries (replay_backup PRIVATE cpsync_protocol)
set_target_properties (replay_backup PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME fuzz_backup_corpus
    COMMAND replay_backup ${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus/backup)
set_tests_properties (fuzz_backup_corpus PROPERTIES TIMEOUT 120 LABELS recovery)
if (CPSYNC_FUZZ)
    add_executable (fuzz_backup ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_backup.c)
    target_compile_options (fuzz_backup PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options (fuzz_backup PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries (fuzz_backup PRIVATE cpsync_protocol)
endif ()

# Backup and restore with real processes: hot backups while the daemons run
# and events are imported, nothing in the clear, every refusal changing
# nothing, views given back.  Arguments like sync's: binaries, source
# tree, a directory for its work.
add_test (NAME backup
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_backup.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (backup PROPERTIES TIMEOUT 240 LABELS recovery)
