// stb_image's and stb_image_resize's implementations compiled into the image harness (see CMakeLists.txt).
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image_resize.h>
