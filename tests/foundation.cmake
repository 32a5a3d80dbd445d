# Foundation tests: the protocol modules (dates, catalogue, events, cases and
# views) as C programs, and the node's command line as a shell script.
# Included from tests/CMakeLists.txt.  Each test program is one ctest with a
# timeout; the programs stay in the tests' binary directory, out of bin/.

foreach (module date catalogue event case case_log suppress)
    add_executable (test_${module} ${CMAKE_CURRENT_LIST_DIR}/test_${module}.c)
    target_include_directories (test_${module} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
    target_link_libraries (test_${module} PRIVATE cpsync_protocol)
    set_target_properties (test_${module} PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    add_test (NAME ${module} COMMAND test_${module})
    set_tests_properties (${module} PROPERTIES TIMEOUT 120 LABELS foundation)
endforeach ()

# The node's import, view and status commands, driven through the binary.
# Arguments: the binary, and a directory under which the script makes (and
# removes) its own temporary directory.
find_program (CPSYNC_BASH bash REQUIRED)
add_test (NAME node_import
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_import.sh
            $<TARGET_FILE:cpsync-node> ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (node_import PROPERTIES TIMEOUT 600 LABELS foundation)
