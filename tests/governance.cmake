# Governance tests: the consistency rules of a view (cp_check) on
# hand-made documents, and `cpsync-central check` with real processes on
# the central's own views and on a published table.  Included from
# tests/CMakeLists.txt.

add_executable (test_check ${CMAKE_CURRENT_LIST_DIR}/test_check.c)
target_include_directories (test_check PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_check PRIVATE cpsync_protocol PkgConfig::JANSSON)
set_target_properties (test_check PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME check_rules COMMAND test_check)
set_tests_properties (check_rules PROPERTIES TIMEOUT 60 LABELS governance)

add_test (NAME check
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_check.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (check PROPERTIES TIMEOUT 300 LABELS governance)

add_test (NAME public
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_public.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (public PROPERTIES TIMEOUT 600 LABELS governance)

add_test (NAME quality
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_quality.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (quality PROPERTIES TIMEOUT 300 LABELS governance)

# Workforce coverage: central_workforce's figures from hand-made staffings,
# and staff set / staff list / workforce with real processes.
add_executable (test_workforce ${CMAKE_CURRENT_LIST_DIR}/test_workforce.c)
target_include_directories (test_workforce PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_workforce PRIVATE cpsync_central PkgConfig::JANSSON)
set_target_properties (test_workforce PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME workforce_figures COMMAND test_workforce)
set_tests_properties (workforce_figures PROPERTIES TIMEOUT 60 LABELS governance)
add_test (NAME workforce
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_workforce.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (workforce PROPERTIES TIMEOUT 300 LABELS governance)

#  Published figures, reconciled: FIGURES from the central, the nodes'
#  verdicts, rows changed behind either side's back
add_executable (tamper_month ${CMAKE_CURRENT_LIST_DIR}/tamper_month.c)
target_link_libraries (tamper_month PRIVATE cpsync_protocol)
set_target_properties (tamper_month PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME reconcile
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_reconcile.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (reconcile PROPERTIES TIMEOUT 300 LABELS governance)
