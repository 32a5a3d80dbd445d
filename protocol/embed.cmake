# Turns the catalogue JSON files into a C source, so that a node can be set up
# with nothing but its binary.  Run by CMake at build time.
set (out "/* Generated from protocol/catalogue/catalogue-vN.json by embed.cmake: do not edit. */\n#include \"cp_catalogue.h\"\n")
# Version N is catalogue-vN.json; versions are numbered without gaps.
set (index 1)
while (EXISTS ${DIR}/catalogue-v${index}.json)
    set (file ${DIR}/catalogue-v${index}.json)
    file (READ ${file} hex HEX)
    string (REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    string (APPEND out "static const unsigned char s_catalogue_${index}[] = {${bytes}0x00};\n")
    math (EXPR index "${index} + 1")
endwhile ()
math (EXPR count "${index} - 1")
string (APPEND out "const char *const cp_catalogue_builtin[] = {NULL")
foreach (i RANGE 1 ${count})
    string (APPEND out ", (const char *) s_catalogue_${i}")
endforeach ()
string (APPEND out "};\nconst int cp_catalogue_builtin_count = ${count};\n")
file (WRITE ${OUT} "${out}")
