# The dashboard (GET /): web/src and the JavaScript client's sources
# (clients/js/src) bundled by esbuild (web/build.mjs) into one self-contained
# HTML page, embedded in the binary as a C++ raw string. It is built at build
# time, not configure time: editing any file of web/src or clients/js/src
# rebuilds the page and recompiles only generated/dashboard_page.cc.
#
#   1. npm ci in web/ when web/node_modules is missing or older than
#      web/package-lock.json (cmake/dashboard_npm_ci.cmake, under a lock:
#      several build trees share web/node_modules);
#   2. node web/build.mjs <binary dir>/generated/dashboard.html;
#   3. cmake/dashboard_embed.cmake writes generated/dashboard_page.cc from
#      cmake/dashboard_page.cc.in (and refuses a page that contains the raw
#      string's delimiter).
#
# herald_dashboard_page(OUT_VAR): sets OUT_VAR to the generated .cc file.

find_program(HERALD_NODE node)
find_program(HERALD_NPM npm)
if(NOT HERALD_NODE OR NOT HERALD_NPM)
  message(FATAL_ERROR "The dashboard is built with Node.js and npm (web/build.mjs); "
                      "install them (scripts/install-deps does).")
endif()

function(herald_dashboard_page out_var)
  set(root ${PROJECT_SOURCE_DIR})
  set(web ${root}/web)
  set(html ${PROJECT_BINARY_DIR}/generated/dashboard.html)
  set(cc ${PROJECT_BINARY_DIR}/generated/dashboard_page.cc)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${web}/src/* ${root}/clients/js/src/*)
  add_custom_command(
    OUTPUT ${cc} ${html}
    COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${web} -DNPM=${HERALD_NPM}
            -P ${root}/cmake/dashboard_npm_ci.cmake
    COMMAND ${HERALD_NODE} ${web}/build.mjs ${html}
    COMMAND ${CMAKE_COMMAND} -DHTML=${html} -DTEMPLATE=${root}/cmake/dashboard_page.cc.in
            -DOUTPUT=${cc} -P ${root}/cmake/dashboard_embed.cmake
    DEPENDS ${sources} ${web}/build.mjs ${web}/tsconfig.json ${web}/package.json
            ${web}/package-lock.json ${root}/cmake/dashboard_page.cc.in
            ${root}/cmake/dashboard_npm_ci.cmake ${root}/cmake/dashboard_embed.cmake
    COMMENT "Building the dashboard (web/build.mjs)"
    VERBATIM)
  set(${out_var} ${cc} PARENT_SCOPE)
endfunction()
