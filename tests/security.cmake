# Security building blocks (the issue "Security"): the sealed and signed
# batch envelope, secret key files, values sealed at rest.  Included from
# tests/CMakeLists.txt.
add_executable (test_envelope ${CMAKE_CURRENT_LIST_DIR}/test_envelope.c)
target_include_directories (test_envelope PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_envelope PRIVATE cpsync_protocol)
set_target_properties (test_envelope PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME envelope COMMAND test_envelope)
set_tests_properties (envelope PROPERTIES TIMEOUT 120 LABELS security)

foreach (module keyfile seal)
    add_executable (test_${module} ${CMAKE_CURRENT_LIST_DIR}/test_${module}.c)
    target_include_directories (test_${module} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
    target_link_libraries (test_${module} PRIVATE cpsync_protocol)
    set_target_properties (test_${module} PROPERTIES
        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    add_test (NAME ${module} COMMAND test_${module})
    set_tests_properties (${module} PROPERTIES TIMEOUT 120 LABELS security
        ENVIRONMENT CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR})
endforeach ()

# Enrolment files and the node's key files: cp_enrolment and node_keys.
add_executable (test_enrolment ${CMAKE_CURRENT_LIST_DIR}/test_enrolment.c)
target_include_directories (test_enrolment PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_enrolment PRIVATE cpsync_node)
set_target_properties (test_enrolment PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME enrolment COMMAND test_enrolment)
set_tests_properties (enrolment PROPERTIES TIMEOUT 120 LABELS security
    ENVIRONMENT CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR})

# Security end to end, with real processes: confidentiality on the wire and
# at rest, secret key file modes, revocation of a connected node, unknown
# keys, rotation of every kind of key while batches are in flight.
# Arguments like sync's: binaries, source tree, a directory for its work.
add_test (NAME security
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_security.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (security PROPERTIES TIMEOUT 600 LABELS security)

# The key ceremonies of cpsync-admin (central_admin): a revocation takes
# every key of a municipality, even after a hundred rotations; revocations
# racing rotations from separate processes always hold; the central's last
# transport or data key is not revoked; secrets of keys out of service are
# removed; a node ignores a reply signed with an expired data key and never
# tries an expired transport key (against a central played by the test).
add_executable (test_admin ${CMAKE_CURRENT_LIST_DIR}/test_admin.c)
target_include_directories (test_admin PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries (test_admin PRIVATE cpsync_node cpsync_central)
set_target_properties (test_admin PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test (NAME admin COMMAND test_admin)
set_tests_properties (admin PROPERTIES TIMEOUT 120 LABELS security
    ENVIRONMENT CPSYNC_TEST_TMP=${CMAKE_CURRENT_BINARY_DIR})

# Keys end to end, with real processes: a hundred rotations then a
# revocation (keys table and a running central), secrets searched in the
# daemons' memory, core dumps off, the central's last keys not revoked,
# secret files of expired keys removed.
add_test (NAME keys
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/test_keys.sh
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties (keys PROPERTIES TIMEOUT 120 LABELS security)
