# Finds every outside library sqlift uses. All come from Debian 12 packages, installed by
# deploy/install-deps.sh; a missing one stops the configure step with the package to install.

include(CheckLibraryExists)
find_package(PkgConfig QUIET)

function(sqlift_missing what debian_package)
  message(FATAL_ERROR
    "sqlift: ${what} not found. Install the Debian package '${debian_package}' "
    "(or run deploy/install-deps.sh, which installs every dependency).")
endfunction()

macro(sqlift_find_config name debian_package)
  find_package(${name} ${ARGN} CONFIG QUIET)
  if(NOT ${name}_FOUND)
    sqlift_missing(${name} ${debian_package})
  endif()
endmacro()

find_package(Threads REQUIRED)

find_package(SQLite3 QUIET)
if(NOT SQLite3_FOUND)
  sqlift_missing("SQLite3" libsqlite3-dev)
endif()
# The recorder needs the session extension. Debian builds libsqlite3 with it; a library
# without it would only fail at link time, so say so here.
check_library_exists(sqlite3 sqlite3session_create "" SQLIFT_SQLITE_HAS_SESSION)
if(NOT SQLIFT_SQLITE_HAS_SESSION)
  message(FATAL_ERROR "sqlift: the SQLite library has no session extension "
                      "(SQLITE_ENABLE_SESSION); use Debian's libsqlite3-dev")
endif()

if(NOT PkgConfig_FOUND)
  sqlift_missing("pkg-config" pkg-config)
endif()
pkg_check_modules(LIBPQ QUIET IMPORTED_TARGET libpq)
if(NOT LIBPQ_FOUND)
  sqlift_missing("libpq" libpq-dev)
endif()

find_package(Protobuf QUIET)
if(NOT Protobuf_FOUND)
  sqlift_missing("Protocol Buffers" "libprotobuf-dev protobuf-compiler")
endif()
if(NOT Protobuf_PROTOC_EXECUTABLE)
  sqlift_missing("protoc" protobuf-compiler)
endif()

sqlift_find_config(RocksDB librocksdb-dev)
sqlift_find_config(fmt libfmt-dev)
sqlift_find_config(spdlog libspdlog-dev)
sqlift_find_config(CLI11 libcli11-dev)
sqlift_find_config(tomlplusplus libtomlplusplus-dev)
sqlift_find_config(Boost libboost-dev 1.74)
sqlift_find_config(nlohmann_json nlohmann-json3-dev 3)

find_package(OpenSSL QUIET)
if(NOT OpenSSL_FOUND)
  sqlift_missing("OpenSSL" libssl-dev)
endif()

find_package(GTest QUIET)
if(NOT GTest_FOUND)
  sqlift_missing("GoogleTest" "libgtest-dev libgmock-dev")
endif()
sqlift_find_config(benchmark libbenchmark-dev)
