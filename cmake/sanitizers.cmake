# HERALD_SANITIZE=address,undefined or HERALD_SANITIZE=thread builds every
# target with that sanitizer (make test builds both in their own trees).
set(HERALD_SANITIZE "" CACHE STRING "Sanitizers to build with (address,undefined | thread)")
if(HERALD_SANITIZE)
  add_compile_options(-fsanitize=${HERALD_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${HERALD_SANITIZE})
  if(HERALD_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
