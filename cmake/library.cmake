# libheadmap: every room's objects in one static and one shared library. The shared library's ABI
# is the C API alone (include/headmap/headmap.h): hidden visibility everywhere, and a version
# script that keeps only hm_ symbols global. Installs headers, both libraries, the CMake package
# (headmap::headmap, headmap::headmap_static), headmap.pc, the CLI and the default model files.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The header's version macros must say what project() says.
file(STRINGS ${PROJECT_SOURCE_DIR}/include/headmap/headmap.h version_lines
     REGEX "^#define HEADMAP_VERSION_(MAJOR|MINOR|PATCH) ")
string(REGEX REPLACE ".*MAJOR ([0-9]+);.*MINOR ([0-9]+);.*PATCH ([0-9]+).*" "\\1.\\2.\\3"
       header_version "${version_lines}")
if(NOT header_version VERSION_EQUAL PROJECT_VERSION)
  message(FATAL_ERROR "include/headmap/headmap.h says ${header_version}, project() says "
                      "${PROJECT_VERSION}: change both")
endif()

# The CUDA backend is not among them: it is the module libheadmap_cuda.so (engine/CMakeLists.txt),
# which the engine opens only when a CUDA device is asked for.
set(HEADMAP_ROOMS headmap_tokenizer headmap_kernels_cpu headmap_modelfiles headmap_engine
    headmap_viz)
set(HEADMAP_OBJECTS)
foreach(room ${HEADMAP_ROOMS})
  list(APPEND HEADMAP_OBJECTS $<TARGET_OBJECTS:${room}>)
endforeach()
# The per-instruction-set objects (kernels/CMakeLists.txt, viz/CMakeLists.txt) are object
# libraries of their own, which TARGET_OBJECTS of headmap_kernels_cpu and headmap_viz do not list;
# the rooms that make them list them in the global property HEADMAP_ISA_OBJECT_LIBRARIES.
get_property(isa_libraries GLOBAL PROPERTY HEADMAP_ISA_OBJECT_LIBRARIES)
foreach(library ${isa_libraries})
  list(APPEND HEADMAP_OBJECTS $<TARGET_OBJECTS:${library}>)
endforeach()

# What libheadmap needs at link time besides its own objects.
set(HEADMAP_PRIVATE_LIBS Threads::Threads ${CMAKE_DL_LIBS})

add_library(headmap_shared SHARED ${HEADMAP_OBJECTS})
add_library(headmap_static STATIC ${HEADMAP_OBJECTS})
foreach(target headmap_shared headmap_static)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME headmap
                        ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib
                        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
  target_include_directories(${target} INTERFACE
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
set_target_properties(headmap_shared PROPERTIES VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
                      EXPORT_NAME headmap)
set_target_properties(headmap_static PROPERTIES EXPORT_NAME headmap_static)
target_link_libraries(headmap_shared PRIVATE ${HEADMAP_PRIVATE_LIBS})
target_link_options(headmap_shared PRIVATE
  -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/headmap.map -Wl,--exclude-libs,ALL
  -Wl,--no-undefined)
set_property(TARGET headmap_shared APPEND PROPERTY LINK_DEPENDS
             ${PROJECT_SOURCE_DIR}/cmake/headmap.map)
# The static library's users link what its objects need; plain names, so that the installed
# package names no path of this machine.
# OpenBLAS is not among them: the kernels open it at run time (kernels/cpu/blas.h).
set(HEADMAP_STATIC_LINK pthread stdc++ m)
if(CMAKE_DL_LIBS)
  list(APPEND HEADMAP_STATIC_LINK ${CMAKE_DL_LIBS})
endif()
target_link_libraries(headmap_static INTERFACE
  $<BUILD_INTERFACE:${HEADMAP_PRIVATE_LIBS}> $<INSTALL_INTERFACE:${HEADMAP_STATIC_LINK}>)
target_compile_definitions(headmap_static INTERFACE HEADMAP_STATIC)
add_library(headmap::headmap ALIAS headmap_shared)
add_library(headmap::headmap_static ALIAS headmap_static)

install(FILES include/headmap/headmap.h include/headmap/headmap.hpp include/headmap/error.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/headmap)
install(TARGETS headmap_shared headmap_static EXPORT headmapTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(HEADMAP_HAVE_CUDA)
  # Beside libheadmap, where the engine looks for it (engine/cuda_forward.cpp).
  add_dependencies(headmap_shared headmap_cuda)
  add_dependencies(headmap_static headmap_cuda)
  install(TARGETS headmap_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(EXPORT headmapTargets NAMESPACE headmap:: FILE headmapTargets.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/headmap)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/headmapConfig.cmake.in
  ${CMAKE_BINARY_DIR}/headmapConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/headmap)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/headmapConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/headmapConfig.cmake ${CMAKE_BINARY_DIR}/headmapConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/headmap)
string(JOIN " -l" HEADMAP_PC_PRIVATE "" ${HEADMAP_STATIC_LINK})
# headmap.pc finds its prefix from where it lies, so an installed tree can be moved.
file(RELATIVE_PATH HEADMAP_PC_UP "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
configure_file(${PROJECT_SOURCE_DIR}/cmake/headmap.pc.in ${CMAKE_BINARY_DIR}/headmap.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/headmap.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# The default model and the real tokenizer files: found beside the library and the CLI
# (engine/model_files.h, weights_dirs).
install(DIRECTORY weights/gpt2-tiny-headmap weights/gpt2 weights/bert-base-uncased
        DESTINATION ${CMAKE_INSTALL_DATADIR}/headmap/weights)
