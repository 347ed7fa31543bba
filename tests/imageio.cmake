# Tests of the image readers (JPEG, DICOM), registered from tests/CMakeLists.txt.
# imgio_dump writes what the readers decode as .npy; imageio_test.py compares it with pydicom's
# decoders (the DICOM files its wheel ships) and with Pillow (JPEG), and feeds corrupt files.
add_executable(imgio_dump ${CMAKE_CURRENT_SOURCE_DIR}/imageio/imgio_dump.c)
target_link_libraries(imgio_dump PRIVATE movltest)
add_test(NAME imageio COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/imageio/imageio_test.py
         $<TARGET_FILE:imgio_dump> WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(imageio PROPERTIES LABELS "unit" TIMEOUT 600 SKIP_RETURN_CODE 77
                     ENVIRONMENT "PYTHONPATH=${CMAKE_SOURCE_DIR}/.deps/python")

# Training and predicting from DICOM and JPEG folders and a CSV manifest (the README's examples).
movl_shell_test(formats_train imageio/formats_train_test.sh e2e 900)
set_tests_properties(formats_train PROPERTIES ENVIRONMENT "PYTHONPATH=${CMAKE_SOURCE_DIR}/.deps/python")
