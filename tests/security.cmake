# Security building blocks (the issue "Security"): the sealed and signed
# batch envelope.  Included from tests/CMakeLists.txt.
add_executable (test_envelope ${CMAKE_CURRENT_LIST_DIR}/test_envelope.c)
target_include_directories (test_envelope PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_envelope PRIVATE cpsync_protocol)
set_target_properties (test_envelope PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME envelope COMMAND test_envelope)
set_tests_properties (envelope PROPERTIES TIMEOUT 120 LABELS security)
