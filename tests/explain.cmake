# Tests of movl explain and of --help, registered from tests/CMakeLists.txt.
