# cmake -DDIR=<migrations dir> -DOUT=<file.cc> -P EmbedMigrations.cmake
# Compiles migrations/NNNN_name.sql into the binary, so that `mailvault` carries its schema.
file(GLOB _files ${DIR}/[0-9][0-9][0-9][0-9]_*.sql)
list(SORT _files)
set(_body "")
foreach(_f ${_files})
  get_filename_component(_name ${_f} NAME_WE)
  string(SUBSTRING ${_name} 0 4 _num)
  math(EXPR _ver "${_num}")
  file(READ ${_f} _sql)
  string(APPEND _body "  {${_ver}, \"${_name}\", R\"mvsql(${_sql})mvsql\"},\n")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from migrations/*.sql by cmake/EmbedMigrations.cmake. Do not edit.\n#include \"core/pg/migrations.h\"\n\nnamespace mailvault::pg {\n\nconst std::vector<Migration>& embedded_migrations() {\n  static const std::vector<Migration> kAll = {\n${_body}  };\n  return kAll;\n}\n\n}  // namespace mailvault::pg\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
