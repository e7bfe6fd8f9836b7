# `cmake --install BUILD --prefix P`: the program, libddpm, its public headers (P/include/ddpm/FOLDER/*.h,
# the source tree's folders), the shipped models (P/share/ddpm/models) and the CMake package
# (find_package(ddpm) gives ddpm::ddpm). `cpack -G DEB` in BUILD makes two Debian packages of the same
# files: ddpm (program, library, models) and libddpm-dev (headers and CMake package). docs/LIBRARY.md.
include(CMakePackageConfigHelpers)

install(TARGETS ddpm_lib EXPORT ddpmTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT development)
install(TARGETS ddpm RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/ddpm/models COMPONENT runtime
  FILES_MATCHING PATTERN "*.safetensors" PATTERN "README.md")
install(FILES ${PROJECT_SOURCE_DIR}/bench/pytorch_fashion.py DESTINATION ${CMAKE_INSTALL_DATADIR}/ddpm/bench
  COMPONENT runtime)

# Every header of the public folders but the few only the library's own sources include (they use its
# private dependencies); scripts/check-install compiles all the installed ones against the package.
set(DDPM_PRIVATE_HEADERS config_fields.h)
foreach(folder ${DDPM_PUBLIC_FOLDERS})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/ddpm/${folder} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ddpm
    COMPONENT development FILES_MATCHING PATTERN "*.h" PATTERN ${DDPM_PRIVATE_HEADERS} EXCLUDE)
endforeach()
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/generated/ddpm/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ddpm
  COMPONENT development)

set(DDPM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ddpm)
install(EXPORT ddpmTargets NAMESPACE ddpm:: DESTINATION ${DDPM_CMAKE_DIR} COMPONENT development)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ddpmConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/ddpmConfig.cmake INSTALL_DESTINATION ${DDPM_CMAKE_DIR})
# 0.x: a new minor version may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ddpmConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ddpmConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/ddpmConfigVersion.cmake
  DESTINATION ${DDPM_CMAKE_DIR} COMPONENT development)

# Debian packages. The runtime one's dependencies are read from the binaries (dpkg-shlibdeps); the
# development one adds what building against the headers needs.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ddpm)
set(CPACK_PACKAGE_VENDOR "the ddpm developers")
set(CPACK_PACKAGE_CONTACT "ddpm developers <ddpm@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Denoising Diffusion Probabilistic Models on LibTorch")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ddpm)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
# Beyond the linked libraries: PLplot's PNG driver is a plugin it loads (the figures of `ddpm gmm`, `demo`,
# `plot`); OpenBLAS makes LibTorch's BLAS ~25x faster than the reference one; Fashion-MNIST is the default
# training data and the test split of `ddpm eval --metric fid`.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "plplot-driver-cairo")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS "libopenblas0-pthread, dataset-fashion-mnist")
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "Denoising Diffusion Probabilistic Models on LibTorch: the ddpm program
 Trains and samples DDPMs (Ho et al. 2020) from the command line, with the shipped Fashion-MNIST models.")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libddpm-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "ddpm (= ${PROJECT_VERSION}), libtorch-dev, nlohmann-json3-dev")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION "Denoising Diffusion Probabilistic Models on LibTorch: C++ headers and CMake package
 find_package(ddpm) gives the target ddpm::ddpm (docs/LIBRARY.md).")
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
include(CPack)
