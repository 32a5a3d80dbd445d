# Central tests: the central's store driven with hand-built batches, and the
# server actor driven over a real socket by a raw DEALER.  Included from
# tests/CMakeLists.txt.  Each program is one ctest with a timeout; the
# programs stay in the tests' binary directory, out of bin/.

foreach (module central_store central_wire central_publications)
    add_executable (test_${module} ${CMAKE_CURRENT_LIST_DIR}/test_${module}.c)
    target_include_directories (test_${module} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
    target_link_libraries (test_${module} PRIVATE cpsync_central)
    set_target_properties (test_${module} PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    add_test (NAME ${module} COMMAND test_${module})
    #  A case that hangs has its stacks printed (tests/testing.h) well
    #  before ctest's timeout kills the program, gdb's time included.
    target_compile_definitions (test_${module} PRIVATE TESTING_CASE_SECONDS=150)
    set_tests_properties (${module} PROPERTIES TIMEOUT 600 LABELS central)
endforeach ()
add_executable (test_wire ${CMAKE_CURRENT_LIST_DIR}/test_wire.c)
target_include_directories (test_wire PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_wire PRIVATE cpsync_protocol PkgConfig::MSGPACK)
set_target_properties (test_wire PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME wire COMMAND test_wire)
set_tests_properties (wire PROPERTIES TIMEOUT 120 LABELS sync)

# A BATCH's frames (cp_batch): made, read and opened, and every refusal.
add_executable (test_batch ${CMAKE_CURRENT_LIST_DIR}/test_batch.c)
target_include_directories (test_batch PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_batch PRIVATE cpsync_protocol)
set_target_properties (test_batch PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME batch COMMAND test_batch)
set_tests_properties (batch PROPERTIES TIMEOUT 120 LABELS sync)
