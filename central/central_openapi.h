/*  central_openapi: the OpenAPI 3 description of the central's HTTP API
    (central/openapi.json), built into the program by embed_openapi.cmake
    so that serve has no file to find; served at /openapi.json.           */

#ifndef CENTRAL_OPENAPI_H_INCLUDED
#define CENTRAL_OPENAPI_H_INCLUDED

extern const char central_openapi_json [];

#endif
