# Turns one file of the dashboard (central/dashboard/) into a C source
# defining NAME, a NUL-terminated array of its bytes (unsigned: the page is UTF-8) declared in
# central_dashboard.h, so that serve has no file to find.  Run by CMake at
# build time with IN, OUT and NAME.
file (READ ${IN} hex HEX)
string (REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file (WRITE ${OUT} "/* Generated from ${IN} by embed_asset.cmake: do not edit. */\n#include \"central_dashboard.h\"\nconst unsigned char ${NAME} [] = {${bytes}0x00};\n")
