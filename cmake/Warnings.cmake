# mailvault_options: the INTERFACE target every mailvault target links PRIVATE.
# Warnings, language level and sanitizers live here and nowhere else.
add_library(mailvault_options INTERFACE)
add_library(mailvault::options ALIAS mailvault_options)
target_compile_features(mailvault_options INTERFACE cxx_std_20)
target_compile_options(mailvault_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2 -Wcast-qual)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 at -O2 reports maybe-uninitialized through std::variant/std::optional moves of
  # fully initialised aggregates (GCC bugs 105562, 107138); the warning is noise there.
  target_compile_options(mailvault_options INTERFACE -Wno-maybe-uninitialized)
endif()
if(MAILVAULT_WERROR)
  target_compile_options(mailvault_options INTERFACE -Werror)
endif()
if(MAILVAULT_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_compile_options(mailvault_options INTERFACE ${_san} -D_GLIBCXX_ASSERTIONS)
  target_link_options(mailvault_options INTERFACE ${_san})
endif()
