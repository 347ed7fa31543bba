# The runtime's modules (one folder of runtime/ each) and the layers they may
# use. movl_layer() makes a static library per module that links only the
# modules named in DEPS, and compiles it against an include folder holding
# exactly those modules (and what they use in turn): an #include of a module
# that is not below this one is "No such file" at build time.
#
# Public headers are included with their folder ("encoder/encoder.h");
# private ones are named *_internal.h and are included only from their own
# folder (tools/check_layers.sh checks that and the table below).

set(MOVL_LAYER_ROOT ${CMAKE_BINARY_DIR}/layers)
set(MOVL_LAYER_NAMES "")

# The folders (relative to runtime/) a module may include: its own and those
# of every module it depends on, directly or not.
function(movl_layer_closure name out)
  set(dirs ${MOVL_LAYER_DIR_${name}})
  foreach(dep IN LISTS MOVL_LAYER_DEPS_${name})
    movl_layer_closure(${dep} sub)
    list(APPEND dirs ${sub})
  endforeach()
  list(REMOVE_DUPLICATES dirs)
  set(${out} ${dirs} PARENT_SCOPE)
endfunction()

# Makes MOVL_LAYER_ROOT/NAME/ with a link per allowed folder (a folder whose
# parent is also allowed comes with its parent).
function(movl_layer_include_farm name dirs out)
  set(farm ${MOVL_LAYER_ROOT}/${name})
  file(REMOVE_RECURSE ${farm})
  file(MAKE_DIRECTORY ${farm})
  foreach(d IN LISTS dirs)
    set(covered 0)
    foreach(other IN LISTS dirs)
      string(FIND "${d}" "${other}/" at)
      if(at EQUAL 0)
        set(covered 1)
      endif()
    endforeach()
    if(NOT covered)
      get_filename_component(parent ${farm}/${d} DIRECTORY)
      file(MAKE_DIRECTORY ${parent})
      file(CREATE_LINK ${CMAKE_SOURCE_DIR}/runtime/${d} ${farm}/${d} SYMBOLIC)
    endif()
  endforeach()
  set(${out} ${farm} PARENT_SCOPE)
endfunction()

# movl_layer(NAME DIR folder [DEPS module...] [EXTRA_SOURCES file...] [LIBS lib...])
function(movl_layer name)
  cmake_parse_arguments(L "" "DIR" "DEPS;EXTRA_SOURCES;LIBS" ${ARGN})
  set(MOVL_LAYER_DIR_${name} ${L_DIR} CACHE INTERNAL "")
  set(MOVL_LAYER_DEPS_${name} ${L_DEPS} CACHE INTERNAL "")
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/runtime/${L_DIR}/*.c)
  add_library(movl_${name} STATIC ${srcs} ${L_EXTRA_SOURCES})
  movl_layer_closure(${name} dirs)
  movl_layer_include_farm(${name} "${dirs}" farm)
  target_include_directories(movl_${name} PRIVATE ${farm})
  set(deps "")
  foreach(dep IN LISTS L_DEPS)
    list(APPEND deps movl_${dep})
  endforeach()
  target_link_libraries(movl_${name} PUBLIC ${deps} ${L_LIBS})
  set_property(GLOBAL APPEND PROPERTY MOVL_LAYERS ${name})
  # For tools/check_layers.sh: "name folder include-folder".
  file(APPEND ${MOVL_LAYER_ROOT}.txt "${name} ${L_DIR} ${farm}\n")
endfunction()
