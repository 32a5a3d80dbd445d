# The hostile-input catalogue (issue 16, point 3): one ctest per case,
# hostile_<case>, label hostile.  tests/hostile/hostile.sh plays each case
# against real daemons set up once by the fixture hostile_setup (an
# enrolled central, a node that has shipped, an attacker's keys), which
# every case copies; tests/hostile/hostile_peer speaks the wire as an
# attacker.  Included from tests/CMakeLists.txt.

add_executable (hostile_peer ${CMAKE_CURRENT_LIST_DIR}/hostile_peer.c)
target_link_libraries (hostile_peer PRIVATE cpsync_node)
set_target_properties (hostile_peer PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_RUNTIME_OUTPUT_DIRECTORY})

set (CPSYNC_HOSTILE_CASES
    # wire: frames, sizes and msgpack before the envelope is opened
    frames_two frames_many frames_none header_truncated header_trailing header_garbage
    header_oversized header_gigabytes header_nesting header_type signature_oversized
    frame_over_limit signature_short command_unknown command_empty hello_garbage
    hello_version batch_before_hello ping_garbage
    # wire: payloads that pass the signature and reach the decoder
    payload_gigabytes payload_nesting payload_type payload_trailing payload_truncated
    payload_count
    # envelopes
    tamper_payload tamper_tag tamper_signature tamper_header wrong_signer wrong_seal
    replay reorder replay_rotated
    # keys
    unknown_key wrong_server revoked expired impersonate_hello impersonate_batch
    other_node_key rotation_midflight
    # storage
    kill_node_import kill_central_apply map_full corrupt_central corrupt_node
    truncated_central stale_reader
    # time
    clock_ahead clock_behind
    # operators
    bad_flag bad_listen bad_config_key bad_config_value reload_bad_config
)

set (s_hostile_dir ${CMAKE_CURRENT_BINARY_DIR}/hostile)
add_test (NAME hostile_setup
    COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/hostile.sh setup
            ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${s_hostile_dir})
set_tests_properties (hostile_setup PROPERTIES TIMEOUT 180 LABELS hostile
    FIXTURES_SETUP hostile)
foreach (case ${CPSYNC_HOSTILE_CASES})
    add_test (NAME hostile_${case}
        COMMAND ${CPSYNC_BASH} ${CMAKE_CURRENT_LIST_DIR}/hostile.sh ${case}
                ${CMAKE_RUNTIME_OUTPUT_DIRECTORY} ${PROJECT_SOURCE_DIR} ${s_hostile_dir})
    set_tests_properties (hostile_${case} PROPERTIES TIMEOUT 60 LABELS hostile
        FIXTURES_REQUIRED hostile)
endforeach ()
# The kills ship a large backlog after the kill
set_tests_properties (hostile_kill_node_import hostile_kill_central_apply PROPERTIES TIMEOUT 180)
