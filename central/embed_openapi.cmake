# Turns central/openapi.json into a C source (central_openapi_json), so
# that cpsync-central serve needs no file beside it.  Run by CMake at
# build time with IN and OUT.
file (READ ${IN} hex HEX)
string (REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file (WRITE ${OUT} "/* Generated from central/openapi.json by embed_openapi.cmake: do not edit. */\n#include \"central_openapi.h\"\nconst char central_openapi_json [] = {${bytes}0x00};\n")
