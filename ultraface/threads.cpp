#include <opencv2/core.hpp>

#include "threads.h"

void ultraface_set_threads(int n) { cv::setNumThreads(n); }
