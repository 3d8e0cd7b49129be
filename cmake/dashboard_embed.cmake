# cmake -DHTML=<page> -DTEMPLATE=<dashboard_page.cc.in> -DOUTPUT=<.cc> -P dashboard_embed.cmake
# Writes the page into a C++ raw string. The raw string ends at
# `)HERALD_PAGE"`, so a page containing that text cannot be embedded.
cmake_minimum_required(VERSION 3.25)
file(READ ${HTML} DASHBOARD_HTML)
string(FIND "${DASHBOARD_HTML}" ")HERALD_PAGE\"" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "dashboard: ${HTML} contains )HERALD_PAGE\" (at byte ${at}), which would "
                      "end the C++ raw string it is embedded in; reword that text in web/src")
endif()
configure_file(${TEMPLATE} ${OUTPUT}.tmp @ONLY)
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
