# Unit tests of the protocol modules behind the views: the month counters
# (cp_tally), the view and its printed forms (cp_view), the municipalities
# and scopes (cp_municipality).  Included from tests/CMakeLists.txt.  Each
# program is one ctest with a timeout and stays in the tests' binary
# directory, out of bin/.

foreach (module tally view municipality)
    add_executable (test_${module} ${CMAKE_CURRENT_LIST_DIR}/test_${module}.c)
    target_include_directories (test_${module} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
    target_link_libraries (test_${module} PRIVATE cpsync_protocol)
    set_target_properties (test_${module} PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    add_test (NAME ${module} COMMAND test_${module})
    set_tests_properties (${module} PROPERTIES TIMEOUT 120 LABELS foundation)
endforeach ()

# test_view reads its JSON back with jansson.
target_link_libraries (test_view PRIVATE PkgConfig::JANSSON)

# The embedded list is compared with the copy in tests/data.  The path goes
# through the environment: the harness takes argv[1] as a test name.
set_tests_properties (municipality PROPERTIES
    ENVIRONMENT CPSYNC_MUNICIPALITIES=${CMAKE_CURRENT_LIST_DIR}/data/municipalities.csv)
