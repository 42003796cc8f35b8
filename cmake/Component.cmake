# mailvault_library(NAME DIR [RECURSE] LINKS...): a static library from DIR/*.cc (an INTERFACE
# library while DIR has no sources yet), with alias mailvault::NAME and the repo root as include
# directory, so that includes read "core/mime/parse.h".
function(mailvault_library name dir)
  cmake_parse_arguments(arg "RECURSE" "" "LINKS;PRIVATE_LINKS" ${ARGN})
  if(arg_RECURSE)
    file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  else()
    file(GLOB _srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  endif()
  if(_srcs)
    add_library(mailvault_${name} STATIC ${_srcs})
    target_include_directories(mailvault_${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(mailvault_${name} PRIVATE mailvault::options ${arg_PRIVATE_LINKS}
                          PUBLIC ${arg_LINKS})
  else()
    add_library(mailvault_${name} INTERFACE)
    target_include_directories(mailvault_${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(mailvault_${name} INTERFACE ${arg_LINKS})
  endif()
  add_library(mailvault::${name} ALIAS mailvault_${name})
endfunction()
