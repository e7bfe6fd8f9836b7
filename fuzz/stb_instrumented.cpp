// stb_image_resize's implementation compiled into the image harness (see CMakeLists.txt).
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image_resize.h>
