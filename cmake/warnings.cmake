function(herald_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter
    # GCC 12 misreads Asio's coroutine frame allocator (aligned_alloc + sized delete).
    -Wno-mismatched-new-delete)
endfunction()
